#include "curnn/data/io.hpp"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "curnn/error.hpp"

namespace curnn::data {

namespace {
std::string errno_text() {
  return std::strerror(errno);
}
}  // namespace

InputFile::InputFile(const std::string& path) : path_(path) {
  std::error_code ec;
  CURNN_CHECK(std::filesystem::exists(path, ec), path << ": no such file");
  CURNN_CHECK(!std::filesystem::is_directory(path, ec), path << ": is a directory, not a file");
  std::FILE* probe = std::fopen(path.c_str(), "rb");
  CURNN_CHECK(probe != nullptr, path << ": cannot open: " << errno_text());
  unsigned char magic[2] = {0, 0};
  const std::size_t got = std::fread(magic, 1, 2, probe);
  std::fclose(probe);
  gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  gz_ = gzopen(path.c_str(), "rb");  // reads non-gzip files transparently
  CURNN_CHECK(gz_ != nullptr, path << ": cannot open: " << errno_text());
  gzbuffer(static_cast<gzFile>(gz_), 1 << 20);
}

InputFile::~InputFile() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

std::size_t InputFile::read(void* buffer, std::size_t n) {
  auto* gz = static_cast<gzFile>(gz_);
  std::size_t total = 0;
  auto* out = static_cast<char*>(buffer);
  while (total < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
    const int r = gzread(gz, out + total, chunk);
    if (r < 0) {
      int code = 0;
      const char* msg = gzerror(gz, &code);
      CURNN_CHECK(false, path_ << ": corrupt gzip data: " << msg);
    }
    if (r == 0) {
      int code = 0;
      const char* msg = gzerror(gz, &code);
      // zlib reports a gzip stream cut short as Z_BUF_ERROR at the end of input.
      CURNN_CHECK(code == Z_OK || code == Z_STREAM_END,
                  path_ << ": truncated or corrupt gzip file (" << msg << ")");
      break;
    }
    total += static_cast<std::size_t>(r);
  }
  return total;
}

std::string read_file(const std::string& path) {
  InputFile in(path);
  std::string content;
  std::size_t size_hint = 0;
  std::error_code ec;
  if (!in.is_gzip()) size_hint = std::filesystem::file_size(path, ec);
  content.resize(size_hint ? size_hint : (1u << 20));
  std::size_t used = 0;
  for (;;) {
    if (used == content.size()) content.resize(content.size() * 2);
    const std::size_t r = in.read(content.data() + used, content.size() - used);
    if (r == 0) break;
    used += r;
  }
  content.resize(used);
  return content;
}

std::string find_plain_or_gz(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return path;
  if (std::filesystem::is_regular_file(path + ".gz", ec)) return path + ".gz";
  CURNN_CHECK(false, path << ": no such file (nor " << path << ".gz)");
  return {};
}

AtomicOutputFile::AtomicOutputFile(std::string path, bool binary)
    : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
  file_ = std::fopen(tmp_.c_str(), binary ? "wb" : "w");
  CURNN_CHECK(file_ != nullptr, path_ << ": cannot create: " << errno_text());
}

AtomicOutputFile::~AtomicOutputFile() {
  if (file_) std::fclose(file_);
  if (!committed_) std::remove(tmp_.c_str());
}

void AtomicOutputFile::write(const void* data, std::size_t n) {
  CURNN_CHECK(file_ && std::fwrite(data, 1, n, file_) == n,
              path_ << ": write failed: " << errno_text());
}

void AtomicOutputFile::commit() {
  CURNN_CHECK(file_ != nullptr, path_ << ": commit() called twice");
  const bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
  const int close_rc = std::fclose(file_);
  file_ = nullptr;
  CURNN_CHECK(ok && close_rc == 0, path_ << ": write failed: " << errno_text());
  CURNN_CHECK(std::rename(tmp_.c_str(), path_.c_str()) == 0,
              path_ << ": cannot rename the finished file into place: " << errno_text());
  committed_ = true;
}

}  // namespace curnn::data
