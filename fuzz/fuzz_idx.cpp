// libFuzzer harness: the MNIST IDX readers (curnn/data/mnist.hpp). The input is read as an image
// file and as a label file; what is accepted is split and gathered as the trainer does.
#include <algorithm>
#include <vector>

#include "curnn/data/mnist.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  static fuzz::InputFile file;
  const std::string& path = file.set(data, size);
  fuzz::only_curnn_errors([&] {
    const data::IdxImages images = data::read_idx_images(path);
    fuzz::require(
        images.pixels.size() == static_cast<std::size_t>(images.n) * images.rows * images.cols,
        "IDX images: pixel count = n * rows * cols");
    const std::vector<std::uint8_t> labels(static_cast<std::size_t>(images.n), 3);
    const data::MnistSplit split = data::make_split(images, labels, images.n / 2, images.n);
    if (split.n == 0) return;
    std::vector<std::int64_t> idx(static_cast<std::size_t>(std::min<std::int64_t>(split.n, 4)));
    for (std::size_t b = 0; b < idx.size(); ++b)
      idx[b] = split.n - 1 - static_cast<std::int64_t>(b);
    std::vector<float> x(idx.size() * static_cast<std::size_t>(split.rows) * split.cols);
    std::vector<std::int32_t> y(idx.size());
    data::gather_batch_time_major(split, idx.data(), static_cast<std::int64_t>(idx.size()),
                                  x.data(), y.data());
  });
  fuzz::only_curnn_errors([&] {
    const std::vector<std::uint8_t> labels = data::read_idx_labels(path);
    for (const auto l : labels) fuzz::require(l <= 9, "IDX labels: 0..9");
  });
  return 0;
}
