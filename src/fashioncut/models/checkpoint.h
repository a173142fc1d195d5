// Checkpoints: every module and optimiser of a run by name, plus JSON metadata (config,
// counters, class names, architecture) and the RNG state, in one file written atomically.
// Lives next to models/ so that inference (eval/, predict) can read checkpoints without
// the training code.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace fashioncut::models {

using NamedModules = std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>;
using NamedOptimizers = std::vector<std::pair<std::string, torch::optim::Optimizer*>>;

/// Format version written into every checkpoint's metadata ("format").
constexpr int kCheckpointFormat = 1;

/// Writes modules, optimisers, `meta` and the CPU RNG state to `path` atomically
/// (temporary file + rename): a crash leaves the previous file intact.
void save_checkpoint(const std::filesystem::path& path, const NamedModules& modules,
                     const NamedOptimizers& optimizers, const nlohmann::json& meta);

/// A checkpoint opened once: the file is verified (zip structure, every entry's CRC-32) and
/// parsed, and its metadata read, in the constructor; `meta()` then serves the checks that come
/// before building modules and `load` fills them from the same parsed archive.
class Checkpoint {
 public:
  /// Throws CheckpointError naming the file for a missing, empty, truncated, corrupt or foreign
  /// file, or a newer format.
  explicit Checkpoint(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  const nlohmann::json& meta() const { return meta_; }

  /// Loads modules (and optimisers, if given) by name; restores the RNG state if
  /// `restore_rng`. Throws CheckpointError naming the file and the module that does not fit.
  /// Returns meta().
  const nlohmann::json& load(const NamedModules& modules, const NamedOptimizers& optimizers, bool restore_rng);

 private:
  std::filesystem::path path_;
  torch::serialize::InputArchive archive_;
  nlohmann::json meta_;
};

/// Checkpoint(path).meta(): only the metadata.
nlohmann::json read_checkpoint_meta(const std::filesystem::path& path);

/// Checkpoint(path).load(modules, optimizers, restore_rng).
nlohmann::json load_checkpoint(const std::filesystem::path& path, const NamedModules& modules,
                               const NamedOptimizers& optimizers, bool restore_rng);

}  // namespace fashioncut::models
