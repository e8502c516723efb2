// Checkpoint files for tests: the container's bytes built by hand (so a test can write what
// save_checkpoint refuses to: NaN values, wrong sizes, bad checksums), and editing the JSON
// metadata of a real checkpoint while keeping its checksum valid.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "curnn/data/checkpoint.hpp"

namespace curnn::test {

template <class T>
std::string raw_bytes(const T& value) {
  std::string s(sizeof value, '\0');
  std::memcpy(s.data(), &value, sizeof value);
  return s;
}

// "CURNNCK1" | u64 meta bytes | meta | u64 floats | floats | u32 crc32 of meta and floats.
inline std::string checkpoint_bytes(const std::string& meta, const std::vector<float>& data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(meta.data()), meta.size());
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()), data.size() * sizeof(float));
  std::string floats(data.size() * sizeof(float), '\0');
  std::memcpy(floats.data(), data.data(), floats.size());
  return "CURNNCK1" + raw_bytes(std::uint64_t{meta.size()}) + meta +
         raw_bytes(std::uint64_t{data.size()}) + floats +
         raw_bytes(static_cast<std::uint32_t>(crc));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Rewrites the checkpoint at `path` with its metadata and data passed through `edit` (a valid
// checksum: the content is what is wrong).
template <class Edit>
void edit_checkpoint(const std::string& path, Edit&& edit) {
  const data::Checkpoint ck = data::load_checkpoint(path);
  nlohmann::json meta = nlohmann::json::parse(ck.meta);
  std::vector<float> values = ck.data;
  edit(meta, values);
  write_bytes(path, checkpoint_bytes(meta.dump(), values));
}

}  // namespace curnn::test
