// Gradient reversal (Ganin & Lempitsky 2015) with TLL's warm-start coefficient schedule
// (tllib/modules/grl.py GradientReverseFunction, WarmStartGradientReverseLayer).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace fashioncut::models {

/// Identity in the forward pass; multiplies the incoming gradient by -coeff in the backward pass.
/// x: any shape/dtype/device. requires: coeff finite (>= 0 in practice).
/// ensures: returns a new tensor equal to x (not a view), so in-place edits of the result never
///          touch x; d(out)/dx = -coeff * I.
torch::Tensor grad_reverse(const torch::Tensor& x, double coeff = 1.0);

/// Options of WarmStartGrl. Defaults are TLL WarmStartGradientReverseLayer's constructor defaults.
struct WarmStartGrlOptions {
  TORCH_ARG(double, alpha) = 1.0;       ///< TLL grl.py alpha default 1.0
  TORCH_ARG(double, lo) = 0.0;          ///< TLL grl.py lo default 0.0 (coefficient at i = 0)
  TORCH_ARG(double, hi) = 1.0;          ///< TLL grl.py hi default 1.0 (limit as i -> infinity)
  TORCH_ARG(int64_t, max_iters) = 1000; ///< TLL grl.py max_iters default 1000
  TORCH_ARG(bool, auto_step) = false;   ///< TLL grl.py auto_step default False
};

/// Schedule of DANN/CDAN/BSP: TLL dann.py DomainAdversarialLoss builds
/// WarmStartGradientReverseLayer(alpha=1, lo=0, hi=1, max_iters=1000, auto_step=True).
WarmStartGrlOptions dann_grl_options();

/// Schedule of MDD: TLL mdd.py ImageClassifier builds
/// WarmStartGradientReverseLayer(alpha=1, lo=0, hi=0.1, max_iters=1000, auto_step=False) and the
/// example calls classifier.step() once per iteration.
WarmStartGrlOptions mdd_grl_options();

/// coeff(i) = 2 (hi - lo) / (1 + exp(-alpha i / max_iters)) - (hi - lo) + lo.
/// ensures: coeff(0) = lo; increasing in i for alpha > 0, hi > lo; -> hi as i -> infinity.
double warm_start_coeff(int64_t iteration, const WarmStartGrlOptions& options);

/// Gradient reversal layer whose coefficient warms up from lo to hi with the iteration count.
/// forward(x) uses coeff(iteration()) and then, if auto_step, increments the counter (TLL computes
/// the coefficient before stepping). The counter is plain state, not a buffer (reading a buffer
/// each step would synchronise with the GPU): checkpoints must save iteration() and restore it
/// with set_iteration().
struct WarmStartGrlImpl : torch::nn::Module {
  explicit WarmStartGrlImpl(const WarmStartGrlOptions& options = {});

  /// x: any shape. Returns grad_reverse(x, coeff()).
  torch::Tensor forward(const torch::Tensor& x);
  /// Coefficient the next forward will use.
  double coeff() const;
  /// Advances the schedule by one iteration (TLL step()).
  void step();
  /// Iteration counter i (TLL iter_num), for checkpoints.
  int64_t iteration() const { return iteration_; }
  /// Restores the counter. requires: iteration >= 0.
  void set_iteration(int64_t iteration);
  void pretty_print(std::ostream& stream) const override;

  WarmStartGrlOptions options;

 private:
  int64_t iteration_ = 0;
};
TORCH_MODULE(WarmStartGrl);

}  // namespace fashioncut::models
