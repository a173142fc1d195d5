// CUT's ResnetGenerator (Park et al. 2020, models/networks.py) with the reference's
// module layout, so parameter/buffer names are `model.<index>.<...>` exactly as in a
// CUT `latest_net_G.pth` (e.g. `model.1.weight`, `model.7.filt`,
// `model.12.conv_block.1.weight`).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace fashioncut::models {

/// Options of `ResnetGenerator` (defaults = CUT's resnet_9blocks, anti-aliased).
struct ResnetGeneratorOptions {
  TORCH_ARG(int64_t, input_nc) = 3;       ///< channels of the input image
  TORCH_ARG(int64_t, output_nc) = 3;      ///< channels of the output image
  TORCH_ARG(int64_t, ngf) = 64;           ///< filters of the first conv
  TORCH_ARG(int64_t, n_blocks) = 9;       ///< residual blocks at 1/4 resolution (>= 1)
  TORCH_ARG(bool, antialias) = true;      ///< blur-pool downsampling (CUT: !no_antialias)
  TORCH_ARG(bool, antialias_up) = true;   ///< blur upsampling (CUT: !no_antialias_up)
  TORCH_ARG(double, init_gain) = 0.02;    ///< xavier-normal gain applied at construction (<= 0: keep LibTorch init)
  /// Residual translator (not in CUT): forward = clamp(x + net(x), -1, 1) with the last conv
  /// zero-initialised, so G starts as the identity and learns only the change towards the
  /// target; for short budgets where a GAN from scratch has not yet learnt to keep the content.
  /// Needs input_nc == output_nc.
  TORCH_ARG(bool, residual) = false;
};

/// CUT ResnetBlock: out = x + conv_block(x), conv_block = [ReflPad1, Conv3x3, IN, ReLU,
/// ReflPad1, Conv3x3, IN] (parameters `conv_block.1.*`, `conv_block.5.*`).
/// x: [N,dim,H,W] with H,W >= 2 -> same shape.
struct ResnetBlockImpl : torch::nn::Module {
  explicit ResnetBlockImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  int64_t dim;
  torch::nn::Sequential conv_block;
};
TORCH_MODULE(ResnetBlock);

/// CUT generator. Layout with both anti-aliasing switches on (ngf = 64, 9 blocks):
///   0 ReflPad3  1 Conv7x7(3->64)  2 IN  3 ReLU
///   4 Conv3x3(64->128)  5 IN  6 ReLU  7 BlurDownsample
///   8 Conv3x3(128->256) 9 IN 10 ReLU 11 BlurDownsample
///   12..20 ResnetBlock(256)
///   21 BlurUpsample 22 Conv3x3(256->128) 23 IN 24 ReLU
///   25 BlurUpsample 26 Conv3x3(128->64)  27 IN 28 ReLU
///   29 ReflPad3 30 Conv7x7(64->3) 31 Tanh
/// Without antialias the downsampling convs have stride 2 and no blur module (indices shift
/// by one per stage, as in CUT); without antialias_up the upsampling is ConvTranspose2d k3 s2.
/// Instance norm has no affine parameters; every conv has a bias (CUT: use_bias with IN).
struct ResnetGeneratorImpl : torch::nn::Module {
  explicit ResnetGeneratorImpl(const ResnetGeneratorOptions& options = {});

  /// x: [N,input_nc,H,W], H,W >= 8, values in [-1,1] -> [N,output_nc,H,W] in (-1,1).
  /// Sizes that are not multiples of 4 are reflect-padded (bottom/right) to the next
  /// multiple of 4 and the result is cropped back, so any H,W >= 8 works.
  torch::Tensor forward(const torch::Tensor& x);

  /// Features after each listed index of `model` (strictly increasing, each < size()),
  /// stopping after the last one (CUT's encode_only). No padding is applied: at
  /// H,W multiples of 4 the maps are exactly CUT's. Empty `layer_ids` = default_nce_layers().
  /// x: [N,input_nc,H,W] -> one [N,C_l,H_l,W_l] tensor per id, C_l = nce_channels()[l].
  std::vector<torch::Tensor> encode(const torch::Tensor& x, std::vector<int64_t> layer_ids = {});

  /// forward(x) that also returns the features encode(x, layer_ids) would, taken from the same
  /// pass, so PatchNCE keys on the real images need no second encoder pass (CUT recomputes them).
  /// At H,W multiples of 4 `feats` equal encode(x, layer_ids) and `out` equals forward(x); at
  /// other sizes the features are those of the reflect-padded input forward() uses.
  /// x: [N,input_nc,H,W] -> out [N,output_nc,H,W], feats as encode().
  struct Output {
    torch::Tensor out;
    std::vector<torch::Tensor> feats;
  };
  Output forward_with_features(const torch::Tensor& x, std::vector<int64_t> layer_ids = {});
  /// clamp(x + y, -1, 1) for a residual generator, else y.
  torch::Tensor residual_output(const torch::Tensor& x, const torch::Tensor& y) const;

  /// Output channels of the listed `model` indices (empty = default_nce_layers()).
  /// At ngf 64 with the defaults: [3,128,256,256,256].
  std::vector<int64_t> nce_channels(std::vector<int64_t> layer_ids = {}) const;

  /// CUT's nce_layers 0,4,8,12,16, each clamped to the last residual block's index
  /// (duplicates dropped) so they stay encoder features for n_blocks < 5:
  /// e.g. n_blocks = 1 (antialias) -> {0,4,8,12}. For n_blocks >= 5 (and for 3+ blocks
  /// without antialias) this equals CUT's list exactly.
  std::vector<int64_t> default_nce_layers() const;

  /// Index of the first / last ResnetBlock in `model`.
  int64_t first_block_index() const;
  int64_t last_block_index() const;

  void pretty_print(std::ostream& stream) const override;

  ResnetGeneratorOptions options;
  torch::nn::Sequential model;

 private:
  std::vector<int64_t> out_channels_;  ///< output channels of each `model` index
  std::vector<int64_t> resolve_layers(std::vector<int64_t> layer_ids) const;
};
TORCH_MODULE(ResnetGenerator);

}  // namespace fashioncut::models
