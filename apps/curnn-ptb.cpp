// curnn-ptb: the Zaremba et al. LSTM language model on Penn Treebank (TensorFlow's
// ptb_word_lm.py, the book's §7.2), on the GPU or the CPU. Prints the book's log lines.
//
//   curnn-ptb --data-path DIR [--model small|medium|large|test] [--device cuda|cpu] ...
//   curnn-ptb --save-path DIR --generate 50 --temperature 0.8
//
// Checkpoints (--save-path): the latest training state at each epoch end, every --save-every
// steps and when the run stops; --resume continues from it exactly (dropout offset, position in
// the epoch, the LSTM state carried across windows, the epoch's running cost, the learning-rate
// schedule), so on the CPU a resumed run ends bit for bit where an uninterrupted one does.
// SIGINT/SIGTERM finish the current step, save, and exit 130/143 (apps/stop_signal.hpp).
// Training that diverges (a NaN/Inf gradient norm or loss) stops with the step named and exit 1,
// and never writes its state (tests/resume_test.cpp, tests/signals_test.cpp).
// --graph on (CUDA only; an error on the CPU): each training step (forward, backward, clip, SGD)
// and each evaluation step is one CUDA Graph replay (include/curnn/graph.hpp), one graph per
// shape and mode (training B x T, evaluation B x T, the test's 1 x 1): the batch goes into
// page-locked staging buffers, the learning rate and the dropout offset into page-locked
// scalars, all uploaded by the graph's own copies; the step's gradient norm lands in a fixed slot
// that is copied to its place in the epoch's norms after each replay. The first step of a pass
// (and any step after libcurnn freed device memory: the end of an evaluation pass, a new epoch's
// state) runs uncaptured, the next one is captured. Replays compute the same bits as --graph off.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "app_common.hpp"
#include "checkpoint_meta.hpp"
#include "curnn/data/checkpoint.hpp"
#include "curnn/data/ptb.hpp"
#include "curnn/graph.hpp"
#include "curnn/nn/lstm_lm.hpp"
#include "curnn/ops/reduce.hpp"
#include "stop_signal.hpp"

namespace curnn::nn {
// LmConfig <-> JSON (checkpoint metadata and the JSON log).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LmConfig, name, init_scale, learning_rate, max_grad_norm,
                                   num_layers, num_steps, hidden_size, max_epoch, max_max_epoch,
                                   keep_prob, lr_decay, batch_size, vocab_size)
}  // namespace curnn::nn

namespace {

using curnn::Buffer;
using curnn::ConstIds;
using curnn::ConstTensor;
using curnn::Context;
using curnn::Device;
using curnn::Tensor;
using curnn::nn::LmConfig;
using Model = curnn::nn::LstmLanguageModel<float>;
using json = nlohmann::json;

struct Options {
  std::string data_path, model = "small", device, save_path, log_json, recurrent = "auto";
  std::string graph = "off";
  std::int64_t max_steps = 0, save_every = 0, stop_after = 0;
  std::uint64_t seed = 1;
  bool seed_given = false;
  bool resume = false;
  int generate = 0;
  double temperature = 1.0;
  LmConfig overrides;  // fields set by flags, applied over the chosen config
};

// Learning rates above this get a warning. Measured on PTB (the small config, CPU, 60 steps,
// validation on the first 300 lines of ptb.valid.txt): train/valid perplexity 1608/949 at the
// book's 1.0, 3766/1047 at 3; 1.5e5/5.5e5 at 5 (worse than the uniform model's 10000, and
// rising); 1e15 at 10, 1e65 at 30; at 100 the perplexity overflows (stopped as diverged).
constexpr double kLearningRateWarnAbove = 3;

constexpr const char* kCheckpointFormat = "curnn-ptb-lm";
constexpr int kCheckpointVersion = 2;

// The latest training state (--resume continues from it; written at every epoch end, every
// --save-every steps and on a stop), and the state of the best validation perplexity so far.
std::string checkpoint_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "ptb-lm.ckpt").string();
}
std::string best_checkpoint_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "ptb-lm.best.ckpt").string();
}

// Where training stands: epoch `epoch` (0-based; max_max_epoch when training is over) has done
// `step` training steps (epoch_size: its validation is pending); global_step counts the steps of
// all epochs (the dropout masks' Philox offset is global_step * (num_layers + 1)).
struct Position {
  int epoch = 0;
  std::int64_t step = 0, global_step = 0;
  double best_valid = INFINITY;  // the best validation perplexity so far
};

// A checkpoint's content, checked on its own (read_lm_checkpoint) and against the run that
// resumes it (check_resumable). data: the parameters [P], then, when position.step > 0 (inside an
// epoch), the carried LSTM state (c, h of each layer, [B, H] each) and the epoch's cost sum [1].
struct SavedLm {
  std::string path;
  LmConfig config;
  std::vector<std::string> vocab;
  std::uint64_t seed = 0;
  std::int64_t max_steps = 0;
  Position position;
  std::vector<float> data;
};

std::int64_t param_count(const LmConfig& c) {
  const std::int64_t V = c.vocab_size, H = c.hidden_size;
  return 2 * V * H + V + c.num_layers * (8 * H * H + 4 * H);
}
std::int64_t carried_state_count(const LmConfig& c) {
  return 2 * std::int64_t{c.num_layers} * c.batch_size * c.hidden_size;
}

