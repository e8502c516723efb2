// Internal to host/word2vec: buffered byte-at-a-time reading with look-ahead over a plain or
// gzip file (curnn::data::InputFile) or over a string in memory. Every tokenizer and file parser
// of the word2vec host code reads through this, so they all stream in bounded memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "curnn/data/io.hpp"
#include "curnn/text.hpp"

namespace curnn::word2vec::detail {

class ByteReader {
 public:
  explicit ByteReader(const std::string& path)
      : file_(std::make_unique<data::InputFile>(path)), name_(path) {
    // A plain file's size when it is smaller than a chunk (the buffer grows when needed).
    const std::uint64_t size = file_->size_on_disk();
    buffer_.resize(file_->is_gzip() || size == 0 || size >= kChunk
                       ? kChunk
                       : std::max<std::size_t>(4096, static_cast<std::size_t>(size) + 1));
  }
  // Reads `text` (which must outlive the reader); `name` names it in error messages.
  ByteReader(std::string_view text, std::string name)
      : memory_(text), name_(std::move(name)), end_(text.size()) {}

  const std::string& name() const noexcept { return name_; }

  // The next byte (0..255), or -1 at the end.
  int get() {
    if (pos_ == end_ && !fill(1)) return -1;
    ++consumed_;
    return static_cast<unsigned char>(data()[pos_++]);
  }
  // The byte `k` positions ahead of the next one, or -1 past the end; does not consume.
  int peek(std::size_t k = 0) {
    if (end_ - pos_ <= k && !fill(k + 1)) return -1;
    return static_cast<unsigned char>(data()[pos_ + k]);
  }
  // Copies up to `n` bytes into `out`; returns how many (fewer only at the end).
  std::size_t read(void* out, std::size_t n) {
    auto* dst = static_cast<char*>(out);
    std::size_t done = 0;
    while (done < n) {
      if (pos_ == end_ && !fill(1)) break;
      const std::size_t take = std::min(n - done, end_ - pos_);
      std::memcpy(dst + done, data() + pos_, take);
      pos_ += take;
      done += take;
    }
    consumed_ += done;
    return done;
  }
  // Bytes consumed so far.
  std::uint64_t offset() const noexcept { return consumed_; }

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 20;

  const char* data() const { return file_ ? buffer_.data() : memory_.data(); }

  // Makes at least `need` unconsumed bytes available if the input has them; returns whether it
  // did.
  bool fill(std::size_t need) {
    if (end_ - pos_ >= need) return true;
    if (!file_) return false;
    if (pos_ > 0) {  // keep the unconsumed tail at the front
      std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (buffer_.size() < need) buffer_.resize(std::max(need, 2 * buffer_.size()));
    while (end_ < need && !eof_) {
      const std::size_t got = file_->read(buffer_.data() + end_, buffer_.size() - end_);
      if (got == 0) eof_ = true;
      end_ += got;
    }
    return end_ - pos_ >= need;
  }

  std::unique_ptr<data::InputFile> file_;
  std::string_view memory_;
  std::string name_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
  std::uint64_t consumed_ = 0;
  bool eof_ = false;
};

// Reads the next line (without its '\n'; a trailing '\r' is removed) into `line`; false at the
// end of the input. Throws when a line exceeds `max_bytes` (bounded memory on binary garbage).
bool read_line(ByteReader& in, std::string& line, std::int64_t line_number,
               std::size_t max_bytes = std::size_t{1} << 20);

// Splits `line` at runs of spaces and tabs.
std::vector<std::string_view> split_fields(std::string_view line);

// Parses a whole field as a decimal integer / a float (C locale); false when it is not one.
bool parse_int64(std::string_view field, std::int64_t& value);
// Whether a field is an optional '-' or '+' and decimal digits only (an integer, maybe too large
// for int64: error messages then say "out of range" rather than "not a number").
bool is_integer_text(std::string_view field);
bool parse_float(std::string_view field, float& value);

}  // namespace curnn::word2vec::detail
