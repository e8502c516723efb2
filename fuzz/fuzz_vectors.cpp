// libFuzzer harness: word vector files (curnn/word2vec/vectors.hpp), text and binary: the input
// is read with format detection and as each format; what is accepted is normalised, searched,
// written in the binary format and read back bit for bit.
#include <cmath>
#include <cstring>

#include "curnn/word2vec/eval.hpp"
#include "curnn/word2vec/vectors.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  using word2vec::VectorFormat;
  static fuzz::InputFile file;
  static fuzz::ScratchDir dir;
  const std::string& path = file.set(data, size);
  for (const VectorFormat format : {VectorFormat::Auto, VectorFormat::Text, VectorFormat::Binary}) {
    fuzz::only_curnn_errors([&] {
      const word2vec::WordVectors v =
          word2vec::read_word_vectors(path, format, static_cast<std::int64_t>(size % 4));
      fuzz::require(v.values.size() == v.words.size() * static_cast<std::size_t>(v.dim),
                    "vectors: V * D values");
      for (const float x : v.values) fuzz::require(std::isfinite(x), "vectors: finite values");
      word2vec::write_word_vectors(dir / "v.bin", v, /*binary=*/true);
      const word2vec::WordVectors again =
          word2vec::read_word_vectors(dir / "v.bin", VectorFormat::Binary);
      fuzz::require(again.words == v.words && again.dim == v.dim &&
                        std::memcmp(again.values.data(), v.values.data(),
                                    v.values.size() * sizeof(float)) == 0,
                    "vectors: binary write + read round trip");
      const word2vec::NormalizedVectors normalized(v);
      word2vec::nearest(normalized, normalized.word(0), 3);
    });
  }
  return 0;
}
