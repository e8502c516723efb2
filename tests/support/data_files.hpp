// Support for the dataset tests: where they find the real datasets, and temporary folders for
// synthetic ones.
//  - find_dataset("ptb"): $CURNN_DATA_DIR/ptb when CURNN_DATA_DIR is set (and only there);
//    otherwise the first existing of <repo>/../shared/data/ptb, <repo>/shared/data/ptb and
//    <repo>/data/ptb (what scripts/get-data.sh writes), <repo> being this source tree's root
//    (CURNN_SOURCE_DIR, defined for every test by tests/CMakeLists.txt). Returns "" when none
//    exists; `why` then says where it looked, for GTEST_SKIP.
//  - TempDir: a fresh folder per test case (and process), removed at the end.
//  - write_file: writes bytes to a file, plain or gzip-compressed.
//  - error_of, expect_contains: checking the one-line curnn::Error messages of bad input.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "curnn/error.hpp"

namespace curnn::test {

inline std::string find_dataset(const std::string& name, std::string* why) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("CURNN_DATA_DIR"); env && *env) {
    candidates.push_back(fs::path(env) / name);
  } else {
#ifdef CURNN_SOURCE_DIR  // set by tests/CMakeLists.txt
    const fs::path repo = CURNN_SOURCE_DIR;
#else  // this file is <repo>/tests/support/data_files.hpp (__FILE__ may be relative to the
       // build folder, e.g. under ccache's base_dir, so only a fallback)
    const fs::path repo =
        fs::absolute(fs::path(__FILE__)).parent_path().parent_path().parent_path();
#endif
    candidates = {repo / ".." / "shared" / "data" / name, repo / "shared" / "data" / name,
                  repo / "data" / name};
  }
  std::string looked;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_directory(c, ec)) return fs::weakly_canonical(c, ec).string();
    looked += (looked.empty() ? "" : ", ") + c.lexically_normal().string();
  }
  *why = "dataset '" + name + "' not found (looked in " + looked +
         "; set CURNN_DATA_DIR to a folder laid out like shared/data, or run scripts/get-data.sh)";
  return {};
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("curnn_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& bytes, bool gzip = false) {
  if (gzip) {
    gzFile gz = gzopen(path.c_str(), "wb");
    ASSERT_NE(gz, nullptr) << path;
    ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()))
        << path;
    ASSERT_EQ(gzclose(gz), Z_OK) << path;
  } else {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
  }
}

// The message of the curnn::Error that f() throws, checked to be one line ("" and a test failure
// when nothing is thrown).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "multi-line message: " << what;
    return what;
  }
  ADD_FAILURE() << "no curnn::Error thrown";
  return "";
}

inline void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

}  // namespace curnn::test
