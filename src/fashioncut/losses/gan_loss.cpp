#include "fashioncut/losses/gan_loss.h"

namespace fashioncut::losses {

torch::Tensor lsgan_loss(const torch::Tensor& pred, bool target_is_real) {
  TORCH_CHECK(pred.numel() > 0, "lsgan_loss expects a non-empty prediction, got ", pred.sizes());
  TORCH_CHECK(pred.is_floating_point(), "lsgan_loss expects a floating-point prediction, got ",
              pred.scalar_type());
  // Built per call with pred's shape/device/dtype, like GANLoss.get_target_tensor.
  const auto target = torch::full_like(pred, target_is_real ? 1.0 : 0.0);
  return torch::mse_loss(pred, target, at::Reduction::Mean);
}

}  // namespace fashioncut::losses
