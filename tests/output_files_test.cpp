// Output targets (curnn/data/io.hpp, AtomicOutputFile): links are written through and stay
// links, nothing but a regular file is ever replaced (FIFO, device node, directory: refused and
// untouched), permissions are kept, and no temporary file survives an error, exit() or a signal;
// the apps check their outputs before any work and clean up when killed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "curnn/data/io.hpp"
#include "curnn/error.hpp"
#include "json_text.hpp"
#include "support/data_files.hpp"
#include "support/run_app.hpp"

// LeakSanitizer (in the ASan build of scripts/test.sh): gcc says __SANITIZE_ADDRESS__, clang
// __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define CURNN_TEST_WITH_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CURNN_TEST_WITH_LSAN 1
#endif
#endif
#if CURNN_TEST_WITH_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace curnn::data {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// The names in `dir`, sorted.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

bool has_temporary(const std::string& dir) {
  for (const auto& name : names_in(dir)) {
    if (name.find(".tmp.") != std::string::npos) return true;
  }
  return false;
}

std::string content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_committed(const std::string& path, const std::string& text) {
  AtomicOutputFile out(path);
  out.write(text);
  out.commit();
}

TEST(OutputFiles, ALinkIsWrittenThroughAndStaysALink) {
  TempDir dir;
  test::write_file(dir / "real.txt", "old");
  fs::create_symlink("real.txt", dir / "link.txt");                // relative
  fs::create_symlink(dir / "link.txt", dir / "link-to-link.txt");  // absolute, a chain
  write_committed(dir / "link.txt", "new");
  EXPECT_TRUE(fs::is_symlink(dir / "link.txt"));
  EXPECT_EQ(fs::read_symlink(dir / "link.txt"), "real.txt");
  EXPECT_EQ(content(dir / "real.txt"), "new");
  write_committed(dir / "link-to-link.txt", "newer");
  EXPECT_TRUE(fs::is_symlink(dir / "link-to-link.txt"));
  EXPECT_TRUE(fs::is_symlink(dir / "link.txt"));
  EXPECT_EQ(content(dir / "real.txt"), "newer");

  // A dangling link creates the file it names; a link into another folder writes there.
  fs::create_symlink("created.txt", dir / "dangling");
  write_committed(dir / "dangling", "made");
  EXPECT_TRUE(fs::is_symlink(dir / "dangling"));
  EXPECT_EQ(content(dir / "created.txt"), "made");
  fs::create_directories(dir / "sub");
  fs::create_symlink("sub/inner.txt", dir / "into-sub");
  write_committed(dir / "into-sub", "inner");
  EXPECT_EQ(content(dir / "sub/inner.txt"), "inner");
  EXPECT_FALSE(has_temporary(dir.str()));
  EXPECT_FALSE(has_temporary(dir / "sub"));
}

TEST(OutputFiles, AFifoIsRefusedAndLeftAlone) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  fs::create_symlink("fifo", dir / "link-to-fifo");
  for (const std::string name : {"fifo", "link-to-fifo"}) {
    const std::string message = test::error_of([&] { AtomicOutputFile out(dir / name); });
    test::expect_contains(message, dir / name);
    test::expect_contains(message, "is a FIFO (named pipe), not a regular file");
  }
  EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
  EXPECT_TRUE(fs::is_symlink(dir / "link-to-fifo"));
  EXPECT_EQ(names_in(dir.str()), (std::vector<std::string>{"fifo", "link-to-fifo"}));
}

TEST(OutputFiles, ADeviceNodeIsRefusedAndLeftAlone) {
  TempDir dir;
  // As root, a copy of /dev/null's node in the temporary folder (so that a broken build cannot
  // replace the real one); otherwise /dev/null itself, which a non-root process cannot replace.
  std::string device = "/dev/null";
  if (::geteuid() == 0 && ::mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    device = dir / "null";
  }
  const std::string message = test::error_of([&] { write_committed(device, "x"); });
  test::expect_contains(message, device + ": is a character device, not a regular file");
  EXPECT_TRUE(fs::is_character_file(device));
  EXPECT_FALSE(has_temporary(dir.str()));
  EXPECT_FALSE(has_temporary("/dev"));
}

TEST(OutputFiles, ADirectoryIsRefused) {
  TempDir dir;
  fs::create_directories(dir / "folder");
  test::expect_contains(test::error_of([&] { write_committed(dir / "folder", "x"); }),
                        "is a directory, not a regular file");
  EXPECT_TRUE(fs::is_directory(dir / "folder"));
  EXPECT_EQ(names_in(dir.str()), (std::vector<std::string>{"folder"}));
}

