#include "fashioncut/models/patch_sample_mlp.h"

#include "fashioncut/models/init.h"

namespace fashioncut::models {

namespace nn = torch::nn;

torch::Tensor l2_normalize_rows(const torch::Tensor& x, double eps) {
  TORCH_CHECK(x.dim() == 2, "l2_normalize_rows expects [N,D], got ", x.sizes());
  // eps^2 under the root: the gradient of sqrt at 0 is infinite, and an all-zero row (every
  // hidden unit of the MLP off, biases zero-initialised as in CUT) would turn it into NaN.
  // For any row of norm >> eps this changes the value by less than eps^2 / (2 norm).
  auto norm = (x.pow(2).sum(1, /*keepdim=*/true) + eps * eps).sqrt();
  return x / (norm + eps);
}

PatchSampleMlpImpl::PatchSampleMlpImpl(const PatchSampleMlpOptions& options_) : options(options_) {
  TORCH_CHECK(!options.in_channels().empty(), "PatchSampleMlp: in_channels must list at least one layer");
  TORCH_CHECK(options.nc() > 0, "PatchSampleMlp: nc must be > 0, got ", options.nc());
  for (size_t l = 0; l < options.in_channels().size(); ++l) {
    const int64_t c = options.in_channels()[l];
    TORCH_CHECK(c > 0, "PatchSampleMlp: in_channels[", l, "] must be > 0, got ", c);
    mlps_.push_back(register_module("mlp_" + std::to_string(l),
                                    nn::Sequential(nn::Linear(c, options.nc()), nn::ReLU(),
                                                   nn::Linear(options.nc(), options.nc()))));
  }
  if (options.init_gain() > 0) init_cut_weights(*this, options.init_gain());
}

PatchSamples PatchSampleMlpImpl::forward(const std::vector<torch::Tensor>& feats, int64_t num_patches,
                                         const std::vector<torch::Tensor>& patch_ids) {
  TORCH_CHECK(feats.size() == mlps_.size(), "PatchSampleMlp: expected ", mlps_.size(), " feature maps, got ",
              feats.size());
  TORCH_CHECK(num_patches > 0, "PatchSampleMlp: num_patches must be > 0, got ", num_patches);
  TORCH_CHECK(patch_ids.empty() || patch_ids.size() == feats.size(), "PatchSampleMlp: got ", patch_ids.size(),
              " patch id tensors for ", feats.size(), " layers");
  PatchSamples out;
  for (size_t l = 0; l < feats.size(); ++l) {
    const auto& feat = feats[l];
    TORCH_CHECK(feat.dim() == 4 && feat.size(1) == options.in_channels()[l], "PatchSampleMlp: layer ", l,
                " expects [B,", options.in_channels()[l], ",H,W], got ", feat.sizes());
    const int64_t b = feat.size(0), c = feat.size(1), hw = feat.size(2) * feat.size(3);
    auto flat = feat.permute({0, 2, 3, 1}).reshape({b, hw, c});  // [B, H*W, C]
    torch::Tensor ids;
    if (patch_ids.empty()) {
      // One permutation shared by the batch, drawn on the CPU generator for reproducibility
      // across devices (CUT avoids torch.randperm on GPU for the same reason, its issue #83).
      ids = torch::randperm(hw, torch::TensorOptions().dtype(torch::kLong)).slice(0, 0, std::min(num_patches, hw));
      ids = ids.to(feat.device());
    } else {
      ids = patch_ids[l];
      TORCH_CHECK(ids.dim() == 1 && ids.scalar_type() == torch::kLong, "PatchSampleMlp: patch_ids[", l,
                  "] must be a 1-D int64 tensor, got ", ids.sizes(), " ", ids.scalar_type());
      TORCH_CHECK(!ids.device().is_cpu() || ids.numel() == 0 || ids.max().item<int64_t>() < hw, "PatchSampleMlp: patch_ids[", l,
                  "] index out of range for ", hw, " locations");
      ids = ids.to(feat.device());
    }
    auto sample = flat.index_select(1, ids).reshape({-1, c});  // [B*P, C]
    out.feats.push_back(l2_normalize_rows(mlps_[l]->forward(sample)));
    out.patch_ids.push_back(ids);
  }
  return out;
}

void PatchSampleMlpImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::PatchSampleMlp(in_channels=[";
  for (size_t i = 0; i < options.in_channels().size(); ++i) stream << (i ? "," : "") << options.in_channels()[i];
  stream << "], nc=" << options.nc() << ")";
}

}  // namespace fashioncut::models
