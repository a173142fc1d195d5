// PyTorch `state_dict` files from C++: read what Python's `torch.save(model.state_dict(), path)`
// writes (zip format, torch >= 1.6 default), write files that Python's `torch.load` returns as an
// `OrderedDict` of tensors, and copy named tensors into any `torch::nn::Module` by
// parameter/buffer name.
//
// Why not `torch::pickle_load`: in LibTorch 1.13 it returns None for the
// `collections.OrderedDict` (with `_metadata`) that every real `model.state_dict()` is. We open
// the zip with LibTorch's own record reader and unpickle `data.pkl` with a small, validating
// unpickler (pickle.h) that only understands what a state_dict needs.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fashioncut::models {

/// Named tensors in file order (the order of Python's `state_dict().keys()`).
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Reads a state_dict file written by `torch.save(model.state_dict(), path)` (or of any
/// `dict`/`OrderedDict` from str to tensor). Tensors come back on the CPU with the saved dtype,
/// shape, strides and values; entries that shared one storage in Python share it here too.
/// Supported dtypes: float64/32/16, bfloat16, int64/32/16/8, uint8, bool, complex64/128.
/// Throws CheckpointError naming `path` for a missing, empty, truncated or corrupt file, a
/// legacy (pre-1.6, non-zip) or TorchScript file, or content that is not str -> tensor.
NamedTensors read_state_dict(const std::filesystem::path& path);

/// Same as `read_state_dict`, from the bytes of a file; `source_name` names it in errors.
/// Both first verify the zip structure and every entry's CRC-32 (`zip_problem`);
/// `verify_crcs = false` skips that, for the fuzz target to reach the unpickler with mutated bytes.
NamedTensors parse_state_dict(std::string_view bytes, const std::string& source_name, bool verify_crcs = true);

/// Serialises `entries` to the bytes of a torch.save zip file (see `write_state_dict`).
std::string serialize_state_dict(const NamedTensors& entries);

/// Writes `entries` as a file that Python's `torch.load` returns as a
/// `collections.OrderedDict` of tensors (in this order), e.g. for
/// `torchvision.models.resnet18().load_state_dict(torch.load(path))`. Tensors on any device
/// are written as CPU tensors; entries sharing a storage are written once. The write is
/// atomic (temporary file + rename). Throws CheckpointError for an empty or duplicate name or
/// an undefined or non-dense tensor, IoError if the file cannot be written.
void write_state_dict(const std::filesystem::path& path, const NamedTensors& entries);

/// All parameters and buffers of `module` by full dotted name, in PyTorch's `state_dict()`
/// order (per module: its parameters, then its buffers, then its children), undefined tensors
/// (e.g. a disabled bias) skipped. BatchNorm's `running_mean`, `running_var` and
/// `num_batches_tracked` are included. The tensors alias the module's own (not copies).
NamedTensors module_state(const torch::nn::Module& module);

/// How `load_state_dict` treats keys that do not line up.
struct LoadOptions {
  /// Any missing, unexpected or shape-mismatched key (outside `ignore_prefixes`) is an error.
  bool strict = true;
  /// Keys starting with one of these (e.g. "fc." to replace a classifier head with another
  /// class count) are optional on both sides: loaded when present in both with equal shapes,
  /// otherwise skipped (reported in `LoadReport::skipped`) instead of being an error.
  std::vector<std::string> ignore_prefixes;
  /// If false, an ignored key present on both sides with different shapes is still an error.
  bool allow_shape_mismatch_for_ignored = true;
};

/// What `load_state_dict` did, by key name.
struct LoadReport {
  std::vector<std::string> missing;         ///< in the module, not in the file
  std::vector<std::string> unexpected;      ///< in the file, not in the module
  std::vector<std::string> shape_mismatch;  ///< in both, different shapes (not loaded)
  std::vector<std::string> loaded;          ///< copied into the module
  std::vector<std::string> skipped;         ///< under ignore_prefixes and not loaded
};

/// Copies tensors into the module's parameters/buffers by name (under NoGradGuard, converted to
/// each destination's device and dtype). In strict mode nothing is copied unless every key
/// fits; the CheckpointError lists the first 10 missing/unexpected/mismatched keys with their
/// counts and names `source_name` (the file). Non-strict mode loads what fits and reports the rest.
LoadReport load_state_dict(torch::nn::Module& module, const NamedTensors& entries, const LoadOptions& options = {},
                           const std::string& source_name = "");

/// `load_state_dict(module, read_state_dict(path), options, path)`.
LoadReport load_state_dict_file(torch::nn::Module& module, const std::filesystem::path& path,
                                const LoadOptions& options = {});

}  // namespace fashioncut::models
