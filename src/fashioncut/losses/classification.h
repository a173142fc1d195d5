// Classification losses: cross-entropy, confidence-masked pseudo-label cross-entropy
// (TLL ConfidenceBasedSelfTrainingLoss) and prediction entropy.
#pragma once
#include <torch/torch.h>

namespace fashioncut::losses {

/// Mean cross-entropy of logits against integer labels (torch F.cross_entropy, mean reduction).
///
/// logits: [N, C] unnormalised scores (any real values). labels: [N] int64 in [0, C).
/// requires: N > 0, C > 0, labels in range (checked by torch).
/// ensures: returns a 0-dim tensor >= 0; equals log C when every row of logits is constant.
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels);

/// Result of pseudo_label_cross_entropy. Everything but `loss` carries no gradient.
struct PseudoLabelLoss {
  torch::Tensor loss;             ///< 0-dim: mean over ALL N rows of CE(logits_i, yhat_i) * mask_i
  torch::Tensor mask;             ///< [N] float in {0,1}: 1 where confidence > threshold
  torch::Tensor pseudo_labels;    ///< [N] int64: argmax of softmax(target_logits)
  torch::Tensor confidence;       ///< [N] float in [1/C, 1]: max softmax(target_logits)
  torch::Tensor acceptance_rate;  ///< 0-dim float in [0,1]: mean(mask) (a tensor: no device sync)
};

/// Confidence-based self-training loss (TLL tllib/self_training/pseudo_label.py
/// ConfidenceBasedSelfTrainingLoss):
///   conf_i, yhat_i = max_c softmax(target_logits.detach())_ic
///   mask_i = conf_i > threshold          (strict; threshold 0 accepts every row)
///   loss = (1/N) sum_i CE(logits_i, yhat_i) * mask_i
/// The mean runs over the whole batch, not over accepted rows, so few acceptances give a small
/// loss (as in TLL/FixMatch).
///
/// logits: [N, C] the predictions being trained (FixMatch: strong view).
/// target_logits: [N, C] the predictions that choose the labels (FixMatch: weak view); detached.
/// threshold: in [0, 1] (FixMatch example default 0.9).
/// requires: logits.sizes() == target_logits.sizes(), N > 0, 0 <= threshold <= 1.
/// ensures: loss >= 0; loss == 0 when no row is accepted; gradient flows into `logits` only.
PseudoLabelLoss pseudo_label_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target_logits,
                                           double threshold);

/// Same with the labels chosen by `logits` itself (single-view self-training).
PseudoLabelLoss pseudo_label_cross_entropy(const torch::Tensor& logits, double threshold);

/// Distribution alignment (ReMixMatch, Berthelot et al. 2020): rescales each row of the class
/// probabilities `probs` [N, C] by (1/C) / class_prior and renormalises, so that a classifier whose
/// predictions drift towards a few classes (the running mean `class_prior` [C] of its target
/// predictions) picks its pseudo-labels as if the target classes were balanced.
///   aligned_ic = probs_ic / prior_c / sum_k (probs_ik / prior_k)
/// requires: probs rows are distributions, class_prior > 0 with C entries.
/// ensures: rows of the result sum to 1; a uniform prior returns `probs` unchanged.
torch::Tensor align_distribution(const torch::Tensor& probs, const torch::Tensor& class_prior);

/// Confidence-masked self-training with distribution-aligned labels: as
/// pseudo_label_cross_entropy(logits, threshold), but yhat and confidence come from
/// align_distribution(softmax(logits.detach()), class_prior). Counters pseudo-label collapse onto
/// the classes the classifier already over-predicts.
PseudoLabelLoss aligned_pseudo_label_cross_entropy(const torch::Tensor& logits, const torch::Tensor& class_prior,
                                                   double threshold);

/// Same with the labels chosen by other predictions of the same rows, e.g. a teacher's (an
/// average of the classifier's weights): yhat and confidence come from
/// align_distribution(softmax(target_logits.detach()), class_prior); the loss trains `logits`.
/// requires: logits.sizes() == target_logits.sizes().
PseudoLabelLoss aligned_pseudo_label_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target_logits,
                                                   const torch::Tensor& class_prior, double threshold);

/// Mean prediction entropy H = (1/N) sum_i -sum_c p_ic log p_ic with p = softmax(logits).
///
/// Used by AFN's optional entropy term on target predictions (TLL afn.py trade_off_entropy) and for
/// label-free model selection. Computed with log_softmax, i.e. exactly, whereas TLL's
/// tllib.modules.entropy takes probabilities and adds epsilon 1e-5 inside the log (a difference of
/// at most ~1e-5 * C).
/// logits: [N, C] unnormalised scores.
/// requires: N > 0, C > 0.
/// ensures: returns a 0-dim tensor in [0, log C]; log C for constant rows.
torch::Tensor entropy_loss(const torch::Tensor& logits);

}  // namespace fashioncut::losses
