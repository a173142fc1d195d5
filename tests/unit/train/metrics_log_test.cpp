#include "fashioncut/train/metrics_log.h"

#include <gmock/gmock.h>

#include <fstream>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "support/test_support.h"

namespace fashioncut::train {
namespace {
using ::testing::HasSubstr;
using nlohmann::json;

class MetricsLogTest : public testing::SeedingFixture {};

TEST_F(MetricsLogTest, AppendsOneFlushedLinePerRecord) {
  const auto path = scratch() / "run" / "metrics.jsonl";
  MetricsLog log(path);
  log.log({{"kind", "step"}, {"iter", 1}, {"losses", {{"G", 0.5}}}});
  // Visible to a reader before the log is closed (flushed per line).
  EXPECT_EQ(read_file(path), "{\"iter\":1,\"kind\":\"step\",\"losses\":{\"G\":0.5}}\n");
  log.log({{"kind", "epoch"}, {"epoch", 1}, {"eval", {{"acc", std::nan("")}}}});
  const auto records = read_metrics(path);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["losses"]["G"], 0.5);
  EXPECT_TRUE(records[1]["eval"]["acc"].is_null());  // NaN is written as null, not invalid JSON
}

TEST_F(MetricsLogTest, ReopenAppendsAndCutsTornLastLine) {
  const auto path = scratch() / "metrics.jsonl";
  {
    MetricsLog log(path);
    log.log({{"iter", 1}});
    log.log({{"iter", 2}});
  }
  {
    std::ofstream torn(path, std::ios::app | std::ios::binary);
    torn << "{\"iter\":3,\"los";  // SIGKILL mid-line
  }
  ASSERT_EQ(read_metrics(path).size(), 2u);  // reader tolerates the torn line
  MetricsLog log(path);
  EXPECT_EQ(log.repaired_bytes(), 14u);
  log.log({{"iter", 3}});
  EXPECT_EQ(read_file(path), "{\"iter\":1}\n{\"iter\":2}\n{\"iter\":3}\n");
}

TEST_F(MetricsLogTest, TornOnlyLineIsRemovedEntirely) {
  const auto path = scratch() / "metrics.jsonl";
  write_file_atomic(path, "{\"it");
  MetricsLog log(path);
  log.log({{"iter", 1}});
  EXPECT_EQ(read_file(path), "{\"iter\":1}\n");
}

TEST_F(MetricsLogTest, TornLineLongerThanReadChunkIsFound) {
  const auto path = scratch() / "metrics.jsonl";
  write_file_atomic(path, "{\"iter\":1}\n" + std::string(200000, 'x'));
  MetricsLog log(path);
  EXPECT_EQ(log.repaired_bytes(), 200000u);
  EXPECT_EQ(read_file(path), "{\"iter\":1}\n");
}

TEST_F(MetricsLogTest, CorruptMiddleLineNamesFileAndLine) {
  const auto path = scratch() / "metrics.jsonl";
  write_file_atomic(path, "{\"iter\":1}\nnot json\n{\"iter\":3}\n");
  try {
    read_metrics(path);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path.string() + ":2"));
  }
}

TEST_F(MetricsLogTest, MissingFileReadsAsEmpty) {
  EXPECT_TRUE(read_metrics(scratch() / "none.jsonl").empty());
  EXPECT_EQ(prune_metrics_after(scratch() / "none.jsonl", 3), 0u);
}

TEST_F(MetricsLogTest, PruneDropsRecordsAfterCheckpointIteration) {
  const auto path = scratch() / "metrics.jsonl";
  {
    MetricsLog log(path);
    for (int i = 1; i <= 5; ++i) log.log({{"kind", "step"}, {"iter", i}});
    log.log({{"kind", "note"}});
  }
  EXPECT_EQ(prune_metrics_after(path, 3), 2u);
  const auto records = read_metrics(path);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[2]["iter"], 3);
  EXPECT_EQ(records[3]["kind"], "note");
}

TEST_F(MetricsLogTest, WriteErrorThrowsIoErrorNamingFile) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  MetricsLog log("/dev/full");
  try {
    log.log({{"iter", 1}});
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/dev/full"));
  }
}

TEST_F(MetricsLogTest, UnwritableLocationThrowsIoError) {
  const auto blocker = scratch() / "blocker";
  write_file_atomic(blocker, "x");
  try {
    MetricsLog log(blocker / "metrics.jsonl");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr(blocker.string()));
  }
}

}  // namespace
}  // namespace fashioncut::train
