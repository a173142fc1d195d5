// `fashioncut predict`: expand inputs (files, folders, path lists), label every image in
// input order, write CSV or JSON lines, and summarise. Bad files become error rows.
#pragma once
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "fashioncut/eval/predictor.h"

namespace fashioncut::eval {

/// One input of a predict run: its path as given/listed, and why it cannot be used
/// before decoding (e.g. "file not found"), if so.
struct InputFile {
  std::filesystem::path path;
  std::string error;
};

/// Expands `inputs`: an image file (has_image_extension, or any name not ending in
/// .txt/.csv/.tsv/.lst) -> itself; a folder -> every image under it, recursively, sorted;
/// a .txt/.csv/.tsv/.lst file -> the paths it lists (first comma/tab field per line, optional
/// "path" header, '#' comments and blank lines skipped, relative paths relative to the list's
/// folder). A missing input or listed file becomes an InputFile with an error (the run goes
/// on). Throws DataError for an unreadable list file.
std::vector<InputFile> expand_inputs(const std::vector<std::string>& inputs);

/// Reads a per-class threshold file: `class,threshold` lines (optional header, '#' comments).
/// Throws ConfigError naming the file and line for an unknown class (listing the model's
/// classes) or a threshold outside [0,1].
std::vector<double> read_thresholds(const std::filesystem::path& file, const std::vector<std::string>& classes,
                                    double default_threshold);

enum class OutputFormat { kCsv, kJsonl };

struct PredictJobOptions {
  std::vector<std::string> inputs;
  OutputFormat format = OutputFormat::kCsv;
  int64_t top_k = 2;              ///< columns label/confidence + top2..topK (clamped to the class count)
  double threshold = 0.0;         ///< below it: status "unknown"
  std::string thresholds_file;    ///< per-class thresholds (classes not listed use `threshold`)
};

struct PredictSummary {
  int64_t total = 0, accepted = 0, unknown = 0, errors = 0;
  std::map<std::string, int64_t> per_class;  ///< accepted + unknown rows by top-1 label
  double seconds = 0;
  std::string to_text() const;  ///< a few lines for stderr
};

/// Quotes a CSV field when needed (RFC 4180).
std::string csv_field(const std::string& s);

/// Labels every input with `predictor`, writing one row per input (input order) to `out`;
/// `progress` (may be null) gets a line now and then. Returns the counts.
PredictSummary run_predict(Predictor& predictor, const PredictJobOptions& options, std::ostream& out,
                           std::ostream* progress = nullptr);

}  // namespace fashioncut::eval
