// Loader: determinism across worker counts, exact resume, drop_last, infinite mode,
// bad-file policies, clean shutdown.
#include <gmock/gmock.h>

#include <numeric>
#include <set>

#include "data_test_util.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/data/loader.h"
#include "fashioncut/data/unlabelled_folder.h"
#include "support/test_support.h"

namespace fashioncut::data {
namespace {
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing_util;

/// Example i = [index, one augmentation draw] so both order and per-sample RNG are visible.
class FakeDataset : public Dataset {
 public:
  explicit FakeDataset(size_t n, std::set<size_t> bad = {}, int sleep_us = 0)
      : n_(n), bad_(std::move(bad)), sleep_us_(sleep_us) {}
  size_t size() const override { return n_; }
  Example get(size_t index, std::mt19937_64& rng) const override {
    if (sleep_us_) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    if (bad_.count(index)) throw ImageError("bad" + std::to_string(index) + ".png", "corrupt PNG");
    const double draw = static_cast<double>(rng() >> 11);
    return {torch::tensor({static_cast<double>(index), draw}, torch::kFloat64), int64_t(index % 3),
            "img" + std::to_string(index)};
  }
  const std::vector<std::string>& classes() const override { return classes_; }
  std::string describe() const override { return "FakeDataset"; }

 private:
  size_t n_;
  std::set<size_t> bad_;
  int sleep_us_;
  std::vector<std::string> classes_{"a", "b", "c"};
};

std::vector<torch::Tensor> drain(Loader& loader, int64_t max = 1000) {
  std::vector<torch::Tensor> out;
  while (auto b = loader.next()) {
    out.push_back(b->images);
    if (int64_t(out.size()) >= max) break;
  }
  return out;
}

std::vector<int64_t> indices(const std::vector<torch::Tensor>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches)
    for (int64_t i = 0; i < b.size(0); ++i) out.push_back(static_cast<int64_t>(b[i][0].item<double>()));
  return out;
}

class LoaderTest : public fashioncut::testing::SeedingFixture {};

TEST_F(LoaderTest, SameSeedSameBatchesForAnyWorkerCount) {
  auto ds = std::make_shared<FakeDataset>(50);
  std::vector<std::vector<torch::Tensor>> runs;
  for (int workers : {0, 1, 3}) {
    LoaderOptions o;
    o.batch_size = 4;
    o.workers = workers;
    o.prefetch_batches = 2;
    o.seed = 42;
    Loader loader(ds, o);
    std::vector<torch::Tensor> all;
    for (int64_t epoch : {0, 1}) {
      loader.start_epoch(epoch);
      for (auto& b : drain(loader)) all.push_back(b);
    }
    runs.push_back(all);
  }
  ASSERT_EQ(runs[0].size(), 24u);  // 2 epochs x floor(50/4)
  for (size_t r = 1; r < runs.size(); ++r)
    for (size_t i = 0; i < runs[0].size(); ++i) EXPECT_TRUE(torch::equal(runs[0][i], runs[r][i])) << r << " " << i;
  // Epochs are shuffled differently, and a sample's augmentation differs between epochs.
  const auto first = indices({runs[0].begin(), runs[0].begin() + 12});
  const auto second = indices({runs[0].begin() + 12, runs[0].end()});
  EXPECT_NE(first, second);
}

TEST_F(LoaderTest, DifferentSeedsShuffleDifferentlyAndNoShuffleIsInOrder) {
  auto ds = std::make_shared<FakeDataset>(20);
  LoaderOptions o;
  o.batch_size = 5;
  o.seed = 1;
  Loader a(ds, o);
  o.seed = 2;
  Loader b(ds, o);
  const auto ia = indices(drain(a)), ib = indices(drain(b));
  EXPECT_NE(ia, ib);
  auto sorted = ia;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(20);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);  // a permutation: every sample once
  o.shuffle = false;
  Loader c(ds, o);
  EXPECT_EQ(indices(drain(c)), all);
}

TEST_F(LoaderTest, StartEpochAtBatchKEqualsSkippingK) {
  auto ds = std::make_shared<FakeDataset>(37);
  LoaderOptions o;
  o.batch_size = 3;
  o.seed = 9;
  Loader full(ds, o);
  full.start_epoch(2);
  const auto all = drain(full);
  Loader resumed(ds, o);
  resumed.start_epoch(2, 5);
  EXPECT_EQ(resumed.epoch(), 2);
  EXPECT_EQ(resumed.batch_in_epoch(), 5);
  const auto rest = drain(resumed);
  ASSERT_EQ(rest.size() + 5, all.size());
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_TRUE(torch::equal(rest[i], all[i + 5]));
}

TEST_F(LoaderTest, DropLastControlsTheFinalPartialBatch) {
  auto ds = std::make_shared<FakeDataset>(10);
  LoaderOptions o;
  o.batch_size = 4;
  Loader dropping(ds, o);
  EXPECT_EQ(dropping.batches_per_epoch(), 2);
  EXPECT_EQ(drain(dropping).size(), 2u);
  EXPECT_FALSE(dropping.next().has_value());  // stays ended
  o.drop_last = false;
  Loader keeping(ds, o);
  EXPECT_EQ(keeping.batches_per_epoch(), 3);
  const auto batches = drain(keeping);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].size(0), 2);
  o.batch_size = 11;
  o.drop_last = true;
  EXPECT_THROW(Loader(ds, o), DataError);
}

