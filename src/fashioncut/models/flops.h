// Forward cost of a network: parameters and multiply-accumulates (MACs) of every
// convolution and matrix product, counted by observing the ATen ops a forward runs.
#pragma once

#include <torch/torch.h>

#include <functional>

namespace fashioncut::models {

/// Cost of one forward pass.
struct ModelCost {
  int64_t params = 0;  ///< trainable + frozen parameters (buffers excluded)
  int64_t macs = 0;    ///< multiply-accumulates of conv / conv-transpose / linear / (add)mm / bmm
  /// FLOPs reported as 2 * MACs (one multiply + one add each).
  int64_t flops() const { return 2 * macs; }
};

/// Runs `fn` on this thread and returns the MACs of the ops it dispatched:
///  - aten::convolution (conv1d/2d/3d and transposed, incl. the depthwise blur-pool):
///    N * C_out * prod(out spatial) * C_in/groups * prod(kernel)  (transposed: N * C_in *
///    prod(in spatial) * C_out/groups * prod(kernel));
///  - aten::addmm / aten::mm (M*K*N), aten::bmm (B*M*K*N).
/// Bias adds, normalisation, activations, pooling and residual adds are not counted
/// (the usual convention of conv-net FLOP tables). Not reentrant across nested calls.
int64_t count_macs(const std::function<void()>& fn);

/// Sum of numel() over `module.parameters()`.
int64_t count_parameters(const torch::nn::Module& module);

/// Parameters and MACs of `module->forward(zeros(input_shape))` in eval mode, no grad,
/// on the module's current device (CPU if it has no parameters). Restores the train flag.
template <typename ModuleHolder>
ModelCost measure_cost(ModuleHolder& module, at::IntArrayRef input_shape) {
  ModelCost cost;
  cost.params = count_parameters(*module);
  const auto params = module->parameters();
  const auto device = params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  const bool was_training = module->is_training();
  module->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::zeros(input_shape, torch::TensorOptions().device(device));
  cost.macs = count_macs([&] { module->forward(x); });
  module->train(was_training);
  return cost;
}

}  // namespace fashioncut::models
