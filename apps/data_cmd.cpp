// `fashioncut data`: import real datasets. `data fmnist --out DIR` writes Fashion-MNIST as
// image folders (train/ unlabelled + train_labels.csv, test/<class>/).
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "fashioncut/data/fmnist_export.h"

namespace fashioncut::cli {
namespace {
struct FmnistArgs {
  std::string out;
  std::string source_dir = "/usr/share/datasets/fashion-mnist";
  bool force = false;
  int threads = 0;
};
}  // namespace

void add_data_command(CLI::App& root, Action& action) {
  auto* data = root.add_subcommand("data", "Import real datasets (Fashion-MNIST)");
  data->require_subcommand(1);

  auto args = std::make_shared<FmnistArgs>();
  auto* fmnist = data->add_subcommand(
      "fmnist", "Write Fashion-MNIST as PNG folders: OUT/train/ (60,000, unlabelled; labels in OUT/train_labels.csv) "
                "and OUT/test/<class>/ (10,000)");
  add_config_option(*fmnist);
  fmnist->add_option("--out", args->out, "Output folder")->required();
  fmnist->add_option("--source-dir", args->source_dir, "Folder with the four Fashion-MNIST IDX .gz files")
      ->capture_default_str();
  fmnist->add_flag("--force", args->force, "Replace OUT even if it holds a complete import");
  fmnist->add_option("--threads", args->threads, "PNG encoder threads (0 = all cores)")->check(CLI::Range(0, 1024));
  fmnist->callback([&action, args] {
    action = [args]() -> int {
      data::FmnistExportOptions options;
      options.out_dir = args->out;
      options.source_dir = args->source_dir;
      options.threads = args->threads;
      options.force = args->force;
      const auto summary = data::export_fmnist(options);
      std::cout << data::format_summary(summary) << std::endl;
      return 0;
    };
  });
}

}  // namespace fashioncut::cli
