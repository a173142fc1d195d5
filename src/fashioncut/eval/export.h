// `fashioncut export`: the classifier as a torchvision-loadable ResNet state_dict plus a
// JSON sidecar that says how to build the model and feed it.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fashioncut/eval/model_loader.h"

namespace fashioncut::eval {

/// The sidecar: class names, input size, channels, normalisation (mean/std per channel),
/// arch, and the Python lines that build a matching torchvision model (small-input stem /
/// gray input patches included).
nlohmann::json export_sidecar(const models::ClassifierSpec& spec, const std::filesystem::path& weights_file);

/// Writes `out` (torchvision names: the backbone's state_dict without the `backbone.` prefix,
/// `fc` = the class head) and `out` with extension .json. Only for spec.bottleneck == "none"
/// (a bottleneck/head classifier has no torchvision equivalent): ConfigError otherwise.
/// Returns the sidecar path.
std::filesystem::path export_torchvision(const LoadedClassifier& classifier, const std::filesystem::path& out);

}  // namespace fashioncut::eval