TEST(OutputFiles, NoTemporaryFileSurvivesAnError) {
  TempDir dir;
  {
    AtomicOutputFile out(dir / "o.txt");
    out.write("partial");
  }
  EXPECT_TRUE(names_in(dir.str()).empty());
  // The target becomes a FIFO while the file is written: the commit refuses it.
  {
    AtomicOutputFile out(dir / "o.txt");
    out.write("data");
    ASSERT_EQ(::mkfifo((dir / "o.txt").c_str(), 0644), 0);
    test::expect_contains(test::error_of([&] { out.commit(); }), "is a FIFO");
  }
  EXPECT_TRUE(fs::is_fifo(dir / "o.txt"));
  EXPECT_EQ(names_in(dir.str()), (std::vector<std::string>{"o.txt"}));
  // A folder that does not exist.
  test::expect_contains(test::error_of([&] { AtomicOutputFile out(dir / "missing/o.txt"); }),
                        "missing/o.txt: cannot create a file there: No such file or directory");
}

TEST(OutputFiles, AReplacedFileKeepsItsPermissions) {
  TempDir dir;
  test::write_file(dir / "o.txt", "old");
  fs::permissions(dir / "o.txt",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_committed(dir / "o.txt", "new");
  EXPECT_EQ(fs::status(dir / "o.txt").permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(content(dir / "o.txt"), "new");
}

TEST(OutputFiles, APartialLogIsPublishedOnlyWhenItHoldsSomething) {
  TempDir dir;
  test::write_file(dir / "log", "earlier run\n");
  { AtomicOutputFile log(dir / "log", false, AtomicOutputFile::Partial::Publish); }
  EXPECT_EQ(content(dir / "log"), "earlier run\n");  // nothing written: the old log stays
  {
    AtomicOutputFile log(dir / "log", false, AtomicOutputFile::Partial::Publish);
    log.write("{\"record\":1}\n");
    EXPECT_EQ(content(log.temporary()), "{\"record\":1}\n");  // on disk as written
  }
  EXPECT_EQ(content(dir / "log"), "{\"record\":1}\n");
  EXPECT_EQ(names_in(dir.str()), (std::vector<std::string>{"log"}));
}

// What the apps' handler does (apps/app_common.hpp): clean up, then die of the signal.
void cleanup_and_reraise(int sig) {
  remove_pending_outputs();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Runs `child` in a forked process with two outputs pending (a data file and a log with one
// record); returns its wait status.
template <class Child>
int status_of_child_with_pending_outputs(const TempDir& dir, Child child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGTERM, cleanup_and_reraise);
#if CURNN_TEST_WITH_LSAN
    __lsan_disable();  // the outputs below stay open through exit() on purpose
#endif
    auto* data = new AtomicOutputFile(dir / "vectors.txt");
    data->write(std::string(1 << 21, 'v'));  // beyond the buffer: bytes on disk
    auto* log = new AtomicOutputFile(dir / "log.jsonl", false, AtomicOutputFile::Partial::Publish);
    log->write("{\"type\":\"progress\"}\n");
    child();  // never destroys the files
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(OutputFiles, ASignalLeavesNoTemporaryFile) {
  TempDir dir;
  test::write_file(dir / "vectors.txt", "the previous vectors");
  const int status = status_of_child_with_pending_outputs(dir, [] { ::raise(SIGTERM); });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_EQ(names_in(dir.str()), (std::vector<std::string>{"log.jsonl", "vectors.txt"}));
  EXPECT_EQ(content(dir / "vectors.txt"), "the previous vectors");
  EXPECT_EQ(content(dir / "log.jsonl"), "{\"type\":\"progress\"}\n");
}

TEST(OutputFiles, ExitLeavesNoTemporaryFile) {
  TempDir dir;
  const int status = status_of_child_with_pending_outputs(dir, [] { std::exit(3); });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_EQ(names_in(dir.str()), (std::vector<std::string>{"log.jsonl"}));
}

TEST(OutputFiles, ProbesReportUnusableOutputsAndLeaveNothing) {
  TempDir dir;
  prepare_output_dir(dir / "a/b/c");
  EXPECT_TRUE(fs::is_directory(dir / "a/b/c"));
  EXPECT_TRUE(names_in(dir / "a/b/c").empty());
  probe_output_file(dir / "a/file");
  EXPECT_EQ(names_in(dir / "a"), (std::vector<std::string>{"b"}));
  test::write_file(dir / "plain", "x");
  test::expect_contains(test::error_of([&] { prepare_output_dir(dir / "plain/sub"); }),
                        "plain/sub: cannot create the output folder");
  test::expect_contains(test::error_of([&] { probe_output_file(dir / "plain/sub/f"); }),
                        "plain/sub/f: cannot inspect: Not a directory");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  test::expect_contains(test::error_of([&] { probe_output_file(dir / "fifo"); }), "FIFO");
  EXPECT_EQ(content(dir / "plain"), "x");
}

// ---- the apps --------------------------------------------------------------------------------

class AppOutputs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(test::app_path("curnn-word2vec"))) GTEST_SKIP() << "apps not built";
  }
  // A corpus over 30 words, `lines` lines of 20 words.
  static std::string corpus(const TempDir& dir, int lines) {
    std::string text;
    for (int l = 0; l < lines; ++l) {
      for (int i = 0; i < 20; ++i) text += "w" + std::to_string((l * 7 + i * 3) % 30) + " ";
      text += "\n";
    }
    test::write_file(dir / "corpus.txt", text);
    return dir / "corpus.txt";
  }
  static std::string train(const std::string& corpus) {
    return "-train '" + corpus + "' --device cpu -threads 2 -size 8 -min-count 1";
  }
};

TEST_F(AppOutputs, OutputsGoThroughLinksAndFifosAreRefusedBeforeTraining) {
  TempDir dir;
  const std::string text = corpus(dir, 50);
  test::write_file(dir / "real.bin", "old");
  fs::create_symlink("real.bin", dir / "vectors.bin");
  fs::create_symlink("real.jsonl", dir / "log.jsonl");
  const auto ok =
      test::run_app("curnn-word2vec", train(text) + " -iter 1 -output '" + (dir / "vectors.bin") +
                                          "' --log-json '" + (dir / "log.jsonl") + "'");
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_TRUE(fs::is_symlink(dir / "vectors.bin"));
  EXPECT_TRUE(fs::is_symlink(dir / "log.jsonl"));
  EXPECT_EQ(content(dir / "real.bin").rfind("31 8\n", 0), 0u);
  EXPECT_NE(content(dir / "real.jsonl").find("\"type\":\"done\""), std::string::npos);

  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  for (const std::string flag : {"-output", "--log-json", "-save-vocab"}) {
    const std::string others = flag == "-output" ? "" : " -output '" + (dir / "v2") + "'";
    const auto r = test::run_app("curnn-word2vec", train(text) + " -iter 1" + others + " " + flag +
                                                       " '" + (dir / "fifo") + "'");
    EXPECT_EQ(r.exit_code, 1) << flag << ": " << r.output;
    EXPECT_NE(r.output.find((dir / "fifo") + ": is a FIFO (named pipe), not a regular file"),
              std::string::npos)
        << flag << ": " << r.output;
    EXPECT_EQ(r.output.find("Vocab size"), std::string::npos) << flag << ": it read the corpus";
    EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
  }
  EXPECT_FALSE(has_temporary(dir.str()));
}

TEST_F(AppOutputs, SigtermMidRunLeavesNoTemporaryFile) {
  TempDir dir;
  const std::string text = corpus(dir, 400);
  const std::string log = dir / "log.jsonl", out = dir / "vectors.txt";
  // Enough passes to train for minutes; it is stopped as soon as its log has a record.
  const std::string command = "exec '" + test::app_path("curnn-word2vec") + "' " + train(text) +
                              " -iter 100000 -output '" + out + "' --log-json '" + log +
                              "' > /dev/null 2>&1";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool logging = false;
  int status = 0;
  for (int i = 0; i < 600 && !logging; ++i) {  // up to a minute on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "the run ended by itself: " << status;
    for (const auto& name : names_in(dir.str())) {
      logging = logging || (name.rfind("log.jsonl.tmp.", 0) == 0 && fs::file_size(dir / name) > 0);
    }
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(logging) << "the run never logged";
  // Killed by the signal (the default handler re-raises it), or a graceful stop with 143.
  EXPECT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) ||
              (WIFEXITED(status) && WEXITSTATUS(status) == 143))
      << status;
  EXPECT_FALSE(has_temporary(dir.str()));
  EXPECT_FALSE(fs::exists(out));
  // The log of the interrupted run: valid JSON lines, its config record first.
  std::istringstream lines(content(log));
  std::string first;
  ASSERT_TRUE(std::getline(lines, first));
  EXPECT_EQ(app::parse_json_text(first, log).at("type"), "config");
  for (std::string line; std::getline(lines, line);) app::parse_json_text(line, log);
}

}  // namespace
}  // namespace curnn::data
