// Finding and loading a trained model for inference: a run directory, its `model.pt`, a
// training checkpoint (module "C" / "G"), or a CUT reference `latest_net_G.pth`.
// Needs models/ only (never the training code).
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "fashioncut/data/transforms.h"
#include "fashioncut/models/classifier.h"
#include "fashioncut/models/resnet_generator.h"

namespace fashioncut::eval {

/// A classifier ready for inference (eval mode, on the CPU until moved).
struct LoadedClassifier {
  models::Classifier model{nullptr};
  models::ClassifierSpec spec;
  std::filesystem::path file;  ///< the file the weights came from
  nlohmann::json meta;         ///< the checkpoint metadata
};

/// `model` may be: a run directory (uses `model.pt`, else `checkpoints/best.pt`, else
/// `checkpoints/latest.pt`), a `model.pt` (kind "classifier", module "classifier") or a training
/// checkpoint (kind "training-checkpoint", module "C"). Throws CheckpointError naming the path
/// and what was expected when none fits (e.g. a CUT-only run has no classifier).
LoadedClassifier load_classifier(const std::filesystem::path& model);

/// The preprocessing the classifier was trained with: spec.image_size square, spec.in_channels
/// channels, spec.normalization; resize = stretch to a square (as training does: the aspect
/// ratio is not kept), no crop, no flip. Throws CheckpointError for an unknown normalization.
data::TransformOptions inference_transform(const models::ClassifierSpec& spec);

/// A CUT generator ready for inference (eval mode, CPU).
struct LoadedGenerator {
  models::ResnetGenerator model{nullptr};
  std::filesystem::path file;
  std::string description;  ///< e.g. "CUT reference state_dict (ngf 64, 9 blocks, antialias)"
};

/// `model` may be: a run directory of a CUT method (`checkpoints/best.pt`, else `latest.pt`:
/// module "G", options from the stored config), a training checkpoint with a "G" module, or a
/// PyTorch state_dict file of CUT's ResnetGenerator (`latest_net_G.pth`, keys `model.<i>.*`;
/// ngf, n_blocks, channels and the anti-aliasing switches are inferred from keys and shapes).
/// Throws CheckpointError naming the file when it holds no generator.
LoadedGenerator load_generator(const std::filesystem::path& model);

/// ResnetGeneratorOptions that reproduce exactly the keys and shapes of a CUT generator
/// state_dict. Throws CheckpointError (naming `source`) when no layout fits.
models::ResnetGeneratorOptions infer_generator_options(
    const std::vector<std::pair<std::string, torch::Tensor>>& entries, const std::string& source);

/// Value of a flat `key = value` line of a TOML text (as CLI11 writes it; `-`/`_` spellings
/// both match; quotes stripped), or `fallback` when absent.
std::string toml_value(const std::string& toml, const std::string& key, const std::string& fallback);

}  // namespace fashioncut::eval
