/* The C ABI from C (include/curnn/c_api.h must stay valid C): statuses, the per-thread error
 * message, NULL handles, and one op checked by hand. ctest: c_api.from_c. The Python suite
 * (tests/python/test_*.py) covers every function through ctypes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "curnn/c_api.h"

static int failures = 0;
#define EXPECT(cond)                                                      \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                         \
    }                                                                     \
  } while (0)

static curnn_tensor tensor(void* data, int32_t dtype, int rank, const int64_t* shape) {
  curnn_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = dtype;
  t.device = CURNN_DEVICE_CPU;
  t.rank = rank;
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    t.shape[i] = shape[i];
    t.strides[i] = stride;
    stride *= shape[i];
  }
  return t;
}

int main(void) {
  EXPECT(curnn_api_version() == CURNN_C_API_VERSION);
  EXPECT(strlen(curnn_version()) > 0);
  EXPECT(strcmp(curnn_last_error(), "") == 0);

  curnn_context* ctx = NULL;
  EXPECT(curnn_context_cpu(&ctx) == CURNN_OK && ctx != NULL);
  EXPECT(curnn_context_device(ctx) == CURNN_DEVICE_CPU);

  /* Softmax cross-entropy of two rows, checked by hand. */
  float logits[2][3] = {{1.0f, 2.0f, 3.0f}, {0.5f, 0.5f, -1.0f}};
  int32_t targets[2] = {2, 0};
  float loss[2] = {NAN, NAN}, dlogits[2][3];
  const int64_t nv[2] = {2, 3}, n[1] = {2};
  curnn_tensor tl = tensor(logits, CURNN_FLOAT32, 2, nv), tt = tensor(targets, CURNN_INT32, 1, n);
  curnn_tensor tloss = tensor(loss, CURNN_FLOAT32, 1, n),
               td = tensor(dlogits, CURNN_FLOAT32, 2, nv);
  EXPECT(curnn_softmax_xent(ctx, &tl, &tt, &tloss, &td, 0.5) == CURNN_OK);
  const double z0 = exp(1.0) + exp(2.0) + exp(3.0), z1 = 2 * exp(0.5) + exp(-1.0);
  EXPECT(fabs(loss[0] - (log(z0) - 3.0)) < 1e-6);
  EXPECT(fabs(loss[1] - (log(z1) - 0.5)) < 1e-6);
  EXPECT(fabs(dlogits[0][2] - 0.5 * (exp(3.0) / z0 - 1.0)) < 1e-6);

  /* A bad argument: a status, a one-line message, nothing written; the next success clears it. */
  tt.dtype = CURNN_INT64;
  loss[0] = -7.0f;
  EXPECT(curnn_softmax_xent(ctx, &tl, &tt, &tloss, NULL, 1.0) == CURNN_ARGUMENT_ERROR);
  EXPECT(strcmp(curnn_last_error(), "targets is int64, expected int32") == 0);
  EXPECT(loss[0] == -7.0f);
  tt.dtype = CURNN_INT32;
  tl.strides[0] = 1; /* a transposed view */
  EXPECT(curnn_softmax_xent(ctx, &tl, &tt, &tloss, NULL, 1.0) == CURNN_ARGUMENT_ERROR);
  EXPECT(strstr(curnn_last_error(), "logits is not contiguous") != NULL);
  tl.strides[0] = 3;
  EXPECT(curnn_softmax_xent(ctx, &tl, &tt, &tloss, NULL, 1.0) == CURNN_OK);
  EXPECT(strcmp(curnn_last_error(), "") == 0);

  /* NULL handles and outputs are errors, not crashes; *_free accepts NULL. */
  EXPECT(curnn_softmax_xent(NULL, &tl, &tt, &tloss, NULL, 1.0) == CURNN_ARGUMENT_ERROR);
  EXPECT(curnn_lstm_layer_forward(ctx, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                  NULL) == CURNN_ARGUMENT_ERROR);
  curnn_lstm_layer* layer = NULL;
  EXPECT(curnn_lstm_layer_create(CURNN_INT32, 3, 4, 0.0f, 0, &layer) == CURNN_ARGUMENT_ERROR);
  EXPECT(curnn_lstm_layer_create(CURNN_FLOAT32, 3, 4, 0.0f, 0, &layer) == CURNN_OK);
  EXPECT(curnn_lstm_layer_backward(ctx, layer, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                   NULL, NULL, NULL, NULL) == CURNN_ARGUMENT_ERROR);
  EXPECT(strstr(curnn_last_error(), "without a successful forward") != NULL);
  curnn_lstm_layer_free(layer);
  curnn_lstm_layer_free(NULL);
  curnn_context_free(ctx);
  curnn_context_free(NULL);
  ctx = NULL;
  const curnn_status wrapped = curnn_context_wrap_cuda(0, NULL, NULL, NULL, NULL, &ctx);
  EXPECT((wrapped == CURNN_OK) == (curnn_cuda_available() != 0));
  EXPECT(wrapped == CURNN_OK || strlen(curnn_last_error()) > 0);
  curnn_context_free(ctx);

  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
