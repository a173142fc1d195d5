// Verifies a zip archive's structure and the CRC-32 of every entry before a zip reader trusts it.
// LibTorch's archive reader (miniz, built without CRC checks) reads a checkpoint whose bytes
// were flipped: a flip inside a tensor loads as a silently changed weight, and a flip inside
// the archive's TorchScript source can crash LibTorch's parser (tests/fuzz/libtorch_findings/).
// Every entry carries the CRC-32 of its bytes (tensors stored, TorchScript code deflated), so
// recomputing the CRCs turns any such corruption into one clear error before loading.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace fashioncut {

/// What is wrong with the zip archive in `bytes`, or "" when it is sound: an end-of-central-
/// directory record (ZIP64 too) is found, every central-directory entry's local header and data
/// lie inside the archive under the same name, and every entry's bytes (inflated, for deflated
/// entries) match its CRC-32 and its size. The answer names the entry,
/// e.g. "entry 'archive/data/17' fails its CRC-32 check (stored 0x1b01c441, computed 0x0f3a9c20)".
std::string zip_problem(std::string_view bytes);

/// The same for a file, read in 1 MiB pieces (never whole into memory). A file that cannot be
/// opened or read is reported as such.
std::string zip_file_problem(const std::filesystem::path& path);

}  // namespace fashioncut
