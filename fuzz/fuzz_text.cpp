// libFuzzer harness: the byte-string encodings (curnn/text.hpp). encode_bytes gives valid UTF-8
// that decode_bytes turns back into the input; decode_bytes accepts only encode_bytes' output;
// quote_input() and one_line() are bounded single lines.
#include <string>

#include "curnn/text.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string encoded = encode_bytes(input);
  fuzz::require(is_valid_utf8(encoded), "encode_bytes: valid UTF-8");
  fuzz::require(decode_bytes(encoded) == input, "encode_bytes + decode_bytes round trip");
  fuzz::only_curnn_errors([&] {
    fuzz::require(encode_bytes(decode_bytes(input)) == input, "decode_bytes: only canonical text");
  });
  const std::string q = quote_input(input, 16), line = one_line(input, 64);
  fuzz::require(q.find('\n') == std::string::npos && line.find('\n') == std::string::npos,
                "quoted/one_line: one line");
  fuzz::require(q.size() <= 2 + 16 * 4 + 40 && line.size() <= 64 * 4 + 40,
                "quoted/one_line: bounded");
  return 0;
}
