// PatchNCE contrastive loss of CUT (models/patchnce.py PatchNCELoss and
// models/cut_model.py calculate_NCE_loss).
#pragma once
#include <torch/torch.h>

#include <vector>

namespace fashioncut::losses {

/// Options of the PatchNCE loss. batch_size has no default on purpose: with the wrong value the
/// negatives silently come from other images.
struct PatchNceOptions {
  /// batch_size: number of images B whose P patches are stacked in the [B*P, C] inputs.
  explicit PatchNceOptions(int64_t batch_size) : batch_size_(batch_size) {}
  /// Images in the minibatch (CUT opt.batch_size); rows of q/k are image-major: row = b*P + p.
  TORCH_ARG(int64_t, batch_size);
  /// Temperature tau (CUT --nce_T, default 0.07).
  TORCH_ARG(double, tau) = 0.07;
  /// Take negatives from every image of the minibatch instead of the same image only
  /// (CUT --nce_includes_all_negatives_from_minibatch, default False; used by SinCUT only).
  TORCH_ARG(bool, all_negatives_from_minibatch) = false;
};

/// Value written on the diagonal of the negative-logit matrix before dividing by tau
/// (CUT patchnce.py `masked_fill_(diagonal, -10.0)`): the positive pair is not a negative.
inline constexpr double kPatchNceMaskedLogit = -10.0;

/// PatchNCE for one encoder layer, per patch.
///
/// feat_q: [B*P, C] query features (from the translated image), rows L2-normalised (unit norm).
/// feat_k: [B*P, C] key features (from the source image), same patch ids; DETACHED here, so no
///         gradient flows into feat_k (as CUT's PatchNCELoss does).
/// With G = B groups (or G = 1 if all_negatives_from_minibatch) and M = B*P/G patches per group,
/// for row i in group g:
///   l_pos_i = q_i . k_i
///   l_neg_ij = q_i . k_j for the M rows j of group g, with l_neg_ii replaced by -10
///   loss_i = -log softmax([l_pos_i, l_neg_i1..l_neg_iM] / tau)[0]   (cross-entropy to index 0)
/// requires: feat_q.sizes() == feat_k.sizes() == [R, C], R > 0, R % batch_size == 0, tau > 0.
/// ensures: returns [R] losses >= 0 on feat_q's device/dtype. For orthonormal rows and q = k,
///          every loss_i = log(1 + (M-1) e^{-1/tau} + e^{-11/tau}).
torch::Tensor patch_nce_loss(const torch::Tensor& feat_q, const torch::Tensor& feat_k,
                             const PatchNceOptions& options);

/// Mean of patch_nce_loss over the R patches: a 0-dim tensor >= 0.
torch::Tensor patch_nce_loss_mean(const torch::Tensor& feat_q, const torch::Tensor& feat_k,
                                  const PatchNceOptions& options);

/// PatchNCE over several encoder layers: the mean over layers of each layer's patch mean.
///
/// layers_q[l], layers_k[l]: [B*P_l, C_l] as in patch_nce_loss (C_l may differ per layer).
/// Equivalence with the reference: CUT's calculate_NCE_loss computes
///   sum_l mean(PatchNCELoss_l(q_l, k_l) * lambda_NCE) / n_layers = lambda_NCE * patch_nce_multi(...)
/// so the caller multiplies by lambda_NCE (and CUT's nce_idt averages two such terms with 0.5).
/// requires: layers_q.size() == layers_k.size() > 0, and each pair satisfies patch_nce_loss.
/// ensures: returns a 0-dim tensor >= 0.
torch::Tensor patch_nce_multi(const std::vector<torch::Tensor>& layers_q,
                              const std::vector<torch::Tensor>& layers_k,
                              const PatchNceOptions& options);

/// Functor form of patch_nce_multi holding its options (for methods that keep a loss member).
struct PatchNceLoss {
  PatchNceOptions options;
  /// See patch_nce_multi.
  torch::Tensor operator()(const std::vector<torch::Tensor>& layers_q,
                           const std::vector<torch::Tensor>& layers_k) const {
    return patch_nce_multi(layers_q, layers_k, options);
  }
};

}  // namespace fashioncut::losses
