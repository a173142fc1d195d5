// lr_schedule against hand-computed factors (CUT linear decay, TLL inverse decay) and the lr
// field of each optimiser type the trainer schedules.
#include "fashioncut/train/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fashioncut/core/errors.h"

namespace fashioncut::train {
namespace {

TEST(LrScheduleTest, LinearDecayHoldsThenFallsOverTheLastEpochs) {
  TrainConfig c;
  c.epochs = 4;
  c.decay_epochs = 2;  // epochs 0-1 at lr0, then 1 - k/3 for the k-th decay epoch
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinearDecay, c, 0, 0), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinearDecay, c, 1, 999), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinearDecay, c, 2, 0), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinearDecay, c, 3, 0), 1.0 / 3.0);
  c.decay_epochs = 0;  // no decay epochs: constant
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinearDecay, c, 3, 0), 1.0);
}

TEST(LrScheduleTest, InverseDecayFollowsTheIterationNotTheEpoch) {
  TrainConfig c;
  c.lr_gamma = 0.001;
  c.lr_decay = 0.75;
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kInverseDecay, c, 0, 0), 1.0);
  EXPECT_NEAR(lr_factor(LrSchedule::kInverseDecay, c, 0, 1000), std::pow(2.0, -0.75), 1e-12);  // 0.5946
  EXPECT_NEAR(lr_factor(LrSchedule::kInverseDecay, c, 3, 3000), std::pow(4.0, -0.75), 1e-12);  // 0.3536
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kConstant, c, 3, 3000), 1.0);
}

TEST(LrScheduleTest, GroupLrReadsAndWritesEachOptimiserType) {
  torch::Tensor w = torch::zeros({2}, torch::requires_grad());
  torch::optim::Adam adam({w}, torch::optim::AdamOptions(2e-4));
  torch::optim::SGD sgd({w}, torch::optim::SGDOptions(0.01));
  torch::optim::AdamW adamw({w}, torch::optim::AdamWOptions(5e-4));
  EXPECT_DOUBLE_EQ(group_lr(adam.param_groups().front()), 2e-4);
  EXPECT_DOUBLE_EQ(group_lr(sgd.param_groups().front()), 0.01);
  EXPECT_DOUBLE_EQ(group_lr(adamw.param_groups().front()), 5e-4);
  group_lr(sgd.param_groups().front()) = 0.005;
  EXPECT_DOUBLE_EQ(static_cast<torch::optim::SGDOptions&>(sgd.param_groups().front().options()).lr(), 0.005);
  torch::optim::RMSprop rmsprop({w}, torch::optim::RMSpropOptions(0.1));
  EXPECT_THROW(group_lr(rmsprop.param_groups().front()), Error);
}

}  // namespace
}  // namespace fashioncut::train
