// curnn-mnist: the bidirectional LSTM classifier of the book's §7.3 (TensorFlow-Examples
// bidirectional_rnn.py; EXPERIMENTS.md §3) on MNIST read row by row, on the GPU or the CPU.
// Faithful mode (the defaults) prints the book's lines:
//   Iter N, Minibatch Loss= L, Training Accuracy= A     every 10 steps (N = step * batch size;
//        loss and accuracy of that step's minibatch after its update, as the book's sess.run)
//   Optimization Finished!
//   Testing Accuracy: X                                  on all test images
// then the training throughput in samples/s. With --eval-every N, also the test accuracy every
// N training samples ("Iter N, Testing Accuracy= X" and an "eval" JSON record; its time is not
// counted as training time, and it does not change the training).
//
//   curnn-mnist [--data-path DIR] [--device cuda|cpu] [--max-samples N] [--head final-states] ...
//
// Checkpoints (--save-path, --save-every N): the model, Adam's moments and step, and the data
// order (the shuffler's generator state, permutation and position); --resume checks every field
// against the flags and the training images (by content) and continues bit for bit on the CPU.
// SIGINT/SIGTERM finish the current step, save, and exit 130/143 (apps/stop_signal.hpp). A
// NaN/Inf minibatch loss stops the run with its step and exit 1, before anything is saved.
// --graph on (CUDA only; an error on the CPU): each training step (forward, backward, Adam) is
// one CUDA Graph replay (include/curnn/graph.hpp): the minibatch and Adam's bias-corrected step
// size for the step's t (computed on the host, as without a graph) go into page-locked staging
// buffers that the graph's own copies upload; the step is captured at its second run. The same
// results as --graph off; the progress lines' evaluations and --eval-every stay uncaptured.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app_common.hpp"
#include "checkpoint_meta.hpp"
#include "curnn/data/checkpoint.hpp"
#include "curnn/data/mnist.hpp"
#include "curnn/graph.hpp"
#include "curnn/nn/bilstm_classifier.hpp"
#include "curnn/ops/optim.hpp"
#include "curnn/ops/reduce.hpp"
#include "stop_signal.hpp"

namespace {

using curnn::ConstIds;
using curnn::ConstTensor;
using curnn::Context;
using curnn::Device;
using curnn::nn::ClassifierConfig;
using Model = curnn::nn::BiLstmClassifier<float>;
using json = nlohmann::json;

constexpr int kDisplayStep = 10;
constexpr const char* kCheckpointFormat = "curnn-mnist-bilstm";
constexpr int kCheckpointVersion = 2;
// Adam learning rates above this get a warning. Measured on MNIST (CPU, --hidden 64, 100 steps
// of 128): 0.1 reaches 80% test accuracy, 1 and 10 stay at chance (10%) with minibatch losses of
// 2.4 and 90; none gave NaN (Adam's steps are bounded by the rate).
constexpr float kLrWarnAbove = 0.1f;

struct Options {
  std::string data_path = "./data/mnist", device, head = "outputs-last", save_path, log_json;
  std::string recurrent = "auto", graph = "off";
  std::uint64_t seed = 1;
  std::int64_t max_samples = 400000, save_every = 0, stop_after = 0, eval_every = 0;
  int batch_size = 128, hidden = 256, validation_size = 5000;
  float lr = 0.01f;
  bool resume = false;
};

std::string checkpoint_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "mnist-bilstm.ckpt").string();
}

json config_json(const ClassifierConfig& c) {
  return {{"input_size", c.input_size},           {"hidden_size", c.hidden_size},
          {"num_classes", c.num_classes},         {"forget_bias", c.forget_bias},
          {"head", curnn::nn::head_name(c.head)}, {"learning_rate", c.adam.lr}};
}

// Process CPU seconds (all threads): on a shared machine, samples per CPU second says more about
// the code than samples per wall second.
double cpu_seconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