// Reads and checks a checkpoint on its own; with `flags`, its config must also equal the flags'
// config (but for max_max_epoch: more epochs may be asked for).
SavedLm read_lm_checkpoint(const std::string& path, const LmConfig* flags = nullptr) {
  const curnn::app::CheckpointMeta m(path);
  m.expect_format(kCheckpointFormat, kCheckpointVersion);
  SavedLm s;
  s.path = path;
  LmConfig& c = s.config;
  constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
  const double kHuge = std::numeric_limits<double>::max();
  c.name = m.string("config.name");
  c.init_scale = m.number("config.init_scale", -kHuge, kHuge);
  c.learning_rate = m.number("config.learning_rate", -kHuge, kHuge);
  c.max_grad_norm = m.number("config.max_grad_norm", -kHuge, kHuge);
  c.num_layers = static_cast<int>(m.integer("config.num_layers", 0, kIntMax));
  c.num_steps = static_cast<int>(m.integer("config.num_steps", 0, kIntMax));
  c.hidden_size = static_cast<int>(m.integer("config.hidden_size", 0, kIntMax));
  c.max_epoch = static_cast<int>(m.integer("config.max_epoch", 0, kIntMax));
  c.max_max_epoch = static_cast<int>(m.integer("config.max_max_epoch", 0, kIntMax));
  c.keep_prob = m.number("config.keep_prob", -kHuge, kHuge);
  c.lr_decay = m.number("config.lr_decay", -kHuge, kHuge);
  c.batch_size = static_cast<int>(m.integer("config.batch_size", 0, kIntMax));
  c.vocab_size = static_cast<int>(m.integer("config.vocab_size", 0, kIntMax));
  try {
    curnn::nn::validate(c);
  } catch (const curnn::ArgumentError& e) {
    m.fail("config", "is invalid: " + e.message());
  }
  if (flags) {
    m.expect_equal("config", json(*flags), {"name", "max_max_epoch"},
                   " (resume with the flags the checkpoint was trained with)");
  }
  s.vocab = m.strings("vocab");
  if (static_cast<std::int64_t>(s.vocab.size()) != c.vocab_size) {
    m.fail("vocab", "holds " + std::to_string(s.vocab.size()) + " words, config.vocab_size is " +
                        std::to_string(c.vocab_size));
  }
  if (curnn::data::vocabulary_hash(s.vocab) != m.string("vocab_hash")) {
    m.fail("vocab_hash", "does not match the checkpoint's own vocabulary (an edited file)");
  }
  s.seed = m.unsigned_integer("seed");
  s.max_steps = m.integer("max_steps", 0, std::int64_t{1} << 40);
  Position& p = s.position;
  p.epoch = static_cast<int>(m.integer("epoch", 0, c.max_max_epoch));
  p.step = m.integer("step", 0, std::int64_t{1} << 40);
  p.global_step = m.integer("global_step", p.step, std::int64_t{1} << 50);
  if (p.epoch == c.max_max_epoch && p.step != 0) m.fail("step", "is not 0 after the last epoch");
  p.best_valid = m.number("best_valid_perplexity", 1, kHuge, /*allow_null=*/true, INFINITY);
  const std::int64_t want =
      param_count(c) + (p.step > 0 ? carried_state_count(c) + 1 : std::int64_t{0});
  if (static_cast<std::int64_t>(m.data().size()) != want) {
    m.fail("data", "holds " + std::to_string(m.data().size()) + " values; the " +
                       std::to_string(c.num_layers) + " x " + std::to_string(c.hidden_size) +
                       " model of " + std::to_string(c.vocab_size) + " words at step " +
                       std::to_string(p.step) + " needs " + std::to_string(want));
  }
  if (p.step > 0 && m.data().back() < 0) m.fail("data", "holds a negative epoch cost");
  s.data = m.data();
  return s;
}

// Text from a saved model: starts after <eos>, samples softmax(logits / temperature).
int generate(const Options& o, Context& ctx) {
  CURNN_CHECK(!o.save_path.empty(), "--generate needs --save-path DIR holding a checkpoint");
  std::error_code ec;
  const std::string best = best_checkpoint_path(o.save_path);
  const SavedLm saved =
      read_lm_checkpoint(std::filesystem::exists(best, ec) ? best : checkpoint_path(o.save_path));
  const std::vector<std::string>& vocab = saved.vocab;
  const curnn::nn::RecurrentMode recurrent = curnn::nn::parse_recurrent_mode(o.recurrent);
  curnn::nn::check_recurrent_mode(recurrent, ctx, saved.config.hidden_size, {1});
  Model model(ctx, saved.config, recurrent);
  curnn::copy(ctx, ConstTensor(saved.data.data(), {param_count(saved.config)}, Device::CPU),
              model.params().view());
  Model::State state = model.zero_state(ctx, 1);
  std::mt19937_64 rng(o.seed);
  const auto eos = std::find(vocab.begin(), vocab.end(), "<eos>");
  std::int32_t word = eos == vocab.end() ? 0 : static_cast<std::int32_t>(eos - vocab.begin());
  std::vector<double> p(vocab.size());
  for (int i = 0; i < o.generate; ++i) {
    const std::int32_t target = 0;
    model.forward(ctx, ConstIds(&word, {1, 1}, Device::CPU), ConstIds(&target, {1, 1}, Device::CPU),
                  state, false, 0, 0);
    const std::vector<float> logits = curnn::to_vector(ctx, model.logits());
    const double mx = *std::max_element(logits.begin(), logits.end());
    double total = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
      p[k] = std::exp((logits[k] - mx) / o.temperature);
      total += p[k];
    }
    // Finite weights can still overflow the logits: never sample from a NaN distribution.
    CURNN_CHECK(std::isfinite(mx) && std::isfinite(total) && total > 0,
                saved.path << ": the model's logits are not finite at word " << i + 1
                           << ": its weights are unusable");
    word = static_cast<std::int32_t>(std::discrete_distribution<int>(p.begin(), p.end())(rng));
    std::printf("%s", vocab[word] == "<eos>" ? "\n" : (vocab[word] + " ").c_str());
  }
  std::printf("\n");
  return 0;
}

