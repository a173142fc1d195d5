// Typed errors thrown by the library. Only apps/ catch them: one line, non-zero exit.
// Every message names the file (or key) involved and, where there is one, the fix.
#pragma once
#include <stdexcept>
#include <string>

namespace fashioncut {

/// Base of every fashioncut error; `what()` is the one line the CLI prints.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Bad configuration: unknown key, wrong type, out-of-range value, conflicting options.
struct ConfigError : Error {
  using Error::Error;
};

/// An image that cannot be used: unreadable, truncated, 0-byte, absurd size, bad channels.
struct ImageError : Error {
  ImageError(std::string path, std::string reason)
      : Error(path + ": " + reason), path(std::move(path)), reason(std::move(reason)) {}
  std::string path;
  std::string reason;
};

/// A dataset that cannot be used: missing folder, no images, empty or mismatched classes.
struct DataError : Error {
  using Error::Error;
};

/// A checkpoint or state_dict that cannot be read, or that does not fit the model.
struct CheckpointError : Error {
  using Error::Error;
};

/// A file-system failure: cannot create, write, rename or read a path.
struct IoError : Error {
  using Error::Error;
};

/// Training stopped because a loss became NaN/Inf (names the term and step).
struct NumericalError : Error {
  using Error::Error;
};

/// A subcommand or feature that is not built yet (the CLI exits 2).
struct NotImplementedError : Error {
  using Error::Error;
};

}  // namespace fashioncut
