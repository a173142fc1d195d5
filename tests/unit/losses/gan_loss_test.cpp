#include "fashioncut/losses/gan_loss.h"

#include <gtest/gtest.h>

#include "support/test_support.h"
#include "unit/losses/gradcheck.h"

namespace fashioncut::losses {
namespace {

using LsganLossTest = fashioncut::testing::SeedingFixture;

TEST_F(LsganLossTest, ExactTargetsGiveZero) {
  EXPECT_EQ(lsgan_loss(torch::ones({2, 1, 30, 30}), true).item<double>(), 0.0);
  EXPECT_EQ(lsgan_loss(torch::zeros({2, 1, 30, 30}), false).item<double>(), 0.0);
}

TEST_F(LsganLossTest, HandComputedValues) {
  // pred = 0.5 everywhere: (0.5 - 1)^2 = (0.5 - 0)^2 = 0.25.
  EXPECT_DOUBLE_EQ(lsgan_loss(torch::full({1, 1, 4, 4}, 0.5, torch::kDouble), true).item<double>(), 0.25);
  EXPECT_DOUBLE_EQ(lsgan_loss(torch::full({1, 1, 4, 4}, 0.5, torch::kDouble), false).item<double>(), 0.25);
  // [0, 2, 1, 3] against 1: (1 + 1 + 0 + 4) / 4 = 1.5; against 0: (0 + 4 + 1 + 9) / 4 = 3.5.
  const auto pred = torch::tensor({0.0, 2.0, 1.0, 3.0}, torch::kDouble).view({1, 1, 2, 2});
  EXPECT_DOUBLE_EQ(lsgan_loss(pred, true).item<double>(), 1.5);
  EXPECT_DOUBLE_EQ(lsgan_loss(pred, false).item<double>(), 3.5);
}

TEST_F(LsganLossTest, NonNegativePermutationInvariantAndKeepsDtype) {
  const auto pred = torch::randn({4, 1, 6, 6});
  const auto loss = lsgan_loss(pred, true);
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_EQ(loss.scalar_type(), torch::kFloat);
  EXPECT_GE(loss.item<double>(), 0.0);
  const auto perm = torch::tensor({2, 0, 3, 1}, torch::kLong);
  EXPECT_NEAR(lsgan_loss(pred.index_select(0, perm), true).item<double>(), loss.item<double>(), 1e-6);
}

TEST_F(LsganLossTest, GradientMatchesCentralDifferences) {
  for (const bool real : {true, false}) {
    const auto fn = [real](const std::vector<torch::Tensor>& in) { return lsgan_loss(in[0], real); };
    fashioncut::testing::expect_gradients_match(fn, {torch::randn({2, 1, 3, 3}, torch::kDouble)});
  }
}

TEST_F(LsganLossTest, RejectsEmptyAndIntegerInput) {
  EXPECT_THROW(lsgan_loss(torch::empty({0, 1, 3, 3}), true), c10::Error);
  EXPECT_THROW(lsgan_loss(torch::ones({2, 2}, torch::kLong), true), c10::Error);
}

}  // namespace
}  // namespace fashioncut::losses