// A batch of the time-major input x [T, B, E] and its labels [B], on the host.
struct HostBatch {
  HostBatch(int T, int B, int E) : T(T), B(B), E(E), x(std::size_t(T) * B * E), labels(B) {}
  void gather(const curnn::data::MnistSplit& split, const std::int64_t* idx) {
    curnn::data::gather_batch_time_major(split, idx, B, x.data(), labels.data());
  }
  ConstTensor x_view() const { return ConstTensor(x.data(), {T, B, E}, Device::CPU); }
  ConstIds label_view() const { return ConstIds(labels.data(), {B}, Device::CPU); }
  int T, B, E;
  std::vector<float> x;
  std::vector<std::int32_t> labels;
};

// A training step as a CUDA Graph (--graph on): the minibatch x [T, B, E], labels [B] and Adam's
// step size lr_t come from page-locked staging buffers at fixed addresses, which the captured
// step copies to the device; the host writes them only once the previous step is done (fence).
struct GraphStep {
  GraphStep(Device device, int T, int B, int E)
      : x_host(std::size_t(T) * B * E),
        labels_host(B),
        step_size_host(1),
        x(device, x_host.size()),
        labels(device, B),
        step_size(device, 1),
        T(T),
        B(B),
        E(E) {}
  curnn::PinnedBuffer<float> x_host;
  curnn::PinnedBuffer<std::int32_t> labels_host;
  curnn::PinnedBuffer<float> step_size_host;
  curnn::Buffer<float> x;
  curnn::Buffer<std::int32_t> labels;
  curnn::Buffer<float> step_size;
  int T, B, E;
  curnn::UploadFence fence;
  curnn::StepGraphCache<int> graphs;  // one key: the training step (T, B fixed per run)
};

// One training step on `batch` (forward, backward, Adam) as a replay of the captured step (the
// first time uncaptured, the second captured); counts the Adam update.
void graph_train_step(Context& ctx, Model& model, const HostBatch& batch, GraphStep* g) {
  g->fence.wait();  // the previous step has read the staging buffers
  std::copy(batch.x.begin(), batch.x.end(), g->x_host.data());
  std::copy(batch.labels.begin(), batch.labels.end(), g->labels_host.data());
  g->step_size_host.data()[0] =
      curnn::ops::adam_step_size_f32(model.config().adam, model.adam_steps() + 1);
  g->graphs.run(ctx, 0, [&] {
    curnn::copy(ctx, g->x_host.view(), g->x.view());
    curnn::copy(ctx, g->labels_host.view(), g->labels.view());
    curnn::copy(ctx, g->step_size_host.view(), g->step_size.view());
    model.forward(ctx, ConstTensor(g->x.data(), {g->T, g->B, g->E}, ctx.device()),
                  ConstIds(g->labels.data(), {g->B}, ctx.device()), /*training=*/true);
    model.backward(ctx);
    model.adam_step(ctx, curnn::DeviceScalar<float>{g->step_size.data()});
  });
  model.set_adam_steps(model.adam_steps() + 1);
  g->fence.mark(ctx);
}

// Accuracy over a whole split, in batches of at most batch_size.
double evaluate(Context& ctx, Model& model, const curnn::data::MnistSplit& split, int batch_size) {
  std::int64_t correct = 0;
  std::vector<std::int64_t> idx(batch_size);
  for (std::int64_t begin = 0; begin < split.n; begin += batch_size) {
    const int B = static_cast<int>(std::min<std::int64_t>(batch_size, split.n - begin));
    for (int b = 0; b < B; ++b) idx[b] = begin + b;
    HostBatch batch(split.rows, B, split.cols);
    batch.gather(split, idx.data());
    model.forward(ctx, batch.x_view(), batch.label_view(), /*training=*/false);
    correct += model.count_correct(ctx);
  }
  return static_cast<double>(correct) / static_cast<double>(split.n);
}

