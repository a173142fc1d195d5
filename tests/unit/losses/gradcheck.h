// Central-difference gradient check for scalar loss functions (in the spirit of dlib's
// compare_gradients), in float64.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace fashioncut::testing {

/// A scalar function of several tensors (floating ones are differentiated, others passed through).
using ScalarFn = std::function<torch::Tensor(const std::vector<torch::Tensor>&)>;

/// Tolerances of expect_gradients_match. An element passes when
/// |analytic - numerical| <= atol + rtol * max(|numerical|_inf over that input).
struct GradCheckOptions {
  double eps = 1e-6;   ///< central-difference step (float64 inputs)
  double rtol = 1e-3;  ///< relative to the largest numerical gradient entry of the input
  double atol = 1e-7;  ///< absolute floor
  /// Which inputs to check (default: every floating input). Unchecked inputs are constants.
  std::vector<bool> check;
};

namespace detail {
inline bool should_check(const std::vector<torch::Tensor>& inputs, const GradCheckOptions& o, size_t i) {
  if (!inputs[i].is_floating_point()) return false;
  return o.check.empty() || (i < o.check.size() && o.check[i]);
}

inline std::vector<torch::Tensor> to_double(const std::vector<torch::Tensor>& inputs) {
  std::vector<torch::Tensor> out;
  for (const auto& t : inputs) out.push_back(t.is_floating_point() ? t.detach().to(torch::kDouble).clone() : t);
  return out;
}
}  // namespace detail

/// Autograd gradients of fn at `inputs` (converted to float64). Entries for unchecked or integer
/// inputs are undefined; an input the graph does not reach gets zeros.
inline std::vector<torch::Tensor> analytic_gradients(const ScalarFn& fn, const std::vector<torch::Tensor>& inputs,
                                                     const GradCheckOptions& o = {}) {
  auto xs = detail::to_double(inputs);
  for (size_t i = 0; i < xs.size(); ++i)
    if (detail::should_check(xs, o, i)) xs[i].requires_grad_(true);
  const auto y = fn(xs);
  EXPECT_EQ(y.numel(), 1) << "gradient check needs a scalar function";
  y.backward();
  std::vector<torch::Tensor> grads(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!detail::should_check(xs, o, i)) continue;
    grads[i] = xs[i].grad().defined() ? xs[i].grad().clone() : torch::zeros_like(xs[i]);
  }
  return grads;
}

/// Central differences (f(x + eps e_j) - f(x - eps e_j)) / (2 eps) for every element j of every
/// checked input, in float64.
inline std::vector<torch::Tensor> numerical_gradients(const ScalarFn& fn, const std::vector<torch::Tensor>& inputs,
                                                      const GradCheckOptions& o = {}) {
  torch::NoGradGuard no_grad;
  auto xs = detail::to_double(inputs);
  std::vector<torch::Tensor> grads(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!detail::should_check(xs, o, i)) continue;
    auto flat = xs[i].view({-1});  // shares storage with xs[i]
    auto g = torch::zeros_like(flat);
    for (int64_t j = 0; j < flat.numel(); ++j) {
      const double x0 = flat[j].item<double>();
      flat[j] = x0 + o.eps;
      const double plus = fn(xs).item<double>();
      flat[j] = x0 - o.eps;
      const double minus = fn(xs).item<double>();
      flat[j] = x0;
      g[j] = (plus - minus) / (2.0 * o.eps);
    }
    grads[i] = g.view_as(xs[i]);
  }
  return grads;
}

/// Expects two gradient lists to agree within the tolerances of `o` (see GradCheckOptions).
inline void expect_gradient_lists_match(const std::vector<torch::Tensor>& analytic,
                                        const std::vector<torch::Tensor>& numerical, const GradCheckOptions& o,
                                        const std::string& label = "") {
  ASSERT_EQ(analytic.size(), numerical.size());
  for (size_t i = 0; i < analytic.size(); ++i) {
    if (!analytic[i].defined() && !numerical[i].defined()) continue;
    ASSERT_TRUE(analytic[i].defined() && numerical[i].defined()) << label << " input " << i;
    const double scale = numerical[i].abs().max().item<double>();
    const double tol = o.atol + o.rtol * scale;
    const double err = (analytic[i] - numerical[i]).abs().max().item<double>();
    EXPECT_LE(err, tol) << label << " input " << i << ": max |analytic - numerical| = " << err
                        << " (tolerance " << tol << ")\nanalytic:\n" << analytic[i] << "\nnumerical:\n" << numerical[i];
  }
}

/// Checks autograd gradients of fn against central differences at `inputs` (float64).
/// Every checked input must have a non-trivial gradient somewhere, or the check proves nothing:
/// the helper also expects at least one non-zero numerical gradient overall.
inline void expect_gradients_match(const ScalarFn& fn, const std::vector<torch::Tensor>& inputs,
                                   const GradCheckOptions& o = {}) {
  const auto analytic = analytic_gradients(fn, inputs, o);
  const auto numerical = numerical_gradients(fn, inputs, o);
  double largest = 0.0;
  for (const auto& g : numerical)
    if (g.defined()) largest = std::max(largest, g.abs().max().item<double>());
  EXPECT_GT(largest, 1e-6) << "all numerical gradients vanish: the check would be vacuous";
  expect_gradient_lists_match(analytic, numerical, o);
}

}  // namespace fashioncut::testing
