// Shared helpers for the GoogleTest suite: deterministic seeding, scratch folders,
// running the CLI and the system Python.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>

namespace fashioncut::testing {

/// Seeds torch and gives each test its own empty scratch folder under the build tree; the folder
/// is removed after a test that passed (training runs leave gigabytes of checkpoints) and kept,
/// for a look, after one that failed.
class SeedingFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  /// A fresh, empty folder unique to this test.
  const std::filesystem::path& scratch() const { return scratch_; }

 private:
  std::filesystem::path scratch_;
};

/// Result of running a command through the shell.
struct CommandResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `command` with /bin/sh, capturing stdout+stderr.
CommandResult run_command(const std::string& command);

/// Runs the built `fashioncut` binary with `args` (already shell-quoted).
CommandResult run_cli(const std::string& args);

/// Runs a Python snippet with /usr/bin/python3 (Debian's torch/torchvision live there).
CommandResult run_python(const std::string& code);

/// Single-quotes a string for /bin/sh.
std::string shell_quote(const std::string& s);

// ---- definitions (header-only so each test binary gets them) ----


inline void SeedingFixture::SetUp() {
  torch::manual_seed(0);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  scratch_ = std::filesystem::path(FASHIONCUT_SCRATCH) / info->test_suite_name() / info->name();
  std::filesystem::remove_all(scratch_);
  std::filesystem::create_directories(scratch_);
}

inline void SeedingFixture::TearDown() {
  if (HasFailure() || std::getenv("FASHIONCUT_KEEP_SCRATCH") != nullptr) {
    std::printf("scratch kept: %s\n", scratch_.string().c_str());
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch_, ignored);
}

inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  const std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

inline CommandResult run_cli(const std::string& args) {
  return run_command(shell_quote(FASHIONCUT_CLI) + " " + args);
}

inline CommandResult run_python(const std::string& code) {
  return run_command(std::string(FASHIONCUT_PYTHON) + " -c " + shell_quote(code));
}

}  // namespace fashioncut::testing
