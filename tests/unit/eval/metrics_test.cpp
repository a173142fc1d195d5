#include "fashioncut/eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fashioncut::eval {
namespace {

TEST(MetricsTest, HandCheckedConfusionAndScores) {
  // true:  0 0 0 1 1 2 ; pred: 0 0 1 1 2 2
  const auto y = torch::tensor({0, 0, 0, 1, 1, 2}, torch::kLong);
  const auto p = torch::tensor({0, 0, 1, 1, 2, 2}, torch::kLong);
  const auto m = classification_metrics(p, y, 3);
  EXPECT_EQ(m.count, 6);
  EXPECT_DOUBLE_EQ(m.accuracy, 4.0 / 6.0);
  EXPECT_EQ(m.confusion[0], (std::vector<int64_t>{2, 1, 0}));
  EXPECT_EQ(m.confusion[1], (std::vector<int64_t>{0, 1, 1}));
  EXPECT_DOUBLE_EQ(m.recall[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.precision[1], 0.5);
  EXPECT_DOUBLE_EQ(m.precision[2], 0.5);
  EXPECT_DOUBLE_EQ(m.recall[2], 1.0);
  EXPECT_NEAR(m.f1[2], 2 * 0.5 * 1.0 / 1.5, 1e-12);
  EXPECT_NEAR(m.macro_accuracy, (2.0 / 3.0 + 0.5 + 1.0) / 3.0, 1e-12);
}

TEST(MetricsTest, IgnoresNegativeLabels) {
  const auto m = classification_metrics(torch::tensor({1, 0}, torch::kLong), torch::tensor({1, -1}, torch::kLong), 2);
  EXPECT_EQ(m.count, 1);
  EXPECT_DOUBLE_EQ(m.accuracy, 1.0);
}

TEST(MetricsTest, PredictionStatsOfUniformAndOneHot) {
  const auto uniform = torch::full({4, 4}, 0.25);
  auto s = prediction_stats(uniform, 0.9);
  EXPECT_NEAR(s.mean_entropy, 1.0, 1e-9);
  EXPECT_NEAR(s.class_balance, 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.acceptance, 0.0);
  const auto collapsed = torch::tensor({{1.0, 0.0}, {1.0, 0.0}});
  s = prediction_stats(collapsed, 0.9);
  EXPECT_NEAR(s.mean_entropy, 0.0, 1e-9);
  EXPECT_NEAR(s.class_balance, 0.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.acceptance, 1.0);
  EXPECT_DOUBLE_EQ(s.predicted_share[0], 1.0);
  // Confident and balanced beats collapsed at equal synthetic accuracy.
  const auto balanced = torch::tensor({{1.0, 0.0}, {0.0, 1.0}});
  EXPECT_GT(label_free_score(0.8, prediction_stats(balanced, 0.9)), label_free_score(0.8, s));
  // Hand-computed: accuracy 0.9, predictions half class 0, half class 1 of 4 classes ->
  // balance = ln 2 / ln 4 = 0.5, score 0.45; a collapse wins nothing from higher accuracy.
  const auto half = torch::tensor({{1.0, 0.0, 0.0, 0.0}, {0.0, 1.0, 0.0, 0.0}});
  EXPECT_NEAR(label_free_score(0.9, prediction_stats(half, 0.5)), 0.45, 1e-9);
  const auto one = torch::tensor({{1.0, 0.0, 0.0, 0.0}, {1.0, 0.0, 0.0, 0.0}});
  EXPECT_NEAR(label_free_score(1.0, prediction_stats(one, 0.5)), 0.0, 1e-9);
}

}  // namespace
}  // namespace fashioncut::eval
