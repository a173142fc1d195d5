#include "fashioncut/losses/domain_adaptation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"
#include "unit/losses/gradcheck.h"

namespace fashioncut::losses {
namespace {

using DannDomainLossTest = fashioncut::testing::SeedingFixture;
using BspLossTest = fashioncut::testing::SeedingFixture;
using MddLossTest = fashioncut::testing::SeedingFixture;
using AfnLossTest = fashioncut::testing::SeedingFixture;
namespace ft = fashioncut::testing;

// ---- DANN ----

TEST_F(DannDomainLossTest, ZeroLogitsGiveLog2) {
  const auto out = dann_domain_loss(torch::zeros({4, 1}, torch::kDouble), torch::zeros({4, 1}, torch::kDouble));
  EXPECT_NEAR(out.loss.item<double>(), std::log(2.0), 1e-12);
  // Logit 0 is probability 0.5: counted as "source" (TLL: p >= 0.5), so half right.
  EXPECT_DOUBLE_EQ(out.accuracy.item<double>(), 0.5);
}

TEST_F(DannDomainLossTest, HandComputedValueAndAccuracy) {
  // d_s = 2 (label 1): softplus(-2) = ln(1 + e^-2); d_t = -1 (label 0): softplus(-1) = ln(1 + e^-1).
  const auto out = dann_domain_loss(torch::tensor({2.0}, torch::kDouble), torch::tensor({-1.0}, torch::kDouble));
  EXPECT_NEAR(out.loss.item<double>(), 0.5 * (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0))), 1e-12);
  EXPECT_DOUBLE_EQ(out.accuracy.item<double>(), 1.0);
  // Source all wrong (negative logits), target 1 of 2 right: 0.5 * (0 + 0.5).
  const auto mixed = dann_domain_loss(torch::tensor({-1.0, -3.0}, torch::kDouble), torch::tensor({-1.0, 2.0}, torch::kDouble));
  EXPECT_DOUBLE_EQ(mixed.accuracy.item<double>(), 0.25);
}

TEST_F(DannDomainLossTest, EqualsTllSigmoidPlusBce) {
  const auto d_s = torch::randn({8, 1}, torch::kDouble), d_t = torch::randn({6, 1}, torch::kDouble);
  const auto p_s = torch::sigmoid(d_s), p_t = torch::sigmoid(d_t);
  const double tll = 0.5 * (-torch::log(p_s).mean() - torch::log(1.0 - p_t).mean()).item<double>();
  EXPECT_NEAR(dann_domain_loss(d_s, d_t).loss.item<double>(), tll, 1e-12);
  // [N] and [N, 1] are the same input.
  EXPECT_NEAR(dann_domain_loss(d_s.view({-1}), d_t.view({-1})).loss.item<double>(), tll, 1e-12);
}

TEST_F(DannDomainLossTest, SaturatedLogitsStayFinite) {
  const auto out = dann_domain_loss(torch::tensor({-200.0}), torch::tensor({200.0}));
  EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
  EXPECT_NEAR(out.loss.item<double>(), 200.0, 1e-3);
}

TEST_F(DannDomainLossTest, GradientPermutationAndSign) {
  const auto d_s = torch::randn({5, 1}, torch::kDouble), d_t = torch::randn({3, 1}, torch::kDouble);
  const auto fn = [](const std::vector<torch::Tensor>& in) { return dann_domain_loss(in[0], in[1]).loss; };
  ft::expect_gradients_match(fn, {d_s, d_t});
  const auto out = dann_domain_loss(d_s, d_t);
  EXPECT_GE(out.loss.item<double>(), 0.0);
  const auto perm = torch::tensor({4, 2, 0, 1, 3}, torch::kLong);
  EXPECT_NEAR(dann_domain_loss(d_s.index_select(0, perm), d_t).loss.item<double>(), out.loss.item<double>(), 1e-12);
  EXPECT_FALSE(out.accuracy.requires_grad());
}

