#include "fashioncut/core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace fashioncut {

Progress::Progress(std::string label, int64_t total, double interval_s)
    : label_(std::move(label)),
      total_(total),
      interval_s_(interval_s),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(int64_t n, const std::string& extra) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += n;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (tty_ ? 0.1 : interval_s_)) {
    last_draw_ = now;
    draw(false, extra);
  }
}

void Progress::finish(const std::string& extra) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw(true, extra);
}

void Progress::draw(bool final_line, const std::string& extra) {
  const double t = elapsed_s();
  const double rate = t > 0 ? done_ / t : 0.0;
  char head[256];
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    const double eta = rate > 0 ? (total_ - done_) / rate : 0.0;
    if (tty_) {
      const int width = 24, filled = static_cast<int>(frac * width);
      std::string bar(filled, '#');
      bar.resize(width, '.');
      std::snprintf(head, sizeof head, "\r%s [%s] %lld/%lld %.1f/s eta %.0fs", label_.c_str(), bar.c_str(),
                    static_cast<long long>(done_), static_cast<long long>(total_), rate, final_line ? t : eta);
    } else {
      std::snprintf(head, sizeof head, "%s: %lld/%lld (%.0f%%) %.1f/s %s %.0fs", label_.c_str(),
                    static_cast<long long>(done_), static_cast<long long>(total_), 100.0 * frac, rate,
                    final_line ? "took" : "eta", final_line ? t : eta);
    }
  } else {
    std::snprintf(head, sizeof head, "%s%s: %lld %.1f/s %.0fs", tty_ ? "\r" : "", label_.c_str(),
                  static_cast<long long>(done_), rate, t);
  }
  std::fprintf(stderr, "%s%s%s%s", head, extra.empty() ? "" : "  ", extra.c_str(),
               (tty_ && !final_line) ? "\033[K" : "\n");
  std::fflush(stderr);
}

}  // namespace fashioncut
