// File input and output for datasets and model files.
//  - InputFile reads plain or gzip files transparently (detected by content, not by name) in
//    chunks; a missing, unreadable, truncated or corrupt file is a curnn::Error naming the file.
//  - AtomicOutputFile writes to "<path>.tmp.<pid>" and renames on commit(), so an interrupted or
//    failed run never leaves a half-written output under the final name.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

namespace curnn::data {

class InputFile {
 public:
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Reads up to `n` bytes; returns the count, 0 at the end. Throws on read errors and on a
  // truncated gzip stream.
  std::size_t read(void* buffer, std::size_t n);
  const std::string& path() const noexcept { return path_; }
  bool is_gzip() const noexcept { return gzip_; }

 private:
  std::string path_;
  void* gz_ = nullptr;  // gzFile
  bool gzip_ = false;
};

// The whole (decompressed) content of a plain or .gz file.
std::string read_file(const std::string& path);

// The first existing of `path` and `path + ".gz"`, or throws naming both.
std::string find_plain_or_gz(const std::string& path);

class AtomicOutputFile {
 public:
  explicit AtomicOutputFile(std::string path, bool binary = false);
  ~AtomicOutputFile();  // removes the temporary file unless commit() succeeded
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  std::FILE* stream() noexcept { return file_; }
  void write(const void* data, std::size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  // Flushes, closes and renames into place; throws (and removes the temporary) on failure.
  void commit();

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace curnn::data
