// libFuzzer harness: the word2vec corpus reader (curnn/word2vec/vocab.hpp): learn_vocab, then
// read_corpus and subsample with that vocabulary, as curnn-word2vec reads its -train file.
#include "curnn/word2vec/vocab.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  static fuzz::InputFile file;
  const std::string& path = file.set(data, size);
  fuzz::only_curnn_errors([&] {
    const std::int64_t min_count = static_cast<std::int64_t>(size % 3);
    const word2vec::Vocabulary vocab = word2vec::learn_vocab(path, min_count);
    for (std::int32_t i = 0; i < vocab.size(); ++i) {
      fuzz::require(!vocab.word(i).empty() && vocab.word(i).size() <= word2vec::kMaxWordBytes,
                    "corpus: words are 1..99 bytes");
      fuzz::require(vocab.find(vocab.word(i)) == i, "corpus: the index finds every word");
    }
    const int max_sentence = 1 + static_cast<int>(size % 7);
    const word2vec::Corpus corpus = word2vec::read_corpus(path, vocab, max_sentence);
    fuzz::require(corpus.sentence_offsets.back() == corpus.num_words(), "corpus: sentences");
    const word2vec::Corpus kept = word2vec::subsample(corpus, vocab, 1e-3, 1, max_sentence);
    fuzz::require(kept.num_words() <= corpus.num_words(), "corpus: subsampling keeps fewer");
  });
  return 0;
}
