// report.html: one self-contained page per run (no network, no JavaScript): config summary,
// which checkpoint is `best` and why, evaluation curves per epoch, one loss curve per loss
// term, throughput, the latest sample grids and the latest confusion matrix. Charts are
// inline SVG generated here; curves longer than 500 points are bucket-averaged.
//
// Input is the metrics.jsonl records (schema in metrics_log.h). Recognised "eval" names get
// readable labels: "synthetic/accuracy" (held-out synthetic accuracy), "target/entropy",
// "target/class_balance", "target/pseudo_label_acceptance"; any name containing "oracle" is
// labelled "oracle (uses target labels, not used for selection)" unless the best checkpoint's
// "selection_criterion" mentions "oracle" (then the page says it WAS used for selection).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fashioncut::train {

/// Everything report.html shows. Only `title` is required; empty parts are omitted or derived.
struct ReportData {
  /// Run name (page title).
  std::string title;
  /// Effective config / run summary (method, data, sizes, ...): an object, nested objects are
  /// shown with dotted keys.
  nlohmann::json config_summary = nlohmann::json::object();
  /// {"kind":"step",...} records (see metrics_log.h), in any order; duplicates by "iter"
  /// (from a resumed run) keep the last one.
  std::vector<nlohmann::json> step_records;
  /// {"kind":"epoch",...} records; duplicates by "epoch" keep the last one.
  std::vector<nlohmann::json> epoch_records;
  /// Class names for the confusion matrix (index i names row/column i); missing ones show i.
  std::vector<std::string> class_names;
  /// Confusion matrix [true][predicted] of the latest evaluation. Empty: taken from the latest
  /// epoch record holding "confusion" (a matrix, or an object {title: matrix} for several).
  std::vector<std::vector<int64_t>> confusion;
  /// Caption of `confusion` (e.g. "held-out synthetic, epoch 3").
  std::string confusion_title;
  /// Sample grid images, paths relative to the run folder, newest first. Empty: write_report
  /// uses the 3 newest `samples/*.png` found in the run folder.
  std::vector<std::string> sample_images;
  /// Which checkpoint is `best` and by which label-free criterion. Empty: derived from the
  /// latest epoch record with "is_best": true ("selection_criterion", "selection_score").
  std::string best_note;
};

/// Appends metrics.jsonl `records` to `data`: "kind":"step" to step_records, "kind":"epoch"
/// to epoch_records; other kinds are ignored.
void add_records(ReportData& data, const std::vector<nlohmann::json>& records);

/// Renders the complete HTML page (UTF-8). Pure: touches no file.
std::string render_report_html(const ReportData& data);

/// Writes `run_dir/report.html` atomically (core/atomic_file.h) and returns its path. Fills in
/// sample_images from `run_dir/samples/` when empty. Throws IoError naming the file on failure.
std::filesystem::path write_report(const std::filesystem::path& run_dir, const ReportData& data);

}  // namespace fashioncut::train
