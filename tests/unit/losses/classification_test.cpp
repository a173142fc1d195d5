#include "fashioncut/losses/classification.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"
#include "unit/losses/gradcheck.h"

namespace fashioncut::losses {
namespace {

using CrossEntropyTest = fashioncut::testing::SeedingFixture;
using PseudoLabelLossTest = fashioncut::testing::SeedingFixture;
using EntropyLossTest = fashioncut::testing::SeedingFixture;

TEST_F(CrossEntropyTest, UniformLogitsGiveLogC) {
  for (const int64_t c : {2, 10, 12}) {
    const auto logits = torch::full({5, c}, 3.7, torch::kDouble);
    const auto labels = torch::randint(0, c, {5}, torch::kLong);
    EXPECT_NEAR(cross_entropy(logits, labels).item<double>(), std::log(static_cast<double>(c)), 1e-12);
  }
}

TEST_F(CrossEntropyTest, HandComputedValue) {
  // softmax([0, ln 3]) = [1/4, 3/4]: label 1 costs -ln(3/4), label 0 costs ln 4; mean of both.
  const auto logits = torch::tensor({0.0, std::log(3.0), 0.0, std::log(3.0)}, torch::kDouble).view({2, 2});
  const auto labels = torch::tensor({1, 0}, torch::kLong);
  EXPECT_NEAR(cross_entropy(logits, labels).item<double>(), 0.5 * (std::log(4.0 / 3.0) + std::log(4.0)), 1e-12);
}

TEST_F(CrossEntropyTest, PermutationInvariantNonNegativeAndGradient) {
  const auto logits = torch::randn({6, 4}, torch::kDouble);
  const auto labels = torch::randint(0, 4, {6}, torch::kLong);
  const auto perm = torch::randperm(6, torch::kLong);
  const double loss = cross_entropy(logits, labels).item<double>();
  EXPECT_GE(loss, 0.0);
  EXPECT_NEAR(cross_entropy(logits.index_select(0, perm), labels.index_select(0, perm)).item<double>(), loss, 1e-12);
  const auto fn = [](const std::vector<torch::Tensor>& in) { return cross_entropy(in[0], in[1]); };
  fashioncut::testing::expect_gradients_match(fn, {logits, labels});
}

TEST_F(CrossEntropyTest, RejectsBadShapes) {
  EXPECT_THROW(cross_entropy(torch::randn({3, 4}), torch::zeros({2}, torch::kLong)), c10::Error);
  EXPECT_THROW(cross_entropy(torch::randn({3}), torch::zeros({3}, torch::kLong)), c10::Error);
  EXPECT_THROW(cross_entropy(torch::randn({3, 4}), torch::zeros({3}, torch::kInt)), c10::Error);
}

/// Rows with known confidences: 0.9 (class 0), 0.8 (class 1), 0.95 (class 0), 0.5 (tie).
torch::Tensor known_confidence_logits() {
  return torch::tensor({std::log(9.0), 0.0, 0.0, std::log(4.0), std::log(19.0), 0.0, 0.0, 0.0}, torch::kDouble)
      .view({4, 2});
}

TEST_F(PseudoLabelLossTest, MasksLowConfidenceRowsAndAveragesOverWholeBatch) {
  const auto logits = known_confidence_logits();
  const auto out = pseudo_label_cross_entropy(logits, 0.85);
  EXPECT_TRUE(torch::allclose(out.confidence, torch::tensor({0.9, 0.8, 0.95, 0.5}, torch::kDouble), 1e-12, 1e-12));
  EXPECT_TRUE(torch::equal(out.mask, torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kDouble)));
  EXPECT_EQ(out.pseudo_labels[0].item<int64_t>(), 0);
  EXPECT_EQ(out.pseudo_labels[1].item<int64_t>(), 1);
  EXPECT_EQ(out.pseudo_labels[2].item<int64_t>(), 0);
  // Accepted rows cost -ln 0.9 and -ln 0.95; the mean divides by all 4 rows.
  EXPECT_NEAR(out.loss.item<double>(), (-std::log(0.9) - std::log(0.95)) / 4.0, 1e-12);
  EXPECT_DOUBLE_EQ(out.acceptance_rate.item<double>(), 0.5);
}

TEST_F(PseudoLabelLossTest, ThresholdZeroAcceptsAllAndOneAcceptsNone) {
  const auto logits = known_confidence_logits();
  const auto all = pseudo_label_cross_entropy(logits, 0.0);
  EXPECT_DOUBLE_EQ(all.acceptance_rate.item<double>(), 1.0);
  const double expected = (-std::log(0.9) - std::log(0.8) - std::log(0.95) + std::log(2.0)) / 4.0;
  EXPECT_NEAR(all.loss.item<double>(), expected, 1e-12);
  const auto none = pseudo_label_cross_entropy(logits, 1.0);
  EXPECT_DOUBLE_EQ(none.acceptance_rate.item<double>(), 0.0);
  EXPECT_EQ(none.loss.item<double>(), 0.0);
  // The threshold is strict: confidence exactly 0.5 is rejected at threshold 0.5.
  EXPECT_EQ(pseudo_label_cross_entropy(logits, 0.5).mask[3].item<double>(), 0.0);
}

TEST_F(PseudoLabelLossTest, TwoViewsTakeLabelsFromTargetAndGradientFromLogits) {
  auto strong = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  auto weak = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  const auto out = pseudo_label_cross_entropy(strong, weak, 0.0);
  EXPECT_TRUE(torch::equal(out.pseudo_labels, weak.argmax(1)));
  out.loss.backward();
  EXPECT_TRUE(strong.grad().defined());
  EXPECT_FALSE(weak.grad().defined());
  const auto expected = cross_entropy(strong, weak.argmax(1)).item<double>();
  EXPECT_NEAR(out.loss.item<double>(), expected, 1e-12);
}

TEST_F(PseudoLabelLossTest, GradientMatchesCentralDifferences) {
  // 3 classes with a threshold of 0.5: some rows accepted, some not, none near the threshold.
  const auto logits = torch::tensor({2.0, 0.1, -1.0, 0.3, 0.2, 0.1, -0.5, 1.5, 0.0, 0.1, 0.0, 2.5}, torch::kDouble)
                          .view({4, 3});
  const auto out = pseudo_label_cross_entropy(logits, 0.5);
  ASSERT_GT(out.acceptance_rate.item<double>(), 0.0);
  ASSERT_LT(out.acceptance_rate.item<double>(), 1.0);
  const auto fn = [](const std::vector<torch::Tensor>& in) { return pseudo_label_cross_entropy(in[0], 0.5).loss; };
  fashioncut::testing::expect_gradients_match(fn, {logits});
}

TEST_F(PseudoLabelLossTest, DistributionAlignmentByHand) {
  // probs (0.6, 0.4) with prior (0.8, 0.2): scaled (0.75, 2.0) -> aligned (0.75, 2)/2.75.
  const auto probs = torch::tensor({0.6, 0.4, 0.9, 0.1}, torch::kDouble).view({2, 2});
  const auto prior = torch::tensor({0.8, 0.2}, torch::kDouble);
  const auto aligned = align_distribution(probs, prior);
  EXPECT_NEAR(aligned[0][0].item<double>(), 0.75 / 2.75, 1e-12);
  EXPECT_NEAR(aligned[0][1].item<double>(), 2.0 / 2.75, 1e-12);
  // row 2: (1.125, 0.5) / 1.625 -- still class 0.
  EXPECT_NEAR(aligned[1][0].item<double>(), 1.125 / 1.625, 1e-12);
  // A uniform prior changes nothing.
  EXPECT_TRUE(torch::allclose(align_distribution(probs, torch::full({2}, 0.5, torch::kDouble)), probs));
  EXPECT_THROW(align_distribution(probs, torch::tensor({1.0, 0.0}, torch::kDouble)), c10::Error);
}

TEST_F(PseudoLabelLossTest, AlignedLabelsMoveOffTheOverPredictedClass) {
  // The classifier says class 0 for both rows; the running prior says it predicts class 0 for
  // 80% of targets, so row 1 (0.6 / 0.4) is relabelled class 1, row 2 (0.9 / 0.1) stays class 0.
  const auto logits = torch::log(torch::tensor({0.6, 0.4, 0.9, 0.1}, torch::kDouble).view({2, 2}));
  const auto out = aligned_pseudo_label_cross_entropy(logits, torch::tensor({0.8, 0.2}, torch::kDouble), 0.0);
  EXPECT_EQ(out.pseudo_labels[0].item<int64_t>(), 1);
  EXPECT_EQ(out.pseudo_labels[1].item<int64_t>(), 0);
  // loss = mean(-log 0.4, -log 0.9) on the unaligned softmax of the trained logits.
  EXPECT_NEAR(out.loss.item<double>(), 0.5 * (-std::log(0.4) - std::log(0.9)), 1e-12);
  // The threshold applies to the aligned confidence: 2/2.75 = 0.727 and 1.125/1.625 = 0.692.
  const auto strict = aligned_pseudo_label_cross_entropy(logits, torch::tensor({0.8, 0.2}, torch::kDouble), 0.7);
  EXPECT_DOUBLE_EQ(strict.acceptance_rate.item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(strict.mask[0].item<double>(), 1.0);
}

TEST_F(PseudoLabelLossTest, AlignedLabelsFromATeacherTrainTheStudent) {
  // The teacher (the weight average) picks the labels: after alignment with prior (0.8, 0.2)
  // its rows (0.6, 0.4) and (0.9, 0.1) give classes 1 and 0, as above; the student's own
  // softmax (0.3, 0.7) and (0.2, 0.8) would say 1 and 1. The loss is the student's CE on the
  // teacher's labels: mean(-log 0.7, -log 0.2); the gradient reaches the student only.
  const auto teacher = torch::log(torch::tensor({0.6, 0.4, 0.9, 0.1}, torch::kDouble).view({2, 2}));
  const auto student =
      torch::log(torch::tensor({0.3, 0.7, 0.2, 0.8}, torch::kDouble).view({2, 2})).requires_grad_(true);
  const auto prior = torch::tensor({0.8, 0.2}, torch::kDouble);
  const auto out = aligned_pseudo_label_cross_entropy(student, teacher, prior, 0.0);
  EXPECT_EQ(out.pseudo_labels[0].item<int64_t>(), 1);
  EXPECT_EQ(out.pseudo_labels[1].item<int64_t>(), 0);
  EXPECT_NEAR(out.loss.item<double>(), 0.5 * (-std::log(0.7) - std::log(0.2)), 1e-12);
  EXPECT_NEAR(out.confidence[0].item<double>(), 2.0 / 2.75, 1e-12);
  out.loss.backward();
  // d/dz of 0.5 * CE(z, y) = 0.5 * (softmax(z) - onehot(y)); row 2: 0.5 * (0.2 - 1, 0.8).
  EXPECT_NEAR(student.grad()[1][0].item<double>(), 0.5 * (0.2 - 1.0), 1e-12);
  EXPECT_NEAR(student.grad()[1][1].item<double>(), 0.5 * 0.8, 1e-12);
  // Labels chosen by the student's own logits: the two-argument form, exactly.
  const auto self = aligned_pseudo_label_cross_entropy(student.detach(), prior, 0.0);
  const auto same = aligned_pseudo_label_cross_entropy(student.detach(), student.detach(), prior, 0.0);
  EXPECT_TRUE(torch::equal(self.pseudo_labels, same.pseudo_labels));
  EXPECT_DOUBLE_EQ(self.loss.item<double>(), same.loss.item<double>());
  EXPECT_THROW(aligned_pseudo_label_cross_entropy(student, torch::zeros({3, 2}, torch::kDouble), prior, 0.0),
               c10::Error);
}

TEST_F(PseudoLabelLossTest, PermutationInvariantAndNonNegative) {
  const auto logits = 3.0 * torch::randn({16, 5}, torch::kDouble);
  const auto perm = torch::randperm(16, torch::kLong);
  const auto a = pseudo_label_cross_entropy(logits, 0.7);
  const auto b = pseudo_label_cross_entropy(logits.index_select(0, perm), 0.7);
  EXPECT_GE(a.loss.item<double>(), 0.0);
  EXPECT_NEAR(a.loss.item<double>(), b.loss.item<double>(), 1e-12);
  EXPECT_DOUBLE_EQ(a.acceptance_rate.item<double>(), b.acceptance_rate.item<double>());
}

TEST_F(PseudoLabelLossTest, RejectsBadInput) {
  EXPECT_THROW(pseudo_label_cross_entropy(torch::randn({3, 4}), 1.5), c10::Error);
  EXPECT_THROW(pseudo_label_cross_entropy(torch::randn({3, 4}), -0.1), c10::Error);
  EXPECT_THROW(pseudo_label_cross_entropy(torch::randn({3, 4}), torch::randn({3, 5}), 0.5), c10::Error);
}

TEST_F(EntropyLossTest, HandComputedValues) {
  EXPECT_NEAR(entropy_loss(torch::zeros({3, 10}, torch::kDouble)).item<double>(), std::log(10.0), 1e-12);
  // softmax([0, ln 3]) = [1/4, 3/4]: H = -(1/4 ln 1/4 + 3/4 ln 3/4) = 0.5623351446.
  const auto two = torch::tensor({0.0, std::log(3.0)}, torch::kDouble).view({1, 2});
  EXPECT_NEAR(entropy_loss(two).item<double>(), 0.5623351446188083, 1e-12);
  // A confident prediction has (nearly) zero entropy, and the exact form stays finite.
  const auto peaked = torch::tensor({200.0, 0.0, 0.0}, torch::kDouble).view({1, 3});
  EXPECT_NEAR(entropy_loss(peaked).item<double>(), 0.0, 1e-12);
}

TEST_F(EntropyLossTest, BoundedPermutationInvariantAndGradient) {
  const auto logits = torch::randn({8, 4}, torch::kDouble);
  const double h = entropy_loss(logits).item<double>();
  EXPECT_GE(h, 0.0);
  EXPECT_LE(h, std::log(4.0));
  EXPECT_NEAR(entropy_loss(logits.index_select(0, torch::randperm(8, torch::kLong))).item<double>(), h, 1e-12);
  const auto fn = [](const std::vector<torch::Tensor>& in) { return entropy_loss(in[0]); };
  fashioncut::testing::expect_gradients_match(fn, {logits});
}

}  // namespace
}  // namespace fashioncut::losses
