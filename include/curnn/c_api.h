/* libcurnn's C ABI: a stable, version-free surface for other languages (the Python package
 * python/curnn loads it with ctypes; see README "Python"). Built as the shared library
 * libcurnn_c.so (CMake option CURNN_BUILD_C_API). Implementation: capi/c_api.cpp; tests: the
 * Python suite tests/python/ and tests/c_api_test.cpp.
 *
 * Conventions
 *  - Every function that can fail returns a curnn_status; on failure the one-line libcurnn
 *    message (what is wrong, e.g. "x is not contiguous ...") is kept per thread and read with
 *    curnn_last_error(). No C++ exception ever crosses this boundary.
 *  - Tensors are described, not copied: curnn_tensor carries a data pointer, a dtype, a device,
 *    a shape and element strides (as torch.Tensor's data_ptr(), dtype, device, shape and
 *    stride()). libcurnn checks each one (dtype, device, rank, shape, contiguity) and works on
 *    the memory in place. Optional tensors are passed as NULL.
 *  - A context says where the work runs: the CPU backend, or a CUDA device on a stream the
 *    caller owns (PyTorch's current stream) with the caller's allocator for the memory libcurnn
 *    needs for itself (the LSTM tape, workspaces).
 *  - Handles (contexts, LSTM layers, word2vec results) are freed by their *_free function, which
 *    accepts NULL.
 */
#ifndef CURNN_C_API_H_
#define CURNN_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CURNN_C_API_BUILD)
#define CURNN_C_EXPORT __attribute__((visibility("default")))
#else
#define CURNN_C_EXPORT
#endif

/* Bumped when a signature or struct below changes; the Python package checks it. */
#define CURNN_C_API_VERSION 1
#define CURNN_MAX_RANK 8

typedef enum curnn_status {
  CURNN_OK = 0,
  CURNN_ARGUMENT_ERROR = 1, /* curnn::ArgumentError: wrong shape, dtype, device, value */
  CURNN_ERROR = 2           /* any other failure (I/O, CUDA, out of memory) */
} curnn_status;

typedef enum curnn_dtype {
  CURNN_FLOAT32 = 0,
  CURNN_FLOAT64 = 1,
  CURNN_INT32 = 2,
  CURNN_INT64 = 3,
  CURNN_FLOAT16 = 4,
  CURNN_BFLOAT16 = 5,
  CURNN_OTHER_DTYPE = 6 /* bool, uint8, complex, ...: always rejected */
} curnn_dtype;

typedef enum curnn_device {
  CURNN_DEVICE_CPU = 0,
  CURNN_DEVICE_CUDA = 1,
  CURNN_DEVICE_OTHER = 2 /* meta, mps, ...: always rejected */
} curnn_device;

typedef struct curnn_tensor {
  void* data;
  int32_t dtype;        /* curnn_dtype */
  int32_t device;       /* curnn_device */
  int32_t device_index; /* the CUDA ordinal; ignored on the CPU */
  int32_t rank;         /* 0 .. CURNN_MAX_RANK */
  int64_t shape[CURNN_MAX_RANK];
  int64_t strides[CURNN_MAX_RANK]; /* in elements */
} curnn_tensor;

/* ---- library ------------------------------------------------------------------------------ */
CURNN_C_EXPORT int curnn_api_version(void);
CURNN_C_EXPORT const char* curnn_version(void);
/* 1 when this build has the CUDA backend (whether or not a device is visible). */
CURNN_C_EXPORT int curnn_has_cuda_backend(void);
/* 1 when the CUDA backend is built and a device is visible. */
CURNN_C_EXPORT int curnn_cuda_available(void);
/* The message of the last failed call on this thread ("" if none). Valid until the next call. */
CURNN_C_EXPORT const char* curnn_last_error(void);

/* ---- contexts ----------------------------------------------------------------------------- */
typedef struct curnn_context curnn_context;
typedef void* (*curnn_alloc_fn)(void* state, size_t bytes); /* NULL when out of memory */
typedef void (*curnn_free_fn)(void* state, void* ptr);

