#include "fashioncut/models/checkpoint.h"

#include <gmock/gmock.h>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/models/classifier.h"
#include "support/test_support.h"

namespace fashioncut::models {
namespace {
using ::testing::HasSubstr;

class CheckpointTest : public testing::SeedingFixture {};

ClassifierSpec tiny_spec() {
  ClassifierSpec s;
  s.arch = "resnet18";
  s.in_channels = 1;
  s.small_input = true;
  s.classes = {"a", "b", "c"};
  s.image_size = 16;
  return s;
}

TEST_F(CheckpointTest, RoundTripsModulesOptimizerMetaAndRng) {
  Classifier a(tiny_spec());
  torch::optim::Adam opt(a->parameters(), torch::optim::AdamOptions(1e-3));
  a->forward(torch::randn({2, 1, 16, 16})).sum().backward();
  opt.step();
  const auto path = scratch() / "c.pt";
  save_checkpoint(path, {{"C", a.ptr()}}, {{"C", &opt}}, {{"epoch", 3}, {"classifier", a->spec.to_json()}});
  const auto after_save = torch::rand({4});

  torch::manual_seed(123);
  Classifier b(tiny_spec());
  torch::optim::Adam opt_b(b->parameters(), torch::optim::AdamOptions(1e-3));
  const auto meta = load_checkpoint(path, {{"C", b.ptr()}}, {{"C", &opt_b}}, true);
  EXPECT_EQ(meta.at("epoch"), 3);
  EXPECT_EQ(meta.at("format"), kCheckpointFormat);
  EXPECT_TRUE(torch::equal(torch::rand({4}), after_save));  // RNG restored to the saved state
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  const auto ba = a->named_buffers(), bb = b->named_buffers();
  for (const auto& item : ba) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << item.key();
  EXPECT_EQ(ClassifierSpec::from_json(meta.at("classifier")).classes, tiny_spec().classes);
}

TEST_F(CheckpointTest, OpenedOnceItLoadsWhatItVerifiedEvenIfTheFileIsReplaced) {
  // predict/resume check the metadata, build modules, then load: all from the one opening, so
  // a trainer atomically rewriting best.pt in between cannot mix two files (and the CRC pass
  // and the archive parse run once).
  Classifier a(tiny_spec()), b(tiny_spec());
  const auto path = scratch() / "c.pt";
  save_checkpoint(path, {{"C", a.ptr()}}, {}, {{"epoch", 1}});
  Checkpoint opened(path);
  EXPECT_EQ(opened.meta().at("epoch"), 1);
  EXPECT_EQ(opened.path(), path);
  save_checkpoint(path, {{"C", b.ptr()}}, {}, {{"epoch", 2}});  // atomic replace
  Classifier loaded(tiny_spec());
  EXPECT_EQ(opened.load({{"C", loaded.ptr()}}, {}, false).at("epoch"), 1);
  const auto pa = a->named_parameters(), pl = loaded->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pl[item.key()])) << item.key();
  EXPECT_EQ(read_checkpoint_meta(path).at("epoch"), 2);
  // A module the file lacks is the same one error as from load_checkpoint.
  try {
    opened.load({{"D", loaded.ptr()}}, {}, false);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no module 'D'"));
  }
}

TEST_F(CheckpointTest, TruncatedEmptyMissingAndForeignFilesNameThePath) {
  Classifier a(tiny_spec());
  const auto path = scratch() / "c.pt";
  save_checkpoint(path, {{"C", a.ptr()}}, {}, {{"method", "x"}});
  const std::string bytes = read_file(path);
  write_file_atomic(scratch() / "torn.pt", bytes.substr(0, bytes.size() / 3));
  write_file_atomic(scratch() / "empty.pt", "");
  write_file_atomic(scratch() / "text.pt", "not a checkpoint at all");
  for (const char* name : {"torn.pt", "empty.pt", "text.pt", "missing.pt"}) {
    try {
      load_checkpoint(scratch() / name, {{"C", a.ptr()}}, {}, false);
      FAIL() << name;
    } catch (const CheckpointError& e) {
      EXPECT_THAT(e.what(), HasSubstr(name));
    }
  }
}

TEST_F(CheckpointTest, OtherArchitectureOrMissingModuleIsAClearError) {
  Classifier a(tiny_spec());
  const auto path = scratch() / "c.pt";
  save_checkpoint(path, {{"C", a.ptr()}}, {}, {{"method", "source-only"}});
  auto other = tiny_spec();
  other.classes = {"a", "b"};  // head 2 instead of 3 classes
  Classifier b(other);
  try {
    load_checkpoint(path, {{"C", b.ptr()}}, {}, false);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not fit"));
  }
  try {
    load_checkpoint(path, {{"G", b.ptr()}}, {}, false);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("source-only"));
  }
}

TEST_F(CheckpointTest, NewerFormatIsRefused) {
  Classifier a(tiny_spec());
  const auto path = scratch() / "c.pt";
  save_checkpoint(path, {{"C", a.ptr()}}, {}, {});
  // Rewrite with a newer format number by saving meta through the archive directly.
  torch::serialize::OutputArchive archive;
  archive.write("meta", c10::IValue(nlohmann::json{{"format", kCheckpointFormat + 1}}.dump()));
  archive.save_to(path.string());
  try {
    read_checkpoint_meta(path);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("newer"));
  }
}

TEST(CheckpointCorruptRecordTest, UnpicklerErrorBecomesCheckpointError) {
  // A fuzzer-found checkpoint whose pickled record names an unknown type (its CRC-32s set right
  // afterwards, so that it passes the zip check as a crafted file would): LibTorch throws from
  // the lazy record read; it must arrive as one CheckpointError naming the file.
  const std::string path = std::string(FASHIONCUT_TESTS_DIR) + "/fuzz/corpus/checkpoint_loader/unknown_rebuild_type.pt";
  try {
    read_checkpoint_meta(path);
    FAIL() << "a corrupt checkpoint was read";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(path));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("not a readable fashioncut checkpoint (corrupt record: "));
  }
}

}  // namespace
}  // namespace fashioncut::models
