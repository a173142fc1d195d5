// Fashion-MNIST IDX reader on the real files (checked against Python), bad IDX files, the
// in-memory dataset, and the folder export (library and CLI) on tiny generated IDX files.
#include <gmock/gmock.h>
#include <unistd.h>

#include "data_test_util.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/seed.h"
#include "fashioncut/data/fmnist.h"
#include "fashioncut/data/fmnist_export.h"
#include "fashioncut/data/labelled_folder.h"
#include "fashioncut/data/unlabelled_folder.h"
#include "support/test_support.h"

namespace fashioncut::data {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using namespace testing_util;

class FmnistTest : public fashioncut::testing::SeedingFixture {
 protected:
  /// Tiny but valid Fashion-MNIST source: `n_train`/`n_test` 28x28 images, labels i % 10.
  fs::path make_source(int n_train, int n_test) {
    const auto dir = scratch() / "source";
    for (auto [split, n] : {std::pair<std::string, int>{"train", n_train}, {"t10k", n_test}}) {
      std::vector<uint8_t> pixels(size_t(n) * 28 * 28);
      std::vector<uint8_t> labels(static_cast<size_t>(n));
      for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 7);
      for (int i = 0; i < n; ++i) labels[size_t(i)] = uint8_t(i % 10);
      write_idx_gz(dir / (split + "-images-idx3-ubyte.gz"), 0x803, {uint32_t(n), 28, 28}, pixels);
      write_idx_gz(dir / (split + "-labels-idx1-ubyte.gz"), 0x801, {uint32_t(n)}, labels);
    }
    return dir;
  }
  template <typename F>
  static std::string data_error_of(F&& f) {
    try {
      f();
    } catch (const DataError& e) {
      return e.what();
    }
    return "(no DataError)";
  }
};

TEST_F(FmnistTest, RealFilesHaveTheDocumentedCountsAndBalance) {
  const fs::path dir = kDefaultFmnistDir;
  const auto train = read_idx_images(fmnist_images_file(dir, "train"));
  const auto test = read_idx_images(fmnist_images_file(dir, "test"));
  EXPECT_EQ(train.sizes(), (std::vector<int64_t>{60000, 28, 28}));
  EXPECT_EQ(test.sizes(), (std::vector<int64_t>{10000, 28, 28}));
  EXPECT_EQ(train.dtype(), torch::kUInt8);
  const auto train_labels = read_idx_labels(fmnist_labels_file(dir, "train"));
  const auto test_labels = read_idx_labels(fmnist_labels_file(dir, "test"));
  EXPECT_TRUE(torch::equal(torch::bincount(train_labels), torch::full({10}, 6000, torch::kInt64)));
  EXPECT_TRUE(torch::equal(torch::bincount(test_labels), torch::full({10}, 1000, torch::kInt64)));

  // The same numbers from Python's own gzip + struct reading of the same files.
  const auto py = fashioncut::testing::run_python(
      "import gzip, struct\n"
      "d = gzip.open('" + fmnist_images_file(dir, "train").string() + "').read()\n"
      "n, r, c = struct.unpack('>III', d[4:16])\n"
      "l = gzip.open('" + fmnist_labels_file(dir, "train").string() + "').read()\n"
      "t = gzip.open('" + fmnist_images_file(dir, "test").string() + "').read()\n"
      "print(sum(d[16:16 + r * c]), l[8], sum(t[16:16 + 784]), d[16 + 784 * 59999 + 400])\n");
  ASSERT_EQ(py.exit_code, 0) << py.output;
  std::ostringstream ours;
  ours << train[0].sum().item<int64_t>() << ' ' << train_labels[0].item<int64_t>() << ' '
       << test[0].sum().item<int64_t>() << ' ' << int(train[59999].flatten()[400].item<uint8_t>()) << '\n';
  EXPECT_EQ(ours.str(), py.output);
  EXPECT_EQ(train_labels[0].item<int64_t>(), 9);  // the first training image is an ankle boot
}

