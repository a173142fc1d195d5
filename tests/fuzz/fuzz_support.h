// Helpers shared by the libFuzzer targets: readers that take a path get the fuzz input
// through one scratch file per process, and only fashioncut's own typed errors count as a
// clean rejection; any other exception escaping a reader is a finding (the CLI would print
// an untyped error, or a worker thread would terminate).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fashioncut/core/errors.h"

namespace fashioncut::fuzz {

/// The per-process scratch file under $TMPDIR (default /tmp), rewritten for each input.
inline const std::filesystem::path& scratch_file(const char* suffix) {
  static const std::filesystem::path path = [&] {
    const char* dir = std::getenv("TMPDIR");
    return std::filesystem::path(dir && *dir ? dir : "/tmp") /
           ("fashioncut-fuzz-" + std::to_string(::getpid()) + suffix);
  }();
  return path;
}

/// Writes the input bytes to the scratch file and returns its path.
inline const std::filesystem::path& write_input(const uint8_t* data, size_t size, const char* suffix) {
  const auto& path = scratch_file(suffix);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

/// Runs `body`; a fashioncut::Error is the expected way to reject bad input, anything else
/// aborts so libFuzzer records the input as a crash.
template <typename F>
void expect_clean(const char* target, F&& body) {
  try {
    body();
  } catch (const fashioncut::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: untyped exception escaped: %s\n", target, e.what());
    std::abort();
  }
}

}  // namespace fashioncut::fuzz
