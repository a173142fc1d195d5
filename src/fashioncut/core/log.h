// Minimal leveled logging to stderr: "[fashioncut] LEVEL message". Thread-safe.
#pragma once
#include <sstream>
#include <string>
#include <utility>

namespace fashioncut {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kQuiet = 4 };

/// Messages below `level` are dropped. Default: kInfo (FASHIONCUT_LOG=debug|info|warn|error|quiet overrides).
void set_log_level(LogLevel level);
LogLevel log_level();

/// Writes one line (thread-safe).
void log_line(LogLevel level, const std::string& message);

/// Concatenates the arguments with operator<< and logs them.
template <typename... Args>
void log(LogLevel level, Args&&... args) {
  if (level < log_level()) return;
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  log_line(level, out.str());
}
template <typename... Args>
void log_info(Args&&... args) { log(LogLevel::kInfo, std::forward<Args>(args)...); }
template <typename... Args>
void log_warn(Args&&... args) { log(LogLevel::kWarn, std::forward<Args>(args)...); }
template <typename... Args>
void log_debug(Args&&... args) { log(LogLevel::kDebug, std::forward<Args>(args)...); }

}  // namespace fashioncut