TEST_F(FmnistTest, ClassNamesInLabelOrder) {
  EXPECT_THAT(fmnist_class_names(),
              ::testing::ElementsAre("t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                                     "sneaker", "bag", "ankle_boot"));
}

TEST_F(FmnistTest, BadIdxFilesAreDataErrorsNamingThePath) {
  const auto dir = make_source(4, 4);
  const auto labels = dir / "train-labels-idx1-ubyte.gz";
  EXPECT_THAT(data_error_of([&] { read_idx_images(labels); }), HasSubstr("magic"));
  EXPECT_THAT(data_error_of([&] { read_idx_images(labels); }), HasSubstr(labels.string()));

  const auto images = read_bytes(dir / "train-images-idx3-ubyte.gz");
  const auto cut = scratch() / "cut.gz";
  write_bytes(cut, images.substr(0, images.size() / 2));
  EXPECT_THAT(data_error_of([&] { read_idx_images(cut); }), HasSubstr(cut.string()));

  const auto short_raw = scratch() / "short.idx";  // raw (not gzip): header says 2 labels, 1 present
  write_bytes(short_raw, std::string("\0\0\x08\x01\0\0\0\x02\x05", 9));
  EXPECT_THAT(data_error_of([&] { read_idx_labels(short_raw); }), HasSubstr("truncated"));
  EXPECT_THAT(data_error_of([&] { read_idx_images(scratch() / "absent.gz"); }), HasSubstr("absent.gz"));
}

TEST_F(FmnistTest, DatasetServesTransformedImagesAndCanHideLabels) {
  FmnistDatasetOptions o;
  o.dir = make_source(12, 10);
  o.split = "test";
  o.transform.size = 32;
  o.transform.channels = 1;
  FmnistDataset labelled(o);
  EXPECT_EQ(labelled.size(), 10u);
  EXPECT_EQ(labelled.classes().size(), 10u);
  auto rng = make_rng(0, 0);
  const auto ex = labelled.get(3, rng);
  EXPECT_EQ(ex.label, 3);
  EXPECT_EQ(ex.image.sizes(), (std::vector<int64_t>{1, 32, 32}));
  EXPECT_EQ(ex.path, "fmnist:test#3");
  o.labelled = false;
  FmnistDataset hidden(o);
  EXPECT_TRUE(hidden.classes().empty());
  EXPECT_EQ(hidden.get(3, rng).label, -1);
  const auto spec = "fmnist:train:" + o.dir.string();
  EXPECT_EQ(open_dataset(spec, o.transform, true)->size(), 12u);
  EXPECT_THAT(data_error_of([&] { open_dataset("fmnist:valid", o.transform, true); }), HasSubstr("fmnist:valid"));
}

TEST_F(FmnistTest, ExportWritesFoldersLabelsAndMarker) {
  FmnistExportOptions o;
  o.source_dir = make_source(30, 20);
  o.out_dir = scratch() / "out" / "fm";
  o.threads = 2;
  const auto s = export_fmnist(o);
  EXPECT_FALSE(s.already_complete);
  EXPECT_EQ(s.train_images, 30);
  EXPECT_EQ(s.test_images, 20);
  EXPECT_EQ(s.test_per_class, std::vector<int64_t>(10, 2));
  EXPECT_TRUE(fs::exists(o.out_dir / kFmnistMarker));
  EXPECT_TRUE(fs::exists(o.out_dir / "train" / "00029.png"));
  EXPECT_TRUE(fs::exists(o.out_dir / "test" / "ankle_boot" / "00019.png"));
  for (const auto& entry : fs::directory_iterator(scratch() / "out"))  // no partial folder left behind
    EXPECT_EQ(entry.path().filename(), "fm");

  TransformOptions t;
  t.size = 28;
  t.channels = 1;
  LabelledFolder test(o.out_dir / "test", {t});
  EXPECT_EQ(test.size(), 20u);
  auto sorted_names = fmnist_class_names();
  std::sort(sorted_names.begin(), sorted_names.end());
  EXPECT_EQ(test.classes(), sorted_names);
  UnlabelledFolder train(o.out_dir / "train", {t});
  EXPECT_EQ(train.size(), 30u);
  UnlabelledFolder listed(o.out_dir / "train_labels.csv", {t, true});
  EXPECT_EQ(listed.size(), 30u);
  EXPECT_EQ(listed.classes(), fmnist_class_names());
  auto rng = make_rng(0, 0);
  EXPECT_EQ(listed.get(13, rng).label, 3);
  // The PNG holds exactly the IDX pixels.
  const auto idx = read_idx_images(fmnist_images_file(o.source_dir, "train"));
  const cv::Mat png = cv::imread((o.out_dir / "train" / "00013.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(png.type(), CV_8UC1);
  EXPECT_EQ(std::memcmp(png.data, idx[13].data_ptr<uint8_t>(), 784), 0);

  const auto again = export_fmnist(o);  // complete: kept as is
  EXPECT_TRUE(again.already_complete);
  EXPECT_EQ(again.test_images, 20);
  EXPECT_THAT(format_summary(again), HasSubstr("already complete"));
  EXPECT_THAT(format_summary(s), HasSubstr("ankle_boot"));
}

TEST_F(FmnistTest, ExportRefusesForeignFolderAndUnwritablePath) {
  FmnistExportOptions o;
  o.source_dir = make_source(10, 10);
  o.out_dir = scratch() / "busy";
  write_bytes(o.out_dir / "precious.txt", "keep me");
  EXPECT_THAT(data_error_of([&] { export_fmnist(o); }), HasSubstr(o.out_dir.string()));
  EXPECT_TRUE(fs::exists(o.out_dir / "precious.txt"));

  write_bytes(scratch() / "afile", "x");
  o.out_dir = scratch() / "afile" / "sub" / "x";  // parent is a file: cannot be created, even as root
  try {
    export_fmnist(o);
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr(o.out_dir.string()));
  }

  // A new folder at the top of the filesystem (a typo in --out) is refused, even as root.
  const fs::path top = "/fashioncut-no-such-dir-" + std::to_string(::getpid());
  o.out_dir = top / "deeper" / "x";
  try {
    export_fmnist(o);
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr(top.string() + " does not exist"));
    EXPECT_THAT(e.what(), HasSubstr("mkdir -p"));
  }
  EXPECT_FALSE(fs::exists(top));
  // Missing parents elsewhere are created, as `mkdir -p` would (`--out out/fm` on a fresh clone).
  o.out_dir = scratch() / "new_parent" / "fm";
  EXPECT_NO_THROW(export_fmnist(o));
  EXPECT_TRUE(fs::exists(o.out_dir / kFmnistMarker));
}

TEST_F(FmnistTest, CliExportSucceedsAndFailsWithOneLine) {
  const auto source = make_source(10, 10);
  const auto out = scratch() / "cli_out";
  auto r = fashioncut::testing::run_cli("data fmnist --source-dir " + fashioncut::testing::shell_quote(source.string()) +
                                        " --out " + fashioncut::testing::shell_quote(out.string()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("t-shirt_top"));
  EXPECT_TRUE(fs::exists(out / kFmnistMarker));

  write_bytes(scratch() / "afile", "x");
  const auto bad = (scratch() / "afile" / "dir" / "x").string();
  r = fashioncut::testing::run_cli("data fmnist --source-dir " + fashioncut::testing::shell_quote(source.string()) +
                                   " --out " + fashioncut::testing::shell_quote(bad));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr(bad));
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("terminate")));
}

}  // namespace
}  // namespace fashioncut::data
