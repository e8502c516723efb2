// Byte strings in messages and JSON (curnn/text.hpp).
#include "curnn/text.hpp"

#include "curnn/error.hpp"

namespace curnn {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_hex_escape(std::string& out, unsigned char byte) {
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 15];
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper-case digits are not canonical: encode_bytes writes lower case
}

// The code point of the well-formed character of `length` bytes at bytes[at].
char32_t code_point(std::string_view bytes, std::size_t at, std::size_t length) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(bytes[at + k]); };
  switch (length) {
    case 1:
      return b(0);
    case 2:
      return (char32_t(b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return (char32_t(b(0) & 0x0F) << 12) | (char32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
      return (char32_t(b(0) & 0x07) << 18) | (char32_t(b(1) & 0x3F) << 12) |
             (char32_t(b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// Appends the input bytes [at, at + length) of one character of a message: kept when printable,
// else escaped. `quote` also escapes '"' and '\' (for quote_input()).
void append_for_message(std::string& out, std::string_view bytes, std::size_t at,
                        std::size_t length, bool quote) {
  if (length == 0) {  // not well-formed UTF-8
    append_hex_escape(out, static_cast<unsigned char>(bytes[at]));
    return;
  }
  const char32_t c = code_point(bytes, at, length);
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {  // C0, DEL and C1 controls
    for (std::size_t k = 0; k < length; ++k)
      append_hex_escape(out, static_cast<unsigned char>(bytes[at + k]));
  } else if (quote && (c == '"' || c == '\\')) {
    out += '\\';
    out += static_cast<char>(c);
  } else {
    out.append(bytes.data() + at, length);
  }
}

// The message rendering shared by quote_input() and one_line(): at most max_bytes input bytes, cut
// at a character boundary; returns whether the input was cut.
bool render(std::string& out, std::string_view bytes, std::size_t max_bytes, bool quote) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::size_t length = utf8_char_length(bytes, at);
    const std::size_t step = length == 0 ? 1 : length;
    if (at + step > max_bytes) return true;
    append_for_message(out, bytes, at, length, quote);
    at += step;
  }
  return false;
}

}  // namespace

std::size_t utf8_char_length(std::string_view bytes, std::size_t at) {
  const std::size_t left = bytes.size() - at;
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(bytes[at + k]); };
  const auto continuation = [&](std::size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
  const unsigned char lead = b(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && b(1) >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && b(1) >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;  // a continuation byte, 0xC0, 0xC1 or 0xF5-0xFF
}

bool is_valid_utf8(std::string_view bytes) {
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t length = utf8_char_length(bytes, at);
    if (length == 0) return false;
    at += length;
  }
  return true;
}

std::string quote_input(std::string_view bytes, std::size_t max_bytes) {
  std::string out = "\"";
  const bool cut = render(out, bytes, max_bytes, /*quote=*/true);
  out += cut ? "...\" (" + std::to_string(bytes.size()) + " bytes)" : "\"";
  return out;
}

std::string one_line(std::string_view message, std::size_t max_bytes) {
  std::string out;
  if (render(out, message, max_bytes, /*quote=*/false)) {
    out += "... (" + std::to_string(message.size()) + " bytes)";
  }
  return out;
}

std::string encode_bytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t length = utf8_char_length(bytes, at);
    if (length == 0) {
      append_hex_escape(out, static_cast<unsigned char>(bytes[at]));
      ++at;
    } else {
      if (bytes[at] == '\\') out += '\\';
      out.append(bytes.data() + at, length);
      at += length;
    }
  }
  return out;
}

std::string decode_bytes(std::string_view text) {
  CURNN_CHECK(is_valid_utf8(text), "invalid UTF-8 in an encoded byte string " << quote_input(text));
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size(); ++at) {
    if (text[at] != '\\') {
      out += text[at];
      continue;
    }
    if (at + 1 < text.size() && text[at + 1] == '\\') {
      out += '\\';
      ++at;
      continue;
    }
    const int high = at + 3 < text.size() && text[at + 1] == 'x' ? hex_value(text[at + 2]) : -1;
    const int low = high >= 0 ? hex_value(text[at + 3]) : -1;
    CURNN_CHECK(low >= 0, "malformed escape at byte " << at << " of the encoded byte string "
                                                      << quote_input(text)
                                                      << " (expected \\\\ or \\xNN)");
    out += static_cast<char>(high * 16 + low);
    at += 3;
  }
  // Only encode_bytes' own output is accepted: "\x41" (an escaped valid byte) is not.
  CURNN_CHECK(encode_bytes(out) == text, "the encoded byte string "
                                             << quote_input(text)
                                             << " escapes bytes that need no escape");
  return out;
}

}  // namespace curnn
