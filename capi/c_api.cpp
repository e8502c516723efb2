// libcurnn's C ABI (include/curnn/c_api.h): tensor descriptors checked and turned into views,
// every libcurnn exception turned into a status and a per-thread message. The work itself is
// the C++ engine's: nn::LstmLayer, ops::softmax_xent, ops::nce_loss, word2vec::train.
// Tests: tests/c_api_test.cpp and the Python suite (tests/python/).
#include "curnn/c_api.h"

#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <variant>

#include "curnn/config.hpp"
#include "curnn/context.hpp"
#include "curnn/error.hpp"
#include "curnn/log_uniform_sampler.hpp"
#include "curnn/nn/lstm.hpp"
#include "curnn/ops/nce.hpp"
#include "curnn/ops/softmax_xent.hpp"
#include "curnn/word2vec/trainer.hpp"
#include "curnn/word2vec/vocab.hpp"

#if CURNN_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

using curnn::Context;
using curnn::Device;
using curnn::TensorView;

struct curnn_context {
  curnn::ExternalAllocator allocator;  // Context::wrap_cuda keeps a pointer to it
  int cuda_device = -1;                // the CUDA ordinal; -1 on the CPU
  std::unique_ptr<Context> context;
};

struct curnn_lstm_layer {
  std::variant<std::unique_ptr<curnn::nn::LstmLayer<float>>,
               std::unique_ptr<curnn::nn::LstmLayer<double>>>
      layer;
  const curnn_context* forward_context = nullptr;  // where the tape lives (after a forward)
};

struct curnn_w2v_result {
  curnn::word2vec::Vocabulary vocab;
  curnn::word2vec::TrainResult result;
  int64_t size = 0;
};

namespace {

thread_local std::string last_error;

// Runs f; turns what it throws into a status and the thread's last error message.
template <class F>
curnn_status guarded(F&& f) noexcept {
  try {
    f();
    last_error.clear();
    return CURNN_OK;
  } catch (const curnn::ArgumentError& e) {
    last_error = e.message();
    return CURNN_ARGUMENT_ERROR;
  } catch (const curnn::Error& e) {
    last_error = e.message();
  } catch (const std::bad_alloc&) {
    last_error = "out of host memory";
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown error";
  }
  return CURNN_ERROR;
}

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case CURNN_FLOAT32:
      return "float32";
    case CURNN_FLOAT64:
      return "float64";
    case CURNN_INT32:
      return "int32";
    case CURNN_INT64:
      return "int64";
    case CURNN_FLOAT16:
      return "float16";
    case CURNN_BFLOAT16:
      return "bfloat16";
    default:
      return "an unsupported dtype";
  }
}

template <class T>
constexpr int32_t dtype_of() {
  if constexpr (std::is_same_v<T, float>) return CURNN_FLOAT32;
  if constexpr (std::is_same_v<T, double>) return CURNN_FLOAT64;
  if constexpr (std::is_same_v<T, std::int32_t>) return CURNN_INT32;
}

