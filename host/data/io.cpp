#include "curnn/data/io.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "curnn/error.hpp"
#include "curnn/text.hpp"

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
  size_on_disk_ = std::filesystem::file_size(path, ec);
  if (ec) size_on_disk_ = 0;
  // zlib's buffers: 1 MiB for large files, no more than the file for small ones (many small
  // files are read in tests and fuzzing; a large allocation per open costs there).
  const auto buffer = std::clamp<std::uint64_t>(size_on_disk_, 1 << 13, 1 << 20);
  gzbuffer(static_cast<gzFile>(gz_), static_cast<unsigned>(buffer));
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

// ---- output files --------------------------------------------------------------------------

namespace {

// The registry of temporary files not yet committed or removed, readable from a signal handler:
// fixed slots, each with its two paths in place and an atomic state (lock-free).
constexpr int kPendingSlots = 64;
constexpr std::size_t kPathBytes = 4096;
enum SlotState : int { kFree = 0, kBusy = 1, kActive = 2, kCleaned = 3 };

struct PendingOutput {
  std::atomic<int> state{kFree};
  std::atomic<bool> publish{false};  // a non-empty Partial::Publish file: rename, don't remove
  char tmp[kPathBytes];
  char target[kPathBytes];
};
PendingOutput g_pending[kPendingSlots];
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "the registry must be usable from a signal handler");

// Blocks the termination signals while a temporary file is created and registered, so that a
// signal never finds one on disk but not in the registry.
class TerminationSignalsBlocked {
 public:
  TerminationSignalsBlocked() {
    sigset_t block;
    sigemptyset(&block);
    for (const int sig : kTerminationSignals) sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, &saved_);
  }
  ~TerminationSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

int register_pending(const std::string& tmp, const std::string& target) {
  static const bool cleanup_at_exit = std::atexit([] { remove_pending_outputs(); }) == 0;
  (void)cleanup_at_exit;
  CURNN_CHECK(tmp.size() < kPathBytes && target.size() < kPathBytes,
              quote_input(target) << ": path too long (" << target.size() << " bytes)");
  for (int i = 0; i < kPendingSlots; ++i) {
    int expected = kFree;
    PendingOutput& slot = g_pending[i];
    if (!slot.state.compare_exchange_strong(expected, kBusy)) continue;
    std::memcpy(slot.tmp, tmp.c_str(), tmp.size() + 1);
    std::memcpy(slot.target, target.c_str(), target.size() + 1);
    slot.publish.store(false);
    slot.state.store(kActive);
    return i;
  }
  CURNN_CHECK(false, target << ": more than " << kPendingSlots << " output files open at once");
  return -1;
}

void unregister_pending(int i) {
  PendingOutput& slot = g_pending[i];
  for (;;) {
    int state = slot.state.load();
    if (state == kBusy) continue;  // remove_pending_outputs() is handling it on another thread
    if (slot.state.compare_exchange_strong(state, kFree)) return;
  }
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// "<path>" or "<path> (a link to <target>)".
std::string describe(const std::string& path, const std::string& target) {
  return target == path ? path : path + " (a link to " + target + ")";
}

// Throws unless `target` is absent or a regular file.
void check_replaceable(const std::string& path, const std::string& target) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) {
    CURNN_CHECK(errno == ENOENT, describe(path, target) << ": cannot inspect: " << errno_text());
    return;
  }
  CURNN_CHECK(S_ISREG(st.st_mode), describe(path, target)
                                       << ": is " << file_kind(st.st_mode)
                                       << ", not a regular file: refusing to replace it");
}

// The file that writing `path` should replace: the end of its chain of symbolic links.
std::string resolve_output_target(const std::string& path) {
  constexpr int kMaxLinks = 40;  // Linux's MAXSYMLINKS
  std::string current = path;
  for (int links = 0; links <= kMaxLinks; ++links) {
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
      check_replaceable(path, current);
      return current;
    }
    std::string link(kPathBytes, '\0');
    const ssize_t n = ::readlink(current.c_str(), link.data(), link.size());
    CURNN_CHECK(n > 0 && static_cast<std::size_t>(n) < link.size(),
                describe(path, current) << ": cannot read the symbolic link: " << errno_text());
    link.resize(static_cast<std::size_t>(n));
    const std::filesystem::path next(link);
    current =
        next.is_absolute() ? link : (std::filesystem::path(current).parent_path() / next).string();
  }
  CURNN_CHECK(false, path << ": too many levels of symbolic links");
  return {};
}

void fsync_folder_of(const std::string& file) {
  std::string folder = std::filesystem::path(file).parent_path().string();
  if (folder.empty()) folder = ".";
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort: the file is in place; some file systems refuse this
  ::close(fd);
}

}  // namespace

void remove_pending_outputs() noexcept {
  for (PendingOutput& slot : g_pending) {
    int expected = kActive;
    if (!slot.state.compare_exchange_strong(expected, kBusy)) continue;
    struct stat st {};
    const bool target_ok = ::lstat(slot.target, &st) != 0 || S_ISREG(st.st_mode);
    if (!(slot.publish.load() && target_ok && ::rename(slot.tmp, slot.target) == 0)) {
      ::unlink(slot.tmp);
    }
    slot.state.store(kCleaned);
  }
}

