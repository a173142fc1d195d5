// LabelledFolder, UnlabelledFolder (folder and list file) and open_dataset.
#include <gmock/gmock.h>

#include "data_test_util.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/seed.h"
#include "fashioncut/data/labelled_folder.h"
#include "fashioncut/data/unlabelled_folder.h"
#include "support/test_support.h"

namespace fashioncut::data {
namespace {
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing_util;

class FoldersTest : public fashioncut::testing::SeedingFixture {
 protected:
  TransformOptions transform() const {
    TransformOptions o;
    o.size = 8;
    return o;
  }
  /// root/<cls>/... with `n` images per class, each a solid grey level.
  fs::path make_labelled(const std::vector<std::pair<std::string, int>>& classes) {
    const auto root = scratch() / "labelled";
    for (const auto& [name, n] : classes) {
      fs::create_directories(root / name);
      for (int i = 0; i < n; ++i)
        write_solid(root / name / (i % 2 ? "nested" : "") / ("img" + std::to_string(i) + ".png"), 6, 4,
                    {uint8_t(10 * i), 0, 0});
    }
    return root;
  }
  template <typename F>
  static std::string error_of(F&& f) {
    try {
      f();
    } catch (const DataError& e) {
      return e.what();
    }
    return "(no DataError)";
  }
};

TEST_F(FoldersTest, LabelledFolderSortsClassesAndRecurses) {
  const auto root = make_labelled({{"shirt", 3}, {"bag", 2}, {"coat", 1}});
  fs::create_directories(root / ".hidden");
  write_solid(root / ".hidden" / "x.png", 2, 2, {0, 0, 0});
  write_bytes(root / "bag" / "notes.txt", "not an image");
  LabelledFolder ds(root, {transform()});
  EXPECT_THAT(ds.classes(), ElementsAre("bag", "coat", "shirt"));
  EXPECT_EQ(ds.size(), 6u);
  EXPECT_THAT(ds.class_counts(), ElementsAre(2, 1, 3));
  auto rng = make_rng(0, 0);
  const auto ex = ds.get(5, rng);
  EXPECT_EQ(ex.label, 2);
  EXPECT_THAT(ex.path, HasSubstr("shirt"));
  EXPECT_EQ(ex.image.sizes(), (std::vector<int64_t>{3, 8, 8}));
  EXPECT_THAT(ds.describe(), HasSubstr("3 classes"));
}

TEST_F(FoldersTest, EmptyClassFolderIsNamed) {
  const auto root = make_labelled({{"bag", 2}, {"dress", 0}});
  const auto msg = error_of([&] { LabelledFolder(root, {transform()}); });
  EXPECT_THAT(msg, HasSubstr((root / "dress").string()));
  EXPECT_THAT(msg, HasSubstr("no images"));
  LabelledFolderOptions allow{transform(), true};
  LabelledFolder ds(root, allow);
  EXPECT_THAT(ds.classes(), ElementsAre("bag", "dress"));
  EXPECT_THAT(ds.class_counts(), ElementsAre(2, 0));
}

TEST_F(FoldersTest, FolderWithNoImagesNamesRootAndLayout) {
  const auto root = scratch() / "nothing";
  fs::create_directories(root / "a");
  fs::create_directories(root / "b");
  write_bytes(root / "a" / "readme.txt", "x");
  const auto labelled = error_of([&] { LabelledFolder(root, {transform()}); });
  EXPECT_THAT(labelled, HasSubstr(root.string()));
  EXPECT_THAT(labelled, HasSubstr("<class>"));
  const auto unlabelled = error_of([&] { UnlabelledFolder(root, {transform()}); });
  EXPECT_THAT(unlabelled, HasSubstr(root.string()));
  EXPECT_THAT(unlabelled, HasSubstr("no images"));
  const auto flat = scratch() / "flat";
  fs::create_directories(flat);
  EXPECT_THAT(error_of([&] { LabelledFolder(flat, {transform()}); }), HasSubstr("no class subfolders"));
  EXPECT_THAT(error_of([&] { LabelledFolder(scratch() / "missing", {transform()}); }), HasSubstr("missing"));
}

TEST_F(FoldersTest, UnlabelledFolderFindsImagesRecursively) {
  const auto root = make_labelled({{"x", 3}, {"y", 2}});
  UnlabelledFolder ds(root, {transform()});
  EXPECT_EQ(ds.size(), 5u);
  EXPECT_TRUE(ds.classes().empty());
  auto rng = make_rng(0, 0);
  EXPECT_EQ(ds.get(0, rng).label, -1);
  EXPECT_TRUE(std::is_sorted(ds.paths().begin(), ds.paths().end()));
}

TEST_F(FoldersTest, ListFileWithAndWithoutLabels) {
  const auto root = make_labelled({{"x", 2}});
  write_bytes(scratch() / "list.csv", "path,label,class\nlabelled/x/img0.png,1,coat\n# comment\n\n" +
                                          (root / "x" / "nested" / "img1.png").string() + ",0,bag\n");
  UnlabelledFolder plain(scratch() / "list.csv", {transform(), false});
  EXPECT_EQ(plain.size(), 2u);
  EXPECT_TRUE(plain.classes().empty());
  UnlabelledFolder labelled(scratch() / "list.csv", {transform(), true});
  EXPECT_THAT(labelled.classes(), ElementsAre("bag", "coat"));
  auto rng = make_rng(0, 0);
  EXPECT_EQ(labelled.get(0, rng).label, 1);
  EXPECT_EQ(labelled.get(1, rng).label, 0);

  write_bytes(scratch() / "names.txt", "labelled/x/img0.png\tshoe\nlabelled/x/nested/img1.png\tbag\n");
  UnlabelledFolder by_name(scratch() / "names.txt", {transform(), true});
  EXPECT_THAT(by_name.classes(), ElementsAre("bag", "shoe"));
  EXPECT_EQ(by_name.get(0, rng).label, 1);
}

TEST_F(FoldersTest, ListFileErrorsNameFileAndLine) {
  write_bytes(scratch() / "bad.txt", "missing.png\n");
  const auto msg = error_of([&] { UnlabelledFolder(scratch() / "bad.txt", {transform()}); });
  EXPECT_THAT(msg, HasSubstr((scratch() / "bad.txt").string() + ":1"));
  EXPECT_THAT(msg, HasSubstr("missing.png"));
  write_bytes(scratch() / "empty.txt", "# nothing\n");
  EXPECT_THAT(error_of([&] { UnlabelledFolder(scratch() / "empty.txt", {transform()}); }), HasSubstr("no images"));
}

TEST_F(FoldersTest, OpenDatasetPicksTheRightReader) {
  const auto root = make_labelled({{"a", 1}, {"b", 1}});
  EXPECT_FALSE(open_dataset(root.string(), transform(), true)->classes().empty());
  EXPECT_TRUE(open_dataset(root.string(), transform(), false)->classes().empty());
  EXPECT_EQ(open_dataset((root / "a").string(), transform(), true)->size(), 1u);  // no subfolders: unlabelled
  const auto missing = (scratch() / "nope").string();
  EXPECT_THAT(error_of([&] { open_dataset(missing, transform(), true); }), HasSubstr(missing));
  EXPECT_THAT(error_of([&] { open_dataset("mystery:thing", transform(), true); }), HasSubstr("fmnist:"));
}

TEST_F(FoldersTest, RegisteredPrefixIsUsedAndDuplicatesRejected) {
  const auto root = make_labelled({{"a", 2}});
  register_dataset_prefix("testonly", [root](const std::string& rest, const TransformOptions& t, bool) {
    return std::make_shared<UnlabelledFolder>(root / rest, UnlabelledFolderOptions{t, false});
  });
  EXPECT_EQ(open_dataset("testonly:a", transform(), false)->size(), 2u);
  EXPECT_THROW(register_dataset_prefix("testonly", nullptr), ConfigError);
  EXPECT_THAT(dataset_prefixes(), ::testing::Contains("fmnist"));
}

TEST_F(FoldersTest, CorruptFileInFolderThrowsImageErrorNamingIt) {
  const auto root = make_labelled({{"a", 1}});
  write_bytes(root / "a" / "zzz_corrupt.png", "\x89PNG\r\n\x1a\ngarbage");
  LabelledFolder ds(root, {transform()});
  auto rng = make_rng(0, 0);
  try {
    ds.get(1, rng);
    ADD_FAILURE() << "no error";
  } catch (const ImageError& e) {
    EXPECT_THAT(e.what(), HasSubstr((root / "a" / "zzz_corrupt.png").string()));
  }
}

}  // namespace
}  // namespace fashioncut::data
