// The CPU backend's results do not depend on its thread count (curnn/threads.hpp,
// CURNN_NUM_THREADS): GEMMs split into column blocks, PTB language-model training (parameters
// after a few SGD steps, and a batch-1 evaluation: the one-row products), BiLSTM training on
// MNIST-shaped input (parameters and Adam state after a few steps) and the apps (curnn-ptb's
// checkpoint, curnn-word2vec's vectors and tutorial embeddings) give the same bits with 1, 2
// and 3 threads. The shapes are checked to take the multi-block GEMM paths
// (ops::cpu_gemm_column_blocks > 1), so that the tests see a split that depends on the core
// count. Also: set_cpu_threads() bounds and a bad CURNN_NUM_THREADS as a one-line app error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "curnn/buffer.hpp"
#include "curnn/config.hpp"
#include "curnn/context.hpp"
#include "curnn/nn/bilstm_classifier.hpp"
#include "curnn/nn/lstm_lm.hpp"
#include "curnn/ops/gemm.hpp"
#include "curnn/threads.hpp"
#include "support/data_files.hpp"
#include "support/random.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

constexpr int kThreadCounts[] = {1, 2, 3};

// Runs fn() with set_cpu_threads(n) and puts the default back afterwards.
template <class Fn>
auto with_threads(int n, Fn&& fn) {
  struct Restore {
    ~Restore() { set_cpu_threads(0); }
  } restore;
  set_cpu_threads(n);
  return fn();
}

// Index of the first element whose bits differ, or -1.
template <class T>
std::int64_t first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return static_cast<std::int64_t>(i);
  }
  return -1;
}

// Every thread count's result has the bits of the 1-thread result.
template <class T, class Run>
void expect_same_bits_for_every_thread_count(const std::string& what, Run&& run) {
  const std::vector<T> one = with_threads(1, run);
  ASSERT_FALSE(one.empty()) << what;
  for (int n : kThreadCounts) {
    if (n == 1) continue;
    const std::vector<T> other = with_threads(n, run);
    const std::int64_t i = first_difference(one, other);
    EXPECT_EQ(i, -1) << what << ": " << n << " threads differ from 1 thread at element " << i
                     << " of " << one.size() << " (" << (i >= 0 ? one[i] : T{}) << " vs "
                     << (i >= 0 && i < static_cast<std::int64_t>(other.size()) ? other[i] : T{})
                     << ")";
  }
}

// Where the build has BLAS, the shape is computed in at least `min_blocks` column blocks (else
// these tests would not see a split at all).
void expect_split(std::int64_t M, std::int64_t N, std::int64_t K, std::int64_t min_blocks) {
  const std::int64_t blocks = ops::cpu_gemm_column_blocks(M, N, K);
  if (!CURNN_HAVE_BLAS) {
    EXPECT_EQ(blocks, 1) << "without BLAS the CPU GEMM is one serial loop";
    return;
  }
  EXPECT_GE(blocks, min_blocks)
      << "gemm " << M << "x" << N << "x" << K
      << " is split in fewer blocks: the test no longer exercises the split";
}

TEST(CpuThreads, OverrideAndItsBounds) {
  const int by_default = cpu_threads();
  EXPECT_GE(by_default, 1);
  EXPECT_LE(by_default, kMaxCpuThreads);
  EXPECT_EQ(with_threads(3, [] { return cpu_threads(); }), 3);
  EXPECT_EQ(cpu_threads(), by_default);
  EXPECT_THROW(set_cpu_threads(-1), ArgumentError);
  EXPECT_THROW(set_cpu_threads(kMaxCpuThreads + 1), ArgumentError);
  EXPECT_EQ(cpu_threads(), by_default);
}

TEST(CpuThreads, ColumnBlocksDependOnTheShapeOnly) {
  const std::int64_t blocks = ops::cpu_gemm_column_blocks(400, 10000, 200);
  for (int n : kThreadCounts) {
    EXPECT_EQ(with_threads(n, [] { return ops::cpu_gemm_column_blocks(400, 10000, 200); }), blocks)
        << n << " threads";
  }
  EXPECT_EQ(ops::cpu_gemm_column_blocks(0, 10, 10), 1);
  EXPECT_EQ(ops::cpu_gemm_column_blocks(4, 4, 4), 1);
}