CURNN_C_EXPORT curnn_status curnn_context_cpu(curnn_context** out);
/* CUDA device `device` on `stream` (a cudaStream_t; NULL = the legacy default stream), which the
 * context never destroys. alloc/free (both or neither) serve every buffer libcurnn creates for
 * work on this context; they are called with `state` and must outlive the context and every
 * handle used with it. Fails without the CUDA backend. */
CURNN_C_EXPORT curnn_status curnn_context_wrap_cuda(int device, void* stream, curnn_alloc_fn alloc,
                                                    curnn_free_fn free_fn, void* state,
                                                    curnn_context** out);
CURNN_C_EXPORT void curnn_context_free(curnn_context* ctx);
/* The context's device: CURNN_DEVICE_CPU or CURNN_DEVICE_CUDA. */
CURNN_C_EXPORT int curnn_context_device(const curnn_context* ctx);

/* ---- one LSTM layer with BPTT (curnn::nn::LstmLayer; TensorFlow gate order [i, j, f, o]) ----
 * A layer handle holds the tape of its last forward: create one per forward call that is to be
 * differentiated, and free it when its backward passes are done. Backward may run several
 * times (retain_graph, gradcheck): it only overwrites the tape's pre-activations, which it does
 * not read (LstmLayer reuses them for dPre). Use a layer with one context. Shapes (float32 on any
 * context, float64 on the CPU; all contiguous, on the context's device):
 *   wx [E, 4H], wh [H, 4H], bias [4H], x [T, B, E] -> y [T, B, H], hT, cT [B, H];
 *   h0, c0 [B, H] (NULL: zeros); dropout_mask [T, B, H] on y (0 or 1/keep; NULL: none).
 * The layer keeps a view of dropout_mask, not a copy: keep it alive and unchanged until the
 * last backward of that forward has run. */
typedef struct curnn_lstm_layer curnn_lstm_layer;
CURNN_C_EXPORT curnn_status curnn_lstm_layer_create(int32_t dtype, int64_t input_size,
                                                    int64_t hidden_size, float forget_bias,
                                                    int reverse, curnn_lstm_layer** out);
CURNN_C_EXPORT void curnn_lstm_layer_free(curnn_lstm_layer* layer);
CURNN_C_EXPORT curnn_status curnn_lstm_layer_forward(
    curnn_context* ctx, curnn_lstm_layer* layer, const curnn_tensor* wx, const curnn_tensor* wh,
    const curnn_tensor* bias, const curnn_tensor* x, const curnn_tensor* h0, const curnn_tensor* c0,
    const curnn_tensor* dropout_mask, const curnn_tensor* y, const curnn_tensor* hT,
    const curnn_tensor* cT);
/* dy [T, B, H]; dhT, dcT [B, H] (NULL: zero) -> dwx, dwh, dbias (overwritten); dx [T, B, E],
 * dh0, dc0 [B, H] (NULL: not wanted). */
CURNN_C_EXPORT curnn_status curnn_lstm_layer_backward(
    curnn_context* ctx, curnn_lstm_layer* layer, const curnn_tensor* wx, const curnn_tensor* wh,
    const curnn_tensor* bias, const curnn_tensor* x, const curnn_tensor* dy,
    const curnn_tensor* dhT, const curnn_tensor* dcT, const curnn_tensor* dx,
    const curnn_tensor* dh0, const curnn_tensor* dc0, const curnn_tensor* dwx,
    const curnn_tensor* dwh, const curnn_tensor* dbias);

/* ---- fused softmax cross-entropy (curnn::ops::softmax_xent) ----------------------------------
 * logits [N, V] (float32, or float64 on the CPU), targets [N] int32 -> loss [N];
 * dlogits [N, V] = grad_scale * (softmax - onehot) when not NULL. */
CURNN_C_EXPORT curnn_status curnn_softmax_xent(curnn_context* ctx, const curnn_tensor* logits,
                                               const curnn_tensor* targets,
                                               const curnn_tensor* loss,
                                               const curnn_tensor* dlogits, double grad_scale);

/* ---- TensorFlow's sampled NCE loss (curnn::ops::nce_loss, curnn::LogUniformSampler) ----------
 * log_uniform_sample: TensorFlow's log_uniform_candidate_sampler(unique=True) over range_max
 * classes from std::mt19937_64(seed), and its log expected counts. labels [B] int32, CPU ->
 * sampled [S] int32, log_q_true [B], log_q_sampled [S] float32, all CPU; *num_tries the draws. */
