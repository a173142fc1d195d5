#include "fashioncut/core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fashioncut/core/errors.h"
#include "fashioncut/core/fault.h"

namespace fashioncut {
namespace fs = std::filesystem;
namespace {
std::string errno_text() { return std::strerror(errno); }

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

fs::path temp_sibling(const fs::path& path) {
  return path.parent_path() / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()));
}

void ensure_writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw IoError(dir.string() + ": cannot create folder (" + (ec ? ec.message() : "not a folder") +
                  "); choose a writable location");
  if (::access(dir.c_str(), W_OK) != 0)
    throw IoError(dir.string() + ": folder is not writable (" + errno_text() + "); choose a writable location");
}

void require_output_parent(const fs::path& out) {
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  fs::path missing;  // the outermost ancestor that does not exist
  for (fs::path p = parent; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing = p;
    if (p == p.parent_path()) break;
  }
  if (!missing.empty() && missing.has_parent_path() && missing.parent_path() == missing.root_path())
    throw IoError(out.string() + ": " + missing.string() +
                  " does not exist; check the output path, or create it first (mkdir -p " + parent.string() + ")");
  try {
    ensure_writable_dir(parent);
  } catch (const IoError& e) {
    throw IoError(out.string() + ": " + e.what());
  }
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  const fs::path parent = path.parent_path();
  if (!parent.empty()) ensure_writable_dir(parent);
  const fs::path tmp = temp_sibling(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(path.string() + ": cannot write (" + errno_text() + ")");
  // A fault drill (core/fault.h) may SIGKILL the process between the two halves.
  const size_t half = fault::watches_writes() ? bytes.size() / 2 : bytes.size();
  size_t done = 0;
  auto write_up_to = [&](size_t end) {
    while (done < end) {
      const ssize_t n = ::write(fd, bytes.data() + done, end - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const std::string why = errno_text();
        ::close(fd);
        ::unlink(tmp.c_str());
        throw IoError(path.string() + ": write failed (" + why + "); previous file left intact, free space and retry");
      }
      done += static_cast<size_t>(n);
    }
  };
  write_up_to(half);
  if (fault::watches_writes()) fault::during_atomic_write(path);
  write_up_to(bytes.size());
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw IoError(path.string() + ": flush failed (" + why + "); previous file left intact");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw IoError(path.string() + ": rename failed (" + why + ")");
  }
  fsync_dir(parent);
}

size_t remove_stale_temp_files(const fs::path& dir) {
  size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (name.size() < 2 || name[0] != '.' || at == std::string::npos || at + 5 >= name.size()) continue;
    const std::string pid_text = name.substr(at + 5);
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    // Only writers that are gone: a live process (this one, or another still writing) keeps its file.
    if (pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    if (fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open for reading (" + errno_text() + ")");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw IoError(path.string() + ": read failed");
  return out.str();
}

}  // namespace fashioncut