// Products in every layout, with an odd N so that the blocks differ in width, and one-row
// products (gemv).
TEST(CpuThreads, GemmSameBitsForOneTwoThreeThreads) {
  struct Shape {
    std::int64_t M, N, K;
  };
  for (const Shape s : {Shape{64, 4099, 512}, Shape{80, 10000, 256}, Shape{1, 10007, 200}}) {
    expect_split(s.M, s.N, s.K, 3);
    for (Transpose ta : {Transpose::No, Transpose::Yes}) {
      for (Transpose tb : {Transpose::No, Transpose::Yes}) {
        std::vector<float> a = test::random_uniform(s.M * s.K, -1, 1, 1);
        std::vector<float> b = test::random_uniform(s.K * s.N, -1, 1, 2);
        const std::vector<float> c0 = test::random_uniform(s.M * s.N, -1, 1, 3);
        const ConstTensor A = ta == Transpose::No ? ConstTensor(a.data(), {s.M, s.K}, Device::CPU)
                                                  : ConstTensor(a.data(), {s.K, s.M}, Device::CPU);
        const ConstTensor B = tb == Transpose::No ? ConstTensor(b.data(), {s.K, s.N}, Device::CPU)
                                                  : ConstTensor(b.data(), {s.N, s.K}, Device::CPU);
        for (Write mode : {Write::Overwrite, Write::Accumulate}) {
          const std::string what = "gemm " + std::to_string(s.M) + "x" + std::to_string(s.N) + "x" +
                                   std::to_string(s.K) + (ta == Transpose::Yes ? " Aᵀ" : "") +
                                   (tb == Transpose::Yes ? " Bᵀ" : "") +
                                   (mode == Write::Accumulate ? " +=" : "");
          expect_same_bits_for_every_thread_count<float>(what, [&] {
            Context ctx = Context::cpu();
            std::vector<float> c = mode == Write::Overwrite ? test::nan_filled(c0.size()) : c0;
            ops::gemm(ctx, ta, tb, A, B, Tensor(c.data(), {s.M, s.N}, Device::CPU), mode);
            return c;
          });
        }
      }
    }
  }
}

// A 2-layer PTB model with dropout, V 10000, H 256, batch 16 x 8 steps: its softmax layer
// (128 x 10000 x 256), LSTM input products (128 x 1024 x 256) and the batch-1 evaluation's
// one-row softmax (1 x 10000 x 256) all take the multi-block path.
TEST(CpuThreads, PtbTrainingSameBitsForOneTwoThreeThreads) {
  nn::LmConfig cfg = nn::lm_config("small");
  cfg.hidden_size = 256;
  cfg.num_steps = 8;
  cfg.batch_size = 16;
  cfg.keep_prob = 0.5;
  const int T = cfg.num_steps, B = cfg.batch_size, H = cfg.hidden_size, V = cfg.vocab_size;
  expect_split(T * B, V, H, 3);
  expect_split(T * B, 4 * H, H, 2);
  expect_split(1, V, H, 3);
  constexpr int kSteps = 3, kEvalWords = 4;
  const std::vector<std::int32_t> ids = test::random_ids(kSteps * T * B + 1, V, 11);
  expect_same_bits_for_every_thread_count<float>("PTB parameters and losses", [&] {
    Context ctx = Context::cpu();
    nn::LstmLanguageModel<float> lm(ctx, cfg);
    lm.initialize(ctx, 5);
    auto state = lm.zero_state(ctx, B);
    std::vector<float> norms(kSteps);
    for (int step = 0; step < kSteps; ++step) {
      const std::int32_t* x = ids.data() + step * T * B;
      lm.forward(ctx, ConstIds(x, {T, B}, Device::CPU), ConstIds(x + 1, {T, B}, Device::CPU), state,
                 /*training=*/true, /*dropout_seed=*/7, /*mask_offset=*/step * 3);
      lm.backward(ctx);
      lm.sgd_step(ctx, 1.0f, Tensor(norms.data() + step, {1}, Device::CPU));
    }
    std::vector<float> out = to_vector(ctx, lm.params().view());
    out.insert(out.end(), norms.begin(), norms.end());
    // The test pass's shape: batch 1, one step, one-row products.
    auto eval_state = lm.zero_state(ctx, 1);
    for (int w = 0; w < kEvalWords; ++w) {
      lm.forward(ctx, ConstIds(ids.data() + w, {1, 1}, Device::CPU),
                 ConstIds(ids.data() + w + 1, {1, 1}, Device::CPU), eval_state, false, 0, 0);
      out.push_back(to_vector(ctx, lm.loss_rows())[0]);
    }
    return out;
  });
}

