// curnn-ptb: the Zaremba et al. LSTM language model on Penn Treebank (TensorFlow's
// ptb_word_lm.py, the book's §7.2), on the GPU or the CPU. Prints the book's log lines.
//
//   curnn-ptb --data-path DIR [--model small|medium|large|test] [--device cuda|cpu] ...
//   curnn-ptb --save-path DIR --generate 50 --temperature 0.8
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "app_common.hpp"
#include "curnn/data/checkpoint.hpp"
#include "curnn/data/ptb.hpp"
#include "curnn/nn/lstm_lm.hpp"

namespace curnn::nn {
// LmConfig <-> JSON (checkpoint metadata and the JSON log).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LmConfig, name, init_scale, learning_rate, max_grad_norm,
                                   num_layers, num_steps, hidden_size, max_epoch, max_max_epoch,
                                   keep_prob, lr_decay, batch_size, vocab_size)
}  // namespace curnn::nn

namespace {

using curnn::Buffer;
using curnn::ConstIds;
using curnn::Context;
using curnn::Device;
using curnn::Tensor;
using curnn::nn::LmConfig;
using Model = curnn::nn::LstmLanguageModel<float>;
using json = nlohmann::json;

struct Options {
  std::string data_path, model = "small", device, save_path, log_json, recurrent = "auto";
  std::int64_t max_steps = 0;
  std::uint64_t seed = 1;
  bool resume = false;
  int generate = 0;
  double temperature = 1.0;
  LmConfig overrides;  // fields set by flags, applied over the chosen config
};

std::string checkpoint_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "ptb-lm.ckpt").string();
}

// One pass over `data` (TensorFlow's run_epoch). Returns the perplexity.
class EpochRunner {
 public:
  EpochRunner(Context& ctx, Model& model, curnn::app::JsonLog& log, std::uint64_t seed)
      : ctx_(ctx), model_(model), log_(log), seed_(seed) {}

  double run(const std::vector<std::int32_t>& data, int B, int T, bool training, float lr,
             int epoch, std::int64_t max_steps, bool verbose) {
    const curnn::data::PtbBatcher batcher(data, B, T);
    const std::int64_t epoch_size = batcher.epoch_size();
    const std::int64_t steps = max_steps > 0 ? std::min(max_steps, epoch_size) : epoch_size;
    const std::int64_t every = std::max<std::int64_t>(1, steps / 10);
    Model::State state = model_.zero_state(ctx_, B);
    Buffer<float> cost(ctx_.device(), 1), norms(ctx_.device(), static_cast<std::size_t>(steps));
    curnn::copy(ctx_, curnn::ConstTensor(&zero_, {1}, Device::CPU), cost.view());
    std::vector<std::int32_t> x(static_cast<std::size_t>(T) * B), y(x.size());
    const std::int64_t masks_per_step = model_.config().num_layers + 1;
    curnn::app::Stopwatch clock;
    for (std::int64_t step = 0; step < steps; ++step) {
      batcher.batch_time_major(step, x.data(), y.data());
      model_.forward(ctx_, ConstIds(x.data(), {T, B}, Device::CPU),
                     ConstIds(y.data(), {T, B}, Device::CPU), state, training, seed_, mask_offset_,
                     cost.view());
      if (training) {
        mask_offset_ += masks_per_step;
        model_.backward(ctx_);
        model_.sgd_step(ctx_, lr, Tensor(norms.data() + step, {1}, ctx_.device()));
      }
      if (verbose && step % every == std::min<std::int64_t>(10, every - 1)) {
        const double ppl = perplexity(cost, norms, step + 1, B, T, training, epoch);
        const double wps = static_cast<double>(step + 1) * T * B / clock.seconds();
        std::printf("%.3f perplexity: %.3f speed: %.0f wps\n", static_cast<double>(step) / steps,
                    ppl, wps);
        std::fflush(stdout);
        log_.write({{"type", "progress"},
                    {"epoch", epoch + 1},
                    {"fraction", static_cast<double>(step) / steps},
                    {"perplexity", ppl},
                    {"wps", wps},
                    {"lr", lr}});
      }
    }
    last_wps_ = static_cast<double>(steps) * T * B / clock.seconds();
    return perplexity(cost, norms, steps, B, T, training, epoch);
  }
  double last_wps() const { return last_wps_; }

 private:
  // exp(cost / words) after `done` steps; stops the run with the step of a NaN/Inf.
  double perplexity(const Buffer<float>& cost, const Buffer<float>& norms, std::int64_t done, int B,
                    int T, bool training, int epoch) {
    const float total = curnn::to_vector(ctx_, cost.view())[0];  // waits for ctx_
    if (training) {
      const std::vector<float> n = curnn::to_vector(ctx_, norms.view());
      for (std::int64_t s = 0; s < done; ++s) {
        CURNN_CHECK(std::isfinite(n[s]), "training diverged: the gradient norm is "
                                             << n[s] << " at epoch " << epoch + 1 << " step " << s
                                             << " (try a smaller --learning-rate)");
      }
    }
    CURNN_CHECK(std::isfinite(total), "the loss is " << total << " at epoch " << epoch + 1
                                                     << ", after step " << done - 1);
    return std::exp(static_cast<double>(total) / (static_cast<double>(done) * T * B));
  }

