// libFuzzer harness: checkpoints (curnn/data/checkpoint.hpp) and their JSON metadata
// (apps/json_text.hpp). The first byte picks the mode:
//  - even: the input is a checkpoint file: load_checkpoint, then its metadata parsed as the apps
//    parse it;
//  - odd: the rest of the input is metadata text: saved in a checkpoint with a few parameters,
//    loaded back (the same bytes), parsed; what parses is written again with to_json_text and
//    must parse to the same value.
#include <string>
#include <vector>

#include "curnn/data/checkpoint.hpp"
#include "fuzz_common.hpp"
#include "json_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace curnn;
  static fuzz::InputFile file;
  static fuzz::ScratchDir dir;
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    const std::string& path = file.set(data + 1, size - 1);
    fuzz::only_curnn_errors([&] {
      const data::Checkpoint ck = data::load_checkpoint(path);
      app::parse_json_text(ck.meta, path + ": metadata");
    });
    return 0;
  }
  const std::string meta(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<float> params = {1.0f, -2.5f, static_cast<float>(size)};
  data::save_checkpoint(dir / "ck", meta, params.data(), params.size());
  const data::Checkpoint ck = data::load_checkpoint(dir / "ck");
  fuzz::require(ck.meta == meta && ck.data == params, "checkpoint: save + load round trip");
  fuzz::only_curnn_errors([&] {
    const nlohmann::json value = app::parse_json_text(meta, "metadata");
    fuzz::require(app::parse_json_text(app::to_json_text(value), "again") == value,
                  "checkpoint metadata: to_json_text + parse_json_text round trip");
  });
  return 0;
}
