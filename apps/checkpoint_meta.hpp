// Reading a checkpoint's JSON metadata as untrusted input (curnn-ptb, curnn-mnist): every field
// is looked up, type-checked and range-checked here, and every failure is a one-line
// curnn::Error "<file>: checkpoint field '<name>' ...", naming the file and the field. The
// container itself (magic, sizes, checksum, finite values) is checked by
// curnn::data::load_checkpoint. Tests: tests/checkpoint_test.cpp, tests/resume_test.cpp.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "curnn/data/checkpoint.hpp"
#include "curnn/error.hpp"
#include "json_text.hpp"

namespace curnn::app {

class CheckpointMeta {
 public:
  using json = nlohmann::json;

  // Loads and checks the container, then parses the metadata (a JSON object).
  explicit CheckpointMeta(std::string path) : path_(std::move(path)) {
    data::Checkpoint ck = data::load_checkpoint(path_);
    data_ = std::move(ck.data);
    meta_ = parse_json_text(ck.meta, path_ + ": the checkpoint metadata");
    CURNN_CHECK(meta_.is_object(), path_ << ": the checkpoint metadata is not a JSON object");
  }

  const std::string& path() const noexcept { return path_; }
  const std::vector<float>& data() const noexcept { return data_; }

  // The field at a dotted path ("config.hidden_size"); missing is an error.
  const json& at(const std::string& field) const {
    const json* node = &meta_;
    std::size_t begin = 0;
    for (;;) {
      const std::size_t dot = field.find('.', begin);
      const std::string key = field.substr(begin, dot == std::string::npos ? dot : dot - begin);
      if (!node->is_object() || !node->contains(key)) fail(field, "is missing");
      node = &(*node)[key];
      if (dot == std::string::npos) return *node;
      begin = dot + 1;
    }
  }
  bool has(const std::string& field) const { return meta_.contains(field); }

  // An integer in [lo, hi].
  std::int64_t integer(const std::string& field, std::int64_t lo,
                       std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const {
    const json& v = at(field);
    if (!v.is_number_integer()) fail(field, "is " + shown(v) + ", not an integer");
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
      fail(field,
           "is " + shown(v) + ", outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    const std::int64_t x = v.get<std::int64_t>();
    if (x < lo || x > hi) {
      fail(field, "is " + std::to_string(x) + ", outside [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
    }
    return x;
  }
  std::uint64_t unsigned_integer(const std::string& field) const {
    const json& v = at(field);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
      fail(field, "is " + shown(v) + ", not an unsigned integer");
    }
    return v.get<std::uint64_t>();
  }
  // A finite number in [lo, hi]; null gives `if_null` when allow_null.
  double number(const std::string& field, double lo, double hi, bool allow_null = false,
                double if_null = 0) const {
    const json& v = at(field);
    if (allow_null && v.is_null()) return if_null;
    if (!v.is_number()) fail(field, "is " + shown(v) + ", not a number");
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) {
      fail(field,
           "is " + shown(v) + ", outside [" + json(lo).dump() + ", " + json(hi).dump() + "]");
    }
    return x;
  }
  std::string string(const std::string& field) const {
    const json& v = at(field);
    if (!v.is_string()) fail(field, "is " + shown(v) + ", not a string");
    return v.get<std::string>();
  }
  std::vector<std::string> strings(const std::string& field) const {
    const json& v = at(field);
    if (!v.is_array()) fail(field, "is not an array");
    std::vector<std::string> out;
    out.reserve(v.size());
    for (const json& s : v) {
      if (!s.is_string()) fail(field, "holds " + shown(s) + ", not a string");
      out.push_back(s.get<std::string>());
    }
    return out;
  }

  // The `format` and `version` fields: this program's checkpoints, in the version it reads.
  void expect_format(const std::string& format, int version) const {
    const json& f = at("format");
    if (!f.is_string() || f.get<std::string>() != format) {
      fail("format",
           "is " + shown(f) + ", not \"" + format + "\" (a checkpoint of " + "another program)");
    }
    const std::int64_t v = integer("version", 1, 1 << 20);
    if (v != version) {
      fail("version", "is " + std::to_string(v) + "; this program reads version " +
                          std::to_string(version) + " (retrain, or use the program that wrote it)");
    }
  }

  // Each field of `expected` (an object) must equal the checkpoint's object at `field`, but
  // those in `ignored`. The error names the first differing field and both values.
  void expect_equal(const std::string& field, const json& expected,
                    const std::vector<std::string>& ignored, const std::string& hint) const {
    const json& saved = at(field);
    if (!saved.is_object()) fail(field, "is not an object");
    for (const auto& [key, value] : expected.items()) {
      bool skip = false;
      for (const std::string& i : ignored) skip = skip || i == key;
      if (skip) continue;
      const json& s = at(field + "." + key);
      const bool same =
          s.is_number() && value.is_number() ? s.get<double>() == value.get<double>() : s == value;
      if (!same) {
        fail(field + "." + key,
             "is " + shown(s) + ", which differs from the flags' " + shown(value) + hint);
      }
    }
  }

  // A value for an error message: JSON text, ASCII only, cut to at most 80 characters; arrays
  // and objects by their kind only (dumping a crafted nesting a million deep would recurse that
  // deep).
  static std::string shown(const json& v) {
    if (v.is_array()) return "an array";
    if (v.is_object()) return "an object";
    std::string text = v.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
  }

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    curnn::detail::throw_error(__FILE__, __LINE__, "checkpoint metadata",
                               path_ + ": checkpoint field '" + field + "' " + what);
  }

 private:
  std::string path_;
  std::vector<float> data_;
  json meta_;
};

}  // namespace curnn::app