  Context& ctx_;
  Model& model_;
  curnn::app::JsonLog& log_;
  std::uint64_t seed_, mask_offset_ = 0;
  double last_wps_ = 0;
  float zero_ = 0.0f;
};

void save(const Options& o, Model& model, const LmConfig& c, const curnn::data::PtbCorpus& corpus,
          int epochs_done, double best_valid, Context& ctx) {
  if (o.save_path.empty()) return;
  curnn::data::prepare_output_dir(o.save_path);
  const std::vector<float> host = curnn::to_vector(ctx, model.params().view());
  const json meta = {{"format", "curnn-ptb-lm"},
                     {"config", json(c)},
                     {"epochs_done", epochs_done},
                     {"best_valid_perplexity", best_valid},
                     {"seed", o.seed},
                     {"vocab", corpus.id_to_word}};
  curnn::data::save_checkpoint(checkpoint_path(o.save_path), curnn::app::to_json_text(meta),
                               host.data(), host.size());
}

// Text from a saved model: starts after <eos>, samples softmax(logits / temperature).
int generate(const Options& o, Context& ctx) {
  CURNN_CHECK(!o.save_path.empty(), "--generate needs --save-path DIR holding a checkpoint");
  const curnn::data::Checkpoint ck = curnn::data::load_checkpoint(checkpoint_path(o.save_path));
  const json meta =
      curnn::app::parse_json_text(ck.meta, checkpoint_path(o.save_path) + ": metadata");
  const LmConfig c = meta.at("config").get<LmConfig>();
  const std::vector<std::string> vocab = meta.at("vocab");
  const curnn::nn::RecurrentMode recurrent = curnn::nn::parse_recurrent_mode(o.recurrent);
  curnn::nn::check_recurrent_mode(recurrent, ctx, c.hidden_size, {1});
  Model model(ctx, c, recurrent);
  CURNN_CHECK(ck.data.size() == model.params().size(), "checkpoint does not match its config");
  curnn::copy(
      ctx,
      curnn::ConstTensor(ck.data.data(), {static_cast<std::int64_t>(ck.data.size())}, Device::CPU),
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
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = std::exp((logits[k] - mx) / o.temperature);
    word = static_cast<std::int32_t>(std::discrete_distribution<int>(p.begin(), p.end())(rng));
    std::printf("%s", vocab[word] == "<eos>" ? "\n" : (vocab[word] + " ").c_str());
  }
  std::printf("\n");
  return 0;
}

