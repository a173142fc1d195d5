// `fashioncut eval`: score a trained classifier on a labelled set.
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "fashioncut/eval/evaluate.h"

namespace fashioncut::cli {
namespace {
struct EvalArgs {
  std::string model, data, out;
  int64_t batch_size = 64;
  int workers = 0;
  bool bf16 = false;
  CommonOptions common;
};
}  // namespace

void add_eval_command(CLI::App& root, Action& action) {
  auto args = std::make_shared<EvalArgs>();
  auto* sub = root.add_subcommand(
      "eval", "Score a classifier on a labelled set: accuracy, per-class P/R/F1, confusion matrix, coverage curve");
  add_config_option(*sub);
  sub->add_option("--model", args->model, "Run directory, model.pt or training checkpoint")->required();
  sub->add_option("--data", args->data, "Labelled set: folder of class folders, labelled list, or fmnist:test")
      ->required();
  sub->add_option("--out", args->out,
                  "Report folder (metrics.json, per_class.csv, confusion.csv/.png, coverage.csv/.png); "
                  "default: print only");
  sub->add_option("--batch-size", args->batch_size, "Images per forward pass")->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sub->add_option("--workers", args->workers, "Decode threads (0 = all cores)")->check(CLI::Range(0, 256));
  sub->add_flag("--bf16", args->bf16, "bf16 convolutions (CPUs with AVX512_BF16/AMX, GPUs)");
  add_common_options(*sub, args->common);
  sub->callback([&action, args] {
    action = [args]() -> int {
      apply_common_options(args->common);
      eval::PredictorOptions po;
      po.device = args->common.device;
      po.bf16 = args->bf16;
      po.batch_size = args->batch_size;
      po.workers = args->workers;
      eval::Predictor predictor(eval::load_classifier(args->model), po);
      const auto result = eval::evaluate(predictor, args->data);
      if (!args->out.empty()) eval::write_eval_report(result, args->out);
      std::cout << result.summary();
      if (!args->out.empty()) std::cout << "  report: " << args->out << '\n';
      return 0;
    };
  });
}
}  // namespace fashioncut::cli
