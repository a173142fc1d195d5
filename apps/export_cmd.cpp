// `fashioncut export`: the classifier as a torchvision state_dict + JSON sidecar.
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "fashioncut/eval/export.h"

namespace fashioncut::cli {
namespace {
struct ExportArgs {
  std::string model, out;
};
}  // namespace

void add_export_command(CLI::App& root, Action& action) {
  auto args = std::make_shared<ExportArgs>();
  auto* sub = root.add_subcommand(
      "export", "Write the classifier as a torchvision-loadable state_dict (.pth) plus a JSON sidecar");
  add_config_option(*sub);
  sub->add_option("--model", args->model, "Run directory, model.pt or training checkpoint")->required();
  sub->add_option("--out", args->out, "Output .pth file (the sidecar is the same name with .json)")->required();
  sub->callback([&action, args] {
    action = [args]() -> int {
      const auto classifier = eval::load_classifier(args->model);
      const auto sidecar = eval::export_torchvision(classifier, args->out);
      std::cout << "export: " << args->out << " (" << classifier.spec.arch << ", " << classifier.spec.num_classes()
                << " classes) and " << sidecar.string() << '\n';
      return 0;
    };
  });
}
}  // namespace fashioncut::cli
