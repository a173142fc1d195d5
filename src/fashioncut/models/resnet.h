// torchvision ResNet-18/34/50 classifier with torchvision's parameter names
// (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, fc, ...), so a torchvision
// state_dict loads by name.
#pragma once

#include <torch/torch.h>

namespace fashioncut::models {

/// Options of `ResNet`.
struct ResNetOptions {
  TORCH_ARG(int64_t, depth) = 18;          ///< 18, 34 (BasicBlock) or 50 (Bottleneck)
  TORCH_ARG(int64_t, num_classes) = 1000;  ///< size of the `fc` output
  TORCH_ARG(int64_t, in_channels) = 3;     ///< 1 (grayscale) or 3
  /// Stem for <= 64 px images: conv1 is 3x3 stride 1 pad 1 and there is no max pool
  /// (torchvision: 7x7 stride 2 conv + 3x3 stride 2 max pool, i.e. /4 before layer1).
  TORCH_ARG(bool, small_input) = false;
  TORCH_ARG(bool, zero_init_residual) = false;  ///< zero the last BN weight of each block (torchvision flag)
};

/// torchvision BasicBlock (expansion 1): conv1 3x3(stride) bn1 relu conv2 3x3 bn2 (+downsample) relu.
struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  static constexpr int64_t expansion = 1;
  // Declared (= initialised and registered) in torchvision's state_dict order.
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::BatchNorm2d bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  ///< conv1x1(stride)+BN when the shape changes, else absent
};
TORCH_MODULE(BasicBlock);

/// torchvision Bottleneck (v1.5, stride on the 3x3; expansion 4): conv1 1x1, conv2 3x3(stride), conv3 1x1.
struct BottleneckImpl : torch::nn::Module {
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  static constexpr int64_t expansion = 4;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::BatchNorm2d bn2{nullptr};
  torch::nn::Conv2d conv3{nullptr};
  torch::nn::BatchNorm2d bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

/// ResNet classifier. x: [N,in_channels,H,W] (ImageNet-normalised or [-1,1]; H,W >= 1 with
/// small_input, >= 32 recommended otherwise) -> logits [N,num_classes].
/// Init as torchvision: convs kaiming_normal(fan_out, relu), BN weight 1 / bias 0, fc LibTorch default.
struct ResNetImpl : torch::nn::Module {
  explicit ResNetImpl(const ResNetOptions& options = {});

  /// Logits: [N,num_classes].
  torch::Tensor forward(const torch::Tensor& x);
  /// Globally average-pooled features before `fc`: [N, feature_dim()].
  torch::Tensor features(const torch::Tensor& x);
  /// 512 (resnet18/34) or 2048 (resnet50).
  int64_t feature_dim() const;

  void pretty_print(std::ostream& stream) const override;

  ResNetOptions options;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear fc{nullptr};

 private:
  torch::nn::Sequential make_layer(int64_t planes, int64_t blocks, int64_t stride);
  int64_t inplanes_ = 64;
};
TORCH_MODULE(ResNet);

}  // namespace fashioncut::models
