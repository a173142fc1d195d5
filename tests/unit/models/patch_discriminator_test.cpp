#include "fashioncut/models/patch_discriminator.h"

#include <gtest/gtest.h>

#include "support/test_support.h"
#include "unit/models/models_test_helpers.h"

namespace fashioncut::models {
namespace {

class PatchDiscriminatorTest : public testing::SeedingFixture {};

TEST_F(PatchDiscriminatorTest, MapSizesMatchReference) {
  torch::NoGradGuard no_grad;
  PatchDiscriminator d(PatchDiscriminatorOptions().ndf(4));
  // 256: 255 -> 128 -> 127 -> 64 -> 63 -> 32 -> 31 -> 30 (method.md 1.3)
  for (auto [in, out] : std::vector<std::pair<int64_t, int64_t>>{{256, 30}, {64, 6}, {32, 2}, {128, 14}}) {
    EXPECT_EQ(d->output_size(in), out) << in;
    auto y = d(torch::rand({2, 3, in, in}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 1, out, out})) << in;
  }
  // Classic 70x70 PatchGAN without anti-aliasing: 256 -> 128 -> 64 -> 32 -> 31 -> 30.
  PatchDiscriminator plain(PatchDiscriminatorOptions().ndf(4).antialias(false));
  EXPECT_EQ(plain(torch::rand({1, 3, 256, 256})).sizes(), (std::vector<int64_t>{1, 1, 30, 30}));
  EXPECT_EQ(plain->output_size(64), 6);
  EXPECT_THROW(d(torch::rand({1, 3, 16, 16})), c10::Error);  // too small for 3 layers
  EXPECT_THROW(d(torch::rand({1, 1, 64, 64})), c10::Error);
}

TEST_F(PatchDiscriminatorTest, LayoutAndNamesFollowCut) {
  PatchDiscriminator d{PatchDiscriminatorOptions()};
  auto state = test::ordered_state(*d);
  std::vector<std::string> names;
  for (auto& kv : state) names.push_back(kv.first + " " + c10::str(kv.second.sizes()));
  const std::vector<std::string> expected{
      "model.0.weight [64, 3, 4, 4]",    "model.0.bias [64]",         "model.2.filt [64, 1, 3, 3]",
      "model.3.weight [128, 64, 4, 4]",  "model.3.bias [128]",        "model.6.filt [128, 1, 3, 3]",
      "model.7.weight [256, 128, 4, 4]", "model.7.bias [256]",        "model.10.filt [256, 1, 3, 3]",
      "model.11.weight [512, 256, 4, 4]", "model.11.bias [512]",      "model.14.weight [1, 512, 4, 4]",
      "model.14.bias [1]"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(d->model->size(), 15u);
  // Blur filter is outer([1,2,1],[1,2,1]) / 16.
  auto filt = d->named_buffers()["model.2.filt"][0][0];
  EXPECT_TRUE(torch::allclose(filt, torch::tensor({{1., 2., 1.}, {2., 4., 2.}, {1., 2., 1.}}).to(torch::kFloat) / 16));
}

TEST_F(PatchDiscriminatorTest, NLayersChangesDepthAndChannelCap) {
  PatchDiscriminator d(PatchDiscriminatorOptions().ndf(2).n_layers(5));
  auto p = d->named_parameters();
  // channel multipliers 1,2,4,8,8 then min(2^5,8)=8
  EXPECT_EQ(p["model.15.weight"].size(0), 16);
  EXPECT_EQ(d->model->size(), 23u);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(d(torch::rand({1, 3, 256, 256})).size(2), d->output_size(256));
}

}  // namespace
}  // namespace fashioncut::models
