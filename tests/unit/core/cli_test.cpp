// The CLI skeleton: help lists the subcommands, unbuilt ones exit 2, bad options fail.
#include <gmock/gmock.h>

#include "support/test_support.h"

namespace fashioncut {
namespace {
using ::testing::HasSubstr;
using testing::run_cli;

TEST(CliTest, HelpListsEverySubcommand) {
  const auto r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"synth", "data", "train", "eval", "predict", "translate", "export", "bench"})
    EXPECT_THAT(r.output, HasSubstr(name));
}

TEST(CliTest, VersionPrints) {
  const auto r = run_cli("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("fashioncut"));
}

TEST(CliTest, UnknownSubcommandFails) {
  const auto r = run_cli("frobnicate");
  EXPECT_NE(r.exit_code, 0);
}

TEST(CliTest, MissingConfigFileNamesIt) {
  const auto r = run_cli("data fmnist --config /nonexistent/cfg.toml --out /tmp/x");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("/nonexistent/cfg.toml"));
}

}  // namespace
}  // namespace fashioncut