int train(const Options& o, Context& ctx) {
  if (!o.save_path.empty()) {  // an unusable output folder is reported now, not after an epoch
    curnn::data::prepare_output_dir(o.save_path);
    curnn::data::probe_output_file(checkpoint_path(o.save_path));
  }
  LmConfig c = o.overrides;
  const curnn::data::PtbCorpus corpus = curnn::data::load_ptb(o.data_path);
  c.vocab_size = corpus.vocab_size();
  curnn::nn::validate(c);
  LmConfig eval_c = c;
  eval_c.batch_size = 1, eval_c.num_steps = 1;
  // Fail now, not after the first epoch, if a split cannot fill one batch.
  const auto check_fits = [](const char* split, const std::vector<std::int32_t>& data, int B,
                             int T) {
    CURNN_CHECK(static_cast<std::int64_t>(data.size()) / B > T,
                "the " << split << " split (" << data.size() << " words) cannot fill one batch of "
                       << B << " x " << T << " words: decrease --batch-size or --num-steps");
  };
  check_fits("train", corpus.train, c.batch_size, c.num_steps);
  check_fits("valid", corpus.valid, c.batch_size, c.num_steps);

  const curnn::nn::RecurrentMode recurrent = curnn::nn::parse_recurrent_mode(o.recurrent);
  curnn::nn::check_recurrent_mode(recurrent, ctx, c.hidden_size, {c.batch_size, 1});
  Model model(ctx, c, recurrent);
  int first_epoch = 0;
  double best_valid = INFINITY;
  if (o.resume) {
    CURNN_CHECK(!o.save_path.empty(), "--resume needs --save-path DIR");
    const curnn::data::Checkpoint ck = curnn::data::load_checkpoint(checkpoint_path(o.save_path));
    const json meta =
        curnn::app::parse_json_text(ck.meta, checkpoint_path(o.save_path) + ": metadata");
    const LmConfig saved = meta.at("config").get<LmConfig>();
    CURNN_CHECK(saved.hidden_size == c.hidden_size && saved.num_layers == c.num_layers &&
                    saved.vocab_size == c.vocab_size,
                "the checkpoint in " << o.save_path << " is a " << saved.num_layers << "x"
                                     << saved.hidden_size << " model, not " << c.num_layers << "x"
                                     << c.hidden_size);
    CURNN_CHECK(ck.data.size() == model.params().size(), "checkpoint size mismatch");
    curnn::copy(ctx,
                curnn::ConstTensor(ck.data.data(), {static_cast<std::int64_t>(ck.data.size())},
                                   Device::CPU),
                model.params().view());
    first_epoch = meta.at("epochs_done");
    best_valid = meta.at("best_valid_perplexity");
    std::printf("Resumed from %s after epoch %d (best valid perplexity %.3f)\n",
                checkpoint_path(o.save_path).c_str(), first_epoch, best_valid);
  } else {
    model.initialize(ctx, o.seed);
  }
  std::printf(
      "curnn-ptb: model %s (%d x %d, %d steps, batch %d, keep %.2f), vocab %d, device %s,"
      " seed %llu\n",
      c.name.c_str(), c.num_layers, c.hidden_size, c.num_steps, c.batch_size, c.keep_prob,
      c.vocab_size, curnn::app::describe(ctx).c_str(), static_cast<unsigned long long>(o.seed));
  if (o.max_steps > 0) {
    std::printf("curnn-ptb: training capped at %lld batches per epoch (--max-steps)\n",
                static_cast<long long>(o.max_steps));
  }
  curnn::app::JsonLog log(o.log_json);
  log.write({{"type", "config"},
             {"config", json(c)},
             {"device", curnn::app::describe(ctx)},
             {"seed", o.seed},
             {"max_steps", o.max_steps}});
  EpochRunner runner(ctx, model, log, o.seed);
  curnn::app::Stopwatch total;
  for (int i = first_epoch; i < c.max_max_epoch; ++i) {
    const double lr_decay = std::pow(c.lr_decay, std::max(i + 1 - c.max_epoch, 0));
    const float lr = static_cast<float>(c.learning_rate * lr_decay);
    std::printf("Epoch: %d Learning rate: %.3f\n", i + 1, lr);
    const double train_ppl =
        runner.run(corpus.train, c.batch_size, c.num_steps, true, lr, i, o.max_steps, true);
    const double wps = runner.last_wps();
    std::printf("Epoch: %d Train Perplexity: %.3f\n", i + 1, train_ppl);
    const double valid_ppl =
        runner.run(corpus.valid, c.batch_size, c.num_steps, false, lr, i, 0, false);
    std::printf("Epoch: %d Valid Perplexity: %.3f\n", i + 1, valid_ppl);
    std::fflush(stdout);
    log.write({{"type", "epoch"},
               {"epoch", i + 1},
               {"lr", lr},
               {"train_perplexity", train_ppl},
               {"valid_perplexity", valid_ppl},
               {"train_wps", wps},
               {"elapsed_s", total.seconds()}});
    if (valid_ppl < best_valid) {
      best_valid = valid_ppl;
      save(o, model, c, corpus, i + 1, best_valid, ctx);
    }
  }
  const double test_ppl = runner.run(corpus.test, eval_c.batch_size, eval_c.num_steps, false, 0,
                                     c.max_max_epoch - 1, 0, false);
  std::printf("Test Perplexity: %.3f\n", test_ppl);
  std::printf("curnn-ptb: total %.1f s\n", total.seconds());
  log.write({{"type", "test"}, {"test_perplexity", test_ppl}, {"elapsed_s", total.seconds()}});
  return 0;
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
    cli.add_option("--seed", o.seed, "random seed (initialisation and dropout)");
    cli.add_option("--max-steps", o.max_steps, "cap on training batches per epoch (0: none)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    cli.add_option("--save-path", o.save_path,
                   "folder for the checkpoint of the best validation perplexity");
    cli.add_flag("--resume", o.resume, "continue from the checkpoint in --save-path");
    cli.add_option("--log-json", o.log_json, "write one JSON object per progress line and epoch");
    cli.add_option("--generate", o.generate, "sample N words from the checkpoint in --save-path")
        ->check(CLI::Range(0, 1000000));
    cli.add_option("--temperature", o.temperature, "sampling temperature for --generate")
        ->check(CLI::Range(1e-3, 100.0));
    curnn::app::one_line_cli_errors(cli, "curnn-ptb");
    // Config overrides (applied over --model).
    LmConfig& v = o.overrides;
    cli.add_option("--init-scale", v.init_scale, "uniform init range")
        ->check(CLI::Range(1e-6, 10.0));
    cli.add_option("--learning-rate", v.learning_rate, "initial SGD learning rate")
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

    Context ctx = curnn::app::make_context(o.device);
    if (o.generate > 0) return generate(o, ctx);
    CURNN_CHECK(!o.data_path.empty(), "--data-path DIR is required (see --help)");
    return train(o, ctx);
  });
}
