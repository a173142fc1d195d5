// Anti-aliased resampling of the CUT reference ("blur-pool", Zhang 2019): a fixed,
// normalised binomial filter applied depthwise, stored as a buffer named `filt`
// so state_dict keys match CUT's `Downsample` / `Upsample` (e.g. `model.7.filt`).
#pragma once

#include <torch/torch.h>

namespace fashioncut::models {

/// Normalised 2-D binomial filter outer(a, a) / sum, a = row `size-1` of Pascal's
/// triangle ([1,2,1] for 3, [1,3,3,1] for 4). Returns [size, size], float32.
torch::Tensor binomial_filter(int64_t size);

/// Options of `BlurDownsample`.
struct BlurDownsampleOptions {
  explicit BlurDownsampleOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);       ///< input (= output) channels
  TORCH_ARG(int64_t, filt_size) = 3;  ///< binomial filter size (CUT: 3)
};

/// CUT `Downsample`: reflect pad [1,1,1,1], depthwise conv with the fixed filter, stride 2.
/// x: [N,C,H,W] (H,W >= 2) -> [N,C,ceil(H/2),ceil(W/2)].
/// Buffer `filt`: [C,1,k,k] (not a parameter: never trained).
struct BlurDownsampleImpl : torch::nn::Module {
  explicit BlurDownsampleImpl(const BlurDownsampleOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  void reset();
  void pretty_print(std::ostream& stream) const override;

  BlurDownsampleOptions options;
  torch::Tensor filt;
};
TORCH_MODULE(BlurDownsample);

/// Options of `BlurUpsample`.
struct BlurUpsampleOptions {
  explicit BlurUpsampleOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);       ///< input (= output) channels
  TORCH_ARG(int64_t, filt_size) = 4;  ///< binomial filter size (CUT: 4)
};

/// CUT `Upsample`: replicate pad 1, depthwise transposed conv (filter * stride^2 = 4),
/// stride 2, padding 2, then crop to exactly [N,C,2H,2W].
/// Buffer `filt`: [C,1,k,k].
struct BlurUpsampleImpl : torch::nn::Module {
  explicit BlurUpsampleImpl(const BlurUpsampleOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  void reset();
  void pretty_print(std::ostream& stream) const override;

  BlurUpsampleOptions options;
  torch::Tensor filt;
};
TORCH_MODULE(BlurUpsample);

/// CUT's norm layer for G and D: InstanceNorm2d(c, affine=False, track_running_stats=False).
inline torch::nn::InstanceNorm2d cut_instance_norm(int64_t channels) {
  return torch::nn::InstanceNorm2d(
      torch::nn::InstanceNorm2dOptions(channels).affine(false).track_running_stats(false));
}

}  // namespace fashioncut::models
