#include "cli_common.h"

#include <algorithm>
#include <csignal>
#include <iostream>

#include "fashioncut/core/device.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/threads.h"

namespace fashioncut::cli {
namespace {
// Every subcommand writes files (synth images, logs, checkpoints, CSVs): under a file-size
// limit (ulimit -f) an oversized write must fail with EFBIG, which the writers turn into an
// IoError naming the file, instead of SIGXFSZ killing the process with a half-written file.
// This file is linked into the CLI only, so the library never changes signal dispositions.
[[maybe_unused]] const bool kXfszIgnored = std::signal(SIGXFSZ, SIG_IGN) != SIG_ERR;
}  // namespace

void add_config_option(CLI::App& sub) {
  // CLI11 2.1 reads config files for the root app only, so subcommands carry a plain option
  // and `apply_config_files` feeds the file's keys in after parsing.
  sub.add_option(kConfigOption, "TOML file of options (keys = long option names; flags on the command line win)");
}

namespace {

/// The option a config key names: `--key`, or `--key` with '_' spelled '-'.
CLI::Option* option_for_key(CLI::App& sub, const std::string& key) {
  if (auto* opt = sub.get_option_no_throw("--" + key)) return opt;
  std::string dashed = key;
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  return sub.get_option_no_throw("--" + dashed);
}

void apply_config_file(CLI::App& sub, const std::string& path) {
  const std::string where = path + " (--config of 'fashioncut " + sub.get_name() + "')";
  std::vector<CLI::ConfigItem> items;
  CLI::ConfigTOML format;
  try {
    items = format.from_file(path);
  } catch (const CLI::FileError&) {
    throw ConfigError(path + ": cannot read the --config file (check the path)");
  } catch (const std::exception& e) {
    throw ConfigError(where + ": not valid TOML: " + e.what());
  }
  for (const auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    if (!item.parents.empty())
      throw ConfigError(where + ": sections are not supported ([" + item.parents.front() +
                        "]); write every key at the top level");
    CLI::Option* opt = option_for_key(sub, item.name);
    if (opt == nullptr || opt->get_name() == kConfigOption)
      throw ConfigError(where + ": unknown key '" + item.name + "' (the keys are the long option names of `fashioncut " +
                        sub.get_name() + " --help`)");
    if (opt->count() > 0) continue;  // the command line wins
    if (item.inputs.empty()) continue;  // an empty TOML array keeps the default
    try {
      if (opt->get_type_size_max() == 0) {  // a flag: true/false
        opt->add_result(opt->get_flag_value(item.name, format.to_flag(item)));
      } else {
        opt->add_result(item.inputs);
      }
      opt->run_callback();
    } catch (const CLI::Error& e) {
      throw ConfigError(where + ": key '" + item.name + "': " + e.what());
    }
  }
}

}  // namespace

void apply_config_files(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands()) {
    if (auto* opt = sub->get_option_no_throw(kConfigOption); opt != nullptr && opt->count() > 0)
      apply_config_file(*sub, opt->as<std::string>());
    apply_config_files(*sub);
  }
}

void add_common_options(CLI::App& sub, CommonOptions& options) {
  sub.add_option("--threads", options.threads, "LibTorch compute threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  sub.add_option("--device", options.device, "auto | cpu | cuda | cuda:N")->capture_default_str();
}

std::string apply_common_options(const CommonOptions& options) {
  configure_threads(options.threads);
  return describe_device(resolve_device(options.device));
}

void add_pending_command(CLI::App& root, Action& action, const std::string& name, const std::string& description,
                         const std::string& issue) {
  auto* sub = root.add_subcommand(name, description + " (not built yet)");
  sub->allow_extras();
  sub->callback([&action, name, issue] {
    action = [name, issue]() -> int {
      throw NotImplementedError("'fashioncut " + name + "' is not built yet (tracked in " + issue + ")");
    };
  });
}

}  // namespace fashioncut::cli
