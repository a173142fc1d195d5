// `fashioncut eval`: score a classifier on a labelled set (folder of class folders or
// fmnist:test) and write metrics.json, confusion.csv/.png, per_class.csv, coverage.csv/.png.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "fashioncut/eval/metrics.h"
#include "fashioncut/eval/predictor.h"

namespace fashioncut::eval {

/// One point of the precision/coverage curve: images with confidence >= threshold are accepted.
struct CoveragePoint {
  double threshold = 0;
  int64_t accepted = 0;
  double coverage = 0;   ///< accepted / all
  double accuracy = 0;   ///< correct among accepted (precision); NaN when none is accepted
};

/// confidence: [N] float top-1 probability; correct: [N] bool. One point per threshold.
std::vector<CoveragePoint> coverage_curve(const torch::Tensor& confidence, const torch::Tensor& correct,
                                          const std::vector<double>& thresholds);

/// Thresholds of the written curve: 0, 0.05, ..., 0.95, 0.99.
std::vector<double> default_coverage_thresholds();

/// For each data class, its index among the model's classes (matched by name, so the data may
/// be a subset or a reordering). Throws DataError listing both lists for a data class the model
/// does not know.
std::vector<int64_t> match_classes(const std::vector<std::string>& model_classes,
                                   const std::vector<std::string>& data_classes, const std::string& data_name);

struct EvalResult {
  std::vector<std::string> classes;  ///< the model's classes (metrics are indexed by these)
  ClassificationMetrics metrics;
  std::vector<CoveragePoint> coverage;
  std::vector<std::string> skipped;  ///< unreadable files ("path: reason"), left out of the metrics
  std::string data;                  ///< the dataset's description
  std::string model;                 ///< the model file
  double seconds = 0;
  nlohmann::json to_json() const;
  std::string summary() const;  ///< a few lines for the terminal
};

/// Runs `predictor` over every image of `data_spec` (open_dataset: a labelled folder, a labelled
/// list file or fmnist:test[:DIR]) with the model's preprocessing. Throws DataError for an
/// unlabelled set or unknown classes.
EvalResult evaluate(Predictor& predictor, const std::string& data_spec);

/// Writes metrics.json, per_class.csv, confusion.csv, confusion.png, coverage.csv and
/// coverage.png into `dir` (created).
void write_eval_report(const EvalResult& result, const std::filesystem::path& dir);

}  // namespace fashioncut::eval
