// libFuzzer harness: analogy question files (curnn/word2vec/eval.hpp): read_analogy_questions,
// then the evaluation over a small fixed vocabulary and compute-accuracy's report.
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "curnn/text.hpp"
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
    // The figures are never "nan". Section names, on their own "<name>:" lines, may say
    // anything, "ACCURACY ... nan" included: those lines (as format_analogy_report writes them)
    // are skipped.
    std::set<std::string> section_lines;
    for (const auto& section : result.sections) {
      section_lines.insert(one_line(section.name, 200) + ":");  // as the report shows it
    }
    std::istringstream report(word2vec::format_analogy_report(result));
    for (std::string line; std::getline(report, line);) {
      if (section_lines.count(line) != 0) continue;
      if (line.rfind("ACCURACY", 0) == 0 || line.rfind("Total", 0) == 0 ||
          line.rfind("Questions", 0) == 0) {
        fuzz::require(line.find("nan") == std::string::npos, "analogy: no nan in the figures");
      }
    }
  });
  return 0;
}
