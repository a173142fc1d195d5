#include "fashioncut/models/heads.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "support/test_support.h"

namespace fashioncut::models {
namespace {

using BottleneckTest = fashioncut::testing::SeedingFixture;
using DomainDiscriminatorTest = fashioncut::testing::SeedingFixture;
using MddHeadTest = fashioncut::testing::SeedingFixture;

double std_of(const torch::Tensor& t) { return t.std().item<double>(); }
double mean_of(const torch::Tensor& t) { return t.mean().item<double>(); }

TEST_F(BottleneckTest, ShapesAndNonNegativeOutput) {
  for (const auto& opts : {dann_bottleneck_options(64), mdd_bottleneck_options(64, 32), afn_block_options(64, 48)}) {
    FeatureBottleneck block(opts);
    const auto y = block(torch::randn({8, 64}));
    EXPECT_EQ(y.sizes(), torch::IntArrayRef({8, opts.out_features()}));
    EXPECT_GE(y.min().item<double>(), 0.0);
    block->eval();
    EXPECT_EQ(block(torch::randn({1, 64})).sizes(), torch::IntArrayRef({1, opts.out_features()}));
  }
  EXPECT_EQ(dann_bottleneck_options(512).out_features(), 256);
  EXPECT_EQ(mdd_bottleneck_options(512).out_features(), 1024);
  EXPECT_EQ(afn_block_options(512).out_features(), 1000);
  FeatureBottleneck block(dann_bottleneck_options(16, 8));
  EXPECT_THROW(block(torch::randn({4, 15})), c10::Error);
  EXPECT_THROW(FeatureBottleneck(BottleneckOptions(4, 4).dropout(1.0)), c10::Error);
}

TEST_F(BottleneckTest, MddInitialisation) {
  FeatureBottleneck block(mdd_bottleneck_options(256, 512));
  EXPECT_NEAR(std_of(block->fc->weight), 0.005, 0.005 * 0.03);
  EXPECT_NEAR(mean_of(block->fc->weight), 0.0, 1e-4);
  EXPECT_TRUE(torch::equal(block->fc->bias, torch::full({512}, 0.1f)));
  EXPECT_TRUE(torch::equal(block->bn->weight, torch::ones({512})));  // BN left at its default
  EXPECT_EQ(block->options.dropout(), 0.5);
  EXPECT_FALSE(block->options.l2_preserved_dropout());
}

TEST_F(BottleneckTest, AfnInitialisation) {
  FeatureBottleneck block(afn_block_options(256, 1000));
  EXPECT_NEAR(std_of(block->fc->weight), 0.01, 0.01 * 0.03);
  EXPECT_NEAR(mean_of(block->fc->weight), 0.0, 1e-4);
  EXPECT_NEAR(std_of(block->fc->bias), 0.01, 0.01 * 0.15);
  EXPECT_NEAR(mean_of(block->fc->bias), 0.0, 2e-3);
  EXPECT_NEAR(mean_of(block->bn->weight), 1.0, 2e-3);
  EXPECT_NEAR(std_of(block->bn->weight), 0.01, 0.01 * 0.15);
  EXPECT_EQ(block->bn->bias.abs().max().item<double>(), 0.0);
}

TEST_F(BottleneckTest, DefaultInitialisationIsLibTorchUniform) {
  const int64_t in = 512;
  FeatureBottleneck block(dann_bottleneck_options(in));
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));  // kaiming_uniform(a = sqrt 5)
  EXPECT_LE(block->fc->weight.abs().max().item<double>(), bound);
  EXPECT_NEAR(std_of(block->fc->weight), bound / std::sqrt(3.0), 0.03 * bound);
  EXPECT_EQ(block->options.dropout(), 0.0);
}

TEST_F(BottleneckTest, NormalInitLinear) {
  torch::nn::Linear layer(128, 64);
  normal_init_linear(layer, 0.02, 0.5, 0.0);
  EXPECT_NEAR(std_of(layer->weight), 0.02, 0.02 * 0.05);
  EXPECT_TRUE(torch::equal(layer->bias, torch::full({64}, 0.5f)));
}

/// Runs the block's Linear-BN-ReLU part with the same mode as the block (pre-dropout activations).
torch::Tensor pre_dropout(FeatureBottleneck& block, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return torch::relu(block->bn(block->fc(x)));
}