// Training and evaluation steps as CUDA Graphs (--graph on): what changes from step to step
// comes from page-locked staging buffers at fixed addresses, which the captured step copies to
// the device (ids: the window's T*B inputs, then its T*B targets, in the first 2*T*B words; the
// dropout offset of the step's first mask; the learning rate); the host writes them only once
// the previous replay is done (fence).
struct GraphStep {
  // A graph per (B, T, training).
  using Key = std::tuple<int, int, bool>;
  GraphStep(Device device, std::size_t max_words)
      : ids_host(2 * max_words),
        offset_host(1),
        lr_host(1),
        ids(device, 2 * max_words),
        offset(device, 1),
        lr(device, 1),
        norm(device, 1) {}
  curnn::PinnedBuffer<std::int32_t> ids_host;
  curnn::PinnedBuffer<std::uint64_t> offset_host;
  curnn::PinnedBuffer<float> lr_host;
  Buffer<std::int32_t> ids;
  Buffer<std::uint64_t> offset;
  Buffer<float> lr, norm;  // norm: the step's gradient norm, copied to norms_[step] after it
  curnn::UploadFence fence;
  curnn::StepGraphCache<Key> graphs;

  // Waits for the previous replay, then stages the window x, y [T, B] (n words each).
  void stage_ids(const std::vector<std::int32_t>& x, const std::vector<std::int32_t>& y) {
    CURNN_CHECK(2 * x.size() <= ids_host.size(), "a window larger than the staging buffers");
    fence.wait();
    std::copy(x.begin(), x.end(), ids_host.data());
    std::copy(y.begin(), y.end(), ids_host.data() + x.size());
  }
  // Inside the step: the staged ids to the device, as the [T, B] inputs and targets.
  std::pair<ConstIds, ConstIds> upload_ids(Context& ctx, int T, int B) {
    const std::int64_t n = std::int64_t{T} * B;
    curnn::copy(ctx, ConstIds(ids_host.data(), {2 * n}, Device::CPU),
                curnn::Ids(ids.data(), {2 * n}, ids.device()));
    return {ConstIds(ids.data(), {T, B}, ids.device()),
            ConstIds(ids.data() + n, {T, B}, ids.device())};
  }
};

// The training loop (TensorFlow's main: run_epoch over train and valid per epoch, then test),
// with checkpoints that let a stopped run continue bit for bit (on the CPU) where it stopped.
class Trainer {
 public:
  Trainer(const Options& o, Context& ctx, const LmConfig& c, const curnn::data::PtbCorpus& corpus,
          curnn::app::JsonLog& log, const curnn::app::StopSignals& stop,
          curnn::nn::RecurrentMode recurrent)
      : o_(o),
        ctx_(ctx),
        c_(c),
        corpus_(corpus),
        log_(log),
        stop_(stop),
        model_(ctx, c, recurrent),
        batcher_(corpus.train, c.batch_size, c.num_steps),
        steps_per_epoch_(o.max_steps > 0 ? std::min(o.max_steps, batcher_.epoch_size())
                                         : batcher_.epoch_size()),
        state_(model_.zero_state(ctx, c.batch_size)),
        cost_(ctx.device(), 1),
        norms_(ctx.device(), static_cast<std::size_t>(steps_per_epoch_)) {}

  // A fresh model, or the state of the checkpoint in --save-path.
  void start(const SavedLm* saved);
  // Trains the remaining epochs and runs the test; returns the exit status.
  int run();

 private:
  void start_epoch();
  // Trains the current epoch from pos_.step; false when a stop was requested.
  bool train_epoch(float lr, double* perplexity);
  // Perplexity of an evaluation pass; NaN when a stop was requested.
  double evaluate(const std::vector<std::int32_t>& data, int B, int T);
  // exp(cost / words) after `done` steps of B x T words; throws with the step of a NaN/Inf.
  double perplexity(const Buffer<float>& cost, std::int64_t done, int B, int T);
  // One training step (forward, backward, clip, SGD) on the window x, y [T, B] of global step
  // pos_.global_step, its gradient norm into norms_[step]: queued op by op, or (--graph on) as
  // a replay of the captured step.
  void train_step(std::int64_t step, const std::vector<std::int32_t>& x,
                  const std::vector<std::int32_t>& y, float lr);
  // Throws naming the first training step of this epoch whose gradient norm is not finite.
  void check_norms(std::int64_t upto);
  void save(const std::string& path);
  // Saves (when --save-path is given) and says why the run stops; returns the exit status.
  int stop_now(int exit_status, const std::string& why);
  // The exit status when a stop is due (a signal, or --stop-after reached), else -1.
  int stop_due();

