// metrics.jsonl: one JSON object per line, appended and flushed line by line, so a killed
// run loses at most the line being written. Record schema used by the Trainer and by
// report.h (other keys are allowed and kept):
//   step  records: {"kind":"step",  "epoch":E, "iter":I, "lr":x, "images_per_s":x,
//                   "data_wait":fraction, "losses":{"name":value,...}}
//   epoch records: {"kind":"epoch", "epoch":E, "iter":I, "eval":{"name":value,...},
//                   "confusion"?: [[count,...],...] or {"title":[[...]],...},
//                   "is_best"?: bool, "selection_criterion"?: "...", "selection_score"?: x}
// `iter` is the global iteration (monotonic over the whole run, continued on resume).
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fashioncut::train {

/// Appends JSON records to a JSON-lines file, one flushed line per record. Thread-safe.
class MetricsLog {
 public:
  /// Opens `path` for appending (creating it and its folder). If the file does not end with
  /// '\n' (a run killed mid-line), the torn last line is cut off first and a warning logged.
  /// Throws IoError naming the file if it cannot be opened or repaired.
  explicit MetricsLog(const std::filesystem::path& path);
  /// Closes the file; never throws.
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  /// Writes `record` (an object) as one line and flushes it to the OS. NaN/Inf become null,
  /// invalid UTF-8 is replaced. Throws IoError naming the file on a write error (disk full).
  void log(const nlohmann::json& record);

  /// The file being written.
  const std::filesystem::path& path() const { return path_; }
  /// Bytes of a torn last line removed when the file was opened (0 if it was intact).
  std::uintmax_t repaired_bytes() const { return repaired_bytes_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::uintmax_t repaired_bytes_ = 0;
  std::mutex mutex_;
};

/// Reads every record of a metrics.jsonl file, ignoring empty lines and a torn (unterminated,
/// unparsable) last line. A missing file gives an empty vector. Throws IoError naming the file
/// and line number for a corrupt line elsewhere.
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& path);

/// For resume: atomically rewrites `path` keeping only records whose "iter" is <= `last_iter`
/// (records without "iter" are kept), so steps logged after the checkpoint the run restarts
/// from are not duplicated. Also drops a torn last line. Returns the number of records
/// removed; a missing file is a no-op returning 0.
std::size_t prune_metrics_after(const std::filesystem::path& path, int64_t last_iter);

}  // namespace fashioncut::train
