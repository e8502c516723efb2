// Pieces shared by the word2vec apps (curnn-word2vec, curnn-analogy, curnn-wordsim,
// curnn-distance): CLI11 parse errors as one-line errors, and the default evaluation files.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "curnn/data/io.hpp"

namespace curnn::app {

// --help / --version print and exit 0; any other parse error is "<app>: error: <what>", exit 1.
inline int exit_on_parse_error(const CLI::App& cli, const CLI::ParseError& e, const char* app) {
  if (e.get_exit_code() == 0) return cli.exit(e);
  std::fprintf(stderr, "%s: error: %s (see --help)\n", app, e.what());
  return 1;
}

// The evaluation files' default location (data/word2vec-eval/ under the working directory),
// plain or .gz.
inline const char* kDefaultQuestions = "./data/word2vec-eval/questions-words.txt";
inline const char* kDefaultWordPairs = "./data/word2vec-eval/wordsim353.tsv";

// `path` itself or `path`.gz, whichever exists (an error naming both otherwise).
inline std::string plain_or_gz(const std::string& path) {
  return data::find_plain_or_gz(path);
}

}  // namespace curnn::app
