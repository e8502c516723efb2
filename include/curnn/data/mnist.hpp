// MNIST (and Fashion-MNIST: same file names and format) from IDX files, plain or gzipped, with
// TensorFlow's reader semantics (tensorflow/contrib/learn/python/learn/datasets/mnist.py;
// experiment 3 of /work/shared/docs/EXPERIMENTS.md).
//
//  - IDX: big-endian int32 header. Images: magic 2051 (0x00000803: unsigned bytes, 3 dims), count,
//    rows, cols, then count*rows*cols pixel bytes. Labels: magic 2049 (0x00000801), count, then
//    count label bytes. Checked: the magic, dimensions >= 1, the file length exactly (truncated or
//    trailing bytes are errors), labels in 0..9, and image and label counts equal.
//  - Pixels: float(byte) * float(1/255), computed in float32 as TensorFlow's numpy code does
//    (images.astype(float32) * (1.0 / 255.0)); 0 -> 0 and 255 -> 1 exactly, and every value is
//    within 1 ulp of the correctly rounded byte / 255.0f (equal for most bytes, not all).
//  - Split: of the 60,000 training images the first validation_size (5,000) are the validation
//    split and the rest (55,000) the training split; the test split is t10k.
//  - EpochShuffler: DataSet.next_batch's order of examples (shuffle at the first call and at each
//    epoch end; a batch crossing the end takes the rest of the old epoch, then the start of the
//    new shuffled one).
// Tests: tests/data_mnist_test.cpp.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace curnn::data {

// An IDX image file as stored: pixels[n, rows, cols], row-major, bytes 0..255.
struct IdxImages {
  int64_t n = 0;
  int rows = 0, cols = 0;
  std::vector<uint8_t> pixels;
};
IdxImages read_idx_images(const std::string& path);
// An IDX label file: [n] bytes, each checked to be in 0..9.
std::vector<uint8_t> read_idx_labels(const std::string& path);

struct MnistSplit {
  int64_t n = 0;                // N examples
  int rows = 0, cols = 0;       // 28 x 28
  std::vector<float> images;    // [N, rows * cols], in [0, 1]
  std::vector<int32_t> labels;  // [N], in 0..9
};

struct MnistData {
  MnistSplit train, validation, test;
};

// Reads <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte, each plain or .gz, and splits off the
// first validation_size training images (0 <= validation_size <= 60,000) as the validation split.
MnistData load_mnist(const std::string& dir, int validation_size = 5000);

// Examples [begin, end) of an image file and its label file as a split (pixels scaled).
MnistSplit make_split(const IdxImages& images, const std::vector<uint8_t>& labels, int64_t begin,
                      int64_t end);

// The pixel scaling described above.
inline float mnist_pixel(uint8_t byte) {
  return static_cast<float>(byte) * static_cast<float>(1.0 / 255.0);
}

// Gathers examples idx[0..B) of a split: batch-major x[B, rows * cols] or time-major
// x_tm[rows, B, cols] (row r of every image is time step r), and y[B].
void gather_batch(const MnistSplit& split, const int64_t* idx, int64_t B, float* x, int32_t* y);
void gather_batch_time_major(const MnistSplit& split, const int64_t* idx, int64_t B, float* x_tm,
                             int32_t* y);

// TensorFlow's DataSet.next_batch over N examples, as indices into the split. It keeps a
// permutation `order`:
//  - the first call (shuffle on) sets order to a shuffled 0..N-1;
//  - a call with start + B <= N (start = position in the epoch) returns order[start, start + B);
//  - otherwise the epoch is complete: it takes order[start, N) (the rest, possibly empty),
//    reshuffles order (shuffle on), and appends order[0, B - (N - start)).
// So each epoch is a permutation in which every example appears once; the batch that crosses an
// epoch end holds the end of one and the start of the next. Shuffling is our own Fisher-Yates
// over std::mt19937_64 with a portable bounded draw, so a seed gives the same order with every
// compiler and standard library (not numpy's order: its RNG cannot be matched).
class EpochShuffler {
 public:
  EpochShuffler(int64_t num_examples, uint64_t seed, bool shuffle = true);

  // 1 <= B <= num_examples (TensorFlow misbehaves beyond that).
  std::vector<int64_t> next_batch(int64_t B);
  void next_batch(int64_t B, int64_t* indices);

  int64_t num_examples() const { return n_; }
  int64_t epochs_completed() const { return epochs_completed_; }
  int64_t index_in_epoch() const { return index_in_epoch_; }

  // The whole state, for checkpoints: restore(state()) continues the same sequence of batches.
  struct State {
    std::string rng;             // the std::mt19937_64's text form (operator<<)
    std::vector<int64_t> order;  // [N] the current permutation
    int64_t epochs_completed = 0, index_in_epoch = 0;
  };
  State state() const;
  // Throws ArgumentError naming what is wrong (rng text that does not parse, order not a
  // permutation of 0..N-1, index_in_epoch outside [0, N], epochs_completed < 0); on an error
  // the shuffler is unchanged.
  void restore(const State& state);

 private:
  void reshuffle();
  int64_t n_;
  bool shuffle_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;  // [N]
  int64_t index_in_epoch_ = 0, epochs_completed_ = 0;
};

}  // namespace curnn::data
