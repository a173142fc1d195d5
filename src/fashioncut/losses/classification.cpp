#include "fashioncut/losses/classification.h"

namespace fashioncut::losses {

namespace {

void check_logits(const torch::Tensor& logits, const char* where) {
  TORCH_CHECK(logits.dim() == 2, where, " expects logits [N, C], got ", logits.sizes());
  TORCH_CHECK(logits.size(0) > 0 && logits.size(1) > 0, where, " expects non-empty logits, got ",
              logits.sizes());
  TORCH_CHECK(logits.is_floating_point(), where, " expects floating-point logits, got ", logits.scalar_type());
}

}  // namespace

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  check_logits(logits, "cross_entropy");
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0), "cross_entropy expects labels [",
              logits.size(0), "], got ", labels.sizes());
  TORCH_CHECK(labels.scalar_type() == torch::kLong, "cross_entropy expects int64 labels, got ",
              labels.scalar_type());
  return torch::nn::functional::cross_entropy(logits, labels);
}

namespace {

/// Masked CE of `logits` against argmax(probs), rows kept where max(probs) > threshold.
PseudoLabelLoss masked_pseudo_label_loss(const torch::Tensor& logits, const torch::Tensor& probs, double threshold,
                                         const char* where) {
  TORCH_CHECK(threshold >= 0.0 && threshold <= 1.0, where, ": threshold must be in [0, 1], got ", threshold);
  PseudoLabelLoss out;
  {
    torch::NoGradGuard no_grad;
    auto [confidence, labels] = probs.max(/*dim=*/1);
    out.confidence = confidence;
    out.pseudo_labels = labels;
    out.mask = (confidence > threshold).to(logits.scalar_type());
  }
  const auto per_row = torch::nn::functional::cross_entropy(
      logits, out.pseudo_labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  out.loss = (per_row * out.mask).mean();
  out.acceptance_rate = out.mask.mean();
  return out;
}

}  // namespace

PseudoLabelLoss pseudo_label_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target_logits,
                                           double threshold) {
  check_logits(logits, "pseudo_label_cross_entropy");
  TORCH_CHECK(logits.sizes() == target_logits.sizes(),
              "pseudo_label_cross_entropy expects logits and target_logits of the same shape, got ",
              logits.sizes(), " and ", target_logits.sizes());
  return masked_pseudo_label_loss(logits, torch::softmax(target_logits.detach(), /*dim=*/1), threshold,
                                  "pseudo_label_cross_entropy");
}

PseudoLabelLoss pseudo_label_cross_entropy(const torch::Tensor& logits, double threshold) {
  return pseudo_label_cross_entropy(logits, logits, threshold);
}

torch::Tensor align_distribution(const torch::Tensor& probs, const torch::Tensor& class_prior) {
  TORCH_CHECK(probs.dim() == 2 && class_prior.dim() == 1 && class_prior.size(0) == probs.size(1),
              "align_distribution expects probs [N, C] and class_prior [C], got ", probs.sizes(), " and ",
              class_prior.sizes());
  TORCH_CHECK(class_prior.min().item<double>() > 0.0, "align_distribution: class_prior must be > 0");
  const auto scaled = probs / class_prior.to(probs.scalar_type()).unsqueeze(0);
  return scaled / scaled.sum(/*dim=*/1, /*keepdim=*/true);
}

PseudoLabelLoss aligned_pseudo_label_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target_logits,
                                                   const torch::Tensor& class_prior, double threshold) {
  check_logits(logits, "aligned_pseudo_label_cross_entropy");
  TORCH_CHECK(logits.sizes() == target_logits.sizes(),
              "aligned_pseudo_label_cross_entropy expects logits and target_logits of the same shape, got ",
              logits.sizes(), " and ", target_logits.sizes());
  const auto aligned =
      align_distribution(torch::softmax(target_logits.detach(), /*dim=*/1), class_prior.to(logits.device()));
  return masked_pseudo_label_loss(logits, aligned, threshold, "aligned_pseudo_label_cross_entropy");
}

PseudoLabelLoss aligned_pseudo_label_cross_entropy(const torch::Tensor& logits, const torch::Tensor& class_prior,
                                                   double threshold) {
  return aligned_pseudo_label_cross_entropy(logits, logits, class_prior, threshold);
}

torch::Tensor entropy_loss(const torch::Tensor& logits) {
  check_logits(logits, "entropy_loss");
  const auto log_p = torch::log_softmax(logits, /*dim=*/1);
  return -(log_p.exp() * log_p).sum(/*dim=*/1).mean();
}

}  // namespace fashioncut::losses