// What a checkpoint must agree with: the training images (count and content) and the flags
// that shape the run.
struct RunIdentity {
  std::int64_t train_images = 0;
  std::string data_hash;  // FNV-1a of the training split's pixels and labels
};

RunIdentity identify(const curnn::data::MnistSplit& train) {
  std::uint64_t h = curnn::data::fnv1a64(train.images.data(), train.images.size() * sizeof(float));
  h = curnn::data::fnv1a64(train.labels.data(), train.labels.size() * sizeof(std::int32_t), h);
  return {train.n, curnn::data::hex64(h)};
}

// Training-state checkpoints: the model and Adam's m and v [3P], the step, and the data order
// (the shuffler's generator, permutation and position), so a resumed run goes on bit for bit.
void save(const Options& o, Model& model, Context& ctx, std::int64_t steps_done,
          std::uint64_t data_seed, const curnn::data::EpochShuffler& shuffler,
          const RunIdentity& id) {
  if (o.save_path.empty()) return;
  curnn::data::prepare_output_dir(o.save_path);
  const std::vector<float> state = curnn::to_vector(ctx, model.training_state());
  const curnn::data::EpochShuffler::State order = shuffler.state();
  const json meta = {{"format", kCheckpointFormat},
                     {"version", kCheckpointVersion},
                     {"config", config_json(model.config())},
                     {"steps_done", steps_done},
                     {"adam_steps", model.adam_steps()},
                     {"batch_size", o.batch_size},
                     {"data_seed", data_seed},
                     {"validation_size", o.validation_size},
                     {"train_images", id.train_images},
                     {"data_hash", id.data_hash},
                     {"shuffler",
                      {{"rng", order.rng},
                       {"order", order.order},
                       {"epochs_completed", order.epochs_completed},
                       {"index_in_epoch", order.index_in_epoch}}}};
  curnn::data::save_checkpoint(checkpoint_path(o.save_path), curnn::app::to_json_text(meta),
                               state.data(), state.size());
}

// Loads the checkpoint in --save-path into model and shuffler after checking every field
// against the flags and the data; returns the steps it had done and sets data_seed.
std::int64_t resume(const Options& o, Model& model, Context& ctx, const RunIdentity& id,
                    curnn::data::EpochShuffler& shuffler, std::uint64_t* data_seed) {
  CURNN_CHECK(!o.save_path.empty(), "--resume needs --save-path DIR");
  const curnn::app::CheckpointMeta m(checkpoint_path(o.save_path));
  m.expect_format(kCheckpointFormat, kCheckpointVersion);
  const std::string flags = " (resume with the flags the checkpoint was trained with)";
  m.expect_equal("config", config_json(model.config()), {}, flags);
  if (m.integer("batch_size", 1, 65536) != o.batch_size) {
    m.fail("batch_size", "is " + m.at("batch_size").dump() + ", --batch-size gives " +
                             std::to_string(o.batch_size) + flags);
  }
  if (m.integer("validation_size", 0, 1 << 30) != o.validation_size) {
    m.fail("validation_size", "is " + m.at("validation_size").dump() +
                                  ", --validation-size gives " + std::to_string(o.validation_size) +
                                  flags);
  }
  if (m.integer("train_images", 1) != id.train_images) {
    m.fail("train_images", "is " + m.at("train_images").dump() + "; " + o.data_path + " has " +
                               std::to_string(id.train_images) + " training images");
  }
  if (m.string("data_hash") != id.data_hash) {
    m.fail("data_hash", "differs from the training images of " + o.data_path +
                            ": the checkpoint was trained on other data");
  }
  const std::int64_t steps_done =
      m.integer("steps_done", 0, (std::int64_t{1} << 40) / o.batch_size);
  if (m.integer("adam_steps", 0) != steps_done) {
    m.fail("adam_steps", "is " + m.at("adam_steps").dump() + ", not steps_done (" +
                             std::to_string(steps_done) + ")");
  }
  *data_seed = m.unsigned_integer("data_seed");
  const std::int64_t P = model.num_params();
  if (static_cast<std::int64_t>(m.data().size()) != 3 * P) {
    m.fail("data", "holds " + std::to_string(m.data().size()) + " values, the model needs " +
                       std::to_string(3 * P) + " (parameters, Adam's m and v)");
  }
  for (std::int64_t i = 2 * P; i < 3 * P; ++i) {
    if (m.data()[i] < 0) m.fail("data", "holds a negative Adam second moment (v)");
  }
  curnn::data::EpochShuffler::State order;
  order.rng = m.string("shuffler.rng");
  order.epochs_completed = m.integer("shuffler.epochs_completed", 0);
  order.index_in_epoch = m.integer("shuffler.index_in_epoch", 0, id.train_images);
  const json& saved_order = m.at("shuffler.order");
  if (!saved_order.is_array() || static_cast<std::int64_t>(saved_order.size()) != id.train_images) {
    m.fail("shuffler.order", "is not an array of " + std::to_string(id.train_images) + " indices");
  }
  for (const json& i : saved_order) {
    if (!i.is_number_integer()) m.fail("shuffler.order", "holds a non-integer");
    order.order.push_back(i.get<std::int64_t>());
  }
  try {
    shuffler.restore(order);
  } catch (const curnn::ArgumentError& e) {
    m.fail("shuffler", e.message());
  }
  curnn::copy(ctx, ConstTensor(m.data().data(), {3 * P}, Device::CPU), model.training_state());
  model.set_adam_steps(steps_done);
  return steps_done;
}

