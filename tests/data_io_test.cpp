// Plain/gzip input and atomic output (curnn/data/io.hpp).
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "curnn/data/io.hpp"
#include "curnn/error.hpp"

namespace curnn::data {
namespace {

namespace fs = std::filesystem;

class DataIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("curnn_io_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write_gz(const std::string& p, const std::string& content) const {
    gzFile gz = gzopen(p.c_str(), "wb");
    gzwrite(gz, content.data(), static_cast<unsigned>(content.size()));
    gzclose(gz);
  }
  fs::path dir_;
};

TEST_F(DataIo, ReadsPlainAndGzipIdentically) {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "word" + std::to_string(i % 97) + " ";
  std::ofstream(path("a.txt")) << text;
  write_gz(path("a.txt.gz"), text);
  EXPECT_EQ(read_file(path("a.txt")), text);
  EXPECT_EQ(read_file(path("a.txt.gz")), text);
  EXPECT_EQ(find_plain_or_gz(path("a.txt")), path("a.txt"));
  fs::remove(path("a.txt"));
  EXPECT_EQ(find_plain_or_gz(path("a.txt")), path("a.txt.gz"));
}

TEST_F(DataIo, MissingEmptyAndTruncatedFiles) {
  EXPECT_THROW(read_file(path("nope.txt")), Error);
  EXPECT_THROW(find_plain_or_gz(path("nope.txt")), Error);
  EXPECT_THROW(read_file(dir_.string()), Error);
  std::ofstream(path("empty.txt")).close();
  EXPECT_EQ(read_file(path("empty.txt")), "");
  std::string text(200000, 'x');
  for (std::size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
  write_gz(path("t.gz"), text);
  fs::resize_file(path("t.gz"), fs::file_size(path("t.gz")) / 2);
  try {
    read_file(path("t.gz"));
    FAIL() << "truncated gzip accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.gz"), std::string::npos) << e.what();
  }
}

TEST_F(DataIo, AtomicOutputLeavesNothingUnlessCommitted) {
  {
    AtomicOutputFile out(path("o.txt"));
    out.write("partial");
  }
  EXPECT_FALSE(fs::exists(path("o.txt")));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 0);
  {
    AtomicOutputFile out(path("o.txt"));
    out.write("done\n");
    out.commit();
  }
  EXPECT_EQ(read_file(path("o.txt")), "done\n");
  EXPECT_THROW(AtomicOutputFile(path("missing-dir/o.txt")), Error);
}

}  // namespace
}  // namespace curnn::data
