// `fashioncut synth` end to end: a tiny run, the config round trip, and every error path
// (one clear line, non-zero exit, nothing finished-looking left behind).
#include <gmock/gmock.h>

#include <fstream>

#include "support/test_support.h"

namespace fashioncut::synth {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class SynthCliTest : public testing::SeedingFixture {
 protected:
  std::string out(const std::string& name) const { return testing::shell_quote((scratch() / name).string()); }
};

TEST_F(SynthCliTest, WritesADataset) {
  const auto r = testing::run_cli("synth --preset fmnist --count 20 --seed 2 --threads 2 --out " + out("f"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(scratch() / "f" / "manifest.jsonl"));
  EXPECT_TRUE(fs::exists(scratch() / "f" / "preview.png"));
  EXPECT_TRUE(fs::exists(scratch() / "f" / "ankle_boot" / "0000009.png"));
  EXPECT_TRUE(fs::exists(scratch() / "f" / "t-shirt_top" / "0000010.png"));
}

TEST_F(SynthCliTest, PrintConfigRoundTripsThroughConfig) {
  const auto printed = testing::run_cli("synth --preset fmnist --size 32 --print-config");
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  EXPECT_THAT(printed.output, HasSubstr("size = 32"));
  EXPECT_THAT(printed.output, HasSubstr("rim_light = "));
  const fs::path cfg = scratch() / "c.toml";
  std::ofstream(cfg) << printed.output;
  const auto again = testing::run_cli("synth --config " + testing::shell_quote(cfg.string()) + " --print-config");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output, printed.output);
  // a config file sets any field, e.g. a hidden one
  std::ofstream(scratch() / "d.toml") << "preset = \"catalog\"\nblur_prob = 0.0\nclasses = [\"plain\", \"dotted\"]\n";
  const auto d = testing::run_cli("synth --config " + testing::shell_quote((scratch() / "d.toml").string()) +
                                  " --print-config");
  ASSERT_EQ(d.exit_code, 0) << d.output;
  EXPECT_THAT(d.output, HasSubstr("classes = [\"plain\", \"dotted\"]"));
  EXPECT_THAT(d.output, HasSubstr("blur_prob = 0.0"));
}

TEST_F(SynthCliTest, BadInputIsOneLineAndNonZero) {
  std::ofstream(scratch() / "bad.toml") << "colour = 3\n";
  fs::create_directories(scratch() / "full");
  std::ofstream(scratch() / "full" / "x.txt") << "x";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"synth --preset blender --count 1 --out " + out("a"), "blender"},
      {"synth --count -5 --out " + out("b"), "count"},
      {"synth --count 3 --size 8 --out " + out("c"), "size"},
      {"synth --count 3 --size 4096 --out " + out("d"), "size"},
      {"synth --count 3 --label pattern --config " + testing::shell_quote((scratch() / "bad.toml").string()) +
           " --out " + out("e"),
       "colour"},
      {"synth --count 3 --shard 3/2 --out " + out("f"), "shard"},
      {"synth --count 3 --shard 0/2 --out " + out("g"), "shard"},
      {"synth --count 3 --out /proc/forbidden/x", "/proc/forbidden"},
      {"synth --count 3 --out /fashioncut-no-such-dir/deeper/x", "/fashioncut-no-such-dir does not exist"},
      {"synth --count 3 --out " + out("full"), "not empty"},
      {"synth --count 3 --label colour --out " + out("h"), "label"},
      {"synth --count 3", "--out"},
  };
  for (const auto& [args, needle] : cases) {
    const auto r = testing::run_cli(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_THAT(r.output, HasSubstr(needle)) << args;
    EXPECT_LE(std::count(r.output.begin(), r.output.end(), '\n'), 3) << args << "\n" << r.output;
  }
  // unknown class via the config file
  std::ofstream(scratch() / "cls.toml") << "classes = [\"plaid\"]\n";
  const auto r = testing::run_cli("synth --count 2 --config " + testing::shell_quote((scratch() / "cls.toml").string()) +
                                  " --out " + out("i"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("plaid"));
  for (const char* d : {"a", "b", "c", "d", "e", "f", "g", "h", "i"}) EXPECT_FALSE(fs::exists(scratch() / d)) << d;
  EXPECT_THAT(testing::run_command("ls -a " + testing::shell_quote(scratch().string())).output, Not(HasSubstr("partial")));
}

}  // namespace
}  // namespace fashioncut::synth