std::string dims(const int64_t* d, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

std::string device_string(int32_t device, int32_t index) {
  if (device == CURNN_DEVICE_CPU) return "cpu";
  if (device == CURNN_DEVICE_CUDA) return "cuda:" + std::to_string(index);
  return "an unsupported device";
}

std::string context_device(const curnn_context& ctx) {
  return ctx.cuda_device < 0 ? "cpu" : "cuda:" + std::to_string(ctx.cuda_device);
}

// The tensor described by t as a view of T on the context's device, after checking dtype,
// device, rank (<= 4) and contiguity. Shapes are checked by the ops and engines.
template <class T>
TensorView<T> view(const curnn_tensor* t, const char* name, const curnn_context& ctx) {
  CURNN_CHECK_ARG(t != nullptr, name << " is missing");
  CURNN_CHECK_ARG(t->dtype == dtype_of<T>(), name << " is " << dtype_name(t->dtype) << ", expected "
                                                  << dtype_name(dtype_of<T>()));
  const bool on_cpu = ctx.cuda_device < 0;
  const bool same_device =
      on_cpu ? t->device == CURNN_DEVICE_CPU
             : t->device == CURNN_DEVICE_CUDA && t->device_index == ctx.cuda_device;
  CURNN_CHECK_ARG(same_device, name << " is on " << device_string(t->device, t->device_index)
                                    << ", expected " << context_device(ctx));
  CURNN_CHECK_ARG(t->rank >= 1 && t->rank <= TensorView<T>::kMaxRank,
                  name << " has rank " << t->rank << ", expected 1 to " << TensorView<T>::kMaxRank);
  std::int64_t expected_stride = 1, numel = 1;
  bool contiguous = true;
  for (int i = t->rank - 1; i >= 0; --i) {
    CURNN_CHECK_ARG(t->shape[i] >= 0, name << " has a negative dimension");
    if (t->shape[i] != 1 && t->strides[i] != expected_stride) contiguous = false;
    expected_stride *= t->shape[i];
    numel *= t->shape[i];
  }
  CURNN_CHECK_ARG(contiguous, name << " is not contiguous (shape " << dims(t->shape, t->rank)
                                   << ", strides " << dims(t->strides, t->rank)
                                   << "): pass tensor.contiguous()");
  CURNN_CHECK_ARG(t->data != nullptr || numel == 0, name << " has no data");
  const Device device = on_cpu ? Device::CPU : Device::CUDA;
  T* data = static_cast<T*>(t->data);
  const int64_t* s = t->shape;
  switch (t->rank) {
    case 1:
      return TensorView<T>(data, {s[0]}, device);
    case 2:
      return TensorView<T>(data, {s[0], s[1]}, device);
    case 3:
      return TensorView<T>(data, {s[0], s[1], s[2]}, device);
    default:
      return TensorView<T>(data, {s[0], s[1], s[2], s[3]}, device);
  }
}

// view() for an optional tensor: the empty view when t is NULL.
template <class T>
TensorView<T> optional_view(const curnn_tensor* t, const char* name, const curnn_context& ctx) {
  return t ? view<T>(t, name, ctx) : TensorView<T>();
}

// view() of a [B, H] state tensor (the engine copies states by element count only).
template <class T>
TensorView<T> state_view(const curnn_tensor* t, const char* name, const curnn_context& ctx,
                         std::int64_t B, std::int64_t H) {
  const TensorView<T> v = optional_view<T>(t, name, ctx);
  if (v) curnn::detail::check_tensor(v, {B, H}, v.device(), name, __FILE__, __LINE__);
  return v;
}

curnn_context& checked(curnn_context* ctx) {
  CURNN_CHECK_ARG(ctx != nullptr && ctx->context != nullptr, "no context (NULL)");
  return *ctx;
}

// For the duration of one call on a CUDA context: its device is current, and the buffers the
// engine creates come from the context's allocator.
class CallScope {
 public:
  explicit CallScope(const curnn_context& ctx)
      : allocator_(Device::CUDA, ctx.context->external_allocator()) {
#if CURNN_HAVE_CUDA
    if (ctx.cuda_device >= 0) {
      if (cudaGetDevice(&previous_device_) != cudaSuccess) previous_device_ = -1;
      if (previous_device_ != ctx.cuda_device) cudaSetDevice(ctx.cuda_device);
    }
#endif
  }
  ~CallScope() {
#if CURNN_HAVE_CUDA
    if (previous_device_ >= 0) cudaSetDevice(previous_device_);
#endif
  }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  curnn::ScopedExternalAllocator allocator_;
  int previous_device_ = -1;
};

// The element type of a layer held by curnn_lstm_layer.
template <class Held>
struct ScalarOf;
template <class S>
struct ScalarOf<std::unique_ptr<curnn::nn::LstmLayer<S>>> {
  using type = S;
};

template <class Scalar>
curnn::nn::LstmWeights<Scalar> weights(const curnn_tensor* wx, const curnn_tensor* wh,
                                       const curnn_tensor* bias, const curnn_context& ctx,
                                       const char* names[3]) {
  return {view<Scalar>(wx, names[0], ctx), view<Scalar>(wh, names[1], ctx),
          view<Scalar>(bias, names[2], ctx)};
}

void check_dtype_on_device(const curnn_context& ctx, bool is_double) {
  CURNN_CHECK_ARG(!(is_double && ctx.cuda_device >= 0),
                  "float64 runs on the CPU backend only: use float32 on CUDA");
}

}  // namespace