// The minibatch losses of the steps since the last check, kept on the device and read back
// every kDisplayStep steps, before each save and at the end: a NaN/Inf is reported with its
// step without a host round trip per step.
class LossWatch {
 public:
  explicit LossWatch(Context& ctx) : sums_(ctx.device(), kDisplayStep) {}
  void add(Context& ctx, Model& model, std::int64_t step) {
    if (pending_ == 0) first_ = step;
    curnn::ops::sum(ctx, model.losses(), sums_.view().rows(pending_, pending_ + 1));
    ++pending_;
    if (pending_ == kDisplayStep) check(ctx);
  }
  void check(Context& ctx) {
    if (pending_ == 0) return;
    const std::vector<float> sums = curnn::to_vector(ctx, sums_.view().rows(0, pending_));
    for (std::int64_t k = 0; k < pending_; ++k) {
      CURNN_CHECK(std::isfinite(sums[k]), "training diverged: the minibatch loss is "
                                              << sums[k] << " at step " << first_ + k
                                              << " (try a smaller --lr)");
    }
    pending_ = 0;
  }

 private:
  curnn::Buffer<float> sums_;  // [kDisplayStep]
  std::int64_t pending_ = 0, first_ = 0;
};

int train(const Options& o, Context& ctx) {
  if (!o.save_path.empty()) {  // an unusable output folder is reported now, not after training
    curnn::data::prepare_output_dir(o.save_path);
    curnn::data::probe_output_file(checkpoint_path(o.save_path));
  }
  const curnn::data::MnistData data = curnn::data::load_mnist(o.data_path, o.validation_size);
  const curnn::data::MnistSplit& train = data.train;
  CURNN_CHECK(train.n >= o.batch_size, o.data_path << ": the training split has " << train.n
                                                   << " images, fewer than --batch-size "
                                                   << o.batch_size);
  CURNN_CHECK(data.test.rows == train.rows && data.test.cols == train.cols,
              o.data_path << ": test images are " << data.test.rows << "x" << data.test.cols
                          << ", training images " << train.rows << "x" << train.cols);
  ClassifierConfig config;
  config.input_size = train.cols;  // one row of pixels per time step
  config.hidden_size = o.hidden;
  config.head = curnn::nn::parse_head(o.head);
  config.adam.lr = o.lr;
  const curnn::nn::RecurrentMode recurrent = curnn::nn::parse_recurrent_mode(o.recurrent);
  curnn::nn::check_recurrent_mode(recurrent, ctx, config.hidden_size, {o.batch_size});
  Model model(ctx, config, recurrent);
  const int T = train.rows, B = o.batch_size;
  const RunIdentity id = o.save_path.empty() ? RunIdentity{} : identify(train);

  std::uint64_t data_seed = o.seed;
  std::int64_t steps_done = 0;
  curnn::data::EpochShuffler shuffler(train.n, o.seed);
  if (o.resume) {
    steps_done = resume(o, model, ctx, id, shuffler, &data_seed);
    std::printf("Resumed from %s after %lld steps\n", checkpoint_path(o.save_path).c_str(),
                static_cast<long long>(steps_done));
  } else {
    model.initialize(ctx, o.seed);
  }
  if (o.lr > kLrWarnAbove) {
    std::fprintf(stderr,
                 "curnn-mnist: warning: --lr %g is far above the book's 0.01; Adam at this rate "
                 "does not learn MNIST (accuracy near chance, see --help)\n",
                 static_cast<double>(o.lr));
  }
  std::printf(
      "curnn-mnist: BiLSTM %d x 2 units, head %s, %d steps of %d pixels, batch %d, "
      "Adam lr %g, %lld training images, device %s, data seed %llu\n",
      config.hidden_size, curnn::nn::head_name(config.head), T, config.input_size, B,
      static_cast<double>(o.lr), static_cast<long long>(train.n), curnn::app::describe(ctx).c_str(),
      static_cast<unsigned long long>(data_seed));
  std::fflush(stdout);
  curnn::app::JsonLog log(o.log_json);
  log.write({{"type", "config"},
             {"config", config_json(config)},
             {"device", curnn::app::describe(ctx)},
             {"seed", o.seed},
             {"batch_size", B},
             {"max_samples", o.max_samples},
             {"eval_every", o.eval_every},
             {"resumed_steps", steps_done}});

  curnn::app::StopSignals stop;
  LossWatch losses(ctx);
  std::unique_ptr<GraphStep> graph;
  if (o.graph == "on") graph = std::make_unique<GraphStep>(ctx.device(), T, B, config.input_size);
  std::vector<std::int64_t> idx(B);
  HostBatch batch(T, B, config.input_size);
  curnn::app::Stopwatch clock;
  const double cpu_start = cpu_seconds();
  double eval_seconds = 0, eval_cpu_seconds = 0;  // --eval-every's share of the clocks
  std::int64_t step = steps_done + 1, trained = 0;
  // Saves (after checking the steps since the last check) and says why the run stops.
  const auto stop_now = [&](int status, const std::string& why) {
    losses.check(ctx);
    save(o, model, ctx, step - 1, data_seed, shuffler, id);
    std::printf(
        "curnn-mnist: %s after %lld steps; %s\n", why.c_str(), static_cast<long long>(step - 1),
        o.save_path.empty()
            ? "nothing saved (no --save-path)"
            : ("checkpoint " + checkpoint_path(o.save_path) + " (continue with --resume)").c_str());
    std::fflush(stdout);
    log.write({{"type", "stopped"}, {"reason", why}, {"steps_done", step - 1}});
    return status;
  };
  const auto stop_due = [&]() -> int {
    if (const int sig = stop.requested(); sig != 0) {
      return stop_now(curnn::app::StopSignals::exit_code(sig),
                      std::string("stopped by ") + curnn::app::StopSignals::name(sig));
    }
    if (o.stop_after > 0 && step - 1 >= o.stop_after) {
      return stop_now(
          0, "stopped after " + std::to_string(step - 1) + " training steps (--stop-after)");
    }
    return -1;
  };
  if (const int status = stop_due(); status >= 0) return status;
  while (step * B < o.max_samples) {
    shuffler.next_batch(B, idx.data());
    batch.gather(train, idx.data());
    if (!graph) {
      model.forward(ctx, batch.x_view(), batch.label_view(), /*training=*/true);
      losses.add(ctx, model, step);
      model.backward(ctx);
      model.adam_step(ctx);
    } else {
      graph_train_step(ctx, model, batch, graph.get());
      losses.add(ctx, model, step);  // the forward's losses (backward and Adam leave them alone)
    }
    trained += B;
    if (step % kDisplayStep == 0) {  // the book evaluates the minibatch after its update
      losses.check(ctx);
      model.forward(ctx, batch.x_view(), batch.label_view(), /*training=*/false);
      const double loss = model.mean_loss(ctx);
      const double accuracy = static_cast<double>(model.count_correct(ctx)) / B;
      std::printf("Iter %lld, Minibatch Loss= %.6f, Training Accuracy= %.5f\n",
                  static_cast<long long>(step * B), loss, accuracy);
      std::fflush(stdout);
      log.write({{"type", "progress"},
                 {"iter", step * B},
                 {"step", step},
                 {"loss", loss},
                 {"accuracy", accuracy},
                 {"elapsed_s", clock.seconds()}});
    }
    if (o.eval_every > 0 && (step * B) / o.eval_every > ((step - 1) * B) / o.eval_every) {
      // The first step at or past a multiple of --eval-every samples.
      curnn::app::Stopwatch eval_clock;
      const double eval_cpu_start = cpu_seconds();
      const double accuracy = evaluate(ctx, model, data.test, B);
      std::printf("Iter %lld, Testing Accuracy= %.5f\n", static_cast<long long>(step * B),
                  accuracy);
      std::fflush(stdout);
      log.write({{"type", "eval"},
                 {"iter", step * B},
                 {"step", step},
                 {"test_accuracy", accuracy},
                 {"test_images", data.test.n},
                 {"eval_s", eval_clock.seconds()}});
      eval_seconds += eval_clock.seconds();
      eval_cpu_seconds += cpu_seconds() - eval_cpu_start;
    }
    if (o.save_every > 0 && step % o.save_every == 0) {
      losses.check(ctx);
      save(o, model, ctx, step, data_seed, shuffler, id);
    }
    ++step;
    if (const int status = stop_due(); status >= 0) return status;
  }
  ctx.synchronize();
  losses.check(ctx);
  const double train_seconds = clock.seconds() - eval_seconds;
  const double train_cpu_seconds = cpu_seconds() - cpu_start - eval_cpu_seconds;
  // The last update's result is not covered by a loss: check the parameters themselves.
  const std::vector<float> params = curnn::to_vector(ctx, model.params());
  CURNN_CHECK(std::all_of(params.begin(), params.end(), [](float x) { return std::isfinite(x); }),
              "training diverged: the parameters are not finite after step "
                  << step - 1 << " (try a smaller --lr)");
  save(o, model, ctx, step - 1, data_seed, shuffler, id);
  std::printf("Optimization Finished!\n");
  curnn::app::Stopwatch test_clock;
  const double test_accuracy = evaluate(ctx, model, data.test, B);
  std::printf("Testing Accuracy: %g\n", test_accuracy);
  if (graph) {
    const auto& st = graph->graphs.stats();
    std::printf(
        "curnn-mnist: CUDA Graph: %lld training steps replayed, %lld captures, %lld steps "
        "uncaptured\n",
        static_cast<long long>(st.replays), static_cast<long long>(st.captures),
        static_cast<long long>(st.uncaptured));
  }
  const double samples_per_s = trained > 0 ? trained / train_seconds : 0.0;
  std::printf(
      "curnn-mnist: trained %lld samples in %.1f s (%.1f s of CPU time): %.0f samples/s; "
      "tested %lld images in %.1f s (%s)\n",
      static_cast<long long>(trained), train_seconds, train_cpu_seconds, samples_per_s,
      static_cast<long long>(data.test.n), test_clock.seconds(), ctx.is_cuda() ? "cuda" : "cpu");
  log.write({{"type", "final"},
             {"test_accuracy", test_accuracy},
             {"test_images", data.test.n},
             {"trained_samples", trained},
             {"steps_done", step - 1},
             {"train_seconds", train_seconds},
             {"train_cpu_seconds", train_cpu_seconds},
             {"samples_per_s", samples_per_s},
             {"test_seconds", test_clock.seconds()}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return curnn::app::run_main("curnn-mnist", [&]() -> int {
    Options o;
    CLI::App cli{
        "curnn-mnist: the book's bidirectional LSTM classifier of MNIST rows "
        "(TensorFlow-Examples bidirectional_rnn.py) with libcurnn"};
    cli.add_option("--data-path", o.data_path,
                   "folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte (or .gz)");
    cli.add_option("--device", o.device, "cuda or cpu (default: cuda when a GPU is present)")
        ->check(CLI::IsMember({"cuda", "cpu"}));
    cli.add_option("--recurrent", o.recurrent,
                   "LSTM recurrent loop: auto (persistent only where verified on a GPU), per-step "
                   "or persistent (one launch per direction; Hopper GPUs)")
        ->check(CLI::IsMember({"auto", "per-step", "persistent"}));
    cli.add_option("--graph", o.graph,
                   "on: each training step is one CUDA Graph replay (GPU only; the same results "
                   "as off); off (default): queued op by op")
        ->check(CLI::IsMember({"on", "off"}));
    cli.add_option("--seed", o.seed, "random seed (initialisation and data order)");
    cli.add_option("--max-samples", o.max_samples,
                   "train while step * batch size < this (the book: 400000)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
    cli.add_option("--batch-size", o.batch_size, "minibatch size")->check(CLI::Range(1, 65536));
    cli.add_option("--lr", o.lr,
                   "Adam learning rate (at most 100; a warning above 0.1, where training stops "
                   "learning; a NaN/Inf loss stops the run with exit 1)")
        ->check(CLI::Range(1e-9f, 100.0f));
    cli.add_option("--hidden", o.hidden, "LSTM units per direction")->check(CLI::Range(1, 16384));
    cli.add_option("--head", o.head,
                   "outputs-last (the book's outputs[-1]) or final-states (each direction's "
                   "final state)")
        ->check(CLI::IsMember({"outputs-last", "final-states"}));
    cli.add_option("--validation-size", o.validation_size,
                   "training images held out as TensorFlow's validation split")
        ->check(CLI::Range(0, 1 << 30));
    cli.add_option("--eval-every", o.eval_every,
                   "also print and log the test accuracy every N training samples (0: only at "
                   "the end)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    cli.add_option("--save-path", o.save_path,
                   "folder for the checkpoint (model, Adam state, step), written at the end");
    cli.add_option("--save-every", o.save_every, "also save every N steps (0: only at the end)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    curnn::app::add_stop_after_option(cli, o.stop_after);
    cli.add_flag("--resume", o.resume,
                 "continue from the checkpoint in --save-path where it stopped (the same flags "
                 "give the same run bit for bit on the CPU)");
    cli.add_option("--log-json", o.log_json,
                   "write one JSON object per progress line and a final one");
    cli.failure_message([](const CLI::App*, const CLI::Error& e) {  // one line, like run_main's
      return std::string("curnn-mnist: error: ") + e.what() + " (see --help)\n";
    });
    try {
      cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return cli.exit(e);
    }
    CURNN_CHECK(o.save_path.size() || (o.save_every == 0 && o.stop_after == 0),
                "--save-every and --stop-after need --save-path DIR");
    Context ctx = curnn::app::make_context(o.device);
    CURNN_CHECK(o.graph == "off" || ctx.is_cuda(),
                "--graph on needs the GPU (--device cuda): CUDA Graphs do not exist on the CPU");
    return train(o, ctx);
  });
}
