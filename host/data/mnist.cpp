// MNIST IDX reader, TensorFlow's split and DataSet.next_batch order; semantics in
// include/curnn/data/mnist.hpp.
#include "curnn/data/mnist.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "curnn/data/io.hpp"
#include "curnn/error.hpp"
#include "dataset_files.hpp"

namespace curnn::data {

namespace {

constexpr uint32_t kImagesMagic = 2051;  // 0x00000803
constexpr uint32_t kLabelsMagic = 2049;  // 0x00000801

uint32_t big_endian_u32(const std::string& bytes, std::size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Checks an IDX file's magic and its ND dimensions (each in 1..2^31-1) and that the payload after
// the header is exactly the product of the dimensions; returns the dimensions.
template <int ND>
std::array<int64_t, ND> parse_idx_header(const std::string& bytes, const std::string& path,
                                         uint32_t magic, const char* what) {
  const std::size_t header = 4 * (ND + 1);
  CURNN_CHECK(bytes.size() >= header, path << ": truncated IDX " << what << " file ("
                                           << bytes.size() << " bytes, the header alone is "
                                           << header << ")");
  const uint32_t got = big_endian_u32(bytes, 0);
  CURNN_CHECK(got == magic, path << ": not an IDX " << what << " file (magic " << got
                                 << ", expected " << magic << ")");
  std::array<int64_t, ND> dims{};
  uint64_t payload = 1;
  static const char* names[3] = {"count", "rows", "cols"};
  for (int d = 0; d < ND; ++d) {
    const uint32_t v = big_endian_u32(bytes, 4 * (d + 1));
    CURNN_CHECK(v >= 1 && v <= uint32_t{std::numeric_limits<int32_t>::max()},
                path << ": invalid IDX " << what << " header: " << names[d] << " = " << v);
    CURNN_CHECK(v <= (uint64_t{1} << 40) / payload,  // keeps the product below 2^40: no overflow
                path << ": IDX " << what << " header claims an absurd size (" << names[d] << " = "
                     << v << ")");
    dims[d] = v;
    payload *= v;
  }
  const uint64_t have = bytes.size() - header;
  CURNN_CHECK(have >= payload, path << ": truncated: the header says " << payload
                                    << " bytes of data, the file has " << have);
  CURNN_CHECK(have == payload, path << ": " << (have - payload) << " trailing bytes after the "
                                    << payload << " bytes of data the header announces");
  return dims;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  const std::string bytes = read_file(path);
  const auto dims = parse_idx_header<3>(bytes, path, kImagesMagic, "image");
  IdxImages images;
  images.n = dims[0];
  images.rows = static_cast<int>(dims[1]);
  images.cols = static_cast<int>(dims[2]);
  images.pixels.assign(bytes.begin() + 16, bytes.end());
  return images;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  const std::string bytes = read_file(path);
  parse_idx_header<1>(bytes, path, kLabelsMagic, "label");
  std::vector<uint8_t> labels(bytes.begin() + 8, bytes.end());
  for (std::size_t i = 0; i < labels.size(); ++i)
    CURNN_CHECK(labels[i] <= 9,
                path << ": label " << int{labels[i]} << " of example " << i << " is not in 0..9");
  return labels;
}

MnistSplit make_split(const IdxImages& images, const std::vector<uint8_t>& labels, int64_t begin,
                      int64_t end) {
  CURNN_CHECK_ARG(static_cast<int64_t>(labels.size()) == images.n,
                  "make_split: " << images.n << " images but " << labels.size() << " labels");
  CURNN_CHECK_ARG(
      0 <= begin && begin <= end && end <= images.n,
      "make_split: range [" << begin << ", " << end << ") outside [0, " << images.n << "]");
  const int64_t pixels = int64_t{images.rows} * images.cols;
  MnistSplit split;
  split.n = end - begin;
  split.rows = images.rows;
  split.cols = images.cols;
  split.images.resize(split.n * pixels);
  std::transform(images.pixels.begin() + begin * pixels, images.pixels.begin() + end * pixels,
                 split.images.begin(), mnist_pixel);
  split.labels.assign(labels.begin() + begin, labels.begin() + end);
  return split;
}

MnistData load_mnist(const std::string& dir, int validation_size) {
  const auto load = [&](const char* images_name, const char* labels_name,
                        std::vector<uint8_t>* labels) {
    const std::string images_path = detail::dataset_file(dir, images_name, "MNIST");
    const std::string labels_path = detail::dataset_file(dir, labels_name, "MNIST");
    IdxImages images = read_idx_images(images_path);
    *labels = read_idx_labels(labels_path);
    CURNN_CHECK(static_cast<int64_t>(labels->size()) == images.n,
                images_path << " has " << images.n << " images but " << labels_path << " has "
                            << labels->size() << " labels");
    return images;
  };
  std::vector<uint8_t> train_labels, test_labels;
  const IdxImages train = load("train-images-idx3-ubyte", "train-labels-idx1-ubyte", &train_labels);
  const IdxImages test = load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &test_labels);
  CURNN_CHECK_ARG(validation_size >= 0 && validation_size <= train.n,
                  "load_mnist: validation_size should be between 0 and " << train.n << ", got "
                                                                         << validation_size);
  MnistData data;
  data.validation = make_split(train, train_labels, 0, validation_size);
  data.train = make_split(train, train_labels, validation_size, train.n);
  data.test = make_split(test, test_labels, 0, test.n);
  return data;
}

namespace {
void check_gather(const MnistSplit& split, const int64_t* idx, int64_t B, const float* x,
                  const int32_t* y) {
  CURNN_CHECK_ARG(B >= 0, "gather_batch: B = " << B);
  CURNN_CHECK_ARG(B == 0 || (idx && x && y), "gather_batch: null pointer");
  for (int64_t b = 0; b < B; ++b)
    CURNN_CHECK_ARG(idx[b] >= 0 && idx[b] < split.n,
                    "gather_batch: index " << idx[b] << " outside [0, " << split.n << ")");
}
}  // namespace

void gather_batch(const MnistSplit& split, const int64_t* idx, int64_t B, float* x, int32_t* y) {
  check_gather(split, idx, B, x, y);
  const int64_t pixels = int64_t{split.rows} * split.cols;
  for (int64_t b = 0; b < B; ++b) {
    const float* image = split.images.data() + idx[b] * pixels;
    std::copy(image, image + pixels, x + b * pixels);
    y[b] = split.labels[idx[b]];
  }
}

void gather_batch_time_major(const MnistSplit& split, const int64_t* idx, int64_t B, float* x_tm,
                             int32_t* y) {
  check_gather(split, idx, B, x_tm, y);
  const int64_t cols = split.cols, pixels = int64_t{split.rows} * cols;
  for (int64_t b = 0; b < B; ++b) {
    const float* image = split.images.data() + idx[b] * pixels;
    for (int64_t r = 0; r < split.rows; ++r)
      std::copy(image + r * cols, image + (r + 1) * cols, x_tm + (r * B + b) * cols);
    y[b] = split.labels[idx[b]];
  }
}

EpochShuffler::EpochShuffler(int64_t num_examples, uint64_t seed, bool shuffle)
    : n_(num_examples), shuffle_(shuffle), rng_(seed) {
  CURNN_CHECK_ARG(num_examples >= 1, "EpochShuffler: num_examples = " << num_examples);
  order_.resize(n_);
  for (int64_t i = 0; i < n_; ++i) order_[i] = i;
}

void EpochShuffler::reshuffle() {
  if (!shuffle_) return;
  // Fisher-Yates; j uniform in [0, i] by rejection (std::uniform_int_distribution and
  // std::shuffle are implementation-defined, this is not).
  for (int64_t i = n_ - 1; i > 0; --i) {
    const uint64_t range = static_cast<uint64_t>(i) + 1;
    const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                           std::numeric_limits<uint64_t>::max() % range;  // multiple of range
    uint64_t r;
    do r = rng_();
    while (r >= limit);
    std::swap(order_[i], order_[r % range]);
  }
}

void EpochShuffler::next_batch(int64_t B, int64_t* indices) {
  CURNN_CHECK_ARG(B >= 1 && B <= n_,
                  "EpochShuffler: batch size " << B << " outside [1, " << n_ << "]");
  CURNN_CHECK_ARG(indices != nullptr, "EpochShuffler: null output pointer");
  const int64_t start = index_in_epoch_;
  if (epochs_completed_ == 0 && start == 0) reshuffle();  // the first epoch's shuffle
  if (start + B <= n_) {
    std::copy(order_.begin() + start, order_.begin() + start + B, indices);
    index_in_epoch_ = start + B;
    return;
  }
  ++epochs_completed_;
  const int64_t rest = n_ - start;
  std::copy(order_.begin() + start, order_.end(), indices);
  reshuffle();
  std::copy(order_.begin(), order_.begin() + (B - rest), indices + rest);
  index_in_epoch_ = B - rest;
}

EpochShuffler::State EpochShuffler::state() const {
  std::ostringstream rng;
  rng << rng_;
  return {rng.str(), order_, epochs_completed_, index_in_epoch_};
}

void EpochShuffler::restore(const State& s) {
  CURNN_CHECK_ARG(static_cast<int64_t>(s.order.size()) == n_,
                  "shuffler state: the order has " << s.order.size() << " entries, not " << n_);
  std::vector<bool> seen(static_cast<std::size_t>(n_), false);
  for (const int64_t i : s.order) {
    CURNN_CHECK_ARG(
        i >= 0 && i < n_ && !seen[static_cast<std::size_t>(i)],
        "shuffler state: the order is not a permutation of 0.." << n_ - 1 << " (at " << i << ")");
    seen[static_cast<std::size_t>(i)] = true;
  }
  CURNN_CHECK_ARG(
      s.index_in_epoch >= 0 && s.index_in_epoch <= n_,
      "shuffler state: index_in_epoch " << s.index_in_epoch << " outside [0, " << n_ << "]");
  CURNN_CHECK_ARG(s.epochs_completed >= 0,
                  "shuffler state: epochs_completed " << s.epochs_completed << " is negative");
  // The text form is state_size words and the position in them (libstdc++ reads a position
  // beyond state_size without a check, so it is checked here first).
  std::istringstream words(s.rng);
  std::size_t count = 0;
  unsigned long long last = 0;
  for (std::string word; words >> word; ++count) {
    errno = 0;
    last = std::strtoull(word.c_str(), nullptr, 10);
    CURNN_CHECK_ARG(word.size() <= 20 && errno == 0 &&
                        word.find_first_not_of("0123456789") == std::string::npos,
                    "shuffler state: the random generator's state holds a non-number");
  }
  CURNN_CHECK_ARG(count == std::mt19937_64::state_size + 1 && last <= std::mt19937_64::state_size,
                  "shuffler state: the random generator's state does not parse");
  std::istringstream text(s.rng);
  std::mt19937_64 rng;
  text >> rng;
  CURNN_CHECK_ARG(!text.fail(), "shuffler state: the random generator's state does not parse");
  rng_ = rng;
  order_ = s.order;
  epochs_completed_ = s.epochs_completed;
  index_in_epoch_ = s.index_in_epoch;
}

std::vector<int64_t> EpochShuffler::next_batch(int64_t B) {
  std::vector<int64_t> indices(std::max<int64_t>(B, 0));
  next_batch(B, indices.data());
  return indices;
}

}  // namespace curnn::data