  const Options& o_;
  Context& ctx_;
  const LmConfig c_;
  const curnn::data::PtbCorpus& corpus_;
  curnn::app::JsonLog& log_;
  const curnn::app::StopSignals& stop_;
  Model model_;
  curnn::data::PtbBatcher batcher_;
  std::int64_t steps_per_epoch_;
  Position pos_;
  Model::State state_;          // L x [B, H] carried across the windows of an epoch
  Buffer<float> cost_, norms_;  // [1] the epoch's cost sum, [steps] each step's gradient norm
  std::int64_t norms_checked_ = 0;
  int stop_status_ = -1;  // the exit status once stopped
  float zero_ = 0.0f;
  std::unique_ptr<GraphStep> graph_;  // --graph on
};

void Trainer::start(const SavedLm* saved) {
  if (o_.graph == "on") {
    graph_ = std::make_unique<GraphStep>(ctx_.device(),
                                         static_cast<std::size_t>(c_.batch_size) * c_.num_steps);
  }
  if (!saved) {
    model_.initialize(ctx_, o_.seed);
    start_epoch();
    return;
  }
  const std::int64_t P = param_count(c_);
  CURNN_CHECK(static_cast<std::size_t>(P) == model_.params().size(),
              "param_count disagrees with the model's layout");
  pos_ = saved->position;
  curnn::copy(ctx_, ConstTensor(saved->data.data(), {P}, Device::CPU), model_.params().view());
  if (pos_.step == 0) {
    start_epoch();
    return;
  }
  const std::int64_t BH = std::int64_t{c_.batch_size} * c_.hidden_size;
  const float* at = saved->data.data() + P;
  for (int l = 0; l < c_.num_layers; ++l, at += 2 * BH) {
    curnn::copy(ctx_, ConstTensor(at, {BH}, Device::CPU), state_.c[l].view());
    curnn::copy(ctx_, ConstTensor(at + BH, {BH}, Device::CPU), state_.h[l].view());
  }
  curnn::copy(ctx_, ConstTensor(at, {1}, Device::CPU), cost_.view());
  curnn::ops::fill(ctx_, norms_.view(), 0.0f);  // steps before pos_.step were checked when saved
  norms_checked_ = pos_.step;
  ctx_.synchronize();
}

void Trainer::start_epoch() {
  state_ = model_.zero_state(ctx_, c_.batch_size);
  curnn::copy(ctx_, ConstTensor(&zero_, {1}, Device::CPU), cost_.view());
  curnn::ops::fill(ctx_, norms_.view(), 0.0f);
  norms_checked_ = 0;
  ctx_.synchronize();
}

int Trainer::run() {
  if (const int status = stop_due(); status >= 0) return status;
  curnn::app::Stopwatch total;
  double last_wps = 0;
  while (pos_.epoch < c_.max_max_epoch) {
    const int i = pos_.epoch;
    const double lr_decay = std::pow(c_.lr_decay, std::max(i + 1 - c_.max_epoch, 0));
    const float lr = static_cast<float>(c_.learning_rate * lr_decay);
    if (pos_.step == 0) std::printf("Epoch: %d Learning rate: %.3f\n", i + 1, lr);
    curnn::app::Stopwatch clock;
    const std::int64_t first_step = pos_.step;
    double train_ppl = 0;
    if (!train_epoch(lr, &train_ppl)) return stop_due();
    if (pos_.step > first_step) {
      last_wps = static_cast<double>(pos_.step - first_step) * c_.batch_size * c_.num_steps /
                 clock.seconds();
    }
    std::printf("Epoch: %d Train Perplexity: %.3f\n", i + 1, train_ppl);
    const double valid_ppl = evaluate(corpus_.valid, c_.batch_size, c_.num_steps);
    if (std::isnan(valid_ppl)) return stop_due();
    std::printf("Epoch: %d Valid Perplexity: %.3f\n", i + 1, valid_ppl);
    std::fflush(stdout);
    log_.write({{"type", "epoch"},
                {"epoch", i + 1},
                {"lr", lr},
                {"train_perplexity", train_ppl},
                {"valid_perplexity", valid_ppl},
                {"train_wps", last_wps},
                {"elapsed_s", total.seconds()}});
    const bool best = valid_ppl < pos_.best_valid;
    pos_.best_valid = std::min(pos_.best_valid, valid_ppl);
    ++pos_.epoch;
    pos_.step = 0;
    start_epoch();
    save(checkpoint_path(o_.save_path));
    if (best) save(best_checkpoint_path(o_.save_path));
    if (const int status = stop_due(); status >= 0) return status;
  }
  const double test_ppl = evaluate(corpus_.test, 1, 1);
  if (std::isnan(test_ppl)) return stop_due();
  std::printf("Test Perplexity: %.3f\n", test_ppl);
  if (graph_) {
    const auto& st = graph_->graphs.stats();
    std::printf(
        "curnn-ptb: CUDA Graph: %lld steps replayed, %lld captures, %lld steps uncaptured "
        "(training and evaluation)\n",
        static_cast<long long>(st.replays), static_cast<long long>(st.captures),
        static_cast<long long>(st.uncaptured));
  }
  std::printf("curnn-ptb: total %.1f s\n", total.seconds());
  log_.write({{"type", "test"}, {"test_perplexity", test_ppl}, {"elapsed_s", total.seconds()}});
  return 0;
}