TEST_F(DannDomainLossTest, RejectsBadShapes) {
  EXPECT_THROW(dann_domain_loss(torch::randn({4, 2}), torch::randn({4, 1})), c10::Error);
  EXPECT_THROW(dann_domain_loss(torch::randn({0, 1}), torch::randn({4, 1})), c10::Error);
}

// ---- BSP ----

TEST_F(BspLossTest, RankOneMatrixGivesSquaredFrobeniusNorm) {
  // sigma_1(u v^T) = ||u|| ||v||, so each domain contributes ||u||^2 ||v||^2 = ||u v^T||_F^2.
  const auto u = torch::tensor({1.0, 2.0, 2.0}, torch::kDouble);       // ||u||^2 = 9
  const auto v = torch::tensor({3.0, 4.0, 0.0, 0.0}, torch::kDouble);  // ||v||^2 = 25
  const auto a = torch::tensor({1.0, 1.0}, torch::kDouble);            // ||a||^2 = 2
  const auto b = torch::tensor({0.0, 0.0, 1.0, -1.0}, torch::kDouble); // ||b||^2 = 2
  const auto f_s = torch::outer(u, v), f_t = torch::outer(a, b);
  EXPECT_NEAR(bsp_loss(f_s, f_t).item<double>(), 9.0 * 25.0 + 2.0 * 2.0, 1e-9);
  EXPECT_NEAR(bsp_loss(f_s, f_t).item<double>(), (f_s.square().sum() + f_t.square().sum()).item<double>(), 1e-9);
}

TEST_F(BspLossTest, EqualsLargestEigenvalueOfGramMatrix) {
  const auto f_s = torch::randn({8, 5}, torch::kDouble), f_t = torch::randn({6, 5}, torch::kDouble);
  const double expected = (torch::linalg::eigvalsh(f_s.t().mm(f_s), "L").max() +
                           torch::linalg::eigvalsh(f_t.t().mm(f_t), "L").max()).item<double>();
  EXPECT_NEAR(bsp_loss(f_s, f_t).item<double>(), expected, 1e-9 * expected);
}

TEST_F(BspLossTest, GradientMatchesCentralDifferences) {
  const auto fn = [](const std::vector<torch::Tensor>& in) { return bsp_loss(in[0], in[1]); };
  ft::expect_gradients_match(fn, {torch::randn({6, 4}, torch::kDouble), torch::randn({5, 4}, torch::kDouble)});
}

TEST_F(BspLossTest, NonNegativeAndInvariantToRowOrder) {
  const auto f_s = torch::randn({8, 5}, torch::kDouble), f_t = torch::randn({8, 5}, torch::kDouble);
  const double loss = bsp_loss(f_s, f_t).item<double>();
  EXPECT_GT(loss, 0.0);
  const auto perm = torch::randperm(8, torch::kLong);
  EXPECT_NEAR(bsp_loss(f_s.index_select(0, perm), f_t.index_select(0, perm)).item<double>(), loss, 1e-9 * loss);
  EXPECT_EQ(bsp_loss(torch::zeros({3, 2}), torch::zeros({3, 2})).item<double>(), 0.0);
  EXPECT_THROW(bsp_loss(torch::randn({8}), f_t), c10::Error);
}

// ---- MDD ----

