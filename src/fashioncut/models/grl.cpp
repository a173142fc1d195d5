#include "fashioncut/models/grl.h"

#include <cmath>

namespace fashioncut::models {

namespace {

/// Autograd node of grad_reverse: out = x, grad_x = -coeff * grad_out.
struct GradReverseFunction : torch::autograd::Function<GradReverseFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double coeff) {
    ctx->saved_data["coeff"] = coeff;
    return x.clone();  // a fresh tensor, like TLL's `input * 1.0`
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const double coeff = ctx->saved_data["coeff"].toDouble();
    return {grad_outputs[0].neg() * coeff, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor grad_reverse(const torch::Tensor& x, double coeff) {
  TORCH_CHECK(std::isfinite(coeff), "grad_reverse: coeff must be finite, got ", coeff);
  return GradReverseFunction::apply(x, coeff);
}

WarmStartGrlOptions dann_grl_options() {
  return WarmStartGrlOptions().alpha(1.0).lo(0.0).hi(1.0).max_iters(1000).auto_step(true);
}

WarmStartGrlOptions mdd_grl_options() {
  return WarmStartGrlOptions().alpha(1.0).lo(0.0).hi(0.1).max_iters(1000).auto_step(false);
}

double warm_start_coeff(int64_t iteration, const WarmStartGrlOptions& o) {
  const double span = o.hi() - o.lo();
  const double progress = static_cast<double>(iteration) / static_cast<double>(o.max_iters());
  return 2.0 * span / (1.0 + std::exp(-o.alpha() * progress)) - span + o.lo();
}

WarmStartGrlImpl::WarmStartGrlImpl(const WarmStartGrlOptions& options_) : options(options_) {
  TORCH_CHECK(options.max_iters() > 0, "WarmStartGrl: max_iters must be positive, got ", options.max_iters());
}

torch::Tensor WarmStartGrlImpl::forward(const torch::Tensor& x) {
  const double c = coeff();
  if (options.auto_step()) step();
  return grad_reverse(x, c);
}

double WarmStartGrlImpl::coeff() const { return warm_start_coeff(iteration_, options); }

void WarmStartGrlImpl::step() { ++iteration_; }

void WarmStartGrlImpl::set_iteration(int64_t iteration) {
  TORCH_CHECK(iteration >= 0, "WarmStartGrl: iteration must be >= 0, got ", iteration);
  iteration_ = iteration;
}

void WarmStartGrlImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::WarmStartGrl(alpha=" << options.alpha() << ", lo=" << options.lo()
         << ", hi=" << options.hi() << ", max_iters=" << options.max_iters()
         << ", auto_step=" << (options.auto_step() ? "true" : "false") << ")";
}

}  // namespace fashioncut::models
