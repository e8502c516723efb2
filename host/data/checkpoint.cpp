// Checkpoint files: see include/curnn/data/checkpoint.hpp.
#include "curnn/data/checkpoint.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "curnn/data/io.hpp"
#include "curnn/error.hpp"

namespace curnn::data {

namespace {
constexpr char kMagic[8] = {'C', 'U', 'R', 'N', 'N', 'C', 'K', '1'};

std::uint32_t crc_of(const std::string& meta, const float* data, std::size_t count) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(meta.data()), meta.size());
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(data), count * sizeof(float));
  return static_cast<std::uint32_t>(crc);
}

// The index of the first non-finite value of data[0, count), or count.
std::size_t first_non_finite(const float* data, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(data[i])) return i;
  }
  return count;
}

// The bytes of a regular file as stored (checkpoints are never compressed: no gzip expansion,
// and a FIFO or device is refused instead of blocking or reading forever).
std::string read_regular_file(const std::string& path) {
  struct stat st {};
  CURNN_CHECK(::stat(path.c_str(), &st) == 0,
              path << ": cannot read the checkpoint: " << std::strerror(errno));
  CURNN_CHECK(S_ISREG(st.st_mode), path << ": not a regular file");
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  CURNN_CHECK(file != nullptr, path << ": cannot open the checkpoint: " << std::strerror(errno));
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), file.get());
  CURNN_CHECK(got == bytes.size() && !std::ferror(file.get()),
              path << ": cannot read the checkpoint: "
                   << (std::ferror(file.get()) ? std::strerror(errno) : "the file shrank"));
  return bytes;
}
}  // namespace

void save_checkpoint(const std::string& path, const std::string& meta, const float* data,
                     std::size_t count) {
  const std::size_t bad = first_non_finite(data, count);
  CURNN_CHECK(bad == count, path << ": refusing to save a checkpoint holding a non-finite value ("
                                 << data[bad] << " at index " << bad << " of " << count << ")");
  AtomicOutputFile out(path, /*binary=*/true);
  const std::uint64_t meta_bytes = meta.size(), floats = count;
  const std::uint32_t crc = crc_of(meta, data, count);
  out.write(kMagic, sizeof kMagic);
  out.write(&meta_bytes, sizeof meta_bytes);
  out.write(meta);
  out.write(&floats, sizeof floats);
  out.write(data, count * sizeof(float));
  out.write(&crc, sizeof crc);
  out.commit();
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string bytes = read_regular_file(path);
  std::size_t at = 0;
  const auto take = [&](void* dst, std::size_t n, const char* what) {
    CURNN_CHECK(bytes.size() - at >= n, path << ": truncated checkpoint (reading " << what << ": "
                                             << n << " bytes needed, " << bytes.size() - at
                                             << " left)");
    if (n > 0) std::memcpy(dst, bytes.data() + at, n);  // dst may be null when n == 0 (fuzzing)
    at += n;
  };
  char magic[8];
  take(magic, sizeof magic, "the header");
  CURNN_CHECK(std::memcmp(magic, kMagic, sizeof kMagic) == 0,
              path << ": not a libcurnn checkpoint (bad magic)");
  std::uint64_t meta_bytes = 0, floats = 0;
  take(&meta_bytes, sizeof meta_bytes, "the metadata size");
  CURNN_CHECK(meta_bytes <= kMaxCheckpointMetaBytes, path << ": corrupt checkpoint (metadata size "
                                                          << meta_bytes << " above the limit of "
                                                          << kMaxCheckpointMetaBytes << " bytes)");
  CURNN_CHECK(meta_bytes <= bytes.size() - at,
              path << ": truncated checkpoint (reading the metadata: " << meta_bytes
                   << " bytes needed, " << bytes.size() - at << " left)");
  Checkpoint ck;
  ck.meta.assign(bytes.data() + at, meta_bytes);
  at += meta_bytes;
  take(&floats, sizeof floats, "the parameter count");
  CURNN_CHECK(floats <= (bytes.size() - at) / sizeof(float),
              path << ": truncated checkpoint (reading the parameters: " << floats
                   << " floats needed, " << (bytes.size() - at) / sizeof(float) << " left)");
  ck.data.resize(floats);
  take(ck.data.data(), floats * sizeof(float), "the parameters");
  std::uint32_t crc = 0;
  take(&crc, sizeof crc, "the checksum");
  CURNN_CHECK(at == bytes.size(),
              path << ": corrupt checkpoint (" << bytes.size() - at << " trailing bytes)");
  CURNN_CHECK(crc == crc_of(ck.meta, ck.data.data(), ck.data.size()),
              path << ": corrupt checkpoint (checksum mismatch)");
  const std::size_t bad = first_non_finite(ck.data.data(), ck.data.size());
  CURNN_CHECK(bad == ck.data.size(), path << ": value " << bad << " of " << ck.data.size() << " is "
                                          << ck.data[bad]
                                          << " (a checkpoint holds finite numbers only)");
  return ck;
}

std::uint64_t fnv1a64(const void* data, std::size_t bytes, std::uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string vocabulary_hash(const std::vector<std::string>& words) {
  std::uint64_t hash = kFnv1aOffset;
  for (const std::string& w : words) {
    unsigned char length[8];
    for (int b = 0; b < 8; ++b) length[b] = static_cast<unsigned char>(w.size() >> (8 * b));
    hash = fnv1a64(length, sizeof length, hash);
    hash = fnv1a64(w.data(), w.size(), hash);
  }
  return hex64(hash);
}

std::string hex64(std::uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace curnn::data
