// The Trainer: one loop for every method. It owns device and threads, seeding, data
// streams, learning-rate schedules, per-epoch label-free evaluation, logs (metrics.jsonl,
// TensorBoard, report.html, sample grids) and atomic checkpoints with exact resume.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "fashioncut/train/train_config.h"

namespace fashioncut::train {

/// What a finished (or interrupted) run leaves behind.
struct TrainOutcome {
  std::filesystem::path run_dir;
  bool interrupted = false;     ///< stopped by SIGINT/SIGTERM (a checkpoint was written)
  int64_t epochs_done = 0;
  int64_t iterations_done = 0;
  nlohmann::json last_eval;     ///< the last epoch's evaluation record
  nlohmann::json best;          ///< {"epoch", "score", "criterion"} of checkpoints/best.pt
  double seconds = 0;
};

/// Trains a new run in `<runs_dir>/<name>/`. Refuses a name whose folder already holds a
/// run (use resume()). Throws typed errors (ConfigError, DataError, NumericalError, ...).
TrainOutcome train(const TrainConfig& config);

/// Continues the run in `run_dir` from checkpoints/latest.pt with its saved config,
/// appending to its logs; `epochs` > 0 extends or shortens the total epoch count.
TrainOutcome resume(const std::filesystem::path& run_dir, int64_t epochs = 0);

/// Asks a running train()/resume() to write a checkpoint and return (async-signal-safe).
void request_stop();

/// Installs SIGINT/SIGTERM handlers that call request_stop() (the CLI does this).
void install_stop_signal_handlers();

}  // namespace fashioncut::train
