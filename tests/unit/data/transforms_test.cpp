// Transforms: shapes, value ranges, keep-aspect padding, crops, flips, determinism.
#include <gmock/gmock.h>

#include "fashioncut/core/errors.h"
#include "fashioncut/core/seed.h"
#include "fashioncut/data/transforms.h"
#include "support/test_support.h"

namespace fashioncut::data {
namespace {

class TransformsTest : public fashioncut::testing::SeedingFixture {
 protected:
  static cv::Mat gradient(int w, int h) {  // RGB, x-dependent red so flips are visible
    cv::Mat img(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(x * 255 / std::max(1, w - 1)), 80, uint8_t(y % 256));
    return img;
  }
};

TEST_F(TransformsTest, ShapesAndRangeMinusOneOne) {
  auto rng = make_rng(1, 0);
  TransformOptions o;
  o.size = 16;
  const auto rgb = apply_transform(gradient(40, 30), o, rng);
  EXPECT_EQ(rgb.sizes(), (std::vector<int64_t>{3, 16, 16}));
  EXPECT_EQ(rgb.dtype(), torch::kFloat32);
  EXPECT_GE(rgb.min().item<float>(), -1.0f);
  EXPECT_LE(rgb.max().item<float>(), 1.0f);
  EXPECT_NEAR(rgb.min().item<float>(), -1.0f, 0.05f);  // red runs 0..255 across x
  EXPECT_NEAR(rgb.max().item<float>(), 1.0f, 0.05f);

  o.channels = 1;
  const auto gray = apply_transform(gradient(40, 30), o, rng);
  EXPECT_EQ(gray.sizes(), (std::vector<int64_t>{1, 16, 16}));
  o.channels = 3;  // gray source -> RGB: three equal channels
  const auto from_gray = apply_transform(cv::Mat(5, 5, CV_8UC1, cv::Scalar(255)), o, rng);
  EXPECT_EQ(from_gray.sizes(), (std::vector<int64_t>{3, 16, 16}));
  EXPECT_TRUE(torch::allclose(from_gray, torch::ones({3, 16, 16})));
}

TEST_F(TransformsTest, ImageNetNormalisation) {
  auto rng = make_rng(1, 0);
  TransformOptions o;
  o.size = 4;
  o.norm = Normalization::kImageNet;
  const auto t = apply_transform(cv::Mat(4, 4, CV_8UC3, cv::Scalar(255, 255, 255)), o, rng);
  EXPECT_NEAR(t[0][0][0].item<float>(), (1 - 0.485f) / 0.229f, 1e-4);
  EXPECT_NEAR(t[2][0][0].item<float>(), (1 - 0.406f) / 0.225f, 1e-4);
}

TEST_F(TransformsTest, KeepAspectPadCentresAndPads) {
  auto rng = make_rng(1, 0);
  TransformOptions o;
  o.size = 50;
  o.resize = ResizeMode::kKeepAspectPad;
  o.pad_value = 255;
  const cv::Mat black(200, 1000, CV_8UC3, cv::Scalar(0, 0, 0));  // 5:1 -> 50x10 band in the middle
  const auto t = apply_transform(black, o, rng);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 50, 50}));
  EXPECT_FLOAT_EQ(t[0][0][25].item<float>(), 1.0f);    // top padding is white
  EXPECT_FLOAT_EQ(t[0][49][25].item<float>(), 1.0f);   // bottom padding
  EXPECT_FLOAT_EQ(t[0][25][25].item<float>(), -1.0f);  // content is black
  EXPECT_FLOAT_EQ(t[0][25][0].item<float>(), -1.0f);   // spans the full width
  const auto content_rows = (t[0].select(1, 25) < 0).sum().item<int64_t>();
  EXPECT_EQ(content_rows, 10);
}

TEST_F(TransformsTest, KeepAspectCropFillsTheSquare) {
  auto rng = make_rng(1, 0);
  TransformOptions o;
  o.size = 20;
  o.resize = ResizeMode::kKeepAspectCrop;
  const cv::Mat img = gradient(100, 20);
  const auto t = apply_transform(img, o, rng);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 20, 20}));
  // The centre crop of a left-to-right red ramp sits around the middle value.
  EXPECT_NEAR(t[0].mean().item<float>(), 0.0f, 0.1f);
}

