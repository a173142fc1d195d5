// Crash-safe file writes: data goes to a temporary file in the same folder, is flushed
// and fsync'ed, then renamed over the target. A reader sees the old file or the new
// one, never a torn one. Failures (disk full, permissions) throw IoError naming the path
// and leave the previous file untouched.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace fashioncut {

/// Atomically replaces `path` with `bytes`. Creates parent folders.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

/// Reads a whole file; throws IoError naming the path if it cannot.
std::string read_file(const std::filesystem::path& path);

/// Creates `dir` (and parents); throws IoError with a fix if impossible or not writable.
void ensure_writable_dir(const std::filesystem::path& dir);

/// For a command's output folder `out`: creates its missing parents (as `mkdir -p`) and checks
/// they are writable, except when the first missing one would be a new folder at the top of
/// the filesystem (`/nonexistent/dir/x`): that is almost always a typo or a path meant for
/// another machine, and as root it would silently succeed, so it is an IoError naming the path
/// and the fix. `out` itself is created by the caller.
void require_output_parent(const std::filesystem::path& out);

/// Removes the temporary siblings (".<name>.tmp.<pid>") that writers killed mid-write left in
/// `dir` (not recursive); files of processes still alive are kept. Returns how many it removed.
size_t remove_stale_temp_files(const std::filesystem::path& dir);

/// Temporary sibling name used by write_file_atomic (".<name>.tmp.<pid>").
std::filesystem::path temp_sibling(const std::filesystem::path& path);

}  // namespace fashioncut
