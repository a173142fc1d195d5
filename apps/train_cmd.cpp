// `fashioncut train`: adapt a classifier from labelled synthetic images to unlabelled real ones.
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/trainer.h"

namespace fashioncut::cli {
namespace {

struct TrainCli {
  train::TrainConfig config;
  std::string resume;
  bool list_methods = false;
  bool print_config = false;
  bool no_pseudo_labels = false;
};

int run_train(CLI::App& sub, const TrainCli& o) {
  if (o.list_methods) {
    for (const auto& [name, description] : train::list_methods()) std::cout << "  " << name << "  " << description << '\n';
    return 0;
  }
  train::TrainConfig config = o.config;
  if (o.no_pseudo_labels) config.pseudo_labels = false;
  if (o.print_config) {
    config.validate();
    std::cout << train::to_toml(config);
    return 0;
  }
  train::install_stop_signal_handlers();
  train::TrainOutcome out;
  if (!o.resume.empty()) {
    for (const CLI::Option* opt : sub.get_options()) {
      const std::string name = opt->get_name();
      if (opt->count() > 0 && name != "--resume" && name != "--epochs" && name != "--config")
        throw ConfigError("--resume continues a run with its saved config.toml; drop " + name +
                          " (only --epochs may change on resume)");
    }
    out = train::resume(o.resume, sub.count("--epochs") ? config.epochs : 0);
  } else {
    out = train::train(config);
  }
  if (out.interrupted) {
    std::cerr << "fashioncut: interrupted at iteration " << out.iterations_done << "; checkpoint saved. Resume with:\n"
              << "  fashioncut train --resume " << out.run_dir.string() << '\n';
    return 130;
  }
  std::cout << "run:    " << out.run_dir.string() << '\n'
            << "epochs: " << out.epochs_done << "  iterations: " << out.iterations_done << "  time: "
            << static_cast<int64_t>(out.seconds) << " s\n"
            << "last evaluation: " << out.last_eval.value("eval", nlohmann::json::object()).dump() << '\n'
            << "best:   " << out.best.dump() << '\n'
            << "report: " << (out.run_dir / "report.html").string() << '\n';
  return 0;
}

}  // namespace

void add_train_command(CLI::App& root, Action& action) {
  auto* sub = root.add_subcommand("train", "Adapt a classifier from synthetic to real images (no real labels)");
  auto o = std::make_shared<TrainCli>();
  add_config_option(*sub);
  train::bind_train_config(*sub, o->config);
  sub->add_option("--resume", o->resume, "continue the run in this directory (runs/<name>)");
  sub->add_flag("--list-methods", o->list_methods, "print the available methods and exit");
  sub->add_flag("--print-config", o->print_config, "print the effective configuration as TOML and exit");
  sub->add_flag("--no-pseudo-labels", o->no_pseudo_labels, "fashion-cut without pseudo-labels");
  sub->footer("Every setting is a key of the TOML file given with --config (see --print-config).");
  sub->callback([&action, sub, o] { action = [sub, o] { return run_train(*sub, *o); }; });
}

}  // namespace fashioncut::cli
