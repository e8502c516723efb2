// libFuzzer harness: vocabulary files (word2vec -read-vocab, curnn/word2vec/vocab.hpp). What is
// accepted is saved (-save-vocab) and read back: the same words and counts.
#include "curnn/word2vec/vocab.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  static fuzz::InputFile file;
  static fuzz::ScratchDir dir;
  const std::string& path = file.set(data, size);
  fuzz::only_curnn_errors([&] {
    const word2vec::Vocabulary vocab =
        word2vec::read_vocab(path, static_cast<std::int64_t>(size % 3));
    word2vec::save_vocab(vocab, dir / "vocab.txt");
    const word2vec::Vocabulary again = word2vec::read_vocab(dir / "vocab.txt", 0);
    fuzz::require(again.words() == vocab.words() && again.counts() == vocab.counts(),
                  "vocab: save_vocab + read_vocab round trip");
    fuzz::require(again.train_words() == vocab.train_words(), "vocab: train_words");
  });
  return 0;
}
