// libFuzzer harness: the tutorial's corpus reader and batcher (curnn/word2vec/tutorial.hpp):
// build_tutorial_dataset over the input (Python's str.split() rules), then a few batches.
#include <vector>

#include "curnn/word2vec/tutorial.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  static fuzz::InputFile file;
  const std::string& path = file.set(data, size);
  fuzz::only_curnn_errors([&] {
    const auto vocabulary = 1 + static_cast<std::int32_t>(size % 13);
    const word2vec::TutorialDataset ds = word2vec::build_tutorial_dataset(path, vocabulary);
    fuzz::require(ds.vocabulary_size() <= vocabulary && ds.words[0] == "UNK", "tutorial: vocab");
    for (const auto id : ds.data) fuzz::require(id >= 0 && id < ds.vocabulary_size(), "ids");
    word2vec::SkipGramBatcher batcher(ds.data, 8, 2, 1 + static_cast<int>(size % 3), size);
    std::vector<std::int32_t> batch, labels;
    for (int i = 0; i < 3; ++i) batcher.next(batch, labels);
  });
  return 0;
}
