// Byte strings from input files (words, section names, paths) as libcurnn shows and stores them.
// Input text is bytes: words are kept as they are, invalid UTF-8 included. Two places need more
// than bytes, and each has one function here, used by every caller:
//
//  - Messages (curnn::Error, warnings): quote_input(bytes) is a short, one-line, escaped rendering:
//    "caf\xe9 \"x\"" for the bytes caf, 0xE9, space, "x". Printable ASCII and well-formed UTF-8
//    characters from U+00A0 on are kept; '"' and '\' are backslash-escaped; control characters,
//    C1 controls and bytes that are not part of well-formed UTF-8 are written \xNN. At most
//    max_bytes bytes of the input are shown (cut at a character boundary), then `...` and the
//    full size: a 5 MB word costs a line of ~100 bytes. one_line(message) bounds and flattens
//    a whole message the same way (run_main applies it to every error it prints).
//
//  - JSON (the --log-json records, checkpoint metadata): JSON text must be UTF-8, and these
//    strings must come back byte for byte. encode_bytes() is a reversible escaping into valid
//    UTF-8: a backslash becomes two backslashes and every byte that is not part of well-formed
//    UTF-8 (a stray continuation byte, an overlong form, a surrogate, a cut sequence, ...)
//    becomes the four characters \xNN (NN: two lowercase hex digits); everything else is copied.
//    So a valid UTF-8 string without a backslash is unchanged ("café" stays "café"), and
//    decode_bytes(encode_bytes(s)) == s for every byte string s. decode_bytes throws a
//    curnn::Error on text encode_bytes cannot produce (a lone backslash, \x without two hex
//    digits, any other \ escape, or invalid UTF-8). Python: scripts/make_report.py's
//    decode_bytes is the same inverse.
//
// Well-formed UTF-8 here is RFC 3629: shortest forms only, no surrogates (U+D800-U+DFFF), at most
// U+10FFFF. Tests: tests/text_test.cpp; fuzzing: fuzz/fuzz_text.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace curnn {

inline constexpr std::size_t kQuotedBytes = 64;     // input bytes quote_input() shows by default
inline constexpr std::size_t kMessageBytes = 2048;  // bytes one_line() keeps by default

// The length (1-4) of the well-formed UTF-8 character starting at bytes[at], or 0 when the byte
// there does not start one.
std::size_t utf8_char_length(std::string_view bytes, std::size_t at);
bool is_valid_utf8(std::string_view bytes);

// For messages: see above. `"<at most max_bytes, escaped>"`, then `..." (N bytes)` when cut.
std::string quote_input(std::string_view bytes, std::size_t max_bytes = kQuotedBytes);
// A whole message on one line: control characters and malformed UTF-8 as \xNN (backslashes and
// quotes unchanged), cut after max_bytes bytes with "... (N bytes)".
std::string one_line(std::string_view message, std::size_t max_bytes = kMessageBytes);

// For JSON: the reversible escaping described above.
std::string encode_bytes(std::string_view bytes);
std::string decode_bytes(std::string_view text);

}  // namespace curnn