bool Trainer::train_epoch(float lr, double* perplexity_out) {
  const int B = c_.batch_size, T = c_.num_steps;
  const std::int64_t steps = steps_per_epoch_;
  const std::int64_t every = std::max<std::int64_t>(1, steps / 10);
  const std::int64_t first_step = pos_.step;
  std::vector<std::int32_t> x(static_cast<std::size_t>(T) * B), y(x.size());
  curnn::app::Stopwatch clock;
  for (std::int64_t step = first_step; step < steps; ++step) {
    batcher_.batch_time_major(step, x.data(), y.data());
    train_step(step, x, y, lr);
    pos_.step = step + 1;
    ++pos_.global_step;
    if (step % every == std::min<std::int64_t>(10, every - 1)) {
      check_norms(step + 1);
      const double ppl = perplexity(cost_, step + 1, B, T);
      const double wps = static_cast<double>(step + 1 - first_step) * T * B / clock.seconds();
      std::printf("%.3f perplexity: %.3f speed: %.0f wps\n", static_cast<double>(step) / steps, ppl,
                  wps);
      std::fflush(stdout);
      log_.write({{"type", "progress"},
                  {"epoch", pos_.epoch + 1},
                  {"fraction", static_cast<double>(step) / steps},
                  {"perplexity", ppl},
                  {"wps", wps},
                  {"lr", lr}});
    }
    if (o_.save_every > 0 && pos_.global_step % o_.save_every == 0) {
      save(checkpoint_path(o_.save_path));
    }
    if (stop_due() >= 0) return false;
  }
  check_norms(steps);
  *perplexity_out = perplexity(cost_, steps, B, T);
  return true;
}

void Trainer::train_step(std::int64_t step, const std::vector<std::int32_t>& x,
                         const std::vector<std::int32_t>& y, float lr) {
  const int B = c_.batch_size, T = c_.num_steps;
  const std::int64_t masks_per_step = c_.num_layers + 1;
  const auto offset = static_cast<std::uint64_t>(pos_.global_step * masks_per_step);
  const Tensor norm_of_step(norms_.data() + step, {1}, ctx_.device());
  if (!graph_) {
    model_.forward(ctx_, ConstIds(x.data(), {T, B}, Device::CPU),
                   ConstIds(y.data(), {T, B}, Device::CPU), state_, /*training=*/true, o_.seed,
                   offset, cost_.view());
    model_.backward(ctx_);
    model_.sgd_step(ctx_, lr, norm_of_step);
    return;
  }
  GraphStep& g = *graph_;
  g.stage_ids(x, y);  // after the previous replay has read the staging buffers
  g.offset_host.data()[0] = offset;
  g.lr_host.data()[0] = lr;
  g.graphs.run(ctx_, {B, T, true}, [&] {
    const auto [inputs, targets] = g.upload_ids(ctx_, T, B);
    curnn::copy(ctx_, g.offset_host.view(), g.offset.view());
    curnn::copy(ctx_, g.lr_host.view(), g.lr.view());
    model_.forward(ctx_, inputs, targets, state_, /*training=*/true, o_.seed,
                   curnn::DeviceScalar<std::uint64_t>{g.offset.data()}, cost_.view());
    model_.backward(ctx_);
    model_.sgd_step(ctx_, curnn::DeviceScalar<float>{g.lr.data()}, g.norm.view());
  });
  curnn::copy(ctx_, ConstTensor(g.norm.data(), {1}, ctx_.device()), norm_of_step);
  g.fence.mark(ctx_);
}

double Trainer::evaluate(const std::vector<std::int32_t>& data, int B, int T) {
  const curnn::data::PtbBatcher batcher(data, B, T);
  const std::int64_t steps = batcher.epoch_size();
  Model::State state = model_.zero_state(ctx_, B);
  Buffer<float> cost(ctx_.device(), 1);
  curnn::copy(ctx_, ConstTensor(&zero_, {1}, Device::CPU), cost.view());
  std::vector<std::int32_t> x(static_cast<std::size_t>(T) * B), y(x.size());
  for (std::int64_t step = 0; step < steps; ++step) {
    batcher.batch_time_major(step, x.data(), y.data());
    if (!graph_) {
      model_.forward(ctx_, ConstIds(x.data(), {T, B}, Device::CPU),
                     ConstIds(y.data(), {T, B}, Device::CPU), state, /*training=*/false, 0, 0,
                     cost.view());
    } else {  // a replay of this shape's evaluation step (captured at the pass's second step)
      graph_->stage_ids(x, y);
      graph_->graphs.run(ctx_, {B, T, false}, [&] {
        const auto [inputs, targets] = graph_->upload_ids(ctx_, T, B);
        model_.forward(ctx_, inputs, targets, state, /*training=*/false, 0, 0, cost.view());
      });
      graph_->fence.mark(ctx_);
    }
    if (stop_.requested() != 0) return NAN;  // the pass is redone after a resume
  }
  return perplexity(cost, steps, B, T);
}

