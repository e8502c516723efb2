// A main() for the harnesses outside libFuzzer (builds without -DCURNN_FUZZ=ON): runs
// LLVMFuzzerTestOneInput once on each file named on the command line (folders: each file in
// them), as the regression tests of fuzz/CMakeLists.txt do with the seed corpus and the recorded
// crash inputs. Exit status 0 when every input ran; a crash is a crash.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read\n", path.c_str());
    return 1;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int failures = 0, inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (!entry.is_regular_file()) continue;
        failures += run_file(entry.path());
        ++inputs;
      }
    } else {
      failures += run_file(arg);
      ++inputs;
    }
  }
  std::printf("%s: %d inputs ran\n", argc > 0 ? argv[0] : "harness", inputs);
  return failures == 0 ? 0 : 1;
}