// The book's BiLSTM (256 units per direction) on random 28 x 28 "images", batch 64: its input
// products (1792 x 1024 x 28) and recurrent weight gradients (256 x 1024 x 1792) are split.
TEST(CpuThreads, MnistBiLstmTrainingSameBitsForOneTwoThreeThreads) {
  nn::ClassifierConfig cfg;  // the book's: E 28, H 256, outputs[-1] head, Adam lr 0.01
  const int T = 28, B = 64, E = cfg.input_size, H = cfg.hidden_size;
  expect_split(T * B, 4 * H, E, 2);
  expect_split(H, 4 * H, T * B, 3);
  constexpr int kSteps = 3;
  const std::vector<float> x = test::random_uniform(kSteps * T * B * E, 0, 1, 21);
  const std::vector<std::int32_t> labels = test::random_ids(kSteps * B, cfg.num_classes, 22);
  expect_same_bits_for_every_thread_count<float>("BiLSTM parameters and Adam state", [&] {
    Context ctx = Context::cpu();
    nn::BiLstmClassifier<float> model(ctx, cfg);
    model.initialize(ctx, 3);
    std::vector<float> losses;
    for (int step = 0; step < kSteps; ++step) {
      model.forward(ctx, ConstTensor(x.data() + step * T * B * E, {T, B, E}, Device::CPU),
                    ConstIds(labels.data() + step * B, {B}, Device::CPU), /*training=*/true);
      losses.push_back(static_cast<float>(model.mean_loss(ctx)));
      model.backward(ctx);
      model.adam_step(ctx);
    }
    std::vector<float> out = to_vector(ctx, model.training_state());
    out.insert(out.end(), losses.begin(), losses.end());
    return out;
  });
}

// ---- the apps, through CURNN_NUM_THREADS ----------------------------------------------------