extern "C" {

int curnn_api_version(void) {
  return CURNN_C_API_VERSION;
}
const char* curnn_version(void) {
  return CURNN_VERSION;
}
int curnn_has_cuda_backend(void) {
  return CURNN_HAVE_CUDA ? 1 : 0;
}
int curnn_cuda_available(void) {
  return curnn::cuda_available() ? 1 : 0;
}
const char* curnn_last_error(void) {
  return last_error.c_str();
}

// ---- contexts ---------------------------------------------------------------------------------

curnn_status curnn_context_cpu(curnn_context** out) {
  return guarded([&] {
    CURNN_CHECK_ARG(out != nullptr, "curnn_context_cpu: out is NULL");
    auto ctx = std::make_unique<curnn_context>();
    ctx->context = std::make_unique<Context>(Context::cpu());
    *out = ctx.release();
  });
}

curnn_status curnn_context_wrap_cuda(int device, void* stream, curnn_alloc_fn alloc,
                                     curnn_free_fn free_fn, void* state, curnn_context** out) {
  return guarded([&] {
    CURNN_CHECK_ARG(out != nullptr, "curnn_context_wrap_cuda: out is NULL");
    CURNN_CHECK_ARG((alloc == nullptr) == (free_fn == nullptr),
                    "curnn_context_wrap_cuda: give both alloc and free, or neither");
    auto ctx = std::make_unique<curnn_context>();
    ctx->allocator = {alloc, free_fn, state};
    ctx->cuda_device = device;
    ctx->context = std::make_unique<Context>(Context::wrap_cuda(
        device, static_cast<curnn::StreamHandle>(stream), alloc ? &ctx->allocator : nullptr));
    *out = ctx.release();
  });
}

void curnn_context_free(curnn_context* ctx) {
  delete ctx;
}

int curnn_context_device(const curnn_context* ctx) {
  return ctx && ctx->cuda_device >= 0 ? CURNN_DEVICE_CUDA : CURNN_DEVICE_CPU;
}

// ---- LSTM layer -------------------------------------------------------------------------------

curnn_status curnn_lstm_layer_create(int32_t dtype, int64_t input_size, int64_t hidden_size,
                                     float forget_bias, int reverse, curnn_lstm_layer** out) {
  return guarded([&] {
    CURNN_CHECK_ARG(out != nullptr, "curnn_lstm_layer_create: out is NULL");
    CURNN_CHECK_ARG(dtype == CURNN_FLOAT32 || dtype == CURNN_FLOAT64,
                    "LSTM layers are float32 or float64, not " << dtype_name(dtype));
    CURNN_CHECK_ARG(
        input_size > 0 && hidden_size > 0 && input_size <= (1 << 30) && hidden_size <= (1 << 28),
        "LSTM sizes out of range: input_size " << input_size << ", hidden_size " << hidden_size);
    const auto dir = reverse ? curnn::nn::Direction::Reverse : curnn::nn::Direction::Forward;
    const int E = static_cast<int>(input_size), H = static_cast<int>(hidden_size);
    auto layer = std::make_unique<curnn_lstm_layer>();
    if (dtype == CURNN_FLOAT32) {
      layer->layer = std::make_unique<curnn::nn::LstmLayer<float>>(E, H, forget_bias, dir);
    } else {
      layer->layer = std::make_unique<curnn::nn::LstmLayer<double>>(E, H, forget_bias, dir);
    }
    *out = layer.release();
  });
}

void curnn_lstm_layer_free(curnn_lstm_layer* layer) {
  delete layer;
}

curnn_status curnn_lstm_layer_forward(curnn_context* context, curnn_lstm_layer* layer,
                                      const curnn_tensor* wx, const curnn_tensor* wh,
                                      const curnn_tensor* bias, const curnn_tensor* x,
                                      const curnn_tensor* h0, const curnn_tensor* c0,
                                      const curnn_tensor* dropout_mask, const curnn_tensor* y,
                                      const curnn_tensor* hT, const curnn_tensor* cT) {
  return guarded([&] {
    curnn_context& ctx = checked(context);
    CURNN_CHECK_ARG(layer != nullptr, "no LSTM layer (NULL)");
    const CallScope scope(ctx);
    std::visit(
        [&](auto& engine) {
          using Scalar = typename ScalarOf<std::decay_t<decltype(engine)>>::type;
          check_dtype_on_device(ctx, std::is_same_v<Scalar, double>);
          const char* names[3] = {"wx", "wh", "bias"};
          const auto w = weights<Scalar>(wx, wh, bias, ctx, names);
          const TensorView<const Scalar> xv = view<Scalar>(x, "x", ctx);
          CURNN_CHECK_ARG(xv.rank() == 3, "LSTM input x must be [T, B, " << engine->input_size()
                                                                         << "], got "
                                                                         << xv.shape_string());
          CURNN_CHECK_ARG(xv.dim(0) <= INT32_MAX && xv.dim(1) <= INT32_MAX,
                          "LSTM input x " << xv.shape_string() << ": T and B must fit int32");
          const std::int64_t B = xv.dim(1), H = engine->hidden_size();
          layer->forward_context = nullptr;  // a failed forward leaves no usable tape
          // Views in argument order (inputs first), so the first bad argument is the one named.
          const auto h_first = state_view<Scalar>(h0, "h0", ctx, B, H);
          const auto c_first = state_view<Scalar>(c0, "c0", ctx, B, H);
          const auto dropout = optional_view<Scalar>(dropout_mask, "dropout_mask", ctx);
          const auto out = view<Scalar>(y, "y", ctx);
          const auto h_last = state_view<Scalar>(hT, "hT", ctx, B, H);
          const auto c_last = state_view<Scalar>(cT, "cT", ctx, B, H);
          engine->forward(*ctx.context, w, xv, h_first, c_first, out, h_last, c_last, dropout);
          layer->forward_context = &ctx;
        },
        layer->layer);
  });
}

curnn_status curnn_lstm_layer_backward(curnn_context* context, curnn_lstm_layer* layer,
                                       const curnn_tensor* wx, const curnn_tensor* wh,
                                       const curnn_tensor* bias, const curnn_tensor* x,
                                       const curnn_tensor* dy, const curnn_tensor* dhT,
                                       const curnn_tensor* dcT, const curnn_tensor* dx,
                                       const curnn_tensor* dh0, const curnn_tensor* dc0,
                                       const curnn_tensor* dwx, const curnn_tensor* dwh,
                                       const curnn_tensor* dbias) {
  return guarded([&] {
    curnn_context& ctx = checked(context);
    CURNN_CHECK_ARG(layer != nullptr, "no LSTM layer (NULL)");
    CURNN_CHECK_ARG(layer->forward_context != nullptr,
                    "LSTM backward without a successful forward on this layer");
    CURNN_CHECK_ARG(layer->forward_context == &ctx,
                    "LSTM backward on another context than its forward");
    const CallScope scope(ctx);
    std::visit(
        [&](auto& engine) {
          using Scalar = typename ScalarOf<std::decay_t<decltype(engine)>>::type;
          const char* names[3] = {"wx", "wh", "bias"};
          const char* grad_names[3] = {"dwx", "dwh", "dbias"};
          const auto w = weights<Scalar>(wx, wh, bias, ctx, names);
          const auto g = weights<Scalar>(dwx, dwh, dbias, ctx, grad_names);
          const auto& tape = engine->tape();
          const std::int64_t B = tape.B, H = tape.H;
          const auto xv = view<Scalar>(x, "x", ctx);
          const auto dyv = view<Scalar>(dy, "dy", ctx);
          const auto dh_last = state_view<Scalar>(dhT, "dhT", ctx, B, H);
          const auto dc_last = state_view<Scalar>(dcT, "dcT", ctx, B, H);
          const auto dxv = optional_view<Scalar>(dx, "dx", ctx);
          const auto dh_first = state_view<Scalar>(dh0, "dh0", ctx, B, H);
          const auto dc_first = state_view<Scalar>(dc0, "dc0", ctx, B, H);
          engine->backward(*ctx.context, w, g, curnn::Write::Overwrite, xv, dyv, dh_last, dc_last,
                           dxv, dh_first, dc_first);
        },
        layer->layer);
  });
}

// ---- losses -----------------------------------------------------------------------------------

curnn_status curnn_softmax_xent(curnn_context* context, const curnn_tensor* logits,
                                const curnn_tensor* targets, const curnn_tensor* loss,
                                const curnn_tensor* dlogits, double grad_scale) {
  return guarded([&] {
    curnn_context& ctx = checked(context);
    const CallScope scope(ctx);
    CURNN_CHECK_ARG(logits != nullptr, "logits is missing");
    // Views in argument order (inputs first), so the first bad argument is the one named.
    const auto run = [&](auto scalar) {
      using Scalar = decltype(scalar);
      const TensorView<const Scalar> x = view<Scalar>(logits, "logits", ctx);
      const curnn::ConstIds ids = view<std::int32_t>(targets, "targets", ctx);
      const TensorView<Scalar> out = view<Scalar>(loss, "loss", ctx);
      const TensorView<Scalar> grad = optional_view<Scalar>(dlogits, "dlogits", ctx);
      curnn::ops::softmax_xent(*ctx.context, x, ids, out, grad, static_cast<Scalar>(grad_scale));
    };
    if (logits->dtype == CURNN_FLOAT64) {
      check_dtype_on_device(ctx, true);
      run(double{});
    } else {
      run(float{});
    }
  });
}

curnn_status curnn_log_uniform_sample(int64_t range_max, uint64_t seed, const curnn_tensor* labels,
                                      const curnn_tensor* sampled, const curnn_tensor* log_q_true,
                                      const curnn_tensor* log_q_sampled, int64_t* num_tries) {
  return guarded([&] {
    curnn_context host;  // CPU tensors only
    const curnn::ConstIds label_ids = view<std::int32_t>(labels, "labels", host);
    const curnn::Ids sampled_ids = view<std::int32_t>(sampled, "sampled", host);
    const curnn::Tensor lq_true = view<float>(log_q_true, "log_q_true", host);
    const curnn::Tensor lq_sampled = view<float>(log_q_sampled, "log_q_sampled", host);
    CURNN_CHECK_ARG(label_ids.rank() == 1 && sampled_ids.rank() == 1,
                    "labels " << label_ids.shape_string() << " and sampled "
                              << sampled_ids.shape_string() << " must be 1-D");
    const std::int64_t B = label_ids.dim(0), S = sampled_ids.dim(0);
    CURNN_CHECK_TENSOR(lq_true, Device::CPU, {B});
    CURNN_CHECK_TENSOR(lq_sampled, Device::CPU, {S});
    CURNN_CHECK_ARG(S >= 1 && S <= range_max,
                    "num_sampled " << S << " outside [1, num_classes = " << range_max << "]");
    CURNN_CHECK_ARG(B <= INT32_MAX, "labels: " << B << " entries, at most 2^31-1");
    const curnn::LogUniformSampler sampler(range_max);
    std::mt19937_64 rng(seed);
    const curnn::UniqueSample sample = sampler.sample_unique(static_cast<int>(S), rng);
    sampler.log_expected_counts(sample, label_ids.data(), static_cast<int>(B), lq_true.data(),
                                lq_sampled.data());
    std::memcpy(sampled_ids.data(), sample.ids.data(), sample.ids.size() * sizeof(std::int32_t));
    if (num_tries) *num_tries = sample.num_tries;
  });
}

curnn_status curnn_nce_loss(curnn_context* context, const curnn_tensor* inputs,
                            const curnn_tensor* weights, const curnn_tensor* biases,
                            const curnn_tensor* labels, const curnn_tensor* sampled,
                            const curnn_tensor* log_q_true, const curnn_tensor* log_q_sampled,
                            const curnn_tensor* loss, float grad_scale, const curnn_tensor* dx,
                            const curnn_tensor* dw_true, const curnn_tensor* db_true,
                            const curnn_tensor* dw_sampled, const curnn_tensor* db_sampled) {
  return guarded([&] {
    curnn_context& ctx = checked(context);
    const CallScope scope(ctx);
    // Views in argument order (inputs first), so the first bad argument is the one named.
    const curnn::ConstTensor xv = view<float>(inputs, "inputs", ctx);
    const curnn::ConstTensor wv = view<float>(weights, "weights", ctx);
    const curnn::ConstTensor bv = view<float>(biases, "biases", ctx);
    const curnn::ConstIds lv = view<std::int32_t>(labels, "labels", ctx);
    const curnn::ConstIds sv = view<std::int32_t>(sampled, "sampled", ctx);
    const curnn::ConstTensor qt = view<float>(log_q_true, "log_q_true", ctx);
    const curnn::ConstTensor qs = view<float>(log_q_sampled, "log_q_sampled", ctx);
    const curnn::Tensor out = view<float>(loss, "loss", ctx);
    if (dx == nullptr) {
      curnn::ops::nce_loss(*ctx.context, xv, wv, bv, lv, sv, qt, qs, out);
      return;
    }
    curnn::ops::NceGradients grads;
    grads.dx = view<float>(dx, "dx", ctx);
    grads.dw_true = view<float>(dw_true, "dw_true", ctx);
    grads.db_true = view<float>(db_true, "db_true", ctx);
    grads.dw_sampled = view<float>(dw_sampled, "dw_sampled", ctx);
    grads.db_sampled = view<float>(db_sampled, "db_sampled", ctx);
    curnn::ops::nce_loss(*ctx.context, xv, wv, bv, lv, sv, qt, qs, out, grad_scale, grads);
  });
}

// ---- word2vec ---------------------------------------------------------------------------------

curnn_status curnn_w2v_train(curnn_context* context, const char* corpus_path,
                             const curnn_w2v_options* options, curnn_w2v_progress_fn progress,
                             void* progress_state, double progress_interval_s,
                             curnn_w2v_result** out) {
  namespace w2v = curnn::word2vec;
  return guarded([&] {
    curnn_context& ctx = checked(context);
    CURNN_CHECK_ARG(corpus_path != nullptr && options != nullptr && out != nullptr,
                    "curnn_w2v_train: corpus_path, options and out are required");
    CURNN_CHECK_ARG(options->min_count >= 1, "min_count must be >= 1, got " << options->min_count);
    CURNN_CHECK_ARG(progress_interval_s > 0, "progress interval must be > 0 seconds");
    w2v::TrainOptions o;
    o.size = options->size;
    o.window = options->window;
    o.sample = options->sample;
    o.negative = options->negative;
    o.threads = options->threads;
    o.iter = options->iter;
    o.alpha = options->alpha;
    o.cbow = options->cbow != 0;
    o.seed = options->seed;
    o.table_size = options->table_size;
    o.gpu_concurrent_chunks = options->gpu_concurrent_chunks;
    o.window_negatives = options->window_negatives != 0;
    w2v::validate(o);
    const CallScope scope(ctx);
    auto result = std::make_unique<curnn_w2v_result>();
    result->vocab = w2v::learn_vocab(corpus_path, options->min_count);
    const w2v::Corpus corpus = w2v::read_corpus(corpus_path, result->vocab);
    w2v::ProgressCallback report;
    if (progress) {
      report = [progress, progress_state](const w2v::TrainProgress& p) {
        progress(progress_state, p.words_done, p.total_words, p.alpha, p.loss, p.seconds);
      };
    }
    result->result =
        w2v::train(*ctx.context, result->vocab, corpus, o, report, progress_interval_s);
    result->size = o.size;
    *out = result.release();
  });
}

void curnn_w2v_result_free(curnn_w2v_result* result) {
  delete result;
}

int64_t curnn_w2v_vocab_size(const curnn_w2v_result* result) {
  return result ? result->vocab.size() : 0;
}

int64_t curnn_w2v_vector_size(const curnn_w2v_result* result) {
  return result ? result->size : 0;
}

const char* curnn_w2v_word(const curnn_w2v_result* result, int64_t id, size_t* length) {
  if (!result || id < 0 || id >= result->vocab.size()) return nullptr;
  const std::string& w = result->vocab.word(static_cast<std::int32_t>(id));
  if (length) *length = w.size();
  return w.data();
}

int64_t curnn_w2v_word_count(const curnn_w2v_result* result, int64_t id) {
  if (!result || id < 0 || id >= result->vocab.size()) return -1;
  return result->vocab.count(static_cast<std::int32_t>(id));
}

curnn_status curnn_w2v_copy_vectors(const curnn_w2v_result* result, int which,
                                    const curnn_tensor* out) {
  return guarded([&] {
    CURNN_CHECK_ARG(result != nullptr, "no word2vec result (NULL)");
    CURNN_CHECK_ARG(which == 0 || which == 1, "which must be 0 (syn0) or 1 (syn1neg)");
    curnn_context host;
    const curnn::Tensor v = view<float>(out, "out", host);
    CURNN_CHECK_TENSOR(v, Device::CPU, {result->vocab.size(), result->size});
    const std::vector<float>& src = which == 0 ? result->result.syn0 : result->result.syn1neg;
    CURNN_CHECK(src.size() == static_cast<std::size_t>(v.numel()),
                "the trainer returned " << src.size() << " values, expected " << v.numel());
    std::memcpy(v.data(), src.data(), src.size() * sizeof(float));
  });
}

void curnn_w2v_stats(const curnn_w2v_result* result, int64_t* words_read, int64_t* words_trained,
                     int64_t* pairs, double* loss, double* seconds) {
  if (!result) return;
  if (words_read) *words_read = result->result.words_read;
  if (words_trained) *words_trained = result->result.words_trained;
  if (pairs) *pairs = result->result.pairs;
  if (loss) *loss = result->result.loss;
  if (seconds) *seconds = result->result.seconds;
}

}  // extern "C"
