// libFuzzer harness: the PTB reader (curnn/data/ptb.hpp). The input is split at its first two
// NUL bytes into ptb.train.txt, ptb.valid.txt and ptb.test.txt (a missing part: an empty file)
// and read with load_ptb; what is accepted is batched as the trainer does.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "curnn/data/ptb.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  static fuzz::ScratchDir dir;
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::size_t begin = 0;
  for (const char* name : {"ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"}) {
    const std::size_t end = std::min(input.find('\0', begin), input.size());
    std::ofstream(dir / name, std::ios::binary | std::ios::trunc)
        << input.substr(std::min(begin, input.size()), end - std::min(begin, input.size()));
    begin = end + 1;
  }
  fuzz::only_curnn_errors([&] {
    const data::PtbCorpus corpus = data::load_ptb(dir.path());
    fuzz::require(corpus.vocab_size() >= 1, "PTB: a vocabulary");
    for (const auto* ids : {&corpus.train, &corpus.valid, &corpus.test}) {
      for (const auto id : *ids) fuzz::require(id >= 0 && id < corpus.vocab_size(), "PTB: ids");
    }
    const int B = 1 + static_cast<int>(size % 3), T = 1 + static_cast<int>(size % 5);
    const data::PtbBatcher batcher(corpus.train, B, T);
    std::vector<std::int32_t> x(static_cast<std::size_t>(B) * T), y(x.size());
    for (std::int64_t step = 0; step < batcher.epoch_size(); ++step) {
      batcher.batch_time_major(step, x.data(), y.data());
    }
  });
  return 0;
}
