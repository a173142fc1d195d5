// `fashioncut bench`: runs bench/run (the C++ vs PyTorch-reference suite of issue 9) with this
// binary's build directory, so `fashioncut bench` and `bench/run --build DIR` are the same thing.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"
#include "fashioncut/core/errors.h"

namespace fashioncut::cli {
namespace {
namespace fs = std::filesystem;

struct BenchArgs {
  bool quick = false;
  bool dry_run = false;
  std::string only;
  std::string out;
  std::string source_dir;
  int threads = 2;
  int rounds = 0;
};

/// The build directory: the folder of the running executable.
fs::path build_dir() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

/// The source tree holding bench/run: --source-dir, $FASHIONCUT_SOURCE_DIR, the build's
/// CMakeCache.txt (CMAKE_HOME_DIRECTORY), or the current directory.
fs::path source_dir(const std::string& given) {
  std::vector<fs::path> candidates;
  if (!given.empty()) candidates.emplace_back(given);
  if (const char* env = std::getenv("FASHIONCUT_SOURCE_DIR")) candidates.emplace_back(env);
  std::ifstream cache(build_dir() / "CMakeCache.txt");
  for (std::string line; std::getline(cache, line);) {
    const std::string key = "CMAKE_HOME_DIRECTORY:INTERNAL=";
    if (line.rfind(key, 0) == 0) candidates.emplace_back(line.substr(key.size()));
  }
  candidates.push_back(fs::current_path());
  for (const auto& c : candidates)
    if (fs::exists(c / "bench" / "run")) return c;
  throw ConfigError("fashioncut bench: cannot find bench/run (looked in --source-dir, $FASHIONCUT_SOURCE_DIR, the "
                    "build's CMakeCache.txt and the current directory); run it from the source tree or pass "
                    "--source-dir");
}
}  // namespace

void add_bench_command(CLI::App& root, Action& action) {
  auto args = std::make_shared<BenchArgs>();
  auto* sub = root.add_subcommand(
      "bench",
      "Measure speed against the PyTorch reference (bench/run): Fashion CUT and source-only training steps, "
      "end-to-end training throughput with data loading, predict from image files, synth images/s, FLOP "
      "utilisation against a measured GEMM peak and peak RSS; C++ and Python alternate in one run with the same "
      "threads; prints a table with C++/Python ratios and writes OUT/results.json (~8 min; --quick ~2 min)");
  sub->add_flag("--quick", args->quick, "Smoke run: few steps, one round, small image counts");
  sub->add_flag("--dry-run", args->dry_run, "Print the commands and check the binaries; measure nothing");
  sub->add_option("--only", args->only, "Comma-separated sections: gemm,train,source_only,levers,e2e,predict,synth");
  sub->add_option("--out", args->out, "Results folder (default: out/bench in the source tree)");
  sub->add_option("--threads", args->threads, "Intra-op threads on both sides")->check(CLI::Range(1, 1024))
      ->capture_default_str();
  sub->add_option("--rounds", args->rounds, "C++/Python alternations (default 2, --quick 1)")->check(CLI::Range(1, 100));
  sub->add_option("--source-dir", args->source_dir, "Source tree with bench/run (default: found from the build)");
  sub->footer("Needs /usr/bin/python3 with torch and torchvision (Debian python3-torch, python3-torchvision) and the "
              "train_step_bench program of this build (scripts/build DIR fashioncut train_step_bench).");
  sub->callback([&action, args] {
    action = [args]() -> int {
      const fs::path src = source_dir(args->source_dir);
      std::vector<std::string> argv{"/usr/bin/python3", (src / "bench" / "run").string(), "--build",
                                    build_dir().string(), "--threads", std::to_string(args->threads)};
      if (args->quick) argv.emplace_back("--quick");
      if (args->dry_run) argv.emplace_back("--dry-run");
      if (!args->only.empty()) argv.insert(argv.end(), {"--only", args->only});
      if (!args->out.empty()) argv.insert(argv.end(), {"--out", args->out});
      if (args->rounds > 0) argv.insert(argv.end(), {"--rounds", std::to_string(args->rounds)});
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      std::cout.flush();
      ::execv(cargv[0], cargv.data());
      throw Error("fashioncut bench: cannot run /usr/bin/python3 (install python3-torch python3-torchvision)");
    };
  });
}
}  // namespace fashioncut::cli
