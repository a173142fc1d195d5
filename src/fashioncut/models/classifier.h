// The shipped classifier: a torchvision-named ResNet backbone, optionally followed by a
// bottleneck and a separate head (the TLL baselines). Everything needed to rebuild it
// for inference (architecture, class names, preprocessing) is in ClassifierSpec, stored
// in every checkpoint and in `model.pt`.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fashioncut/models/resnet.h"

namespace fashioncut::models {

/// How to rebuild a classifier and feed it.
struct ClassifierSpec {
  std::string arch = "resnet18";     ///< resnet18 | resnet34 | resnet50
  int64_t in_channels = 3;           ///< 1 or 3
  bool small_input = false;          ///< 3x3 stem without max-pool
  std::vector<std::string> classes;  ///< class names; index = label
  int64_t bottleneck_dim = 0;        ///< 0 = the ResNet's own `fc` is the head (torchvision layout)
  std::string bottleneck = "none";   ///< none | bn-relu (DANN/BSP) | bn-relu-dropout (MDD) | afn
  double dropout = 0.5;              ///< dropout of bn-relu-dropout / afn bottlenecks
  int64_t head_hidden = 0;           ///< MDD: width of the hidden head layer (0 = linear head)
  int64_t image_size = 32;           ///< input side the model was trained at
  std::string normalization = "minus-one-one";  ///< minus-one-one | imagenet

  int64_t num_classes() const { return static_cast<int64_t>(classes.size()); }
  int64_t depth() const;  ///< 18, 34 or 50 from arch; throws ConfigError otherwise
  nlohmann::json to_json() const;
  /// Throws CheckpointError on missing/invalid fields.
  static ClassifierSpec from_json(const nlohmann::json& j);
};

/// Backbone -> [bottleneck -> head]. Parameter names: `backbone.<torchvision names>`,
/// `bottleneck.*`, `head.*`.
struct ClassifierImpl : torch::nn::Module {
  explicit ClassifierImpl(const ClassifierSpec& spec);
  /// x: [N, in_channels, H, W] normalised per spec -> logits [N, num_classes].
  torch::Tensor forward(const torch::Tensor& x);
  /// Features the adaptation losses act on: bottleneck output if any, else pooled backbone features [N, F].
  torch::Tensor features(const torch::Tensor& x);
  /// logits from features(x) (so a method can compute both with one backbone pass).
  torch::Tensor logits_from_features(const torch::Tensor& f);
  int64_t feature_dim() const;

  ClassifierSpec spec;
  ResNet backbone{nullptr};
  torch::nn::Sequential bottleneck{nullptr};  ///< absent when spec.bottleneck == "none"
  torch::nn::Sequential head{nullptr};        ///< absent when spec.bottleneck == "none"
};
TORCH_MODULE(Classifier);

}  // namespace fashioncut::models
