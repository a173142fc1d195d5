#include "fashioncut/models/patch_sample_mlp.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace fashioncut::models {
namespace {

class PatchSampleMlpTest : public testing::SeedingFixture {};

std::vector<torch::Tensor> make_feats(int64_t b) {
  return {torch::randn({b, 3, 38, 38}), torch::randn({b, 8, 32, 32}), torch::randn({b, 16, 8, 8}),
          torch::randn({b, 16, 4, 4})};
}

TEST_F(PatchSampleMlpTest, AllParametersExistBeforeFirstForward) {
  PatchSampleMlp f(PatchSampleMlpOptions({3, 128, 256, 256, 256}));
  auto p = f->named_parameters();
  EXPECT_EQ(p.size(), 20u);  // 5 layers x 2 Linear x (weight, bias)
  EXPECT_EQ(p["mlp_0.0.weight"].sizes(), (std::vector<int64_t>{256, 3}));
  EXPECT_EQ(p["mlp_1.0.weight"].sizes(), (std::vector<int64_t>{256, 128}));
  EXPECT_EQ(p["mlp_4.2.weight"].sizes(), (std::vector<int64_t>{256, 256}));
  EXPECT_EQ(p["mlp_4.2.bias"].abs().sum().item<double>(), 0.0);  // CUT init: bias 0
  EXPECT_EQ(f->num_layers(), 5u);
}

TEST_F(PatchSampleMlpTest, ShapesUnitNormAndPatchCount) {
  // LibTorch's default init: CUT's gain-0.02 weights give outputs so small that the 1e-7 of
  // the normalisation shows at the 1e-4 level.
  PatchSampleMlp f(PatchSampleMlpOptions({3, 8, 16, 16}).nc(32).init_gain(0));
  auto out = f(make_feats(2), 256);
  ASSERT_EQ(out.feats.size(), 4u);
  const std::vector<int64_t> patches{256, 256, 64, 16};  // min(256, H*W)
  for (size_t l = 0; l < 4; ++l) {
    EXPECT_EQ(out.feats[l].sizes(), (std::vector<int64_t>{2 * patches[l], 32})) << l;
    EXPECT_EQ(out.patch_ids[l].numel(), patches[l]);
    EXPECT_EQ(out.patch_ids[l].scalar_type(), torch::kLong);
    auto norms = out.feats[l].norm(2, 1);
    EXPECT_TRUE(torch::allclose(norms, torch::ones_like(norms), 1e-4, 1e-4)) << l;
    // distinct locations (a permutation prefix)
    EXPECT_EQ(std::get<0>(torch::_unique(out.patch_ids[l])).numel(), patches[l]);
  }
  // All 16 locations of a 4x4 map are used.
  EXPECT_TRUE(torch::equal(std::get<0>(out.patch_ids[3].sort()), torch::arange(16)));
}

TEST_F(PatchSampleMlpTest, IdsSharedAcrossBatchAndReusedForQuery) {
  PatchSampleMlp f(PatchSampleMlpOptions({4}).nc(8).init_gain(0));
  // Two images that are identical: their rows must match (same locations for every image).
  auto one = torch::randn({1, 4, 16, 16});
  auto batch = torch::cat({one, one, torch::randn({1, 4, 16, 16})});
  torch::manual_seed(7);
  auto key = f->forward({batch}, 32);
  auto rows = key.feats[0].view({3, 32, 8});
  EXPECT_TRUE(torch::allclose(rows[0], rows[1]));
  EXPECT_FALSE(torch::allclose(rows[0], rows[2]));
  // Image-major order: row b*P + p is image b at patch_ids[p].
  auto ids = key.patch_ids[0];
  auto manual = torch::nn::functional::normalize(
      f->named_children()["mlp_0"]->as<torch::nn::Sequential>()->forward(
          batch[2].flatten(1).t().index_select(0, ids)),
      torch::nn::functional::NormalizeFuncOptions().dim(1));
  EXPECT_TRUE(torch::allclose(rows[2], manual, 1e-5, 1e-5));
  // Query pass with the key's ids uses exactly those locations.
  auto query = f->forward({batch}, 32, key.patch_ids);
  EXPECT_TRUE(torch::equal(query.patch_ids[0], ids));
  EXPECT_TRUE(torch::allclose(query.feats[0], key.feats[0]));
  // A fresh draw picks other locations; a re-seed reproduces the first draw.
  auto other = f->forward({batch}, 32);
  EXPECT_FALSE(torch::equal(other.patch_ids[0], ids));
  torch::manual_seed(7);
  auto again = f->forward({batch}, 32);
  EXPECT_TRUE(torch::equal(again.patch_ids[0], ids));
}

TEST_F(PatchSampleMlpTest, RejectsMismatchedInputs) {
  PatchSampleMlp f(PatchSampleMlpOptions({3, 8}).nc(8));
  EXPECT_THROW(f->forward({torch::randn({1, 3, 4, 4})}, 4), c10::Error);                             // wrong layer count
  EXPECT_THROW(f->forward({torch::randn({1, 3, 4, 4}), torch::randn({1, 7, 4, 4})}, 4), c10::Error);  // wrong channels
  EXPECT_THROW(f->forward({torch::randn({1, 3, 4, 4}), torch::randn({1, 8, 4, 4})}, 0), c10::Error);  // num_patches 0
  EXPECT_THROW(f->forward({torch::randn({1, 3, 4, 4}), torch::randn({1, 8, 4, 4})}, 4,
                 {torch::tensor({0, 99}), torch::tensor({0, 1})}),
               c10::Error);  // id out of range
  EXPECT_THROW(PatchSampleMlp(PatchSampleMlpOptions({})), c10::Error);
}

}  // namespace
}  // namespace fashioncut::models

namespace fashioncut::models {
namespace {

TEST(L2NormalizeRowsTest, ZeroRowHasFiniteGradient) {
  // An all-zero row (every hidden unit off, zero biases) used to give sqrt'(0) = inf -> NaN
  // gradients that poisoned G after one step.
  auto x = torch::tensor({{0.0, 0.0, 0.0}, {3.0, 0.0, 4.0}}, torch::kDouble).requires_grad_(true);
  const auto y = l2_normalize_rows(x);
  EXPECT_NEAR(y[1][0].item<double>(), 0.6, 1e-6);
  EXPECT_NEAR(y[1][2].item<double>(), 0.8, 1e-6);
  EXPECT_EQ(y[0].abs().sum().item<double>(), 0.0);
  y.sum().backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
}

}  // namespace
}  // namespace fashioncut::models
