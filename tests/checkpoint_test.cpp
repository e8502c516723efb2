// Checkpoints as untrusted input. The container (curnn/data/checkpoint.hpp): magic, truncation at
// every byte, checksum, trailing bytes, absurd sizes, non-finite values, non-regular files. The
// shuffler state MNIST checkpoints carry. And the apps' checks of the metadata against the model
// and the data (curnn-ptb, curnn-mnist): each crafted checkpoint is a one-line error naming the
// file and the field, never a crash, a hang or generated text.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>

#include "curnn/data/checkpoint.hpp"
#include "curnn/data/mnist.hpp"
#include "support/app_fixtures.hpp"
#include "support/checkpoint_files.hpp"
#include "support/data_files.hpp"
#include "support/run_app.hpp"

namespace curnn {
namespace {

using json = nlohmann::json;
using test::checkpoint_bytes;
using test::error_of;
using test::expect_contains;
using test::raw_bytes;

const std::string kMeta = R"({"format":"x","n":1})";
const std::vector<float> kData = {1.5f, -2.0f, 0.25f, 3.0f};

TEST(CheckpointFile, RoundTripsMetaAndData) {
  test::TempDir dir;
  data::save_checkpoint(dir / "a.ckpt", kMeta, kData.data(), kData.size());
  const data::Checkpoint ck = data::load_checkpoint(dir / "a.ckpt");
  EXPECT_EQ(ck.meta, kMeta);
  EXPECT_EQ(ck.data, kData);
  EXPECT_EQ(test::read_bytes(dir / "a.ckpt"), checkpoint_bytes(kMeta, kData));
}

TEST(CheckpointFile, BadMagicIsRefused) {
  test::TempDir dir;
  std::string bytes = checkpoint_bytes(kMeta, kData);
  bytes[7] = '2';
  test::write_bytes(dir / "a.ckpt", bytes);
  const std::string e = error_of([&] { data::load_checkpoint(dir / "a.ckpt"); });
  expect_contains(e, dir / "a.ckpt");
  expect_contains(e, "bad magic");
}

// Every proper prefix of a valid file: the header, the metadata size, the metadata, the count,
// the values and the checksum each cut at every byte.
TEST(CheckpointFile, TruncationAtEveryByteIsRefused) {
  test::TempDir dir;
  const std::string bytes = checkpoint_bytes(kMeta, kData);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    test::write_bytes(dir / "a.ckpt", bytes.substr(0, n));
    const std::string e = error_of([&] { data::load_checkpoint(dir / "a.ckpt"); });
    EXPECT_NE(e.find("truncated checkpoint"), std::string::npos) << "at " << n << ": " << e;
  }
}

TEST(CheckpointFile, ChecksumMismatchIsRefused) {
  test::TempDir dir;
  const std::string good = checkpoint_bytes(kMeta, kData);
  // One byte of the metadata, of the values, and of the checksum itself.
  for (const std::size_t at : {std::size_t{20}, good.size() - 8, good.size() - 1}) {
    std::string bytes = good;
    bytes[at] ^= 0x10;
    test::write_bytes(dir / "a.ckpt", bytes);
    expect_contains(error_of([&] { data::load_checkpoint(dir / "a.ckpt"); }), "checksum mismatch");
  }
}

TEST(CheckpointFile, TrailingBytesAreRefused) {
  test::TempDir dir;
  test::write_bytes(dir / "a.ckpt", checkpoint_bytes(kMeta, kData) + "x");
  expect_contains(error_of([&] { data::load_checkpoint(dir / "a.ckpt"); }), "1 trailing bytes");
}

// Sizes from the header never decide an allocation: a huge metadata size or value count is an
// error before anything is allocated.
TEST(CheckpointFile, AbsurdSizesAreRefusedWithoutAllocating) {
  test::TempDir dir;
  const std::string head = "CURNNCK1";
  test::write_bytes(dir / "a.ckpt", head + raw_bytes(std::uint64_t{1} << 62) + kMeta);
  expect_contains(error_of([&] { data::load_checkpoint(dir / "a.ckpt"); }), "above the limit");
  test::write_bytes(dir / "a.ckpt", head + raw_bytes(std::uint64_t{1000}) + kMeta);
  expect_contains(error_of([&] { data::load_checkpoint(dir / "a.ckpt"); }),
                  "truncated checkpoint (reading the metadata");
  test::write_bytes(dir / "a.ckpt", head + raw_bytes(std::uint64_t{kMeta.size()}) + kMeta +
                                        raw_bytes(~std::uint64_t{0}) + std::string(16, '\0'));
  expect_contains(error_of([&] { data::load_checkpoint(dir / "a.ckpt"); }),
                  "truncated checkpoint (reading the parameters");
}

TEST(CheckpointFile, NonFiniteValuesAreRefusedOnLoadAndOnSave) {
  test::TempDir dir;
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> values = kData;
    values[2] = bad;
    test::write_bytes(dir / "a.ckpt", checkpoint_bytes(kMeta, values));  // a valid checksum
    const std::string e = error_of([&] { data::load_checkpoint(dir / "a.ckpt"); });
    expect_contains(e, "value 2 of 4");
    expect_contains(e, "finite numbers only");
    const std::string s =
        error_of([&] { data::save_checkpoint(dir / "b.ckpt", kMeta, values.data(), 4); });
    expect_contains(s, "refusing to save");
    EXPECT_FALSE(std::filesystem::exists(dir / "b.ckpt"));
  }
}