TEST_F(TransformsTest, DeterministicForTheSameRngAndVariedAcrossSeeds) {
  TransformOptions o;
  o.size = 24;
  o.load_size = 32;
  o.random_crop = true;
  o.hflip = true;
  const cv::Mat img = gradient(64, 48);
  auto a = make_rng(7, 3), b = make_rng(7, 3);
  EXPECT_TRUE(torch::equal(apply_transform(img, o, a), apply_transform(img, o, b)));
  int distinct = 0;
  const auto ref = [&] { auto r = make_rng(7, 0); return apply_transform(img, o, r); }();
  for (uint64_t i = 1; i < 10; ++i) {
    auto r = make_rng(7, i);
    distinct += !torch::equal(ref, apply_transform(img, o, r));
  }
  EXPECT_GE(distinct, 5);
}

TEST_F(TransformsTest, CentreCropWithoutRandomness) {
  TransformOptions o;
  o.size = 2;
  o.load_size = 4;
  cv::Mat img(4, 4, CV_8UC1);
  for (int i = 0; i < 16; ++i) img.at<uint8_t>(i / 4, i % 4) = uint8_t(i * 10);
  o.channels = 1;
  auto r1 = make_rng(1, 1), r2 = make_rng(2, 2);
  const auto a = apply_transform(img, o, r1), b = apply_transform(img, o, r2);
  EXPECT_TRUE(torch::equal(a, b));  // no random option enabled: RNG does not matter
  EXPECT_NEAR(a[0][0][0].item<float>(), 50 / 127.5f - 1, 1e-5);  // pixel (1,1)
}

TEST_F(TransformsTest, FlipMirrorsAboutHalfTheTime) {
  TransformOptions o;
  o.size = 8;
  o.hflip = true;
  const cv::Mat img = gradient(8, 8);
  int flipped = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    auto r = make_rng(3, i);
    const auto t = apply_transform(img, o, r);
    flipped += t[0][0][0].item<float>() > 0;
  }
  EXPECT_GT(flipped, 70);
  EXPECT_LT(flipped, 130);
}

TEST_F(TransformsTest, TensorToImageInvertsNormalisation) {
  TransformOptions o;
  o.size = 8;
  const cv::Mat img = gradient(8, 8);
  for (auto norm : {Normalization::kMinusOneOne, Normalization::kImageNet}) {
    o.norm = norm;
    auto r = make_rng(0, 0);
    const cv::Mat back = tensor_to_image(apply_transform(img, o, r), norm);
    ASSERT_EQ(back.type(), CV_8UC3);
    EXPECT_LE(cv::norm(back, img, cv::NORM_INF), 1.0);
  }
  const auto batch = torch::zeros({5, 1, 4, 4});
  const cv::Mat grid = tensor_to_image(batch, Normalization::kMinusOneOne);  // 3x2 grid, 2px padding
  EXPECT_EQ(grid.cols, 3 * 4 + 4 * 2);
  EXPECT_EQ(grid.rows, 2 * 4 + 3 * 2);
  EXPECT_EQ(grid.type(), CV_8UC1);
}

TEST_F(TransformsTest, InvalidOptionsAreConfigErrors) {
  TransformOptions o;
  o.channels = 2;
  EXPECT_THROW(validate(o), ConfigError);
  o.channels = 3;
  o.load_size = 10;
  o.size = 32;
  EXPECT_THROW(validate(o), ConfigError);
}