double Trainer::perplexity(const Buffer<float>& cost, std::int64_t done, int B, int T) {
  const float total = curnn::to_vector(ctx_, cost.view())[0];  // waits for ctx_
  const double per_word = static_cast<double>(total) / (static_cast<double>(done) * T * B);
  CURNN_CHECK(std::isfinite(total), "training diverged: the loss is "
                                        << total << " at epoch " << pos_.epoch + 1
                                        << ", after step " << done - 1
                                        << " (try a smaller --learning-rate)");
  // A mean loss above ~709 nats per word: the perplexity overflows.
  CURNN_CHECK(std::isfinite(std::exp(per_word)),
              "training diverged: the perplexity overflows (a mean loss of "
                  << per_word << " per word) at epoch " << pos_.epoch + 1 << ", after step "
                  << done - 1 << " (try a smaller --learning-rate)");
  return std::exp(per_word);
}

void Trainer::check_norms(std::int64_t upto) {
  if (upto <= norms_checked_) return;
  const std::vector<float> n = curnn::to_vector(ctx_, norms_.view());
  for (std::int64_t s = norms_checked_; s < upto; ++s) {
    CURNN_CHECK(std::isfinite(n[s]), "training diverged: the gradient norm is "
                                         << n[s] << " at epoch " << pos_.epoch + 1 << " step " << s
                                         << " (try a smaller --learning-rate)");
  }
  norms_checked_ = upto;
}

void Trainer::save(const std::string& path) {
  if (o_.save_path.empty()) return;
  check_norms(pos_.step);  // a diverged run is reported, never saved
  curnn::data::prepare_output_dir(o_.save_path);
  std::vector<float> data = curnn::to_vector(ctx_, model_.params().view());
  if (pos_.step > 0) {
    for (int l = 0; l < c_.num_layers; ++l) {
      for (const Buffer<float>* b : {&state_.c[l], &state_.h[l]}) {
        const std::vector<float> v = curnn::to_vector(ctx_, b->view());
        data.insert(data.end(), v.begin(), v.end());
      }
    }
    data.push_back(curnn::to_vector(ctx_, cost_.view())[0]);
  }
  const json meta = {
      {"format", kCheckpointFormat},
      {"version", kCheckpointVersion},
      {"config", json(c_)},
      {"seed", o_.seed},
      {"max_steps", o_.max_steps},
      {"epoch", pos_.epoch},
      {"step", pos_.step},
      {"global_step", pos_.global_step},
      {"best_valid_perplexity", std::isfinite(pos_.best_valid) ? json(pos_.best_valid) : json()},
      {"vocab_hash", curnn::data::vocabulary_hash(corpus_.id_to_word)},
      {"vocab", corpus_.id_to_word}};
  curnn::data::save_checkpoint(path, curnn::app::to_json_text(meta), data.data(), data.size());
}

int Trainer::stop_now(int exit_status, const std::string& why) {
  save(checkpoint_path(o_.save_path));
  std::printf(
      "curnn-ptb: %s at epoch %d step %lld of %lld; %s\n", why.c_str(), pos_.epoch + 1,
      static_cast<long long>(pos_.step), static_cast<long long>(steps_per_epoch_),
      o_.save_path.empty()
          ? "nothing saved (no --save-path)"
          : ("checkpoint " + checkpoint_path(o_.save_path) + " (continue with --resume)").c_str());
  std::fflush(stdout);
  log_.write({{"type", "stopped"},
              {"reason", why},
              {"epoch", pos_.epoch + 1},
              {"step", pos_.step},
              {"global_step", pos_.global_step}});
  return exit_status;
}

int Trainer::stop_due() {
  if (stop_status_ >= 0) return stop_status_;
  if (const int sig = stop_.requested(); sig != 0) {
    stop_status_ = stop_now(curnn::app::StopSignals::exit_code(sig),
                            std::string("stopped by ") + curnn::app::StopSignals::name(sig));
  } else if (o_.stop_after > 0 && pos_.global_step >= o_.stop_after) {
    stop_status_ = stop_now(
        0, "stopped after " + std::to_string(pos_.global_step) + " training steps (--stop-after)");
  }
  return stop_status_;
}

// The checkpoint against the run that resumes it (its config was compared by
// read_lm_checkpoint): the same vocabulary (by content, not only by size), the same seed and
// --max-steps, and a position inside this corpus' epochs.
void check_resumable(const SavedLm& s, const Options& o, const LmConfig& c,
                     const curnn::data::PtbCorpus& corpus, std::int64_t steps_per_epoch) {
  const auto fail = [&](const std::string& field, const std::string& what) {
    CURNN_CHECK(false, s.path << ": checkpoint field '" << field << "' " << what);
  };
  if (curnn::data::vocabulary_hash(s.vocab) != curnn::data::vocabulary_hash(corpus.id_to_word)) {
    fail("vocab_hash", "differs from the vocabulary of " + o.data_path +
                           ": the checkpoint was trained on another corpus");
  }
  if (o.seed_given && o.seed != s.seed) {
    fail("seed", "is " + std::to_string(s.seed) + ", --seed gives " + std::to_string(o.seed));
  }
  if (s.max_steps != o.max_steps) {
    fail("max_steps", "is " + std::to_string(s.max_steps) + ", --max-steps gives " +
                          std::to_string(o.max_steps));
  }
  const Position& p = s.position;
  if (p.epoch > c.max_max_epoch) {
    fail("epoch", "is " + std::to_string(p.epoch) + ", beyond --max-max-epoch " +
                      std::to_string(c.max_max_epoch));
  }
  if (p.step > steps_per_epoch) {
    fail("step", "is " + std::to_string(p.step) + ", beyond the " +
                     std::to_string(steps_per_epoch) + " steps of an epoch");
  }
  if (p.global_step != std::int64_t{p.epoch} * steps_per_epoch + p.step) {
    fail("global_step", "is " + std::to_string(p.global_step) + ", not epoch x " +
                            std::to_string(steps_per_epoch) + " + step");
  }
}

