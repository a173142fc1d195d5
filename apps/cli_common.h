// Shared pieces of the CLI: the action a subcommand selects, common options, and the
// helper every subcommand uses for --config (TOML, unknown keys rejected).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace fashioncut::cli {

/// What `main` runs after parsing: returns the process exit code.
using Action = std::function<int()>;

/// Options every computing subcommand has.
struct CommonOptions {
  int threads = 0;              ///< LibTorch intra-op threads; 0 = all cores
  std::string device = "auto";  ///< auto | cpu | cuda | cuda:N
};

inline constexpr const char* kConfigOption = "--config";

/// Adds `--config FILE.toml` to `sub`: keys are the long option names (`-` or `_`), an unknown
/// key is an error naming the file, and options given on the command line win.
void add_config_option(CLI::App& sub);

/// After `app.parse`: applies the `--config` file of every parsed subcommand (recursively).
/// Throws ConfigError naming the file on a missing file, bad TOML, unknown key or bad value.
void apply_config_files(CLI::App& app);

/// Adds --threads and --device.
void add_common_options(CLI::App& sub, CommonOptions& options);

/// Applies CommonOptions (threads) and returns a one-line description of the device.
std::string apply_common_options(const CommonOptions& options);

/// Registers a subcommand that is not built yet: it says so and exits 2.
void add_pending_command(CLI::App& root, Action& action, const std::string& name, const std::string& description,
                         const std::string& issue);

// One registration function per subcommand file.
void add_data_command(CLI::App& root, Action& action);
void add_synth_command(CLI::App& root, Action& action);
void add_train_command(CLI::App& root, Action& action);
void add_eval_command(CLI::App& root, Action& action);
void add_predict_command(CLI::App& root, Action& action);
void add_translate_command(CLI::App& root, Action& action);
void add_export_command(CLI::App& root, Action& action);
void add_bench_command(CLI::App& root, Action& action);

}  // namespace fashioncut::cli
