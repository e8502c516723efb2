// Internal to host/data/: locating a dataset's files inside its folder.
#pragma once

#include <filesystem>
#include <string>

#include "curnn/data/io.hpp"
#include "curnn/error.hpp"

namespace curnn::data::detail {

// <dir>/<name> or <dir>/<name>.gz, with an error naming the folder when it does not exist.
inline std::string dataset_file(const std::string& dir, const std::string& name,
                                const char* dataset) {
  std::error_code ec;
  CURNN_CHECK(std::filesystem::is_directory(dir, ec), dir << ": no such " << dataset
                                                          << " folder (expected " << name << " or "
                                                          << name << ".gz in it)");
  return find_plain_or_gz(dir + "/" + name);
}

}  // namespace curnn::data::detail
