// Byte strings in messages and JSON (curnn/text.hpp, apps/json_text.hpp): the reversible JSON
// encoding round-trips every byte string and always gives valid UTF-8; the message rendering is
// one short, escaped line whatever the input; JSON text with such strings is valid and parses
// back to the same bytes; untrusted JSON (too deep, malformed, non-canonical escapes) is a
// one-line error.
#include "curnn/text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "curnn/error.hpp"
#include "json_text.hpp"

namespace curnn {
namespace {

using nlohmann::json;

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(Text, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii \t\n"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  for (const std::string bad :
       {"\x80", "\xc3", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80",
        "\xf4\x90\x80\x80", "\xf5", "\xff", "a\xe4\xb8", "\xc3\xa9\xa9"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << quote_input(bad);
  }
}

TEST(Text, EncodingKeepsValidTextAndEscapesTheRest) {
  EXPECT_EQ(encode_bytes("caf\xc3\xa9 \xe4\xb8\xad"), "caf\xc3\xa9 \xe4\xb8\xad");
  EXPECT_EQ(encode_bytes("a\\b"), "a\\\\b");
  EXPECT_EQ(encode_bytes("caf\xe9"), "caf\\xe9");
  EXPECT_EQ(encode_bytes("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(encode_bytes("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate: three bytes
  EXPECT_EQ(encode_bytes("\xe4\xb8"), "\\xe4\\xb8");           // a cut character
  EXPECT_EQ(encode_bytes(std::string("\0x", 2)), std::string("\0x", 2));  // NUL is valid UTF-8
}

TEST(Text, EveryByteStringRoundTripsThroughValidUtf8) {
  std::mt19937 rng(7);
  std::vector<std::string> samples;
  for (int b = 0; b < 256; ++b) samples.push_back(std::string(1, static_cast<char>(b)));
  for (int n = 0; n < 3000; ++n) {
    std::string s(rng() % 24, '\0');
    // Bytes biased towards UTF-8 lead and continuation bytes and the backslash.
    const unsigned char pool[] = {'a',  '\\', 'x',  '0',  0x80, 0xbf, 0xc3, 0xa9, 0xe4,
                                  0xed, 0xa0, 0xf0, 0xf4, 0x90, 0xff, 0x00, '"',  '\n'};
    for (char& c : s) c = static_cast<char>(rng() % 3 ? pool[rng() % sizeof pool] : rng() % 256);
    samples.push_back(s);
  }
  for (const std::string& s : samples) {
    const std::string encoded = encode_bytes(s);
    ASSERT_TRUE(is_valid_utf8(encoded)) << quote_input(s);
    ASSERT_EQ(decode_bytes(encoded), s) << quote_input(s);
  }
}

TEST(Text, DecodingAcceptsOnlyWhatEncodingWrites) {
  for (const std::string bad :
       {"\\", "a\\", "\\q", "\\x4", "\\x4g", "\\xFF", "\\x41", "\\xc3\\xa9", "caf\xe9"}) {
    const std::string message = message_of([&] { decode_bytes(bad); });
    EXPECT_NE(message, "(no error)") << quote_input(bad);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(Text, QuotedIsShortEscapedAndSaysHowLongTheInputWas) {
  EXPECT_EQ(quote_input("abc"), "\"abc\"");
  EXPECT_EQ(quote_input("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote_input("x\ny\x7f\x01"), "\"x\\x0ay\\x7f\\x01\"");
  EXPECT_EQ(quote_input("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // valid UTF-8 letters stay
  EXPECT_EQ(quote_input("caf\xe9"), "\"caf\\xe9\"");
  EXPECT_EQ(quote_input("\xc2\x85"), "\"\\xc2\\x85\"");  // a C1 control
  const std::string huge(5 << 20, 'w');
  const std::string q = quote_input(huge);
  EXPECT_LT(q.size(), 100u) << q;
  EXPECT_EQ(q, "\"" + std::string(kQuotedBytes, 'w') + "...\" (5242880 bytes)");
  // A multi-byte character is never cut.
  EXPECT_EQ(quote_input("ab\xc3\xa9", 3), "\"ab...\" (4 bytes)");
}

TEST(Text, OneLineFlattensAndBoundsAMessage) {
  EXPECT_EQ(one_line("a\nb \"c\" \\d"), "a\\x0ab \"c\" \\d");
  const std::string line = one_line(std::string(5 << 20, 'x'));
  EXPECT_EQ(line.size(), kMessageBytes + std::string("... (5242880 bytes)").size());
}

TEST(JsonText, StringsWithAnyBytesGiveValidJsonAndComeBack) {
  const std::string invalid = "caf\xe9", backslash = "a\\b", valid = "na\xc3\xafve";
  const json record = {{"type", "nearest"},
                       {"word", invalid},
                       {"nearest", {backslash, valid, std::string("\xff\xfe")}},
                       {invalid, 1}};
  // What the apps did before: nlohmann refuses to write invalid UTF-8, after the work is done.
  EXPECT_THROW(record.dump(), json::type_error);
  const std::string text = app::to_json_text(record);
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_NO_THROW(json::parse(text));  // any JSON reader takes it
  EXPECT_NE(text.find("\"na\xc3\xafve\""), std::string::npos) << "valid text is unchanged";
  EXPECT_EQ(app::parse_json_text(text, "record"), record);
}

TEST(JsonText, UntrustedJsonIsAOneLineError) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string message = message_of([&] { app::parse_json_text(deep, "ck: metadata"); });
  EXPECT_NE(message.find("ck: metadata: JSON nested deeper than 64 levels"), std::string::npos)
      << message;
  message = message_of([&] { app::parse_json_text("{\"a\": [1, 2", "ck: metadata"); });
  EXPECT_NE(message.find("ck: metadata: not valid JSON"), std::string::npos) << message;
  message = message_of([&] { app::parse_json_text("{\"vocab\": [\"a\\\\qb\"]}", "ck: metadata"); });
  EXPECT_NE(message.find("ck: metadata: malformed escape"), std::string::npos) << message;
  const std::string long_string = "[\"" + std::string(1 << 20, 'z') + "\\\\q\"]";
  message = message_of([&] { app::parse_json_text(long_string, "ck: metadata"); });
  EXPECT_LT(message.size(), 400u) << message.substr(0, 400);
}

}  // namespace
}  // namespace curnn
