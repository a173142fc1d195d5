#include "fashioncut/train/metrics_log.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/log.h"

namespace fashioncut::train {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

std::string dump_line(const json& record) {
  return record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// Size of the file up to and including its last '\n' (0 if none). Reads the tail in chunks.
std::uintmax_t intact_prefix_size(const fs::path& path, std::uintmax_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open for reading (" + std::strerror(errno) + ")");
  constexpr std::uintmax_t kChunk = 1 << 16;
  std::string buf;
  std::uintmax_t end = size;
  while (end > 0) {
    const std::uintmax_t begin = end > kChunk ? end - kChunk : 0;
    buf.resize(static_cast<size_t>(end - begin));
    in.seekg(static_cast<std::streamoff>(begin));
    if (!in.read(buf.data(), static_cast<std::streamsize>(buf.size())))
      throw IoError(path.string() + ": read failed while checking for a torn last line");
    const auto pos = buf.rfind('\n');
    if (pos != std::string::npos) return begin + pos + 1;
    end = begin;
  }
  return 0;
}

}  // namespace

MetricsLog::MetricsLog(const fs::path& path) : path_(path) {
  if (path_.has_parent_path()) ensure_writable_dir(path_.parent_path());
  std::error_code ec;
  if (fs::is_regular_file(path_, ec)) {
    const std::uintmax_t size = fs::file_size(path_, ec);
    if (!ec && size > 0) {
      const std::uintmax_t keep = intact_prefix_size(path_, size);
      if (keep != size) {
        fs::resize_file(path_, keep, ec);
        if (ec)
          throw IoError(path_.string() + ": cannot cut off its torn last line (" + ec.message() +
                        "); remove that line by hand");
        repaired_bytes_ = size - keep;
        log_warn(path_.string(), ": removed a torn last line (", repaired_bytes_,
                 " bytes) left by an interrupted run");
      }
    }
  }
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_)
    throw IoError(path_.string() + ": cannot open metrics log for appending (" + std::strerror(errno) +
                  "); choose a writable --runs-dir");
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::log(const json& record) {
  const std::string line = dump_line(record);
  std::lock_guard<std::mutex> lock(mutex_);
  errno = 0;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    const std::string why = errno ? std::strerror(errno) : "short write";
    std::clearerr(file_);
    throw IoError(path_.string() + ": cannot append metrics (" + why + "); free disk space and resume");
  }
}

std::vector<json> read_metrics(const fs::path& path) {
  std::vector<json> records;
  std::error_code ec;
  if (!fs::exists(path, ec)) return records;
  const std::string text = read_file(path);
  size_t start = 0;
  size_t line_no = 0;
  while (start < text.size()) {
    ++line_no;
    const size_t end = text.find('\n', start);
    const bool terminated = end != std::string::npos;
    const std::string_view line(text.data() + start, (terminated ? end : text.size()) - start);
    start = terminated ? end + 1 : text.size();
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json record = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded()) {
      if (!terminated) break;  // torn last line of a killed run
      throw IoError(path.string() + ":" + std::to_string(line_no) +
                    ": not valid JSON; fix or delete that line");
    }
    records.push_back(std::move(record));
  }
  return records;
}

std::size_t prune_metrics_after(const fs::path& path, int64_t last_iter) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return 0;
  const std::vector<json> records = read_metrics(path);
  std::string kept;
  std::size_t removed = 0;
  for (const auto& r : records) {
    const auto it = r.is_object() ? r.find("iter") : r.end();
    if (it != r.end() && it->is_number() && it->get<double>() > static_cast<double>(last_iter)) {
      ++removed;
      continue;
    }
    kept += dump_line(r);
  }
  const std::string before = read_file(path);
  if (before != kept) write_file_atomic(path, kept);
  return removed;
}

}  // namespace fashioncut::train