int train(Options o, Context& ctx) {
  CURNN_CHECK(o.save_path.empty() || !std::filesystem::exists(o.save_path) ||
                  std::filesystem::is_directory(o.save_path),
              "--save-path " << o.save_path << " is not a folder");
  if (!o.save_path.empty()) {  // an unusable output folder is reported now, not after an epoch
    curnn::data::prepare_output_dir(o.save_path);
    curnn::data::probe_output_file(checkpoint_path(o.save_path));
  }
  LmConfig c = o.overrides;
  const curnn::data::PtbCorpus corpus = curnn::data::load_ptb(o.data_path);
  c.vocab_size = corpus.vocab_size();
  curnn::nn::validate(c);
  // Fail now, not after the first epoch, if a split cannot fill one batch.
  const auto check_fits = [](const char* split, const std::vector<std::int32_t>& data, int B,
                             int T) {
    CURNN_CHECK(static_cast<std::int64_t>(data.size()) / B > T,
                "the " << split << " split (" << data.size() << " words) cannot fill one batch of "
                       << B << " x " << T << " words: decrease --batch-size or --num-steps");
  };
  check_fits("train", corpus.train, c.batch_size, c.num_steps);
  check_fits("valid", corpus.valid, c.batch_size, c.num_steps);

  std::optional<SavedLm> saved;
  if (o.resume) {
    CURNN_CHECK(!o.save_path.empty(), "--resume needs --save-path DIR");
    saved = read_lm_checkpoint(checkpoint_path(o.save_path), &c);
    const curnn::data::PtbBatcher batcher(corpus.train, c.batch_size, c.num_steps);
    const std::int64_t steps_per_epoch =
        o.max_steps > 0 ? std::min(o.max_steps, batcher.epoch_size()) : batcher.epoch_size();
    check_resumable(*saved, o, c, corpus, steps_per_epoch);
    o.seed = saved->seed;
  }
  if (c.learning_rate > kLearningRateWarnAbove) {
    std::fprintf(stderr,
                 "curnn-ptb: warning: --learning-rate %g is far above the book's 1.0; training "
                 "diverges there (see --help)\n",
                 c.learning_rate);
  }
  const curnn::nn::RecurrentMode recurrent = curnn::nn::parse_recurrent_mode(o.recurrent);
  curnn::nn::check_recurrent_mode(recurrent, ctx, c.hidden_size, {c.batch_size, 1});
  curnn::app::StopSignals stop;
  curnn::app::JsonLog log(o.log_json);
  Trainer trainer(o, ctx, c, corpus, log, stop, recurrent);
  trainer.start(saved ? &*saved : nullptr);
  if (saved) {
    const Position& p = saved->position;
    std::printf("Resumed from %s at epoch %d step %lld (best valid perplexity %.3f)\n",
                saved->path.c_str(), p.epoch + 1, static_cast<long long>(p.step), p.best_valid);
  }
  std::printf(
      "curnn-ptb: model %s (%d x %d, %d steps, batch %d, keep %.2f), vocab %d, device %s,"
      " seed %llu%s\n",
      c.name.c_str(), c.num_layers, c.hidden_size, c.num_steps, c.batch_size, c.keep_prob,
      c.vocab_size, curnn::app::describe(ctx).c_str(), static_cast<unsigned long long>(o.seed),
      o.graph == "on" ? ", steps as CUDA Graph replays" : "");
  if (o.max_steps > 0) {
    std::printf("curnn-ptb: training capped at %lld batches per epoch (--max-steps)\n",
                static_cast<long long>(o.max_steps));
  }
  std::fflush(stdout);
  log.write({{"type", "config"},
             {"config", json(c)},
             {"device", curnn::app::describe(ctx)},
             {"seed", o.seed},
             {"max_steps", o.max_steps}});
  return trainer.run();
}

}  // namespace