TEST_F(BottleneckTest, L2PreservedDropoutScalesKeptUnitsByInverseSqrtKeep) {
  for (const double p : {0.5, 0.2}) {
    FeatureBottleneck block(afn_block_options(32, 64, p));
    const auto x = torch::randn({4096, 32});
    block->train();
    const auto h = pre_dropout(block, x);  // train-mode BN: the same batch statistics as below
    const auto y = block(x).detach();
    const auto active = h > 1e-6;
    const auto ratio = y.masked_select(active) / h.masked_select(active);
    const auto kept = ratio > 0;
    // Every kept unit is scaled by 1 / sqrt(1 - p) (dropout's 1/(1-p) times sqrt(1-p)).
    const double expected_scale = 1.0 / std::sqrt(1.0 - p);
    EXPECT_TRUE(torch::allclose(ratio.masked_select(kept), torch::full({1}, expected_scale), 1e-4, 1e-5)) << p;
    EXPECT_NEAR(kept.to(torch::kDouble).mean().item<double>(), 1.0 - p, 0.01) << p;
    // Measured on the large batch: the squared norm is preserved, the mean shrinks by sqrt(1 - p).
    EXPECT_NEAR((y.square().sum() / h.square().sum()).item<double>(), 1.0, 0.02) << p;
    EXPECT_NEAR((y.sum() / h.sum()).item<double>(), std::sqrt(1.0 - p), 0.02) << p;
    // Evaluation: no dropout and no scaling at all.
    block->eval();
    const auto h_eval = pre_dropout(block, x);
    EXPECT_TRUE(torch::equal(block(x).detach(), h_eval)) << p;
  }
}

TEST_F(BottleneckTest, StandardDropoutScalesKeptUnitsByInverseKeep) {
  FeatureBottleneck block(mdd_bottleneck_options(32, 64));
  block->train();
  const auto x = torch::randn({1024, 32});
  const auto h = pre_dropout(block, x);
  const auto y = block(x).detach();
  const auto ratio = y.masked_select(h > 1e-6) / h.masked_select(h > 1e-6);
  EXPECT_TRUE(torch::allclose(ratio.masked_select(ratio > 0), torch::full({1}, 2.0), 1e-4, 1e-5));
}

TEST_F(DomainDiscriminatorTest, ReturnsLogitsOfTheDocumentedStack) {
  DomainDiscriminator disc(DomainDiscriminatorOptions(32).hidden(64));
  EXPECT_EQ(DomainDiscriminatorOptions(256).hidden(), 1024);
  const auto x = torch::randn({16, 32});
  EXPECT_EQ(disc(x).sizes(), torch::IntArrayRef({16, 1}));
  disc->eval();
  torch::NoGradGuard no_grad;
  const auto manual = disc->fc3(torch::relu(disc->bn2(disc->fc2(torch::relu(disc->bn1(disc->fc1(x)))))));
  EXPECT_TRUE(torch::allclose(disc(x), manual));  // no Sigmoid at the end
  std::set<std::string> names;
  for (const auto& p : disc->named_parameters()) names.insert(p.key());
  EXPECT_EQ(names, (std::set<std::string>{"fc1.weight", "fc1.bias", "bn1.weight", "bn1.bias", "fc2.weight",
                                          "fc2.bias", "bn2.weight", "bn2.bias", "fc3.weight", "fc3.bias"}));
  EXPECT_THROW(disc(torch::randn({4, 31})), c10::Error);
}

TEST_F(DomainDiscriminatorTest, WithoutBatchNormUsesDropout) {
  DomainDiscriminator disc(DomainDiscriminatorOptions(8).hidden(16).batch_norm(false));
  EXPECT_EQ(disc->named_parameters().size(), 6u);
  const auto x = torch::randn({64, 8});
  disc->eval();
  EXPECT_TRUE(torch::equal(disc(x), disc(x)));
  disc->train();
  EXPECT_FALSE(torch::equal(disc(x), disc(x)));
}

TEST_F(MddHeadTest, ShapesInitAndDropoutModes) {
  MddHead head(MddHeadOptions(256, 10).width(512));
  EXPECT_EQ(MddHeadOptions(1024, 10).width(), 1024);
  EXPECT_NEAR(std_of(head->fc1->weight), 0.01, 0.01 * 0.03);
  EXPECT_NEAR(std_of(head->fc2->weight), 0.01, 0.01 * 0.05);
  EXPECT_EQ(head->fc1->bias.abs().max().item<double>(), 0.0);
  EXPECT_EQ(head->fc2->bias.abs().max().item<double>(), 0.0);
  const auto x = torch::randn({6, 256});
  EXPECT_EQ(head(x).sizes(), torch::IntArrayRef({6, 10}));
  head->train();
  EXPECT_FALSE(torch::equal(head(x), head(x)));  // dropout active
  head->eval();
  EXPECT_TRUE(torch::equal(head(x), head(x)));
  EXPECT_THROW(head(torch::randn({6, 255})), c10::Error);
}

}  // namespace
}  // namespace fashioncut::models