TEST(CheckpointFile, MissingDirectoryAndFifoAreRefused) {
  test::TempDir dir;
  expect_contains(error_of([&] { data::load_checkpoint(dir / "missing.ckpt"); }),
                  "missing.ckpt: cannot read");
  expect_contains(error_of([&] { data::load_checkpoint(dir.str()); }), "not a regular file");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  // Opening a FIFO with no writer would block forever: it is refused before.
  expect_contains(error_of([&] { data::load_checkpoint(dir / "fifo"); }), "not a regular file");
}

TEST(CheckpointFile, VocabularyHashSeesWordsNotJustSizes) {
  EXPECT_EQ(data::vocabulary_hash({}), "cbf29ce484222325");  // FNV-1a's offset basis
  EXPECT_NE(data::vocabulary_hash({"ab", "c"}), data::vocabulary_hash({"a", "bc"}));
  EXPECT_NE(data::vocabulary_hash({"a", "b"}), data::vocabulary_hash({"b", "a"}));
  EXPECT_EQ(data::vocabulary_hash({"a", "b"}), data::vocabulary_hash({"a", "b"}));
  EXPECT_EQ(data::hex64(0x1234), "0000000000001234");
  // FNV-1a 64 of "a" (published test vector).
  EXPECT_EQ(data::fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
}

// ---- the MNIST data order, saved and restored -------------------------------------------------

TEST(ShufflerState, RestoredShufflerContinuesTheSameSequence) {
  data::EpochShuffler a(11, 7);
  for (int i = 0; i < 5; ++i) a.next_batch(3);  // crosses an epoch end
  data::EpochShuffler b(11, 99);
  b.restore(a.state());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.next_batch(4), b.next_batch(4)) << i;
}

TEST(ShufflerState, BadStatesAreRefusedAndLeaveTheShufflerAsItWas) {
  data::EpochShuffler a(5, 1);
  a.next_batch(2);
  const data::EpochShuffler::State good = a.state();
  const auto refused = [&](data::EpochShuffler::State s, const std::string& part) {
    data::EpochShuffler b(5, 1);
    b.next_batch(2);
    expect_contains(error_of([&] { b.restore(s); }), part);
    EXPECT_EQ(b.next_batch(3), a.next_batch(3));  // unchanged by the failed restore
    a.restore(good);
  };
  data::EpochShuffler::State s = good;
  s.order = {0, 1, 2, 3, 3};
  refused(s, "not a permutation");
  s = good;
  s.order.pop_back();
  refused(s, "4 entries");
  s = good;
  s.index_in_epoch = 6;
  refused(s, "index_in_epoch 6");
  s = good;
  s.rng = "12 34";
  refused(s, "does not parse");
  s = good;
  s.rng = s.rng.substr(0, s.rng.rfind(' ')) + " 999";  // a position beyond the 312 words
  refused(s, "does not parse");
  s = good;
  s.rng[0] = 'x';
  refused(s, "non-number");
}

// ---- the apps' checks of the metadata ---------------------------------------------------------

// One line of output naming `part`, exit 1 (not a crash).
void expect_one_line_error(const test::AppResult& r, const std::string& part) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(test::count_lines(r.output), 1) << r.output;
  expect_contains(r.output, part);
}

