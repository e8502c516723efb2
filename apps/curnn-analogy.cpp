// curnn-analogy: word2vec.c's compute-accuracy on any vectors file in the word2vec text or
// binary format: analogy questions (questions-words.txt) answered by the nearest vector to
// b - a + c over the first --restrict-vocab words, uppercased, question words excluded; the
// report per section, then semantic, syntactic and total accuracy (curnn/word2vec/eval.hpp).
//
//   curnn-analogy vectors.bin [--restrict-vocab 30000] [--questions FILE]
#include <cstdio>
#include <string>

#include "app_common.hpp"
#include "curnn/word2vec/eval.hpp"
#include "w2v_common.hpp"

int main(int argc, char** argv) {
  return curnn::app::run_main("curnn-analogy", [&]() -> int {
    namespace w2v = curnn::word2vec;
    std::string vectors_path, questions_path = curnn::app::kDefaultQuestions, log_json;
    std::int64_t restrict_vocab = 30000;
    int threads = 0;
    CLI::App cli{
        "curnn-analogy: analogy accuracy of word vectors, as word2vec.c's "
        "compute-accuracy"};
    cli.add_option("vectors", vectors_path, "word vectors (word2vec text or binary, or .gz)")
        ->required();
    cli.add_option("--restrict-vocab", restrict_vocab,
                   "use only the N most frequent words (the first N of the file; 0 = all)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    cli.add_option("--questions", questions_path, "analogy questions (questions-words.txt)");
    cli.add_option("--threads", threads, "threads (0 = all cores)")->check(CLI::Range(0, 1024));
    cli.add_option("--log-json", log_json, "write the accuracies as one JSON object");
    try {
      cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return curnn::app::exit_on_parse_error(cli, e, "curnn-analogy");
    }
    curnn::app::JsonLog log(log_json);  // an unusable log path is reported before any work
    const w2v::AnalogyQuestions questions =
        w2v::read_analogy_questions(curnn::app::plain_or_gz(questions_path));
    const w2v::NormalizedVectors vectors(
        w2v::read_word_vectors(vectors_path, w2v::VectorFormat::Auto, restrict_vocab));
    const w2v::AnalogyResult r =
        w2v::evaluate_analogies(vectors, questions, restrict_vocab, threads);
    std::fputs(w2v::format_analogy_report(r).c_str(), stdout);
    nlohmann::json sections = nlohmann::json::array();
    for (const w2v::AnalogySectionResult& section : r.sections) {
      if (section.questions == 0) continue;  // QID 0 when the file opens with a ':' line
      sections.push_back({{"name", section.name},
                          {"questions", section.questions},
                          {"seen", section.seen},
                          {"correct", section.correct}});
    }
    // A share of nothing is null (the report says "n/a").
    const auto share = [](std::int64_t correct, std::int64_t seen) {
      return seen > 0 ? nlohmann::json(static_cast<double>(correct) / seen) : nullptr;
    };
    log.write({{"type", "analogy"},
               {"vectors", vectors_path},
               {"restrict_vocab", restrict_vocab},
               {"accuracy", share(r.correct, r.seen)},
               {"semantic_accuracy", share(r.semantic_correct, r.semantic_seen)},
               {"syntactic_accuracy", share(r.syntactic_correct, r.syntactic_seen)},
               {"seen", r.seen},
               {"questions", r.questions},
               {"sections", std::move(sections)}});
    return 0;
  });
}
