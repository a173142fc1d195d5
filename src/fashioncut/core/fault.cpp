#include "fashioncut/core/fault.h"

#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include "fashioncut/core/errors.h"

namespace fashioncut::fault {
namespace {

struct Item {
  std::string kind;  // kill, term, int, nan, kill-in-write
  std::string name;  // loss term or file name
  int64_t at = -1;   // iteration, or the 1-based write count
};

std::vector<Item> parse(const std::string& text) {
  std::vector<Item> items;
  std::stringstream list(text);
  std::string token;
  while (std::getline(list, token, ',')) {
    if (token.empty()) continue;
    Item item;
    const bool write = token.rfind("kill-in-write:", 0) == 0;
    const auto sep = token.rfind(write ? '#' : '@');
    if (sep == std::string::npos) throw ConfigError("FASHIONCUT_FAULT: '" + token + "' has no @N / #K");
    std::string head = token.substr(0, sep);
    try {
      item.at = std::stoll(token.substr(sep + 1));
    } catch (const std::exception&) {
      throw ConfigError("FASHIONCUT_FAULT: '" + token + "': bad number");
    }
    if (write) {
      item.kind = "kill-in-write";
      item.name = head.substr(std::string("kill-in-write:").size());
    } else if (head.rfind("nan:", 0) == 0) {
      item.kind = "nan";
      item.name = head.substr(4);
    } else if (head == "kill" || head == "term" || head == "int") {
      item.kind = head;
    } else {
      throw ConfigError("FASHIONCUT_FAULT: unknown item '" + token +
                        "' (kill@N, term@N, int@N, nan:TERM@N, kill-in-write:NAME#K)");
    }
    items.push_back(item);
  }
  return items;
}

const std::vector<Item>& items() {
  static const std::vector<Item> parsed = [] {
    const char* text = std::getenv("FASHIONCUT_FAULT");
    return text ? parse(text) : std::vector<Item>{};
  }();
  return parsed;
}

}  // namespace

std::string describe() {
  const char* text = std::getenv("FASHIONCUT_FAULT");
  if (items().empty() || text == nullptr) return "";
  return text;
}

void before_iteration(int64_t iteration) {
  for (const auto& item : items()) {
    if (item.at != iteration) continue;
    if (item.kind == "kill") std::raise(SIGKILL);
    if (item.kind == "term") std::raise(SIGTERM);
    if (item.kind == "int") std::raise(SIGINT);
  }
}

bool poison_loss(const std::string& term, int64_t iteration) {
  for (const auto& item : items())
    if (item.kind == "nan" && item.name == term && item.at == iteration) return true;
  return false;
}

bool watches_writes() {
  for (const auto& item : items())
    if (item.kind == "kill-in-write") return true;
  return false;
}

void during_atomic_write(const std::filesystem::path& path) {
  static std::mutex mutex;
  static std::map<std::string, int64_t> counts;
  const std::string name = path.filename().string();
  std::lock_guard<std::mutex> lock(mutex);
  const int64_t count = ++counts[name];
  for (const auto& item : items())
    if (item.kind == "kill-in-write" && item.name == name && item.at == count) std::raise(SIGKILL);
}

}  // namespace fashioncut::fault
