// `fashioncut predict`: label images (files, folders, path lists) with a trained classifier.
#include <fstream>
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/eval/predict_job.h"

namespace fashioncut::cli {
namespace {
struct PredictArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string out;
  std::string format = "csv";
  int64_t top_k = 2;
  double threshold = 0.0;
  std::string thresholds;
  int64_t batch_size = 64;
  int workers = 0;
  bool bf16 = false;
  bool no_fold_bn = false;
  CommonOptions common;
};
}  // namespace

void add_predict_command(CLI::App& root, Action& action) {
  auto args = std::make_shared<PredictArgs>();
  auto* sub = root.add_subcommand(
      "predict", "Label images with a trained classifier: one CSV/JSONL row per image (status accepted | unknown | "
                 "error); exit 1 if any file failed");
  add_config_option(*sub);
  sub->add_option("--model", args->model, "Run directory, model.pt or training checkpoint")->required();
  sub->add_option("inputs", args->inputs, "Image files, folders (recursive) or .txt/.csv lists of paths")->required();
  sub->add_option("--out", args->out, "Output file (default: stdout)");
  sub->add_option("--format", args->format, "csv | jsonl")->check(CLI::IsMember({"csv", "jsonl"}))->capture_default_str();
  sub->add_option("--top-k", args->top_k, "Labels per row (top-1 plus top2..topK columns)")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  auto* thr = sub->add_option("--threshold", args->threshold, "Below this top-1 confidence the status is 'unknown'")
                  ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--thresholds", args->thresholds, "Per-class thresholds: CSV of class,threshold")
      ->check(CLI::ExistingFile)->excludes(thr);
  sub->add_option("--batch-size", args->batch_size, "Images per forward pass")->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sub->add_option("--workers", args->workers, "Decode threads (0 = all cores)")->check(CLI::Range(0, 256));
  sub->add_flag("--bf16", args->bf16, "bf16 convolutions (CPUs with AVX512_BF16/AMX, GPUs)");
  sub->add_flag("--no-fold-bn", args->no_fold_bn, "Run BatchNorm separately instead of folding it into the convs");
  add_common_options(*sub, args->common);
  sub->callback([&action, args] {
    action = [args]() -> int {
      const std::string device = apply_common_options(args->common);
      eval::PredictorOptions po;
      po.device = args->common.device;
      po.bf16 = args->bf16;
      po.fold_bn = !args->no_fold_bn;
      po.batch_size = args->batch_size;
      po.workers = args->workers;
      eval::Predictor predictor(eval::load_classifier(args->model), po);
      std::cerr << "predict: model " << predictor.loaded().file.string() << " (" << predictor.spec().arch << ", "
                << predictor.classes().size() << " classes, " << predictor.spec().image_size << " px) on " << device
                << (args->bf16 ? ", bf16" : "") << '\n';
      eval::PredictJobOptions jo;
      jo.inputs = args->inputs;
      jo.format = args->format == "jsonl" ? eval::OutputFormat::kJsonl : eval::OutputFormat::kCsv;
      jo.top_k = args->top_k;
      jo.threshold = args->threshold;
      jo.thresholds_file = args->thresholds;
      eval::PredictSummary summary;
      if (args->out.empty()) {
        summary = eval::run_predict(predictor, jo, std::cout, &std::cerr);
      } else {
        const std::filesystem::path out(args->out);
        if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
        const std::filesystem::path tmp = out.string() + ".partial";
        {
          std::ofstream file(tmp, std::ios::binary);
          if (!file) throw IoError(tmp.string() + ": cannot write (check the folder is writable)");
          summary = eval::run_predict(predictor, jo, file, &std::cerr);
          if (!file) throw IoError(tmp.string() + ": write failed (disk full?)");
        }
        std::filesystem::rename(tmp, out);
      }
      std::cerr << summary.to_text();
      return summary.errors > 0 ? 1 : 0;
    };
  });
}
}  // namespace fashioncut::cli
