// Checkpoint files: a JSON metadata string (config, epoch, vocabulary, ...) and one flat float32
// parameter array, with a CRC-32 over both. Written atomically (temporary file + rename).
// Layout: "CURNNCK1" | u64 meta bytes | meta | u64 floats | floats (little-endian) | u32 crc32.
// A missing, truncated or corrupt file is a one-line curnn::Error naming the file.
#pragma once

#include <string>
#include <vector>

namespace curnn::data {

struct Checkpoint {
  std::string meta;         // JSON text
  std::vector<float> data;  // flat parameters
};

void save_checkpoint(const std::string& path, const std::string& meta, const float* data,
                     std::size_t count);
Checkpoint load_checkpoint(const std::string& path);

}  // namespace curnn::data
