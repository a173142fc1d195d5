// CUT's PatchSampleF (netF): samples the same random patch locations from every image
// of a batch and projects each feature vector with a small per-layer MLP.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace fashioncut::models {

/// Options of `PatchSampleMlp`.
struct PatchSampleMlpOptions {
  /// Input channels of each NCE layer (from `ResnetGenerator::nce_channels()`); one MLP each.
  explicit PatchSampleMlpOptions(std::vector<int64_t> in_channels) : in_channels_(std::move(in_channels)) {}
  TORCH_ARG(std::vector<int64_t>, in_channels);
  TORCH_ARG(int64_t, nc) = 256;         ///< MLP width and output dim (CUT netF_nc)
  TORCH_ARG(double, init_gain) = 0.02;  ///< xavier-normal gain applied at construction (<= 0: keep LibTorch init)
};

/// Result of `PatchSampleMlp::forward`.
struct PatchSamples {
  /// Per layer: [B*P, nc] unit-norm rows, image-major (row b*P + p = image b, patch p).
  std::vector<torch::Tensor> feats;
  /// Per layer: [P] int64 flat indices into H*W (same for every image), on the features' device.
  std::vector<torch::Tensor> patch_ids;
};

/// netF. MLP l (`mlp_<l>`) = Linear(C_l, nc) - ReLU - Linear(nc, nc), then x / (||x||_2 + 1e-7).
/// All MLPs are built in the constructor (CUT builds them lazily on the first batch), so an
/// optimizer created right after construction sees every parameter.
struct PatchSampleMlpImpl : torch::nn::Module {
  explicit PatchSampleMlpImpl(const PatchSampleMlpOptions& options);

  /// feats: one [B,C_l,H_l,W_l] map per layer (C_l = in_channels[l]).
  /// num_patches > 0: P_l = min(num_patches, H_l*W_l) locations per image and layer.
  /// patch_ids: empty -> draw ids as the first P_l entries of torch::randperm(H_l*W_l)
  /// (torch's generator, so torch::manual_seed makes it reproducible); otherwise the ids
  /// returned by an earlier call (the key pass), reused exactly for the query pass.
  PatchSamples forward(const std::vector<torch::Tensor>& feats, int64_t num_patches = 256,
                       const std::vector<torch::Tensor>& patch_ids = {});

  /// Number of layers (= MLPs).
  size_t num_layers() const { return mlps_.size(); }

  void pretty_print(std::ostream& stream) const override;

  PatchSampleMlpOptions options;

 private:
  std::vector<torch::nn::Sequential> mlps_;
};
TORCH_MODULE(PatchSampleMlp);

/// Row-wise L2 normalisation as CUT's Normalize(2): x / (||x||_2 + eps). x: [N, D].
torch::Tensor l2_normalize_rows(const torch::Tensor& x, double eps = 1e-7);

}  // namespace fashioncut::models
