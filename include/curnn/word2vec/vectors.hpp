// Word vector files in word2vec.c's formats (TrainModel's output; read by distance.c,
// compute-accuracy.c, gensim's KeyedVectors.load_word2vec_format). Implementation:
// host/word2vec/vectors.cpp; tests: tests/w2v_vectors_test.cpp, tests/w2v_gensim_compat.py.
//
// Both formats start with the header "V D\n" (decimal). Then, per word, in id order:
//   text:   the word, ' ', then D values each printed as "%f " (printf of the float promoted to
//           double: 6 decimals, so every value is followed by a space), then '\n';
//   binary: the word, ' ', then D raw IEEE-754 float32 values, little-endian, then '\n'.
// Writing is byte-identical to word2vec.c (-binary 0 / -binary 1) and atomic (a failed write
// leaves no file). Words must be non-empty and contain no space, tab, '\r' or '\n'.
//
// Reading accepts both (VectorFormat::Auto tells them apart by the first record: a text record
// is one line of printable number characters) and is robust: a bad header, a value that is not a
// number, a wrong number of values, a record cut short, more or fewer records than the header
// says, or trailing garbage all throw curnn::Error naming the file, the word/line and the problem.
// Text records may use runs of spaces/tabs and "\r\n"; binary records may omit the '\n'.
// The header's counts are checked one by one (1 <= V <= 2^63 - 1, 1 <= D <= 2^24; the error names
// the value out of range), and memory grows with the records actually read, never with V * D.
// Vectors must be finite: a NaN or infinite value (text "nan"/"inf", or such float bits) is an
// error naming the file, the word and the component, when reading and when writing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace curnn::word2vec {

enum class VectorFormat { Auto, Text, Binary };

struct WordVectors {
  std::vector<std::string> words;  // [V]
  std::vector<float> values;       // [V, D] row-major
  std::int64_t dim = 0;            // D

  std::int64_t size() const noexcept { return static_cast<std::int64_t>(words.size()); }
  const float* row(std::int64_t i) const { return values.data() + i * dim; }
};

// Writes V words and their vectors [V, D] (row-major) in the text or the binary format.
void write_word_vectors(const std::string& path, const std::vector<std::string>& words,
                        const float* vectors, std::int64_t dim, bool binary);
inline void write_word_vectors(const std::string& path, const WordVectors& v, bool binary) {
  write_word_vectors(path, v.words, v.values.data(), v.dim, binary);
}

// Reads a vector file (plain or .gz). max_words > 0 reads only the first max_words records
// (compute-accuracy's threshold); the rest of the file is then not checked.
WordVectors read_word_vectors(const std::string& path, VectorFormat format = VectorFormat::Auto,
                              std::int64_t max_words = 0);

}  // namespace curnn::word2vec
