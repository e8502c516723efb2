// Checkpoint files: a JSON metadata string (format, config, training position, vocabulary, ...)
// and one flat float32 array (parameters, optimizer and training state), with a CRC-32 over both.
// Written atomically (temporary file + rename).
// Layout: "CURNNCK1" | u64 meta bytes | meta | u64 floats | floats (little-endian) | u32 crc32.
//
// A checkpoint is untrusted input. load_checkpoint checks the container: a missing, non-regular,
// truncated or corrupt file, a bad magic, an absurd metadata size, trailing bytes, a checksum
// mismatch or a non-finite value is a one-line curnn::Error naming the file and what is wrong.
// It allocates no more than the file's size, whatever its header says. What the metadata means
// (format, counters, sizes against the model and the data) is checked by the programs that wrote
// it (apps/checkpoint_meta.hpp). save_checkpoint refuses non-finite values, so a diverged run
// can never leave a checkpoint that looks like a success.
// Tests: tests/checkpoint_test.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace curnn::data {

// The largest metadata section load_checkpoint accepts (a PTB vocabulary of 10k words is
// ~100 KB; a 1M-word one ~15 MB).
constexpr std::uint64_t kMaxCheckpointMetaBytes = std::uint64_t{256} << 20;

struct Checkpoint {
  std::string meta;         // JSON text
  std::vector<float> data;  // flat parameters and state, all finite
};

void save_checkpoint(const std::string& path, const std::string& meta, const float* data,
                     std::size_t count);
Checkpoint load_checkpoint(const std::string& path);

// 64-bit FNV-1a of `bytes` bytes, continuing from `hash` (chain calls to hash several pieces).
constexpr std::uint64_t kFnv1aOffset = 0xcbf29ce484222325ull;
std::uint64_t fnv1a64(const void* data, std::size_t bytes, std::uint64_t hash = kFnv1aOffset);
// A vocabulary's identity: FNV-1a over each word's length (8 bytes, little-endian) and bytes, in
// id order (so ["ab", "c"] and ["a", "bc"] differ). As 16 lowercase hex digits.
std::string vocabulary_hash(const std::vector<std::string>& words);
// `hash` as 16 lowercase hex digits.
std::string hex64(std::uint64_t hash);

}  // namespace curnn::data
