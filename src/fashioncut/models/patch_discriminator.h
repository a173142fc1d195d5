// CUT's NLayerDiscriminator (PatchGAN) with the reference's `model.<index>` layout.
#pragma once

#include <torch/torch.h>

namespace fashioncut::models {

/// Options of `PatchDiscriminator` (defaults = CUT netD 'basic': n_layers 3, ndf 64, anti-aliased).
struct PatchDiscriminatorOptions {
  TORCH_ARG(int64_t, input_nc) = 3;     ///< channels of the judged image
  TORCH_ARG(int64_t, ndf) = 64;         ///< filters of the first conv
  TORCH_ARG(int64_t, n_layers) = 3;     ///< downsampling stages (>= 1)
  TORCH_ARG(bool, antialias) = true;    ///< stride-1 conv + BlurDownsample instead of stride-2 convs
  TORCH_ARG(double, init_gain) = 0.02;  ///< xavier-normal gain applied at construction (<= 0: keep LibTorch init)
};

/// PatchGAN: k4 p1 convs, LeakyReLU(0.2), instance norm (no affine) after all but the
/// first and last conv; channel multiplier min(2^n, 8); last conv -> 1 channel, no sigmoid
/// (LSGAN). Anti-aliased layout (n_layers 3): 0 Conv 1 LReLU 2 Blur | 3 Conv 4 IN 5 LReLU
/// 6 Blur | 7 Conv 8 IN 9 LReLU 10 Blur | 11 Conv 12 IN 13 LReLU | 14 Conv(->1).
/// x: [N,input_nc,H,W] -> raw scores [N,1,h,w], h = output_size(H) (256 -> 30, 64 -> 6, 32 -> 2).
struct PatchDiscriminatorImpl : torch::nn::Module {
  explicit PatchDiscriminatorImpl(const PatchDiscriminatorOptions& options = {});
  torch::Tensor forward(const torch::Tensor& x);

  /// Side of the score map for an input side `in` (<= 0 when the input is too small).
  int64_t output_size(int64_t in) const;

  void pretty_print(std::ostream& stream) const override;

  PatchDiscriminatorOptions options;
  torch::nn::Sequential model;
};
TORCH_MODULE(PatchDiscriminator);

}  // namespace fashioncut::models