TEST_F(MddLossTest, HandBuiltTwoSampleCase) {
  // Two classes. softmax([0, ln 3]) = [1/4, 3/4], softmax([ln 3, 0]) = [3/4, 1/4].
  const double l3 = std::log(3.0);
  // Source: main head predicts h_s = [0, 1]; the adversarial head gives [1/4, 3/4] on both rows,
  // so L_s = [-ln 1/4, -ln 3/4] = [ln 4, ln 4/3], mean = ln(16/3) / 2.
  const auto y_s = torch::tensor({1.0, 0.0, 0.0, 1.0}, torch::kDouble).view({2, 2});
  const auto y_s_adv = torch::tensor({0.0, l3, 0.0, l3}, torch::kDouble).view({2, 2});
  // Target: h_t = [0, 0]; the adversarial head gives p_adv[h_t] = [1/4, 3/4], so
  // L_t = [ln(1 - 1/4 + 1e-6), ln(1 - 3/4 + 1e-6)] = [ln 0.750001, ln 0.250001].
  const auto y_t = torch::tensor({1.0, 0.0, 2.0, -1.0}, torch::kDouble).view({2, 2});
  const auto y_t_adv = torch::tensor({0.0, l3, l3, 0.0}, torch::kDouble).view({2, 2});
  // mdd = -4 * ln(16/3) / 2 + (ln 0.750001 + ln 0.250001) / 2 = -4.1849384172669...
  // (without the 1e-6 offset it would be -2.5 ln(16/3) = -4.18494108).
  const double expected = -2.0 * std::log(16.0 / 3.0) + 0.5 * (std::log(0.750001) + std::log(0.250001));
  EXPECT_NEAR(expected, -4.184938417266957, 1e-12);
  EXPECT_NEAR(mdd_loss(y_s, y_s_adv, y_t, y_t_adv).item<double>(), expected, 1e-12);
  // Margin 1 weighs the source term by 1: -ln(16/3)/2 + target term.
  EXPECT_NEAR(mdd_loss(y_s, y_s_adv, y_t, y_t_adv, 1.0).item<double>(),
              -0.5 * std::log(16.0 / 3.0) + 0.5 * (std::log(0.750001) + std::log(0.250001)), 1e-12);
}

TEST_F(MddLossTest, ShiftLogClampsAndOffsets) {
  const auto y = torch::tensor({5.0, 0.0}, torch::kDouble).view({1, 2});  // h = 0 on both domains
  const auto agree = torch::tensor({0.0, 0.0}, torch::kDouble).view({1, 2});
  // Adversarial target head certain of the other class: 1 - p + 1e-6 > 1 is clamped to 1, log = 0.
  const auto disagree = torch::tensor({-100.0, 100.0}, torch::kDouble).view({1, 2});
  EXPECT_NEAR(mdd_loss(y, agree, y, disagree, 0.0).item<double>(), 0.0, 1e-15);
  // Certain of the same class: p = 1, so log(0 + 1e-6) = -13.8155..., finite.
  const auto same = torch::tensor({100.0, -100.0}, torch::kDouble).view({1, 2});
  EXPECT_NEAR(mdd_loss(y, agree, y, same, 0.0).item<double>(), std::log(1e-6), 1e-6);
}

TEST_F(MddLossTest, IsNonPositiveAndOnlyAdversarialLogitsGetGradient) {
  auto y_s = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  auto y_s_adv = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  auto y_t = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  auto y_t_adv = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  const auto mdd = mdd_loss(y_s, y_s_adv, y_t, y_t_adv);
  EXPECT_LE(mdd.item<double>(), 0.0);
  mdd.backward();
  EXPECT_FALSE(y_s.grad().defined());
  EXPECT_FALSE(y_t.grad().defined());
  EXPECT_TRUE(y_s_adv.grad().defined());
  EXPECT_TRUE(y_t_adv.grad().defined());
}

TEST_F(MddLossTest, GradientMatchesCentralDifferences) {
  // Random logits: no ties in the argmax and no clamping, so the function is smooth here.
  const auto fn = [](const std::vector<torch::Tensor>& in) { return mdd_loss(in[0], in[1], in[2], in[3]); };
  ft::expect_gradients_match(fn, {torch::randn({3, 4}, torch::kDouble), torch::randn({3, 4}, torch::kDouble),
                                  torch::randn({3, 4}, torch::kDouble), torch::randn({3, 4}, torch::kDouble)});
}

