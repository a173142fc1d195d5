#include "cli_common.h"

#include <iostream>

#include "fashioncut/core/device.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/threads.h"

namespace fashioncut::cli {

void add_config_option(CLI::App& sub) {
  sub.set_config("--config", "", "TOML file of options (keys = long option names)", false);
  sub.allow_config_extras(CLI::config_extras_mode::error);
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
