#include "fashioncut/models/init.h"

namespace fashioncut::models {

namespace nn = torch::nn;

namespace {
void xavier_weight_zero_bias(torch::Tensor& weight, torch::Tensor& bias, double gain) {
  nn::init::xavier_normal_(weight, gain);
  if (bias.defined()) nn::init::zeros_(bias);
}

/// Calls `fn` on `module` itself and on every descendant. `modules(include_self=true)` would
/// need `module` to live in a shared_ptr, which is not yet so inside a constructor.
template <typename Fn>
void for_each_module(nn::Module& module, Fn&& fn) {
  fn(module);
  for (auto& m : module.modules(/*include_self=*/false)) fn(*m);
}
}  // namespace

void init_cut_weights(nn::Module& module, double gain) {
  TORCH_CHECK(gain > 0, "init_cut_weights: gain must be > 0, got ", gain);
  torch::NoGradGuard no_grad;
  for_each_module(module, [gain](nn::Module& m) {
    if (auto* c = m.as<nn::Conv1d>()) xavier_weight_zero_bias(c->weight, c->bias, gain);
    else if (auto* c = m.as<nn::Conv2d>()) xavier_weight_zero_bias(c->weight, c->bias, gain);
    else if (auto* c = m.as<nn::Conv3d>()) xavier_weight_zero_bias(c->weight, c->bias, gain);
    else if (auto* c = m.as<nn::ConvTranspose1d>()) xavier_weight_zero_bias(c->weight, c->bias, gain);
    else if (auto* c = m.as<nn::ConvTranspose2d>()) xavier_weight_zero_bias(c->weight, c->bias, gain);
    else if (auto* c = m.as<nn::ConvTranspose3d>()) xavier_weight_zero_bias(c->weight, c->bias, gain);
    else if (auto* l = m.as<nn::Linear>()) xavier_weight_zero_bias(l->weight, l->bias, gain);
    else if (auto* b = m.as<nn::BatchNorm2d>()) {
      if (b->weight.defined()) nn::init::normal_(b->weight, 1.0, gain);
      if (b->bias.defined()) nn::init::zeros_(b->bias);
    } else if (auto* b = m.as<nn::BatchNorm1d>()) {
      if (b->weight.defined()) nn::init::normal_(b->weight, 1.0, gain);
      if (b->bias.defined()) nn::init::zeros_(b->bias);
    }
  });
}

void init_torchvision_resnet(nn::Module& module) {
  torch::NoGradGuard no_grad;
  for_each_module(module, [](nn::Module& m) {
    if (auto* c = m.as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = m.as<nn::BatchNorm2d>()) {
      if (b->weight.defined()) nn::init::ones_(b->weight);
      if (b->bias.defined()) nn::init::zeros_(b->bias);
    } else if (auto* g = m.as<nn::GroupNorm>()) {
      if (g->weight.defined()) nn::init::ones_(g->weight);
      if (g->bias.defined()) nn::init::zeros_(g->bias);
    }
  });
}

}  // namespace fashioncut::models