TEST_F(MddLossTest, BatchOrderInvarianceAndUnequalBatches) {
  const auto y_s = torch::randn({5, 3}, torch::kDouble), y_s_adv = torch::randn({5, 3}, torch::kDouble);
  const auto y_t = torch::randn({5, 3}, torch::kDouble), y_t_adv = torch::randn({5, 3}, torch::kDouble);
  const double mdd = mdd_loss(y_s, y_s_adv, y_t, y_t_adv).item<double>();
  const auto p = torch::randperm(5, torch::kLong), q = torch::randperm(5, torch::kLong);
  EXPECT_NEAR(mdd_loss(y_s.index_select(0, p), y_s_adv.index_select(0, p), y_t.index_select(0, q),
                       y_t_adv.index_select(0, q)).item<double>(), mdd, 1e-12);
  // TLL's elementwise form mean(-gamma L_s,i + L_t,i) equals ours for equal batch sizes; ours
  // also accepts different source and target batch sizes.
  const auto short_t = mdd_loss(y_s, y_s_adv, y_t.slice(0, 0, 2), y_t_adv.slice(0, 0, 2));
  EXPECT_TRUE(std::isfinite(short_t.item<double>()));
  EXPECT_THROW(mdd_loss(y_s, y_s_adv.slice(0, 0, 2), y_t, y_t_adv), c10::Error);
  EXPECT_THROW(mdd_loss(y_s, y_s_adv, torch::randn({5, 4}), torch::randn({5, 4})), c10::Error);
}

// ---- AFN ----

TEST_F(AfnLossTest, ValueIsDeltaSquared) {
  const auto f = torch::randn({8, 6}, torch::kDouble);
  EXPECT_EQ(afn_loss(f, 0.0).item<double>(), 0.0);
  EXPECT_NEAR(afn_loss(f, 1.0).item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(afn_loss(f, 0.3).item<double>(), 0.09, 1e-12);
  EXPECT_NEAR(afn_loss(f).item<double>(), 1.0, 1e-12);  // TLL default delta 1.0
}

TEST_F(AfnLossTest, GradientPushesNormsUpByDelta) {
  // d/df_i of mean_i (||f_i|| - r_i)^2 with r_i = ||f_i|| + delta held fixed: -2 delta / N * f_i / ||f_i||.
  auto f = torch::randn({5, 3}, torch::kDouble).requires_grad_(true);
  afn_loss(f, 0.7).backward();
  const auto fd = f.detach();
  const auto expected = -2.0 * 0.7 / 5.0 * fd / fd.norm(2, {1}, true);
  EXPECT_TRUE(torch::allclose(f.grad(), expected, 1e-12, 1e-12));
}

TEST_F(AfnLossTest, GradientMatchesCentralDifferencesOfFrozenRadiusSurrogate) {
  // The loss value does not depend on f (it is always delta^2), so its gradient is checked against
  // central differences of the same expression with the detached radius frozen at the point.
  const auto f = torch::randn({4, 3}, torch::kDouble);
  const double delta = 1.0;
  const auto radius = f.norm(2, {1}) + delta;
  const auto surrogate = [radius](const std::vector<torch::Tensor>& in) {
    return (in[0].norm(2, {1}) - radius).square().mean();
  };
  const auto loss = [delta](const std::vector<torch::Tensor>& in) { return afn_loss(in[0], delta); };
  const ft::GradCheckOptions opts;
  ft::expect_gradient_lists_match(ft::analytic_gradients(loss, {f}, opts), ft::numerical_gradients(surrogate, {f}, opts),
                                  opts, "afn");
}

TEST_F(AfnLossTest, RejectsBadInput) {
  EXPECT_THROW(afn_loss(torch::randn({4}), 1.0), c10::Error);
  EXPECT_THROW(afn_loss(torch::randn({4, 3}), -1.0), c10::Error);
}

}  // namespace
}  // namespace fashioncut::losses
