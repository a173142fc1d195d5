#include "fashioncut/losses/domain_adaptation.h"

namespace fashioncut::losses {

namespace {

torch::Tensor flatten_logits(const torch::Tensor& d, const char* name) {
  TORCH_CHECK(d.dim() == 1 || (d.dim() == 2 && d.size(1) == 1), "dann_domain_loss expects ", name,
              " logits [N] or [N, 1], got ", d.sizes());
  TORCH_CHECK(d.size(0) > 0, "dann_domain_loss expects a non-empty ", name, " batch");
  TORCH_CHECK(d.is_floating_point(), "dann_domain_loss expects floating-point ", name, " logits");
  return d.reshape({-1});
}

void check_features(const torch::Tensor& f, const char* where, const char* name) {
  TORCH_CHECK(f.dim() == 2, where, " expects ", name, " features [N, F], got ", f.sizes());
  TORCH_CHECK(f.size(0) > 0 && f.size(1) > 0, where, " expects non-empty ", name, " features, got ", f.sizes());
}

void check_logit_pair(const torch::Tensor& y, const torch::Tensor& y_adv, const char* name) {
  TORCH_CHECK(y.dim() == 2 && y.size(0) > 0 && y.size(1) >= 2, "mdd_loss expects ", name,
              " logits [N, C] with N > 0 and C >= 2, got ", y.sizes());
  TORCH_CHECK(y.sizes() == y_adv.sizes(), "mdd_loss expects the ", name,
              " main and adversarial logits to have the same shape, got ", y.sizes(), " and ", y_adv.sizes());
}

}  // namespace

DomainLoss dann_domain_loss(const torch::Tensor& d_source, const torch::Tensor& d_target) {
  const auto d_s = flatten_logits(d_source, "source");
  const auto d_t = flatten_logits(d_target, "target");
  const auto loss_s = torch::binary_cross_entropy_with_logits(d_s, torch::ones_like(d_s));
  const auto loss_t = torch::binary_cross_entropy_with_logits(d_t, torch::zeros_like(d_t));
  DomainLoss out;
  out.loss = 0.5 * (loss_s + loss_t);
  {
    torch::NoGradGuard no_grad;
    // sigmoid(l) >= 0.5  <=>  l >= 0 (TLL binary_accuracy thresholds probabilities at 0.5).
    const auto acc_s = (d_s >= 0).to(d_s.scalar_type()).mean();
    const auto acc_t = (d_t < 0).to(d_t.scalar_type()).mean();
    out.accuracy = 0.5 * (acc_s + acc_t);
  }
  return out;
}

torch::Tensor bsp_loss(const torch::Tensor& f_source, const torch::Tensor& f_target) {
  check_features(f_source, "bsp_loss", "source");
  check_features(f_target, "bsp_loss", "target");
  // svdvals returns singular values in descending order; index 0 is sigma_1.
  const auto s_s = torch::linalg::svdvals(f_source, c10::nullopt);
  const auto s_t = torch::linalg::svdvals(f_target, c10::nullopt);
  return s_s[0].square() + s_t[0].square();
}

torch::Tensor mdd_loss(const torch::Tensor& y_s, const torch::Tensor& y_s_adv, const torch::Tensor& y_t,
                       const torch::Tensor& y_t_adv, double margin) {
  check_logit_pair(y_s, y_s_adv, "source");
  check_logit_pair(y_t, y_t_adv, "target");
  TORCH_CHECK(y_s.size(1) == y_t.size(1), "mdd_loss expects the same class count on both domains, got ",
              y_s.size(1), " and ", y_t.size(1));
  TORCH_CHECK(margin >= 0.0, "mdd_loss: margin must be >= 0, got ", margin);

  // Predicted labels of the main head; argmax carries no gradient.
  const auto h_s = y_s.detach().argmax(/*dim=*/1);
  const auto h_t = y_t.detach().argmax(/*dim=*/1);

  // Source disparity: the adversarial head should agree with the main head.  [Ns]
  const auto l_s = torch::nn::functional::cross_entropy(
      y_s_adv, h_s, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));

  // Target disparity: log(1 - p_adv[h_t]) with TLL's shift_log (offset, then clamp at 1 so the
  // log never exceeds 0; the offset keeps it finite when p_adv[h_t] = 1).  [Nt]
  const auto p_t_adv = torch::softmax(y_t_adv, /*dim=*/1).gather(1, h_t.unsqueeze(1)).squeeze(1);
  const auto l_t = torch::log(torch::clamp_max(1.0 - p_t_adv + kMddShiftLogOffset, 1.0));

  return -margin * l_s.mean() + l_t.mean();
}

torch::Tensor afn_loss(const torch::Tensor& features, double delta) {
  check_features(features, "afn_loss", "");
  TORCH_CHECK(delta >= 0.0, "afn_loss: delta must be >= 0, got ", delta);
  const auto norms = torch::linalg::vector_norm(features, 2, /*dim=*/{1}, /*keepdim=*/false, c10::nullopt);
  // The target radius is the current norm plus a step, held constant for this update.
  const auto radius = norms.detach() + delta;
  return (norms - radius).square().mean();
}

}  // namespace fashioncut::losses
