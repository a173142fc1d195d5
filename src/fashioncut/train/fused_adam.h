// Adam with the update of each parameter done in one pass over memory (CPU), and a zero_grad
// that drops the gradients instead of filling them with zeros.
#pragma once
#include <torch/optim/adam.h>

#include <vector>

namespace fashioncut::train {

/// torch::optim::Adam with the same options, state (AdamParamState: step, exp_avg, exp_avg_sq)
/// and serialisation, so checkpoints are interchangeable. On the CPU, for contiguous float32
/// parameters without amsgrad, step() reads p, grad, m, v once and writes p, m, v once per
/// element (AVX-512 / AVX2 / scalar, chosen at run time; the intra-op threads split the
/// elements), where Adam::step runs eight tensor ops with two temporaries per parameter. The
/// arithmetic is Adam's in the same order (m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
/// p -= lr/(1-β1^t) · m / (√v/√(1-β2^t) + ε)), without fused multiply-adds; results agree with
/// Adam::step to float rounding (tests/unit/train/fused_adam_test.cpp). Anything else (a GPU,
/// another dtype or layout, amsgrad) takes Adam::step unchanged, as does everything when the
/// environment has FASHIONCUT_FUSED_ADAM=off (bench/run's baseline; =avx2 or =scalar cap the kernel).
class FusedAdam : public torch::optim::Adam {
 public:
  FusedAdam(std::vector<torch::Tensor> params, torch::optim::AdamOptions options)
      : torch::optim::Adam(std::move(params), std::move(options)) {}
  torch::Tensor step(LossClosure closure = nullptr) override;
};

/// Sets every parameter's gradient of `optimizer` to undefined (PyTorch's
/// zero_grad(set_to_none=True)): the next backward writes fresh gradients instead of adding
/// into zero-filled ones. Optimizers skip parameters without a gradient, so only use it where
/// every parameter receives one in each step (or where skipping is what is wanted).
void clear_grads(torch::optim::Optimizer& optimizer);

}  // namespace fashioncut::train
