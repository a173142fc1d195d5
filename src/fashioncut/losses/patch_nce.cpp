#include "fashioncut/losses/patch_nce.h"

namespace fashioncut::losses {

torch::Tensor patch_nce_loss(const torch::Tensor& feat_q, const torch::Tensor& feat_k,
                             const PatchNceOptions& options) {
  TORCH_CHECK(feat_q.dim() == 2, "patch_nce_loss expects feat_q [B*P, C], got ", feat_q.sizes());
  TORCH_CHECK(feat_q.sizes() == feat_k.sizes(), "patch_nce_loss expects feat_q and feat_k of the same shape, got ",
              feat_q.sizes(), " and ", feat_k.sizes());
  TORCH_CHECK(feat_q.size(0) > 0, "patch_nce_loss expects at least one patch");
  TORCH_CHECK(options.batch_size() > 0, "patch_nce_loss: batch_size must be positive, got ", options.batch_size());
  TORCH_CHECK(feat_q.size(0) % options.batch_size() == 0, "patch_nce_loss: ", feat_q.size(0),
              " rows are not a multiple of batch_size ", options.batch_size());
  TORCH_CHECK(options.tau() > 0.0, "patch_nce_loss: tau must be positive, got ", options.tau());

  const int64_t dim = feat_q.size(1);
  // The key side is the source image's features: a fixed target, never pushed by this loss.
  const auto feat_k_const = feat_k.detach();

  // Positive logit: each query against the key at the same location.  [R, 1]
  const auto l_pos = (feat_q * feat_k_const).sum(/*dim=*/1, /*keepdim=*/true);

  // Negatives come from the same image only (CUT: "batch_dim_for_bmm = batch_size"), because
  // patches of other images are not comparable internal negatives; SinCUT uses the whole batch.
  const int64_t groups = options.all_negatives_from_minibatch() ? 1 : options.batch_size();
  const auto q = feat_q.reshape({groups, -1, dim});
  const auto k = feat_k_const.reshape({groups, -1, dim});
  const int64_t per_group = q.size(1);
  auto l_neg = torch::bmm(q, k.transpose(1, 2));  // [G, M, M]
  const auto diagonal =
      torch::eye(per_group, torch::TensorOptions().dtype(torch::kBool).device(feat_q.device())).unsqueeze(0);
  l_neg = l_neg.masked_fill(diagonal, kPatchNceMaskedLogit).reshape({-1, per_group});  // [R, M]

  const auto logits = torch::cat({l_pos, l_neg}, /*dim=*/1) / options.tau();  // [R, 1 + M]
  // Cross-entropy with target index 0 for every row, reduction 'none'.
  return -torch::log_softmax(logits, /*dim=*/1).select(/*dim=*/1, /*index=*/0);
}

torch::Tensor patch_nce_loss_mean(const torch::Tensor& feat_q, const torch::Tensor& feat_k,
                                  const PatchNceOptions& options) {
  return patch_nce_loss(feat_q, feat_k, options).mean();
}

torch::Tensor patch_nce_multi(const std::vector<torch::Tensor>& layers_q,
                              const std::vector<torch::Tensor>& layers_k,
                              const PatchNceOptions& options) {
  TORCH_CHECK(!layers_q.empty(), "patch_nce_multi expects at least one layer");
  TORCH_CHECK(layers_q.size() == layers_k.size(), "patch_nce_multi: ", layers_q.size(),
              " query layers but ", layers_k.size(), " key layers");
  torch::Tensor total;
  for (size_t l = 0; l < layers_q.size(); ++l) {
    const auto layer = patch_nce_loss_mean(layers_q[l], layers_k[l], options);
    total = total.defined() ? total + layer : layer;
  }
  return total / static_cast<double>(layers_q.size());
}

}  // namespace fashioncut::losses
