#include "fashioncut/models/flops.h"

#include <gtest/gtest.h>

#include "fashioncut/models/blur_pool.h"
#include "fashioncut/models/patch_discriminator.h"
#include "fashioncut/models/resnet.h"
#include "fashioncut/models/resnet_generator.h"
#include "support/test_support.h"

namespace fashioncut::models {
namespace {

namespace nn = torch::nn;

class FlopsTest : public testing::SeedingFixture {};

// conv 3->8 k3 p1 (8x8) -> blur-down (8 ch, 8x8 -> 4x4) -> convT 8->4 k2 s2 (4x4 -> 8x8) -> flatten -> linear
struct TinyNetImpl : nn::Module {
  TinyNetImpl()
      : conv(register_module("conv", nn::Conv2d(nn::Conv2dOptions(3, 8, 3).padding(1)))),
        blur(register_module("blur", BlurDownsample(BlurDownsampleOptions(8)))),
        up(register_module("up", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(8, 4, 2).stride(2)))),
        fc(register_module("fc", nn::Linear(4 * 8 * 8, 10))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    return fc(up(blur(torch::relu(conv(x)))).flatten(1));
  }
  nn::Conv2d conv;
  BlurDownsample blur;
  nn::ConvTranspose2d up;
  nn::Linear fc;
};
TORCH_MODULE(TinyNet);

TEST_F(FlopsTest, TinyNetMatchesHandCount) {
  TinyNet net;
  const int64_t n = 2;
  const int64_t conv = n * 8 * 8 * 8 * 3 * 9;   // N*Cout*Hout*Wout * Cin*k*k
  const int64_t blur = n * 8 * 4 * 4 * 1 * 9;   // depthwise: Cin/groups = 1
  const int64_t up = n * 8 * 4 * 4 * 4 * 2 * 2; // transposed: N*Cin*Hin*Win * Cout*k*k
  const int64_t fc = n * 256 * 10;
  auto cost = measure_cost(net, {n, 3, 8, 8});
  EXPECT_EQ(cost.macs, conv + blur + up + fc);
  EXPECT_EQ(cost.flops(), 2 * (conv + blur + up + fc));
  EXPECT_EQ(cost.params, (8 * 3 * 9 + 8) + (8 * 4 * 4 + 4) + (256 * 10 + 10));  // buffers excluded
  EXPECT_TRUE(net->is_training());  // flag restored
}

TEST_F(FlopsTest, StridedDilatedConvAndMatmul) {
  auto w = torch::randn({6, 2, 3, 3});
  auto x = torch::randn({1, 4, 11, 11});
  // stride 2, pad 1, dilation 2, groups 2: out = (11 + 2 - 4 - 1)/2 + 1 = 5
  auto macs = count_macs([&] {
    torch::nn::functional::conv2d(x, w, torch::nn::functional::Conv2dFuncOptions().stride(2).padding(1).dilation(2).groups(2));
  });
  EXPECT_EQ(macs, 1 * 6 * 5 * 5 * 2 * 9);
  auto a = torch::randn({3, 4}), b = torch::randn({4, 5});
  EXPECT_EQ(count_macs([&] { torch::mm(a, b); }), 3 * 4 * 5);
  EXPECT_EQ(count_macs([&] { torch::bmm(a.unsqueeze(0).repeat({2, 1, 1}), b.unsqueeze(0).repeat({2, 1, 1})); }),
            2 * 3 * 4 * 5);
  EXPECT_EQ(count_macs([&] { torch::relu(a); }), 0);
}

TEST_F(FlopsTest, ResNetAndCutNetsScaleAsExpected) {
  // torchvision resnet18 at 224 px: 1.814 GMACs (the commonly quoted 1.8 GFLOPs as MACs).
  ResNet r18(ResNetOptions().depth(18));
  const auto c = measure_cost(r18, {1, 3, 224, 224});
  EXPECT_EQ(c.params, 11689512);  // torchvision resnet18 parameter count
  EXPECT_NEAR(static_cast<double>(c.macs), 1.8142e9, 0.002e9);
  // Fully convolutional nets: MACs scale with pixels, up to the padded borders of the
  // anti-aliased upsampling (its transposed conv runs on (H+2)x(W+2) before the crop).
  ResnetGenerator g(ResnetGeneratorOptions().ngf(4).n_blocks(2));
  const double at64 = static_cast<double>(measure_cost(g, {1, 3, 64, 64}).macs);
  const double at32 = static_cast<double>(measure_cost(g, {1, 3, 32, 32}).macs);
  EXPECT_NEAR(at64 / (4 * at32), 1.0, 0.01);
  EXPECT_LT(at64, 4 * at32);  // the borders weigh less at the larger size
}

}  // namespace
}  // namespace fashioncut::models
