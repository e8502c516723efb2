#include "byte_reader.hpp"

#include <algorithm>
#include <charconv>

#include "curnn/error.hpp"

namespace curnn::word2vec::detail {

bool read_line(ByteReader& in, std::string& line, std::int64_t line_number, std::size_t max_bytes) {
  line.clear();
  int ch = in.get();
  if (ch < 0) return false;
  while (ch >= 0 && ch != '\n') {
    CURNN_CHECK(line.size() < max_bytes,
                in.name() << ":" << line_number << ": line longer than " << max_bytes << " bytes");
    line.push_back(static_cast<char>(ch));
    ch = in.get();
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

bool parse_int64(std::string_view field, std::int64_t& value) {
  const char* end = field.data() + field.size();
  const auto r = std::from_chars(field.data(), end, value);
  return !field.empty() && r.ec == std::errc() && r.ptr == end;
}

bool is_integer_text(std::string_view field) {
  if (!field.empty() && (field.front() == '-' || field.front() == '+')) field.remove_prefix(1);
  return !field.empty() &&
         std::all_of(field.begin(), field.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_float(std::string_view field, float& value) {
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);  // from_chars rejects '+'
  const char* end = field.data() + field.size();
  const auto r = std::from_chars(field.data(), end, value);
  return !field.empty() && r.ec == std::errc() && r.ptr == end;
}

}  // namespace curnn::word2vec::detail
