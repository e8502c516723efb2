#include "curnn/data/checkpoint.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstring>

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
}  // namespace

void save_checkpoint(const std::string& path, const std::string& meta, const float* data,
                     std::size_t count) {
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
  const std::string bytes = read_file(path);
  std::size_t at = 0;
  const auto take = [&](void* dst, std::size_t n, const char* what) {
    CURNN_CHECK(bytes.size() - at >= n, path << ": truncated checkpoint (reading " << what << ")");
    if (n > 0) std::memcpy(dst, bytes.data() + at, n);  // dst may be null when n == 0 (fuzzing)
    at += n;
  };
  char magic[8];
  take(magic, sizeof magic, "the header");
  CURNN_CHECK(std::memcmp(magic, kMagic, sizeof kMagic) == 0,
              path << ": not a libcurnn checkpoint (bad magic)");
  std::uint64_t meta_bytes = 0, floats = 0;
  take(&meta_bytes, sizeof meta_bytes, "the metadata size");
  CURNN_CHECK(meta_bytes <= bytes.size() - at, path << ": truncated checkpoint (metadata)");
  Checkpoint ck;
  ck.meta.assign(bytes.data() + at, meta_bytes);
  at += meta_bytes;
  take(&floats, sizeof floats, "the parameter count");
  CURNN_CHECK(floats <= (bytes.size() - at) / sizeof(float),
              path << ": truncated checkpoint (parameters)");
  ck.data.resize(floats);
  take(ck.data.data(), floats * sizeof(float), "the parameters");
  std::uint32_t crc = 0;
  take(&crc, sizeof crc, "the checksum");
  CURNN_CHECK(at == bytes.size(), path << ": trailing bytes after the checkpoint");
  CURNN_CHECK(crc == crc_of(ck.meta, ck.data.data(), ck.data.size()),
              path << ": corrupt checkpoint (checksum mismatch)");
  return ck;
}

}  // namespace curnn::data
