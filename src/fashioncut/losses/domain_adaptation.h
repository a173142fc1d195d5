// Losses of the domain-adaptation baselines as run in thuml's Transfer-Learning-Library (TLL):
// DANN's domain loss, BSP, MDD's margin disparity and AFN's stepwise feature-norm loss.
// Gradient reversal is not part of any loss: methods insert models::grad_reverse /
// models::WarmStartGrl between the features and the discriminator or adversarial head.
#pragma once
#include <torch/torch.h>

namespace fashioncut::losses {

/// Result of dann_domain_loss.
struct DomainLoss {
  torch::Tensor loss;      ///< 0-dim, >= 0, differentiable in the discriminator logits
  torch::Tensor accuracy;  ///< 0-dim in [0, 1], no gradient (TLL reports the same in percent)
};

/// DANN domain-classification loss (TLL tllib/alignment/dann.py DomainAdversarialLoss):
///   loss = 0.5 * ( BCE(D(f_s), 1) + BCE(D(f_t), 0) )      (source label 1, target label 0)
///   accuracy = 0.5 * ( mean[sigma(d_s) >= 0.5] + mean[sigma(d_t) < 0.5] )
/// TLL's discriminator ends in Sigmoid and uses F.binary_cross_entropy on probabilities. Here the
/// discriminator returns LOGITS (models::DomainDiscriminator has no Sigmoid) and the loss is
/// BCE-with-logits: the same value in exact arithmetic, but finite for saturated logits
/// (TLL's BCE clamps log(p) at -100 instead).
///
/// d_source: [Ns] or [Ns, 1] discriminator logits on source features (after the GRL).
/// d_target: [Nt] or [Nt, 1] discriminator logits on target features.
/// requires: Ns > 0, Nt > 0, both floating point.
/// ensures: loss >= 0; loss == log 2 when every logit is 0.
DomainLoss dann_domain_loss(const torch::Tensor& d_source, const torch::Tensor& d_target);

/// Batch spectral penalization (TLL tllib/alignment/bsp.py BatchSpectralPenalizationLoss, k = 1):
///   loss = sigma_1(f_s)^2 + sigma_1(f_t)^2
/// with sigma_1 the largest singular value of each domain's feature matrix (torch.linalg.svdvals;
/// TLL uses torch.svd, same values and gradient 2 sigma_1 u_1 v_1^T for a simple sigma_1).
///
/// f_source: [Ns, F], f_target: [Nt, F] bottleneck features (TLL: 32 x 256).
/// requires: both 2-D and non-empty.
/// ensures: returns a 0-dim tensor >= 0; for a rank-1 f = u v^T the domain term is ||u||^2 ||v||^2.
torch::Tensor bsp_loss(const torch::Tensor& f_source, const torch::Tensor& f_target);

/// MDD margin disparity discrepancy (TLL tllib/alignment/mdd.py
/// ClassificationMarginDisparityDiscrepancy, margin gamma):
///   h_s = argmax y_s, h_t = argmax y_t          (main head; argmax has no gradient)
///   L_s,i = CE(y_s_adv,i, h_s,i)                 (source_discrepancy)
///   L_t,i = log(min(1 - softmax(y_t_adv,i)[h_t,i] + 1e-6, 1))   (target_discrepancy: -NLL of shift_log)
///   mdd  = -gamma * mean_i L_s,i + mean_j L_t,j
/// Returned is this discrepancy D itself, NOT a loss to minimise. TLL's example (examples/mdd.py)
/// trains with
///   transfer_loss = -mdd(y_s, y_s_adv, y_t, y_t_adv);  loss = CE(y_s, labels) + trade_off(1.0) * transfer_loss
/// i.e. total = cross_entropy(y_s, labels) - trade_off * mdd_loss(...). Minimising -D makes the
/// adversarial head MAXIMISE D (agree with the main head on source, disagree on target); the
/// features see D through the GRL (hi 0.1) in front of the adversarial head, so they MINIMISE it.
/// TLL takes the elementwise sum before the mean, which needs Ns == Nt; the split means above
/// give the same value then and also accept Ns != Nt.
///
/// y_s, y_s_adv: [Ns, C] logits of the main and adversarial head on source.
/// y_t, y_t_adv: [Nt, C] the same on target.
/// requires: shapes as above, C >= 2, Ns, Nt > 0, margin >= 0.
/// ensures: returns a 0-dim tensor <= 0 (both terms are <= 0); gradient only into y_s_adv, y_t_adv.
torch::Tensor mdd_loss(const torch::Tensor& y_s, const torch::Tensor& y_s_adv, const torch::Tensor& y_t,
                       const torch::Tensor& y_t_adv, double margin = 4.0 /* TLL mdd.py margin default 4 */);

/// Offset inside MDD's shift_log (TLL mdd.py shift_log offset default 1e-6).
inline constexpr double kMddShiftLogOffset = 1e-6;

/// AFN stepwise adaptive feature-norm loss for ONE domain (TLL tllib/normalization/afn.py
/// StepwiseAdaptiveFeatureNorm):
///   loss = mean_i ( ||f_i||_2 - (||f_i||_2.detach() + delta) )^2
/// Its VALUE is always delta^2; what matters is the gradient -2 delta / N * f_i / ||f_i||, which
/// pushes every feature norm up by a step of delta. The AFN method sums it over both domains:
/// norm_loss = afn_loss(f_s) + afn_loss(f_t), total = CE + trade_off_norm(0.05) * norm_loss.
///
/// features: [N, F] bottleneck output (after the L2-preserved dropout).
/// delta: the step Delta r (TLL afn.py -r default 1.0; its VisDA script uses 0.3).
/// requires: 2-D, N > 0, delta >= 0.
/// ensures: returns a 0-dim tensor equal to delta^2 (0 at delta = 0, 1 at delta = 1).
torch::Tensor afn_loss(const torch::Tensor& features, double delta = 1.0 /* TLL afn.py --delta default 1.0 */);

}  // namespace fashioncut::losses