// A mid-epoch checkpoint (with the carried state) to edit, then resume from.
template <class Runs>
class CheckpointEdits : public test::AppTest<Runs> {
 protected:
  void SetUp() override {
    test::AppTest<Runs>::SetUp();
    if (this->IsSkipped()) return;
    const auto r = this->run("--save-path '" + (this->dir_ / "ck") + "' --stop-after " +
                             std::to_string(Runs::kMidEpochStep));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    good_ = test::read_bytes(ckpt());
  }
  std::string ckpt() const { return this->dir_ / (std::string("ck/") + Runs::kCheckpoint); }
  test::AppResult resume(const std::string& extra = "") const {
    return this->run("--save-path '" + (this->dir_ / "ck") + "' --resume " + extra);
  }
  // Resuming from the checkpoint after `edit` is a one-line error naming the file and `part`.
  template <class Edit>
  void expect_refused(Edit&& edit, const std::string& part) {
    test::write_bytes(ckpt(), good_);
    test::edit_checkpoint(ckpt(), edit);
    const auto r = resume();
    SCOPED_TRACE(part);
    expect_one_line_error(r, part);
    expect_contains(r.output, ckpt());
  }
  std::string good_;
};
using PtbCheckpoint = CheckpointEdits<test::PtbRuns>;
using MnistCheckpoint = CheckpointEdits<test::MnistRuns>;

TEST_F(PtbCheckpoint, EveryFieldIsCheckedAndNamed) {
  using V = std::vector<float>;
  expect_refused([](json& m, V&) { m["format"] = "curnn-mnist-bilstm"; }, "'format'");
  expect_refused([](json& m, V&) { m["version"] = 1; }, "'version' is 1");
  expect_refused([](json& m, V&) { m.erase("epoch"); }, "'epoch' is missing");
  expect_refused([](json& m, V&) { m["epoch"] = 4; }, "'epoch' is 4, outside [0, 3]");
  expect_refused([](json& m, V&) { m["epoch"] = -1; }, "'epoch' is -1");
  expect_refused([](json& m, V&) { m["epoch"] = "1"; }, "'epoch' is \"1\", not an integer");
  expect_refused([](json& m, V&) { m["step"] = 90, m["global_step"] = 90; },
                 "'step' is 90, beyond the 89 steps");
  expect_refused([](json& m, V&) { m["global_step"] = 31; }, "'global_step' is 31");
  expect_refused([](json& m, V&) { m["seed"] = -3; }, "'seed'");
  expect_refused([](json& m, V&) { m["max_steps"] = 5; }, "'max_steps' is 5");
  expect_refused([](json& m, V&) { m["best_valid_perplexity"] = 0.5; },
                 "'best_valid_perplexity' is 0.5");
  expect_refused([](json& m, V&) { m["config"]["keep_prob"] = 0; }, "'config' is invalid");
  expect_refused([](json& m, V&) { m["config"]["hidden_size"] = 9; },
                 "'config.hidden_size' is 9, which differs from the flags' 8");
  expect_refused([](json& m, V&) { m["config"]["num_layers"] = "2"; }, "'config.num_layers'");
  expect_refused([](json& m, V&) { m["vocab"][3] = "zebra"; }, "'vocab_hash' does not match");
  expect_refused([](json& m, V&) { m["vocab"].erase(0); }, "'vocab' holds 10 words");
  expect_refused([](json&, V& d) { d.pop_back(); }, "'data' holds");
  expect_refused([](json&, V& d) { d.back() = -1; }, "negative epoch cost");
  expect_refused([](json& m, V& d) { m["step"] = 0, m["global_step"] = 0, d.push_back(0); },
                 "'data' holds");
}

TEST_F(PtbCheckpoint, FlagsThatChangeTheRunAreRefused) {
  expect_one_line_error(
      test::run_app("curnn-ptb", test::ptb_flags(dir_ / "data", 6) + " --resume --save-path '" +
                                     (dir_ / "ck") + "'"),
      "'seed' is 5, --seed gives 6");
  expect_one_line_error(resume("--max-steps 40"), "'max_steps' is 0, --max-steps gives 40");
  expect_one_line_error(resume("--batch-size 10"),
                        "'config.batch_size' is 20, which differs from the flags' 10");
}

// A corpus with the same vocabulary size but other words: refused by the vocabulary's hash.
TEST_F(PtbCheckpoint, AnotherCorpusWithTheSameVocabularySizeIsRefused) {
  test::write_ptb_corpus(
      dir_ / "other", 400,
      {"le", "chat", "est", "sur", "tapis", "un", "chien", "court", "<unk>", "N"});
  const auto r = test::run_app("curnn-ptb", test::ptb_flags(dir_ / "other") + " --save-path '" +
                                                (dir_ / "ck") + "' --resume");
  expect_one_line_error(r, "'vocab_hash' differs from the vocabulary of");
}

