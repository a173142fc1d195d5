// `fashioncut translate`: run a CUT generator over images at their own size.
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "fashioncut/eval/translate.h"

namespace fashioncut::cli {
namespace {
struct TranslateArgs {
  std::string model, out;
  std::vector<std::string> inputs;
  bool grid = false;
  CommonOptions common;
};
}  // namespace

void add_translate_command(CLI::App& root, Action& action) {
  auto args = std::make_shared<TranslateArgs>();
  auto* sub = root.add_subcommand(
      "translate", "Synthetic -> real-looking images with a CUT generator, at each input's own size");
  add_config_option(*sub);
  sub->add_option("--model", args->model, "CUT run directory, training checkpoint or CUT latest_net_G.pth")
      ->required();
  sub->add_option("inputs", args->inputs, "Image files, folders (recursive) or .txt/.csv lists of paths")->required();
  sub->add_option("--out", args->out, "Output folder (PNGs named like the inputs)")->required();
  sub->add_flag("--grid", args->grid, "Also write OUT/grid/<name>.png: input and output side by side");
  add_common_options(*sub, args->common);
  sub->callback([&action, args] {
    action = [args]() -> int {
      apply_common_options(args->common);
      auto generator = eval::load_generator(args->model);
      std::cerr << "translate: " << generator.description << '\n';
      eval::TranslateOptions options;
      options.inputs = args->inputs;
      options.out_dir = args->out;
      options.grid = args->grid;
      options.device = args->common.device;
      const auto summary = eval::translate_images(generator, options);
      for (const auto& f : summary.failed) std::cerr << "translate: error: " << f << '\n';
      std::cerr << "translate: " << summary.written << " images written to " << args->out << ", "
                << summary.failed.size() << " failed, " << summary.seconds << " s\n";
      return summary.failed.empty() ? 0 : 1;
    };
  });
}
}  // namespace fashioncut::cli
