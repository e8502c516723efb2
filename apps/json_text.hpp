// The one way the apps turn JSON values into text and back (the --log-json records, checkpoint
// metadata). Strings in a JSON value may hold any bytes (words, section names and paths from
// input files); to_json_text writes every string, object keys included, through
// curnn::encode_bytes (curnn/text.hpp: valid UTF-8 without a backslash is unchanged, a backslash
// is doubled, other bytes become \xNN), so the text is always valid JSON, and parse_json_text
// decodes them back: every byte string round-trips. nlohmann-json is the only JSON writer.
// parse_json_text reads untrusted text: nesting deeper than kMaxJsonDepth, malformed JSON and
// strings encode_bytes cannot have written are one-line curnn::Errors naming `what`.
// Tests: tests/json_text_test.cpp; fuzzing: fuzz/fuzz_checkpoint.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "curnn/error.hpp"
#include "curnn/text.hpp"

namespace curnn::app {

inline constexpr int kMaxJsonDepth = 64;

namespace detail {

// A copy of `value` with `convert` applied to every string and object key (depth <= the parse
// limit, so the recursion is bounded).
template <class Convert>
nlohmann::json map_strings(const nlohmann::json& value, const Convert& convert, int depth = 0) {
  CURNN_CHECK(depth <= kMaxJsonDepth, "JSON nested deeper than " << kMaxJsonDepth << " levels");
  if (value.is_string()) return convert(value.get_ref<const std::string&>());
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(map_strings(item, convert, depth + 1));
    return out;
  }
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      out[convert(it.key())] = map_strings(it.value(), convert, depth + 1);
    }
    return out;
  }
  return value;
}

}  // namespace detail

// One line of JSON text (no newline), valid UTF-8 whatever bytes the strings hold.
inline std::string to_json_text(const nlohmann::json& value) {
  return detail::map_strings(value, [](const std::string& s) { return encode_bytes(s); }).dump();
}

// The value to_json_text wrote, strings decoded back to their bytes. `what` names the text in
// errors (e.g. "ck/ptb-lm.ckpt: metadata").
inline nlohmann::json parse_json_text(std::string_view text, const std::string& what) {
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(
        text.begin(), text.end(), [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
          CURNN_CHECK(depth <= kMaxJsonDepth,
                      what << ": JSON nested deeper than " << kMaxJsonDepth << " levels");
          return true;
        });
  } catch (const nlohmann::json::exception& e) {
    CURNN_CHECK(false, what << ": not valid JSON (" << one_line(e.what(), 200) << ")");
  }
  try {
    return detail::map_strings(parsed, [](const std::string& s) { return decode_bytes(s); });
  } catch (const Error& e) {
    CURNN_CHECK(false, what << ": " << e.message());
  }
  return {};
}

}  // namespace curnn::app
