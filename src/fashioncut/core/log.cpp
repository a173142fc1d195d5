#include "fashioncut/core/log.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

namespace fashioncut {
namespace {
LogLevel initial_level() {
  const char* env = std::getenv("FASHIONCUT_LOG");
  if (!env) return LogLevel::kInfo;
  if (!std::strcmp(env, "debug")) return LogLevel::kDebug;
  if (!std::strcmp(env, "warn")) return LogLevel::kWarn;
  if (!std::strcmp(env, "error")) return LogLevel::kError;
  if (!std::strcmp(env, "quiet")) return LogLevel::kQuiet;
  return LogLevel::kInfo;
}
std::atomic<LogLevel>& level_ref() {
  static std::atomic<LogLevel> level{initial_level()};
  return level;
}
std::mutex& log_mutex() {
  static std::mutex m;
  return m;
}
const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warning";
    case LogLevel::kError: return "error";
    default: return "";
  }
}
}  // namespace

void set_log_level(LogLevel level) { level_ref() = level; }
LogLevel log_level() { return level_ref(); }

void log_line(LogLevel level, const std::string& message) {
  if (level < log_level()) return;
  std::lock_guard<std::mutex> lock(log_mutex());
  std::cerr << "[fashioncut] ";
  if (level != LogLevel::kInfo) std::cerr << level_name(level) << ": ";
  std::cerr << message << '\n';
}

}  // namespace fashioncut
