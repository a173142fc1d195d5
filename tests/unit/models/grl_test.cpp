#include "fashioncut/models/grl.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"

namespace fashioncut::models {
namespace {

using GradReverseTest = fashioncut::testing::SeedingFixture;
using WarmStartGrlTest = fashioncut::testing::SeedingFixture;

TEST_F(GradReverseTest, ForwardIsIdentityBackwardIsNegatedAndScaled) {
  auto x = torch::randn({3, 4}, torch::kDouble).requires_grad_(true);
  const auto w = torch::randn({3, 4}, torch::kDouble);
  const auto y = grad_reverse(x, 0.3);
  EXPECT_TRUE(torch::equal(y, x));
  EXPECT_NE(y.data_ptr(), x.data_ptr());  // a new tensor, not an alias
  (y * w).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), -0.3 * w, 0, 1e-15));
}

TEST_F(GradReverseTest, ChainsWithOtherOpsAndZeroCoefficientBlocksGradient) {
  auto x = torch::randn({5}, torch::kDouble).requires_grad_(true);
  // d/dx sum((2 x_rev)^2) = -coeff * 8 x.
  (2.0 * grad_reverse(x, 1.0)).square().sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), -8.0 * x.detach(), 0, 1e-12));
  x.mutable_grad() = torch::Tensor();
  grad_reverse(x, 0.0).sum().backward();
  EXPECT_EQ(x.grad().abs().sum().item<double>(), 0.0);
}

TEST_F(WarmStartGrlTest, ScheduleValues) {
  const WarmStartGrlOptions dann = dann_grl_options();
  EXPECT_EQ(warm_start_coeff(0, dann), 0.0);
  // i = max_iters, alpha = 1: 2 / (1 + e^-1) - 1 = tanh(1/2) = 0.46211715726.
  EXPECT_NEAR(warm_start_coeff(1000, dann), 0.46211715726000974, 1e-12);
  EXPECT_NEAR(warm_start_coeff(1000000, dann), 1.0, 1e-12);
  const WarmStartGrlOptions mdd = mdd_grl_options();
  EXPECT_EQ(warm_start_coeff(0, mdd), 0.0);
  EXPECT_NEAR(warm_start_coeff(1000, mdd), 0.046211715726000974, 1e-13);
  EXPECT_NEAR(warm_start_coeff(1000000, mdd), 0.1, 1e-12);
  // A non-zero lo starts there: coeff(0) = lo, and tends to hi.
  const auto shifted = WarmStartGrlOptions().lo(0.2).hi(0.8).alpha(10.0).max_iters(50);
  EXPECT_NEAR(warm_start_coeff(0, shifted), 0.2, 1e-15);
  EXPECT_NEAR(warm_start_coeff(5000, shifted), 0.8, 1e-12);
  double previous = -1.0;
  for (int64_t i = 0; i <= 3000; i += 100) {
    const double c = warm_start_coeff(i, dann);
    EXPECT_GT(c, previous);
    previous = c;
  }
}

TEST_F(WarmStartGrlTest, DefaultsMatchTll) {
  const WarmStartGrlOptions o;
  EXPECT_EQ(o.alpha(), 1.0);
  EXPECT_EQ(o.lo(), 0.0);
  EXPECT_EQ(o.hi(), 1.0);
  EXPECT_EQ(o.max_iters(), 1000);
  EXPECT_FALSE(o.auto_step());
  EXPECT_TRUE(dann_grl_options().auto_step());
  EXPECT_FALSE(mdd_grl_options().auto_step());
  EXPECT_EQ(mdd_grl_options().hi(), 0.1);
}

TEST_F(WarmStartGrlTest, AutoStepUsesCoefficientBeforeStepping) {
  WarmStartGrl grl(dann_grl_options());
  auto x = torch::ones({2}, torch::kDouble).requires_grad_(true);
  grl(x).sum().backward();  // uses coeff(0) = 0
  EXPECT_EQ(x.grad().abs().sum().item<double>(), 0.0);
  EXPECT_EQ(grl->iteration(), 1);
  x.mutable_grad() = torch::Tensor();
  grl(x).sum().backward();  // uses coeff(1)
  const double c1 = warm_start_coeff(1, dann_grl_options());
  EXPECT_GT(c1, 0.0);
  EXPECT_TRUE(torch::allclose(x.grad(), torch::full({2}, -c1, torch::kDouble), 0, 1e-15));
  EXPECT_EQ(grl->iteration(), 2);
}

TEST_F(WarmStartGrlTest, ManualStepAndCounterRoundTrip) {
  WarmStartGrl grl(mdd_grl_options());
  const auto x = torch::randn({4});
  for (int i = 0; i < 3; ++i) grl(x);
  EXPECT_EQ(grl->iteration(), 0);  // forward does not step without auto_step
  grl->step();
  grl->step();
  EXPECT_EQ(grl->iteration(), 2);
  EXPECT_DOUBLE_EQ(grl->coeff(), warm_start_coeff(2, mdd_grl_options()));
  // A checkpoint stores iteration() and restores it with set_iteration().
  WarmStartGrl restored(mdd_grl_options());
  restored->set_iteration(grl->iteration() + 998);
  EXPECT_NEAR(restored->coeff(), 0.046211715726000974, 1e-13);
  EXPECT_THROW(restored->set_iteration(-1), c10::Error);
  EXPECT_THROW(WarmStartGrl(WarmStartGrlOptions().max_iters(0)), c10::Error);
  EXPECT_TRUE(grl->parameters().empty());
}

}  // namespace
}  // namespace fashioncut::models
