// The config, CLI and dataset rows of docs/RELIABILITY.md, on the real CLI: each bad input
// ends the command with exit 1 and one error line that names the file or key at fault
// (or, for non-UTF-8 file names, a result row that names the file).
#include <gmock/gmock.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "fashioncut/core/atomic_file.h"
#include "support/test_support.h"

namespace fashioncut {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_cli;
using testing::shell_quote;

class BadInputsCliTest : public testing::SeedingFixture {
 protected:
  void SetUp() override {
    SeedingFixture::SetUp();
    for (const char* c : {"bar", "square"}) image(scratch() / "src" / c / "a.png", 50);
    for (int i = 0; i < 2; ++i) image(scratch() / "tgt" / ("t" + std::to_string(i) + ".png"), 100 + i);
  }
  static void image(const fs::path& path, int value) {
    fs::create_directories(path.parent_path());
    cv::imwrite(path.string(), cv::Mat(16, 16, CV_8UC1, cv::Scalar(value)));
  }
  /// A tiny train config; `extra` TOML lines replace the default of the same key (TOML forbids
  /// a key twice, and CLI11 would keep the first).
  std::string config(const std::string& extra) {
    std::vector<std::pair<std::string, std::string>> keys{
        {"runs-dir", "\"" + (scratch() / "runs").string() + "\""},
        {"source", "\"" + (scratch() / "src").string() + "\""},
        {"target", "\"" + (scratch() / "tgt").string() + "\""},
        {"method", "\"source-only\""}, {"device", "\"cpu\""}, {"threads", "1"}, {"workers", "1"},
        {"image-size", "16"}, {"epochs", "1"}, {"iters-per-epoch", "1"}, {"batch-size", "1"},
        {"heldout-count", "0"}, {"target-eval-count", "2"}};
    std::istringstream lines(extra);
    std::string line;
    while (std::getline(lines, line)) {
      const auto eq = line.find(" = ");
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq), value = line.substr(eq + 3);
      auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& kv) { return kv.first == key; });
      if (it != keys.end()) it->second = value;
      else keys.emplace_back(key, value);
    }
    const fs::path path = scratch() / "c.toml";
    std::ofstream f(path);
    for (const auto& [key, value] : keys) f << key << " = " << value << "\n";
    return shell_quote(path.string());
  }
  void expect_refused(const std::string& args, const std::string& needle) {
    SCOPED_TRACE(args);
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr(needle));
    EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  }
};

TEST_F(BadInputsCliTest, ConfigAndFlagErrorsNameTheKey) {
  expect_refused("train --config " + config("no-such-key = 3\n"), "no-such-key");
  expect_refused("train --config " + config("epochs = \"many\"\n"), "epochs");
  expect_refused("train --config " + config("batch-size = 0\n"), "config key 'batch-size': must be in 1..4096");
  expect_refused("train --config " + config("lr = nan\n"), "lr");
  expect_refused("train --config " + shell_quote((scratch() / "missing.toml").string()), "missing.toml");
  expect_refused("train --resume " + shell_quote((scratch() / "runs" / "nothing").string()), "no config.toml here");
}

TEST_F(BadInputsCliTest, ConflictingResumeFlagsAreRefused) {
  const auto first = run_cli("train --config " + config("") + " --name r");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  expect_refused("train --resume " + shell_quote((scratch() / "runs" / "r").string()) + " --method cut",
                 "--resume continues a run with its saved config.toml; drop --method");
  expect_refused("train --config " + config("") + " --name r", "already holds a run");
}

TEST_F(BadInputsCliTest, DatasetErrorsNameTheFolder) {
  fs::create_directories(scratch() / "src" / "empty");
  expect_refused("train --config " + config(""), "empty");
  fs::remove_all(scratch() / "src" / "empty");
  fs::remove_all(scratch() / "src" / "square");
  expect_refused("train --config " + config(""), "the source needs at least 2 classes, found 1");
  image(scratch() / "src" / "square" / "a.png", 60);
  image(scratch() / "eval" / "circle" / "a.png", 70);
  expect_refused("train --config " + config("eval = \"" + (scratch() / "eval").string() + "\"\n"),
                 "class 'circle' is not a source class");
  expect_refused("train --config " + config("source = \"" + (scratch() / "nope").string() + "\"\n"), "nope");
  write_file_atomic(scratch() / "src" / "bar" / "zero.png", "");
  expect_refused("train --config " + config("iters-per-epoch = 4\nbatch-size = 2\n"), "zero.png: empty file");
}

TEST_F(BadInputsCliTest, PredictReportsEachBadFileAndKeepsGoing) {
  const auto first = run_cli("train --config " + config("") + " --name m");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const fs::path in = scratch() / "in";
  image(in / "good.png", 20);
  image(in / "caf\xE9.png", 30);  // a Latin-1 file name: invalid UTF-8
  write_file_atomic(in / "zero.png", "");
  write_file_atomic(in / "text.jpg", "not an image");
  for (const char* format : {"csv", "jsonl"}) {
    SCOPED_TRACE(format);
    const fs::path out = scratch() / (std::string("p.") + format);
    const auto r = run_cli("predict --model " + shell_quote((scratch() / "runs" / "m").string()) + " " +
                           shell_quote(in.string()) + " --format " + format + " --out " + shell_quote(out.string()));
    EXPECT_EQ(r.exit_code, 1) << r.output;  // some files failed
    ASSERT_TRUE(fs::exists(out)) << r.output;
    const std::string rows = read_file(out);
    EXPECT_THAT(rows, HasSubstr("good.png"));
    EXPECT_THAT(rows, HasSubstr("caf"));
    EXPECT_THAT(rows, HasSubstr("zero.png"));
    EXPECT_THAT(rows, HasSubstr("text.jpg"));
  }
}

}  // namespace
}  // namespace fashioncut
