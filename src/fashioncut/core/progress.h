// A small progress reporter: a redrawn bar with rate and ETA on a terminal, and plain
// periodic lines ("label: 1200/5000 (24%) 850.3/s eta 4s") when stderr is not a TTY.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace fashioncut {

class Progress {
 public:
  /// total: expected count (0 = unknown). interval_s: seconds between plain lines.
  Progress(std::string label, int64_t total, double interval_s = 5.0);
  ~Progress();
  /// Adds `n` finished items; `extra` is shown after the rate (e.g. "loss 0.31"). Thread-safe.
  void advance(int64_t n = 1, const std::string& extra = "");
  /// Prints the final line (idempotent).
  void finish(const std::string& extra = "");
  int64_t done() const { return done_; }
  double elapsed_s() const;

 private:
  void draw(bool final_line, const std::string& extra);
  std::string label_;
  int64_t total_;
  double interval_s_;
  int64_t done_ = 0;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
};

}  // namespace fashioncut
