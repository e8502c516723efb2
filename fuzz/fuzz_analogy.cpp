// libFuzzer harness: analogy question files (curnn/word2vec/eval.hpp): read_analogy_questions,
// then the evaluation over a small fixed vocabulary and compute-accuracy's report.
#include <string>
#include <vector>

#include "curnn/word2vec/eval.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  static fuzz::InputFile file;
  static const word2vec::NormalizedVectors vectors(
      std::vector<std::string>{"a", "b", "c", "d", "man", "woman", "king", "queen"},
      std::vector<float>{1, 0, 0, 1, 1, 1, -1, 0, 1, 0.1f, 0.1f, 1, 1, 0.9f, 0.2f, 1}.data(), 2);
  const std::string& path = file.set(data, size);
  fuzz::only_curnn_errors([&] {
    const word2vec::AnalogyQuestions questions = word2vec::read_analogy_questions(path);
    const word2vec::AnalogyResult result =
        word2vec::evaluate_analogies(vectors, questions, static_cast<std::int64_t>(size % 9), 1);
    fuzz::require(result.seen <= result.questions && result.correct <= result.seen,
                  "analogy: correct <= seen <= questions");
    const std::string report = word2vec::format_analogy_report(result);
    fuzz::require(report.find("nan") == std::string::npos, "analogy: no nan in the report");
  });
  return 0;
}
