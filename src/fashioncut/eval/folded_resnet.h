// An inference-only copy of a ResNet backbone with every BatchNorm folded into the conv
// before it (w' = w * g / sqrt(v + eps), b' = beta - mean * g / sqrt(v + eps)), so eval
// runs one fused conv+bias per layer instead of conv then a separate BN pass.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "fashioncut/models/resnet.h"

namespace fashioncut::eval {

/// A conv with its BN folded in: weight [O,I,k,k], bias [O]. With `packed` (oneDNN's blocked
/// weight layout, see FoldedResNet::to) the conv runs on oneDNN tensors.
struct FoldedConv {
  torch::Tensor weight, bias;
  torch::Tensor packed;  ///< weight reordered for oneDNN once, or undefined
  int64_t stride = 1, padding = 0;
  torch::Tensor forward(const torch::Tensor& x) const;
};

/// Frozen, BN-folded copy of a ResNet (BasicBlock or Bottleneck) backbone. Outputs equal the
/// eval-mode ResNet's to float rounding (~1e-5). The source module is not changed.
class FoldedResNet {
 public:
  explicit FoldedResNet(const models::ResNet& resnet);
  /// Pooled features [N, F] (as ResNet::features in eval mode). x: [N,C,H,W].
  torch::Tensor features(const torch::Tensor& x) const;
  /// Logits of the ResNet's own `fc` [N, num_classes]; the fc runs in float32.
  torch::Tensor forward(const torch::Tensor& x) const;
  /// Moves/casts every folded tensor (e.g. to bf16 or to a GPU). The fc stays float32.
  /// `blocked_layout` (CPU, float32, LibTorch built with oneDNN; ignored otherwise): the conv
  /// weights are reordered into oneDNN's blocked layout once here and the activations stay in it
  /// from the stem to the pooling (PyTorch's torch.utils.mkldnn.to_mkldnn does the same), so no
  /// layer reorders its input or weights per call. Outputs are the same to float rounding.
  void to(torch::Device device, torch::ScalarType conv_dtype, bool blocked_layout = false);
  /// Whether the blocked oneDNN layout is in use (see to()).
  bool blocked_layout() const { return blocked_; }

 private:
  struct Block {
    std::vector<FoldedConv> convs;  ///< 2 (BasicBlock) or 3 (Bottleneck)
    bool has_downsample = false;
    FoldedConv downsample;
  };
  FoldedConv stem_;
  bool small_input_ = false;
  bool blocked_ = false;
  std::vector<Block> blocks_;
  torch::Tensor fc_weight_, fc_bias_;
};

/// Folds `bn` (eval statistics) into `conv`. Exposed for tests.
FoldedConv fold_conv_bn(const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& bn);

}  // namespace fashioncut::eval