TEST_F(TransformsTest, RandomShiftFlipMovesEachImageAsAWhole) {
  // One bright pixel per image on a plain background: after the augmentation each image still
  // has exactly one bright pixel, displaced by at most 2 in each direction (or mirrored), and
  // the background stays plain (edges replicated, not zero-filled).
  const int64_t n = 64;
  auto x = torch::full({n, 1, 8, 8}, -1.0);
  for (int64_t i = 0; i < n; ++i) x[i][0][3][2] = 1.0;
  torch::manual_seed(7);
  const auto y = random_shift_flip(x, 2);
  ASSERT_EQ(y.sizes(), x.sizes());
  int flipped = 0, moved = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ((y[i] > 0).sum().item<int64_t>(), 1) << i;
    EXPECT_EQ((y[i] == -1.0).sum().item<int64_t>(), 63) << i;
    const auto at = (y[i][0] > 0).nonzero()[0];
    const int64_t r = at[0].item<int64_t>(), c = at[1].item<int64_t>();
    EXPECT_LE(std::abs(r - 3), 2) << i;
    EXPECT_TRUE(std::abs(c - 2) <= 2 || std::abs((7 - c) - 2) <= 2) << i << " col " << c;  // 0..4, or mirrored 3..7
    flipped += c >= 5;  // only a mirrored image can put it this far right
    moved += (r != 3);
  }
  EXPECT_GT(flipped, 5);
  EXPECT_GT(moved, 20);  // 4 of 5 vertical shifts move it
  // Same seed, same result; a shift of 0 only flips.
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(random_shift_flip(x, 2), y));
  const auto f = random_shift_flip(x, 0);
  for (int64_t i = 0; i < n; ++i) EXPECT_TRUE(torch::equal(f[i], x[i]) || torch::equal(f[i], x[i].flip({2}))) << i;
  EXPECT_THROW(random_shift_flip(x, 8), c10::Error);
  EXPECT_THROW(random_shift_flip(x[0], 1), c10::Error);
}

TEST_F(TransformsTest, RandomStrongViewChangesContrastAndCutsOneHole) {
  // Shift 0: the geometry is only a flip, so each image keeps its layout. A half-bright /
  // half-dark image (mean 0, values ±0.5): contrast keeps the sign of every pixel and scales
  // its magnitude by one factor per image in [0.5, 1.5]; the hole is a square of 0s.
  const int64_t n = 200;
  auto x = torch::full({n, 1, 16, 16}, 0.5);
  x.narrow(2, 8, 8).fill_(-0.5);  // lower half dark: left/right flips keep the layout
  torch::manual_seed(3);
  const auto y = random_strong_view(x, 0, 0.5, 0.5);
  ASSERT_EQ(y.sizes(), x.sizes());
  double lo = 2, hi = 0;
  int holes = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto img = y[i][0];
    const auto zero = img == 0;
    const int64_t z = zero.sum().item<int64_t>();
    ASSERT_GT(z, 0) << i;  // a hole of side >= 1 is always cut
    const auto at = zero.nonzero();
    const int64_t h = at.select(1, 0).max().item<int64_t>() - at.select(1, 0).min().item<int64_t>() + 1;
    const int64_t w = at.select(1, 1).max().item<int64_t>() - at.select(1, 1).min().item<int64_t>() + 1;
    EXPECT_EQ(z, h * w) << i;           // one rectangle (a square clipped by the border)
    EXPECT_LE(std::max(h, w), 8) << i;  // at most half of 16
    const auto top = img.narrow(0, 0, 8), bottom = img.narrow(0, 8, 8);
    EXPECT_TRUE((top >= 0).all().item<bool>() && (bottom <= 0).all().item<bool>()) << i;
    const double m = img.abs().max().item<double>() / 0.5;  // the contrast factor
    EXPECT_TRUE(torch::allclose(img.abs().masked_select(~zero), torch::full({1}, 0.5 * m, torch::kFloat))) << i;
    lo = std::min(lo, m), hi = std::max(hi, m);
    holes += z > 1;
  }
  EXPECT_GE(lo, 0.5 - 1e-6);
  EXPECT_LE(hi, 1.5 + 1e-6);
  EXPECT_LT(lo, 0.6);
  EXPECT_GT(hi, 1.4);
  EXPECT_GT(holes, n / 2);
  torch::manual_seed(3);
  EXPECT_TRUE(torch::equal(random_strong_view(x, 0, 0.5, 0.5), y));  // deterministic under the seed
  // Values stay in [-1, 1] whatever the contrast.
  EXPECT_LE(random_strong_view(torch::ones({4, 1, 8, 8}) * 0.9 + torch::eye(8).view({1, 1, 8, 8}) * 0.1, 2, 0.9, 0.0)
                .abs().max().item<double>(), 1.0);
  EXPECT_THROW(random_strong_view(x, 0, 1.0, 0.5), c10::Error);
  EXPECT_THROW(random_strong_view(x, 0, 0.5, 1.5), c10::Error);
}

}  // namespace
}  // namespace fashioncut::data