TEST_F(LoaderTest, InfiniteModeRunsAcrossEpochs) {
  auto ds = std::make_shared<FakeDataset>(10);
  LoaderOptions o;
  o.batch_size = 4;
  o.infinite = true;
  o.seed = 3;
  Loader loader(ds, o);
  std::vector<int64_t> epochs;
  for (int i = 0; i < 7; ++i) {
    auto b = loader.next();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->images.size(0), 4);
    EXPECT_EQ(b->labels.sizes(), (std::vector<int64_t>{4}));
    epochs.push_back(b->epoch);
  }
  EXPECT_THAT(epochs, ElementsAre(0, 0, 1, 1, 2, 2, 3));
  // Same batches as the finite loader epoch by epoch.
  o.infinite = false;
  Loader finite(ds, o);
  finite.start_epoch(1);
  Loader infinite(ds, LoaderOptions{o.batch_size, true, true, true, 2, 4, 3});
  infinite.next();
  infinite.next();
  EXPECT_TRUE(torch::equal(finite.next()->images, infinite.next()->images));
}

TEST_F(LoaderTest, UnlimitedDatasetNeedsAnEpochLength) {
  auto ds = std::make_shared<FakeDataset>(0);
  LoaderOptions o;
  EXPECT_THROW(Loader(ds, o), ConfigError);
  o.batches_per_epoch = 3;
  o.batch_size = 2;
  Loader loader(ds, o);
  EXPECT_EQ(indices(drain(loader)), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
}

TEST_F(LoaderTest, FailPolicyThrowsTheFirstBadFileFromWorkers) {
  auto ds = std::make_shared<FakeDataset>(40, std::set<size_t>{17, 30});
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  o.workers = 3;
  Loader loader(ds, o);
  int good = 0;
  try {
    while (loader.next()) ++good;
    ADD_FAILURE() << "no error";
  } catch (const ImageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad17.png"));
  }
  EXPECT_EQ(good, 4);  // batches 0..3 were fine, batch 4 holds sample 17
  EXPECT_THROW(loader.next(), ImageError);  // stays failed until restarted
  loader.start_epoch(0, 5);
  EXPECT_TRUE(loader.next().has_value());
}

TEST_F(LoaderTest, SkipPolicyDropsBadFilesAndListsThem) {
  auto ds = std::make_shared<FakeDataset>(12, std::set<size_t>{1, 2, 3, 9});
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  o.bad_files = BadFilePolicy::kSkip;
  Loader loader(ds, o);
  const auto batches = drain(loader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].size(0), 1);
  EXPECT_EQ(batches[2].size(0), 3);
  EXPECT_EQ(indices(batches), (std::vector<int64_t>{0, 4, 5, 6, 7, 8, 10, 11}));
  EXPECT_THAT(loader.skipped(), ElementsAre("bad1.png", "bad2.png", "bad3.png", "bad9.png"));

  auto all_bad = std::make_shared<FakeDataset>(4, std::set<size_t>{0, 1, 2, 3});
  o.infinite = true;
  Loader hopeless(all_bad, o);
  EXPECT_THROW(hopeless.next(), DataError);  // infinite mode must not spin forever
}

TEST_F(LoaderTest, CorruptImageInARealFolderNamesIt) {
  const auto root = scratch() / "imgs";
  for (int i = 0; i < 5; ++i) write_solid(root / ("ok" + std::to_string(i) + ".png"), 4, 4, {1, 2, 3});
  write_bytes(root / "broken.jpg", "\xFF\xD8\xFF\xE0 not really");
  TransformOptions t;
  t.size = 4;
  auto ds = std::make_shared<UnlabelledFolder>(root, UnlabelledFolderOptions{t, false});
  LoaderOptions o;
  o.batch_size = 6;
  Loader failing(ds, o);
  try {
    failing.next();
    ADD_FAILURE() << "no error";
  } catch (const ImageError& e) {
    EXPECT_THAT(e.what(), HasSubstr((root / "broken.jpg").string()));
  }
  o.bad_files = BadFilePolicy::kSkip;
  Loader skipping(ds, o);
  const auto b = skipping.next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->images.sizes(), (std::vector<int64_t>{5, 3, 4, 4}));
  EXPECT_THAT(skipping.skipped(), ElementsAre((root / "broken.jpg").string()));
}

TEST_F(LoaderTest, DestroyingMidEpochStopsWorkers) {
  auto ds = std::make_shared<FakeDataset>(10000, std::set<size_t>{}, 200);
  for (int round = 0; round < 3; ++round) {
    LoaderOptions o;
    o.batch_size = 16;
    o.workers = 4;
    o.prefetch_batches = 8;
    Loader loader(ds, o);
    ASSERT_TRUE(loader.next().has_value());
    EXPECT_GE(loader.wait_seconds(), 0.0);
  }  // each destructor must join promptly (the test would hang otherwise)
  LoaderOptions o;
  Loader never_used(ds, o);  // never started: nothing to join
}

}  // namespace
}  // namespace fashioncut::data
