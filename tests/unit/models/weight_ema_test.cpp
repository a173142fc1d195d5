// WeightEma (models/weight_ema.cpp): the average against hand-computed values (warm-up
// included), integer buffers copied, swap exchanging live and averaged tensors without
// breaking the optimiser's hold on the parameters, and a save/load round trip.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "fashioncut/models/weight_ema.h"

namespace fashioncut::models::weight_ema_test {
namespace {
using torch::Tensor;

struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    fc = register_module("fc", torch::nn::Linear(2, 1));
    bn = register_module("bn", torch::nn::BatchNorm1d(1));
  }
  Tensor forward(const Tensor& x) { return bn->forward(fc->forward(x)); }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(Tiny);

void set_weight(Tiny& m, double w0, double w1) {
  torch::NoGradGuard no_grad;
  m->fc->weight.copy_(torch::tensor({{w0, w1}}));
}

TEST(WeightEmaTest, AveragesWithWarmUpByHand) {
  Tiny live;
  set_weight(live, 1.0, 2.0);
  WeightEma ema(*live);
  set_weight(live, 3.0, 6.0);
  // First update: m_0 = min(0.9, 1/10) = 0.1 -> 0.1 * 1 + 0.9 * 3 = 2.8; 0.1 * 2 + 0.9 * 6 = 5.6.
  ema->update(*live, 0.9);
  ema->swap(*live);
  EXPECT_NEAR(live->fc->weight[0][0].item<double>(), 2.8, 1e-6);
  EXPECT_NEAR(live->fc->weight[0][1].item<double>(), 5.6, 1e-6);
  ema->swap(*live);
  EXPECT_NEAR(live->fc->weight[0][0].item<double>(), 3.0, 1e-6);
  // Second update: m_1 = min(0.9, 2/11) = 0.1818..; live weight now 5.
  set_weight(live, 5.0, 6.0);
  ema->update(*live, 0.9);
  const double m1 = 2.0 / 11.0;
  {
    EmaSwapGuard averaged(ema.get(), live.get());
    EXPECT_NEAR(live->fc->weight[0][0].item<double>(), m1 * 2.8 + (1 - m1) * 5.0, 1e-6);
  }
  EXPECT_NEAR(live->fc->weight[0][0].item<double>(), 5.0, 1e-6);
  EXPECT_EQ(ema->updates(), 2);
  // Late updates use the momentum asked for: after many, m_t = 0.9 exactly.
  for (int i = 0; i < 200; ++i) ema->update(*live, 0.9);
  set_weight(live, 15.0, 6.0);
  ema->update(*live, 0.9);
  EmaSwapGuard averaged(ema.get(), live.get());
  EXPECT_NEAR(live->fc->weight[0][0].item<double>(), 0.9 * 5.0 + 0.1 * 15.0, 1e-5);
}

TEST(WeightEmaTest, AveragesBatchNormStatisticsAndCopiesItsCounter) {
  Tiny live;
  WeightEma ema(*live);
  live->train();
  live->forward(torch::randn({8, 2}));
  live->forward(torch::randn({8, 2}));
  ASSERT_EQ(live->bn->num_batches_tracked.item<int64_t>(), 2);
  const double running_mean = live->bn->running_mean.item<double>();
  ema->update(*live, 0.99);  // m_0 = 0.1: 0.1 * 0 (initial mean) + 0.9 * running_mean
  EmaSwapGuard averaged(ema.get(), live.get());
  EXPECT_EQ(live->bn->num_batches_tracked.item<int64_t>(), 2);
  EXPECT_NEAR(live->bn->running_mean.item<double>(), 0.9 * running_mean, 1e-6);
}

TEST(WeightEmaTest, SwapKeepsTheOptimiserStepping) {
  Tiny live;
  set_weight(live, 1.0, 1.0);
  WeightEma ema(*live);
  set_weight(live, 4.0, 4.0);
  torch::optim::SGD sgd(live->parameters(), torch::optim::SGDOptions(0.5));
  { EmaSwapGuard averaged(ema.get(), live.get()); }  // swapped and back
  sgd.zero_grad();
  live->fc->weight.sum().backward();  // d/dw sum(w) = 1 -> w -= 0.5
  sgd.step();
  EXPECT_NEAR(live->fc->weight[0][0].item<double>(), 3.5, 1e-6);
  EmaSwapGuard averaged(ema.get(), live.get());
  EXPECT_NEAR(live->fc->weight[0][0].item<double>(), 1.0, 1e-6);  // the average never moved
}

TEST(WeightEmaTest, SavesAndLoadsWithTheModule) {
  Tiny live;
  WeightEma ema(*live);
  set_weight(live, 7.0, -1.0);
  ema->update(*live, 0.5);
  ema->update(*live, 0.5);
  std::stringstream buffer;
  torch::serialize::OutputArchive out;
  ema->save(out);
  out.save_to(buffer);
  Tiny other;
  WeightEma loaded(*other);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  loaded->load(in);
  EXPECT_EQ(loaded->updates(), 2);
  EmaSwapGuard a(ema.get(), live.get());
  EmaSwapGuard b(loaded.get(), other.get());
  EXPECT_TRUE(torch::equal(live->fc->weight, other->fc->weight));
}

TEST(WeightEmaTest, NullAverageGuardDoesNothing) {
  Tiny live;
  set_weight(live, 2.0, 3.0);
  EmaSwapGuard nothing(nullptr, live.get());
  EXPECT_NEAR(live->fc->weight[0][1].item<double>(), 3.0, 1e-6);
}

}  // namespace
}  // namespace fashioncut::models::weight_ema_test