int main(int argc, char** argv) {
  return curnn::app::run_main("curnn-ptb", [&]() -> int {
    Options o;
    CLI::App cli{
        "curnn-ptb: the Zaremba et al. LSTM language model on Penn Treebank "
        "(TensorFlow's ptb_word_lm.py) with libcurnn"};
    cli.add_option("--data-path", o.data_path,
                   "folder with ptb.{train,valid,test}.txt (or .txt.gz)");
    cli.add_option("--model", o.model, "config: small, medium, large or test")
        ->check(CLI::IsMember({"small", "medium", "large", "test"}));
    cli.add_option("--device", o.device, "cuda or cpu (default: cuda when a GPU is present)")
        ->check(CLI::IsMember({"cuda", "cpu"}));
    cli.add_option("--recurrent", o.recurrent,
                   "LSTM recurrent loop: auto (persistent only where verified on a GPU), per-step "
                   "or persistent (one launch per layer; Hopper GPUs)")
        ->check(CLI::IsMember({"auto", "per-step", "persistent"}));
    cli.add_option("--graph", o.graph,
                   "on: each training and evaluation step is one CUDA Graph replay (GPU only; "
                   "the same results as off); off (default): queued op by op")
        ->check(CLI::IsMember({"on", "off"}));
    cli.add_option("--seed", o.seed, "random seed (initialisation and dropout)");
    cli.add_option("--max-steps", o.max_steps, "cap on training batches per epoch (0: none)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    cli.add_option("--save-path", o.save_path,
                   "folder for the checkpoints: ptb-lm.ckpt, the latest training state (saved at "
                   "each epoch end, every --save-every steps and on a stop), and "
                   "ptb-lm.best.ckpt, the state of the best validation perplexity");
    cli.add_option("--save-every", o.save_every,
                   "also save the training state every N training steps (0: at epoch ends only)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    curnn::app::add_stop_after_option(cli, o.stop_after);
    cli.add_flag("--resume", o.resume,
                 "continue from the checkpoint in --save-path where it stopped (the same flags "
                 "give the same run bit for bit on the CPU; --max-max-epoch may grow)");
    cli.add_option("--log-json", o.log_json, "write one JSON object per progress line and epoch");
    cli.add_option("--generate", o.generate,
                   "sample N words from the best checkpoint in --save-path (the latest when "
                   "there is no best one yet)")
        ->check(CLI::Range(0, 1000000));
    cli.add_option("--temperature", o.temperature, "sampling temperature for --generate")
        ->check(CLI::Range(1e-3, 100.0));
    curnn::app::one_line_cli_errors(cli, "curnn-ptb");
    // Config overrides (applied over --model).
    LmConfig& v = o.overrides;
    cli.add_option("--init-scale", v.init_scale, "uniform init range")
        ->check(CLI::Range(1e-6, 10.0));
    cli.add_option("--learning-rate", v.learning_rate,
                   "initial SGD learning rate (at most 100; a warning above 3, where training "
                   "diverges; a NaN/Inf loss or gradient stops the run with exit 1)")
        ->check(CLI::Range(1e-9, 100.0));
    cli.add_option("--max-grad-norm", v.max_grad_norm, "global-norm clip")
        ->check(CLI::Range(1e-9, 1e9));
    cli.add_option("--num-layers", v.num_layers, "LSTM layers")->check(CLI::Range(1, 16));
    cli.add_option("--num-steps", v.num_steps, "BPTT window")->check(CLI::Range(1, 10000));
    cli.add_option("--hidden-size", v.hidden_size, "LSTM and embedding size")
        ->check(CLI::Range(1, 16384));
    cli.add_option("--max-epoch", v.max_epoch, "epochs at the initial learning rate")
        ->check(CLI::Range(1, 10000));
    cli.add_option("--max-max-epoch", v.max_max_epoch, "total epochs")->check(CLI::Range(1, 10000));
    cli.add_option("--keep-prob", v.keep_prob, "dropout keep probability")
        ->check(CLI::Range(1e-6, 1.0));
    cli.add_option("--lr-decay", v.lr_decay, "learning-rate decay per epoch after max-epoch")
        ->check(CLI::Range(1e-9, 1.0));
    cli.add_option("--batch-size", v.batch_size, "batch size")->check(CLI::Range(1, 65536));
    try {
      cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return cli.exit(e);
    }
    // The chosen config, then every override flag the user gave.
    LmConfig c = curnn::nn::lm_config(o.model);
    const LmConfig given = o.overrides;
    const auto set = [&](const char* flag, auto& field, const auto& value) {
      if (cli.count(flag) > 0) field = value;
    };
    set("--init-scale", c.init_scale, given.init_scale);
    set("--learning-rate", c.learning_rate, given.learning_rate);
    set("--max-grad-norm", c.max_grad_norm, given.max_grad_norm);
    set("--num-layers", c.num_layers, given.num_layers);
    set("--num-steps", c.num_steps, given.num_steps);
    set("--hidden-size", c.hidden_size, given.hidden_size);
    set("--max-epoch", c.max_epoch, given.max_epoch);
    set("--max-max-epoch", c.max_max_epoch, given.max_max_epoch);
    set("--keep-prob", c.keep_prob, given.keep_prob);
    set("--lr-decay", c.lr_decay, given.lr_decay);
    set("--batch-size", c.batch_size, given.batch_size);
    o.overrides = c;

    o.seed_given = cli.count("--seed") > 0;
    CURNN_CHECK(o.save_path.size() || (o.save_every == 0 && o.stop_after == 0),
                "--save-every and --stop-after need --save-path DIR");
    Context ctx = curnn::app::make_context(o.device);
    CURNN_CHECK(o.graph == "off" || ctx.is_cuda(),
                "--graph on needs the GPU (--device cuda): CUDA Graphs do not exist on the CPU");
    if (o.generate > 0) return generate(o, ctx);
    CURNN_CHECK(!o.data_path.empty(), "--data-path DIR is required (see --help)");
    return train(o, ctx);
  });
}
