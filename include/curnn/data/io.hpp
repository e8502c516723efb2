// File input and output for datasets and model files.
//  - InputFile reads plain or gzip files transparently (detected by content, not by name) in
//    chunks; a missing, unreadable, truncated or corrupt file is a curnn::Error naming the file.
//  - AtomicOutputFile writes outputs through a temporary file renamed into place (below).
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>
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
  // The file's size in bytes (compressed for gzip; 0 when unknown, e.g. a pipe).
  std::uint64_t size_on_disk() const noexcept { return size_on_disk_; }

 private:
  std::string path_;
  std::uint64_t size_on_disk_ = 0;
  void* gz_ = nullptr;  // gzFile
  bool gzip_ = false;
};

// The whole (decompressed) content of a plain or .gz file.
std::string read_file(const std::string& path);

// The first existing of `path` and `path + ".gz"`, or throws naming both.
std::string find_plain_or_gz(const std::string& path);

// Every file libcurnn and its apps write (vectors, vocabularies, checkpoints, JSON logs) goes
// through AtomicOutputFile, which decides where the bytes go and what may be replaced:
//  - Links: a symbolic link is written through: the file it points to (at the end of a chain of
//    links, relative targets resolved from the link's folder) is replaced, and the link stays a
//    link. A dangling link creates the file it names.
//  - Only regular files are replaced: when the target (after the links) is a directory, a FIFO, a
//    socket or a device node (/dev/null included), the constructor throws "<path>: is a FIFO, not
//    a regular file: refusing to replace it" and leaves it untouched. It is checked again just
//    before the rename.
//  - The bytes go to a new temporary file "<target>.tmp.<pid>.<n>" in the target's folder
//    (created exclusively: never an existing file or link), are fsync'ed, renamed over the target,
//    and the folder is fsync'ed: readers see the old file or the whole new one, also after a
//    crash or a power failure. A replaced file's permission bits are kept.
//  - The temporary file never outlives the process: it is removed when the object is destroyed
//    without commit() (an error, an exception), at exit(), and by remove_pending_outputs(), which
//    is async-signal-safe: the apps call it from their SIGINT/SIGTERM/SIGHUP handlers and on
//    std::terminate (apps/app_common.hpp).
//  - Partial::Publish (the JSON logs): without commit(), what was written is still renamed into
//    place (on destruction, at exit and by remove_pending_outputs) when it is not empty, so a
//    failed or interrupted run keeps its log and an earlier log is only replaced by a non-empty
//    one. Each write() of such a file is one write(2) call, so a log record is never cut by a
//    signal.
// Tests: tests/output_files_test.cpp.
class AtomicOutputFile {
 public:
  enum class Partial { Remove, Publish };
  explicit AtomicOutputFile(std::string path, bool binary = false,
                            Partial partial = Partial::Remove);
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  // Buffered (Partial::Remove) or written at once (Partial::Publish).
  void write(const void* data, std::size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  // Writes out the buffer (the data reach the temporary file; commit() still decides).
  void flush();
  // Flushes, fsyncs, closes and renames into place; throws (and removes the temporary) on
  // failure.
  void commit();

  const std::string& path() const noexcept { return path_; }      // as given
  const std::string& target() const noexcept { return target_; }  // the file replaced
  const std::string& temporary() const noexcept { return tmp_; }

 private:
  void write_out(const char* data, std::size_t n);
  void abandon() noexcept;
  std::string path_, target_, tmp_;
  int fd_ = -1;
  int slot_ = -1;  // in the pending-output registry
  Partial partial_;
  std::string buffer_;
  std::uint64_t written_ = 0;
  bool committed_ = false;
};

// Removes every pending temporary file of this process (publishing the non-empty ones of
// Partial::Publish files). Async-signal-safe; idempotent.
void remove_pending_outputs() noexcept;

// The signals whose default action ends the process and that a program may get in normal use:
// the apps call remove_pending_outputs() on each (apps/app_common.hpp), and AtomicOutputFile
// blocks them while it creates and registers a temporary file.
inline constexpr int kTerminationSignals[] = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                                              SIGPIPE, SIGXCPU, SIGXFSZ};

// Early checks, so that a run fails before its work, not after: probe_output_file(path) checks
// that `path` may be written (its target is a regular file or absent, its folder exists and takes
// a new file) by creating and removing a temporary file; prepare_output_dir(dir) creates the
// folder (and its parents) and probes it the same way. Both throw a one-line curnn::Error.
void probe_output_file(const std::string& path);
void prepare_output_dir(const std::string& dir);

}  // namespace curnn::data