CURNN_C_EXPORT curnn_status curnn_log_uniform_sample(
    int64_t range_max, uint64_t seed, const curnn_tensor* labels, const curnn_tensor* sampled,
    const curnn_tensor* log_q_true, const curnn_tensor* log_q_sampled, int64_t* num_tries);
/* inputs [B, E], weights [V, E], biases [V], labels [B] int32, sampled [S] int32,
 * log_q_true [B], log_q_sampled [S] (float32, on the context's device) -> loss [B]. With
 * dx != NULL also the sparse gradients of grad_scale * sum(loss): dx [B, E] (of the inputs),
 * dw_true [B, E], db_true [B], dw_sampled [S, E], db_sampled [S] (rows for weights[labels[b]] and
 * weights[sampled[s]]). */
CURNN_C_EXPORT curnn_status curnn_nce_loss(
    curnn_context* ctx, const curnn_tensor* inputs, const curnn_tensor* weights,
    const curnn_tensor* biases, const curnn_tensor* labels, const curnn_tensor* sampled,
    const curnn_tensor* log_q_true, const curnn_tensor* log_q_sampled, const curnn_tensor* loss,
    float grad_scale, const curnn_tensor* dx, const curnn_tensor* dw_true,
    const curnn_tensor* db_true, const curnn_tensor* dw_sampled, const curnn_tensor* db_sampled);

/* ---- the word2vec fast trainer (curnn::word2vec::train; word2vec.c's semantics) ------------- */
typedef struct curnn_w2v_options {
  int32_t size;     /* -size */
  int32_t window;   /* -window */
  double sample;    /* -sample */
  int32_t negative; /* -negative */
  int32_t threads;  /* -threads */
  int32_t iter;     /* -iter */
  double alpha;     /* -alpha (> 0) */
  int32_t cbow;     /* -cbow 1 / 0 */
  int64_t min_count;
  uint64_t seed;
  int64_t table_size; /* unigram table slots (word2vec.c: 1e8) */
  int32_t gpu_concurrent_chunks;
  int32_t window_negatives; /* 1: one set of negatives per window (--negatives-per window) */
} curnn_w2v_options;
/* Called about every interval seconds and at the end, from the training thread. */
typedef void (*curnn_w2v_progress_fn)(void* state, int64_t words_done, int64_t total_words,
                                      double alpha, double loss, double seconds);
typedef struct curnn_w2v_result curnn_w2v_result;
/* Learns the vocabulary of corpus_path (plain or .gz), reads and trains on it. */
CURNN_C_EXPORT curnn_status curnn_w2v_train(curnn_context* ctx, const char* corpus_path,
                                            const curnn_w2v_options* options,
                                            curnn_w2v_progress_fn progress, void* progress_state,
                                            double progress_interval_s, curnn_w2v_result** out);
CURNN_C_EXPORT void curnn_w2v_result_free(curnn_w2v_result* result);
/* V (words, "</s>" at id 0) and E. */
CURNN_C_EXPORT int64_t curnn_w2v_vocab_size(const curnn_w2v_result* result);
CURNN_C_EXPORT int64_t curnn_w2v_vector_size(const curnn_w2v_result* result);
/* The bytes of word `id` (not NUL-terminated in general: *length bytes), or NULL if out of range.
 */
CURNN_C_EXPORT const char* curnn_w2v_word(const curnn_w2v_result* result, int64_t id,
                                          size_t* length);
CURNN_C_EXPORT int64_t curnn_w2v_word_count(const curnn_w2v_result* result, int64_t id);
/* Copies syn0 (which = 0) or syn1neg (which = 1) into out [V, E] float32 on the CPU. */
CURNN_C_EXPORT curnn_status curnn_w2v_copy_vectors(const curnn_w2v_result* result, int which,
                                                   const curnn_tensor* out);
/* words_read, words_trained, pairs (as int64) and the mean loss and seconds of the run. */
CURNN_C_EXPORT void curnn_w2v_stats(const curnn_w2v_result* result, int64_t* words_read,
                                    int64_t* words_trained, int64_t* pairs, double* loss,
                                    double* seconds);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CURNN_C_API_H_ */