// Sets CURNN_NUM_THREADS for the apps this test starts, and unsets it afterwards.
class ThreadsVariable {
 public:
  explicit ThreadsVariable(const std::string& value) {
    ::setenv("CURNN_NUM_THREADS", value.c_str(), 1);
  }
  ~ThreadsVariable() { ::unsetenv("CURNN_NUM_THREADS"); }
};

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `app args` with CURNN_NUM_THREADS=1, 2, 3 (in fresh folders under dir/threads-N, which
// `args` names as @OUT@) and expects the files `outputs` to be the same bytes every time.
void expect_app_outputs_same_for_every_thread_count(const test::TempDir& dir,
                                                    const std::string& app, const std::string& args,
                                                    const std::vector<std::string>& outputs) {
  std::vector<std::vector<char>> first;
  for (int n : kThreadCounts) {
    const std::string out = dir / ("threads-" + std::to_string(n));
    std::filesystem::create_directories(out);
    std::string command = args;
    for (std::size_t at; (at = command.find("@OUT@")) != std::string::npos;) {
      command.replace(at, 5, out);
    }
    ThreadsVariable threads(std::to_string(n));
    const auto r = test::run_app(app, command);
    ASSERT_EQ(r.exit_code, 0) << app << " with CURNN_NUM_THREADS=" << n << ":\n" << r.output;
    for (std::size_t f = 0; f < outputs.size(); ++f) {
      const std::vector<char> bytes = file_bytes(out + "/" + outputs[f]);
      ASSERT_FALSE(bytes.empty()) << out << "/" << outputs[f] << " is missing or empty";
      if (n == 1) {
        first.push_back(bytes);
      } else {
        EXPECT_TRUE(bytes == first[f])
            << app << ": " << outputs[f] << " with CURNN_NUM_THREADS=" << n
            << " differs from CURNN_NUM_THREADS=1";
      }
    }
  }
}

// `lines` lines of 12 words w0 ... w<vocab-1>, in PTB's format (" w3 w0 ... w1 \n"), word i
// drawn with a frequency falling with i.
std::string synthetic_text(int lines, int vocab, unsigned seed) {
  std::string text;
  unsigned s = seed;
  for (int l = 0; l < lines; ++l) {
    for (int w = 0; w < 12; ++w) {
      s = s * 1103515245u + 12345u;
      const double u = static_cast<double>((s >> 8) % 65536) / 65536.0;
      text += " w" + std::to_string(static_cast<int>(u * u * vocab));
    }
    text += " \n";
  }
  return text;
}

TEST(CpuThreadsApps, PtbCheckpointSameBytesForOneTwoThreeThreads) {
  test::TempDir dir;
  std::string every_word;  // the training file has every word (PTB's vocabulary comes from it)
  for (int w = 0; w < 60; ++w) every_word += " w" + std::to_string(w);
  test::write_file(dir / "ptb.train.txt", every_word + " \n" + synthetic_text(200, 60, 7));
  test::write_file(dir / "ptb.valid.txt", synthetic_text(20, 60, 8));
  test::write_file(dir / "ptb.test.txt", synthetic_text(20, 60, 9));
  // LSTM products 128 x 1024 x 256: split in 2 or more column blocks.
  expect_split(128, 1024, 256, 2);
  expect_app_outputs_same_for_every_thread_count(
      dir, "curnn-ptb",
      "--data-path " + dir.str() +
          " --model test --device cpu --hidden-size 256 --num-steps 8 --batch-size 16 "
          "--keep-prob 0.5 --max-max-epoch 1 --max-steps 3 --save-path @OUT@/ck",
      {"ck/ptb-lm.ckpt"});
}

TEST(CpuThreadsApps, Word2vecOutputsSameBytesForOneTwoThreeThreads) {
  test::TempDir dir;
  const std::string corpus = dir / "corpus.txt";
  test::write_file(corpus, synthetic_text(1000, 2000, 3));
  // The fast trainer with -threads 1 (its own thread count; CURNN_NUM_THREADS must not matter).
  expect_app_outputs_same_for_every_thread_count(
      dir, "curnn-word2vec",
      "-train " + corpus +
          " -output @OUT@/vectors.bin -binary 1 -cbow 0 -size 32 -window 5 -negative 5 -hs 0 "
          "-sample 1e-4 -iter 1 -min-count 2 -threads 1 --device cpu -debug 0",
      {"vectors.bin"});
  // The book's tutorial on the CPU backend's ops.
  expect_app_outputs_same_for_every_thread_count(
      dir, "curnn-word2vec",
      "--tutorial -train " + corpus + " --steps 101 --device cpu --no-plot --output-dir @OUT@",
      {"embeddings.txt"});
}

TEST(CpuThreadsApps, BadThreadCountIsAOneLineError) {
  test::TempDir dir;
  for (const char* value : {"abc", "0", "-2", "2.5", "4x", " 2", "99999", "1025"}) {
    ThreadsVariable threads(value);
    const auto r = test::run_app("curnn-ptb", "--data-path " + dir.str() + " --device cpu");
    EXPECT_EQ(r.exit_code, 1) << "CURNN_NUM_THREADS='" << value << "': " << r.output;
    EXPECT_EQ(test::count_lines(r.output), 1) << r.output;
    test::expect_contains(r.output, std::string("curnn-ptb: error: CURNN_NUM_THREADS='") + value +
                                        "': expected a whole number of threads from 1 to 1024");
  }
  ThreadsVariable empty("");  // empty: every core, like unset
  const auto r = test::run_app("curnn-ptb", "--data-path " + dir.str() + " --device cpu");
  EXPECT_EQ(r.output.find("CURNN_NUM_THREADS"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace curnn