AtomicOutputFile::AtomicOutputFile(std::string path, bool /*binary: the same bytes on POSIX*/,
                                   Partial partial)
    : path_(std::move(path)), partial_(partial) {
  CURNN_CHECK(!path_.empty(), "an output file name is empty");
  target_ = resolve_output_target(path_);
  struct stat existing {};
  const bool replaces = ::stat(target_.c_str(), &existing) == 0;
  static std::atomic<unsigned> counter{0};
  const std::string prefix = target_ + ".tmp." + std::to_string(::getpid()) + ".";
  for (int attempt = 0;; ++attempt) {
    tmp_ = prefix + std::to_string(counter++);
    const TerminationSignalsBlocked blocked;
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd_ >= 0) {
      try {
        slot_ = register_pending(tmp_, target_);
      } catch (...) {
        ::close(fd_);
        ::unlink(tmp_.c_str());
        fd_ = -1;
        throw;
      }
      break;
    }
    CURNN_CHECK(errno == EEXIST && attempt < 100,
                describe(path_, target_) << ": cannot create a file there: " << errno_text());
  }
  if (replaces) ::fchmod(fd_, existing.st_mode & 07777);  // best effort
}

AtomicOutputFile::~AtomicOutputFile() {
  if (!committed_) abandon();
}

void AtomicOutputFile::abandon() noexcept {
  if (fd_ >= 0) {  // (a Partial::Publish file has no buffer: its bytes are all written)
    ::close(fd_);
    fd_ = -1;
  }
  if (slot_ < 0) return;
  struct stat st {};
  const bool target_ok = ::lstat(target_.c_str(), &st) != 0 || S_ISREG(st.st_mode);
  const bool publish = partial_ == Partial::Publish && written_ > 0 && target_ok;
  if (!(publish && ::rename(tmp_.c_str(), target_.c_str()) == 0)) ::unlink(tmp_.c_str());
  unregister_pending(slot_);
  slot_ = -1;
}

void AtomicOutputFile::write_out(const char* data, std::size_t n) {
  CURNN_CHECK(fd_ >= 0, path_ << ": write after commit()");
  while (n > 0) {
    const ssize_t w = ::write(fd_, data, n);
    if (w < 0 && errno == EINTR) continue;
    CURNN_CHECK(w > 0, describe(path_, target_) << ": write failed: " << errno_text());
    data += w;
    n -= static_cast<std::size_t>(w);
    written_ += static_cast<std::uint64_t>(w);
    if (partial_ == Partial::Publish) g_pending[slot_].publish.store(true);
  }
}

void AtomicOutputFile::write(const void* data, std::size_t n) {
  constexpr std::size_t kBufferBytes = std::size_t{1} << 20;
  const auto* bytes = static_cast<const char*>(data);
  if (partial_ == Partial::Publish || n >= kBufferBytes) {
    flush();
    write_out(bytes, n);
    return;
  }
  buffer_.append(bytes, n);
  if (buffer_.size() >= kBufferBytes) flush();
}

void AtomicOutputFile::flush() {
  if (buffer_.empty()) return;
  std::string pending;
  pending.swap(buffer_);
  write_out(pending.data(), pending.size());
}

void AtomicOutputFile::commit() {
  CURNN_CHECK(fd_ >= 0 && !committed_, path_ << ": commit() called twice");
  try {
    flush();
    CURNN_CHECK(::fsync(fd_) == 0, describe(path_, target_) << ": write failed: " << errno_text());
    const int closed = ::close(fd_);
    fd_ = -1;
    CURNN_CHECK(closed == 0, describe(path_, target_) << ": write failed: " << errno_text());
    check_replaceable(path_, target_);  // again: it may have changed while we wrote
    CURNN_CHECK(::rename(tmp_.c_str(), target_.c_str()) == 0,
                describe(path_, target_)
                    << ": cannot rename the finished file into place: " << errno_text());
  } catch (...) {
    partial_ = Partial::Remove;  // a failed commit leaves nothing
    abandon();
    throw;
  }
  committed_ = true;
  unregister_pending(slot_);
  slot_ = -1;
  fsync_folder_of(target_);
}

void probe_output_file(const std::string& path) {
  const AtomicOutputFile probe(path);  // created, checked and removed
}

void prepare_output_dir(const std::string& dir) {
  CURNN_CHECK(!dir.empty(), "an output folder name is empty");
  std::error_code made, is_dir;
  std::filesystem::create_directories(dir, made);
  CURNN_CHECK(
      std::filesystem::is_directory(dir, is_dir),
      dir << ": cannot create the output folder" << (made ? ": " + made.message() : std::string()));
  const std::string probe =
      (std::filesystem::path(dir) / (".curnn-probe." + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  CURNN_CHECK(fd >= 0, dir << ": cannot write in the output folder: " << errno_text());
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace curnn::data