TEST_F(PtbCheckpoint, ContainerDamageIsRefused) {
  test::write_bytes(ckpt(), good_.substr(0, good_.size() / 2));
  expect_one_line_error(resume(), "truncated checkpoint");
  std::string bytes = good_;
  bytes[bytes.size() / 2] ^= 1;
  test::write_bytes(ckpt(), bytes);
  expect_one_line_error(resume(), "checksum mismatch");
  test::write_bytes(ckpt(), checkpoint_bytes("not json {", {1.0f}));
  expect_one_line_error(resume(), "not valid JSON");
  test::write_bytes(ckpt(), checkpoint_bytes("[1, 2]", {1.0f}));
  expect_one_line_error(resume(), "not a JSON object");
  // Nesting a million deep: refused while parsing (apps/json_text.hpp), never recursed into.
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  test::write_bytes(ckpt(), checkpoint_bytes(R"({"format":)" + deep + "}", {1.0f}));
  expect_one_line_error(resume(), "JSON nested deeper than 64 levels");
  // Shallow, where a value is echoed: named by its kind, not dumped.
  test::write_bytes(ckpt(), checkpoint_bytes(R"({"format":[[1,2],[3]]})", {1.0f}));
  expect_one_line_error(resume(), "'format' is an array");
}

// Generation reads the same checks, and never samples from non-finite logits.
TEST_F(PtbCheckpoint, GenerationRefusesNonsense) {
  const std::string gen = "--device cpu --generate 5 --save-path '" + (dir_ / "ck") + "'";
  auto r = test::run_app("curnn-ptb", gen);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::edit_checkpoint(ckpt(), [](json& m, std::vector<float>&) { m["vocab"][2] = "x"; });
  expect_one_line_error(test::run_app("curnn-ptb", gen), "'vocab_hash' does not match");
  test::write_bytes(ckpt(), good_);
  // Finite but huge weights: the logits overflow.
  test::edit_checkpoint(ckpt(), [](json&, std::vector<float>& d) {
    for (float& x : d) x = x >= 0 ? 3e38f : -3e38f;
  });
  r = test::run_app("curnn-ptb", gen);
  expect_one_line_error(r, "logits are not finite");
}

TEST_F(MnistCheckpoint, EveryFieldIsCheckedAndNamed) {
  using V = std::vector<float>;
  expect_refused([](json& m, V&) { m["format"] = "curnn-ptb-lm"; }, "'format'");
  expect_refused([](json& m, V&) { m["version"] = 3; }, "'version' is 3");
  expect_refused([](json& m, V&) { m["config"]["hidden_size"] = 7; }, "'config.hidden_size'");
  expect_refused([](json& m, V&) { m["batch_size"] = 5; }, "'batch_size' is 5");
  expect_refused([](json& m, V&) { m["train_images"] = 27; }, "'train_images' is 27");
  expect_refused([](json& m, V&) { m["data_hash"] = "0000000000000000"; }, "'data_hash' differs");
  expect_refused([](json& m, V&) { m["adam_steps"] = 8; }, "'adam_steps' is 8");
  // A step count that replaying would take hours over is out of range (and never replayed).
  expect_refused([](json& m, V&) { m["steps_done"] = std::int64_t{1} << 50; }, "'steps_done'");
  expect_refused([](json& m, V&) { m["shuffler"]["order"][0] = m["shuffler"]["order"][1]; },
                 "not a permutation");
  expect_refused([](json& m, V&) { m["shuffler"]["order"].erase(0); }, "'shuffler.order'");
  expect_refused([](json& m, V&) { m["shuffler"]["rng"] = "1 2 3"; }, "does not parse");
  expect_refused([](json& m, V&) { m["shuffler"]["index_in_epoch"] = 29; },
                 "'shuffler.index_in_epoch' is 29");
  expect_refused([](json&, V& d) { d.push_back(0); }, "'data' holds");
  expect_refused([](json&, V& d) { d.back() = -1e-3f; }, "negative Adam second moment");
}

// Other training images, same count: refused by the data's hash.
TEST_F(MnistCheckpoint, OtherImagesOfTheSameCountAreRefused) {
  test::write_mnist(dir_ / "other", /*image_seed=*/9);
  const auto r = run("--save-path '" + (dir_ / "ck") + "' --resume", "other");
  expect_one_line_error(r, "'data_hash' differs from the training images");
}

}  // namespace
}  // namespace curnn
