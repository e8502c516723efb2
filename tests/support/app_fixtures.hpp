// Tiny datasets and flag sets for running the training apps in tests (checkpoints, resume,
// signals): a synthetic corpus in PTB's format, and MNIST-format IDX files of 4 x 5 pixels.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/data_files.hpp"
#include "support/idx_files.hpp"
#include "support/run_app.hpp"

namespace curnn::test {

// `lines` lines in PTB's format (" w1 ... wn \n") over 10 words, from an LCG seeded with `seed`.
// `words` replaces the word list (a corpus with the same vocabulary size but other words).
inline std::string synthetic_ptb(int lines, int seed, std::vector<std::string> words = {}) {
  if (words.empty()) words = {"the", "cat", "sat", "on", "mat", "a", "dog", "ran", "<unk>", "N"};
  std::string text;
  unsigned s = static_cast<unsigned>(seed);
  for (int l = 0; l < lines; ++l) {
    text += " ";
    for (int w = 0; w < 6 + l % 5; ++w) {
      s = s * 1103515245u + 12345u;
      text += words[(s >> 16) % words.size()] + " ";
    }
    text += "\n";
  }
  return text;
}

inline void write_ptb_corpus(const std::string& dir, int train_lines = 400,
                             const std::vector<std::string>& words = {}) {
  std::filesystem::create_directories(dir);
  write_file(dir + "/ptb.train.txt", synthetic_ptb(train_lines, 1, words));
  write_file(dir + "/ptb.valid.txt", synthetic_ptb(60, 2, words));
  write_file(dir + "/ptb.test.txt", synthetic_ptb(60, 3, words));
}

// 36 training images (8 held out for validation) and 20 test images of 4 x 5 pixels.
inline void write_mnist(const std::string& dir, std::uint64_t image_seed = 1) {
  std::filesystem::create_directories(dir);
  std::vector<int> train_labels(36), test_labels(20);
  for (int i = 0; i < 36; ++i) train_labels[i] = (i * 3) % 10;
  for (int i = 0; i < 20; ++i) test_labels[i] = (i * 7 + 1) % 10;
  write_file(dir + "/train-images-idx3-ubyte", idx_images(36, 4, 5, image_seed));
  write_file(dir + "/train-labels-idx1-ubyte", idx_labels(train_labels));
  write_file(dir + "/t10k-images-idx3-ubyte", idx_images(20, 4, 5, 2));
  write_file(dir + "/t10k-labels-idx1-ubyte", idx_labels(test_labels));
}

// The tiny model flags: the `test` PTB config with dropout (so the masks matter), 3 epochs of
// 89 steps; the MNIST model of 6 units on 7 batches of 4 per epoch.
inline std::string ptb_flags(const std::string& data, int seed = 5, int epochs = 3) {
  return "--data-path '" + data +
         "' --model test --device cpu --hidden-size 8 --keep-prob 0.5 --seed " +
         std::to_string(seed) + " --max-max-epoch " + std::to_string(epochs);
}
inline std::string mnist_flags(const std::string& data, long long max_samples = 200) {
  return "--data-path '" + data +
         "' --device cpu --validation-size 8 --batch-size 4 --hidden 6 --seed 3 --max-samples " +
         std::to_string(max_samples);
}

// What the app tests need of a training app: its name, tiny data, flags and checkpoint file,
// and a step inside an epoch.
struct PtbRuns {
  static constexpr const char* kName = "curnn-ptb";
  static constexpr const char* kCheckpoint = "ptb-lm.ckpt";
  static constexpr int kMidEpochStep = 30;  // of 89
  static void write_data(const std::string& dir) { write_ptb_corpus(dir); }
  static std::string flags(const std::string& data) { return ptb_flags(data); }
  // A run that goes on until stopped.
  static std::string long_flags(const std::string& data) { return ptb_flags(data, 5, 10000); }
};
struct MnistRuns {
  static constexpr const char* kName = "curnn-mnist";
  static constexpr const char* kCheckpoint = "mnist-bilstm.ckpt";
  static constexpr int kMidEpochStep = 9;  // the second of 7
  static void write_data(const std::string& dir) { write_mnist(dir); }
  static std::string flags(const std::string& data) { return mnist_flags(data); }
  static std::string long_flags(const std::string& data) { return mnist_flags(data, 1LL << 40); }
};

// A test of build/bin/<Runs::kName> (skipped when it is not built) with its data in dir_/data.
template <class Runs>
class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(app_path(Runs::kName))) {
      GTEST_SKIP() << Runs::kName << " is not built";
    }
    Runs::write_data(dir_ / "data");
  }
  // The app with the tiny flags on dir_/<data>, then `args`.
  AppResult run(const std::string& args, const std::string& data = "data") const {
    return run_app(Runs::kName, Runs::flags(dir_ / data) + " " + args);
  }
  TempDir dir_;
};

}  // namespace curnn::test
