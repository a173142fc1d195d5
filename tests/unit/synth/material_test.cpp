// Each material's statistics match its class. Textures are painted directly at 128 px (the
// catalog size; at 64 px the smallest dots are under 1 px and blur away in the Otsu split)
// (the renderer only remaps them) on 200 draws per class; every threshold was set from the
// measured distributions with a wide margin, and each is explained next to its assert.
#include "fashioncut/synth/material.h"

#include <gmock/gmock.h>
#include <opencv2/imgproc.hpp>

#include "fashioncut/core/errors.h"
#include "support/test_support.h"

namespace fashioncut::synth {
namespace {

constexpr int kT = 128;
constexpr int kDraws = 200;

struct Painted {
  cv::Mat gray;  // CV_32F luminance 0..255
  cv::Mat rgb;   // CV_8UC3
  nlohmann::json params;
};

Painted paint(const std::string& name, uint64_t i) {
  Painted p;
  p.rgb = cv::Mat(kT, kT, CV_8UC3);
  Rng rng(1000 + i);
  MaterialRegistry::global().get(name)->paint(p.rgb, rng, 1.0, p.params);
  cv::Mat g;
  cv::cvtColor(p.rgb, g, cv::COLOR_RGB2GRAY);
  g.convertTo(p.gray, CV_32F);
  return p;
}

double stddev(const cv::Mat& m) {
  cv::Scalar mean, sd;
  cv::meanStdDev(m, mean, sd);
  return sd[0];
}

/// Power spectrum (Hann-windowed, DC removed) folded into 36 orientation bins of 5 degrees
/// (orientation of the wave vector, mod 180). Returns bin shares summing to 1.
std::vector<double> orientation_shares(const cv::Mat& gray) {
  cv::Mat win;
  cv::createHanningWindow(win, gray.size(), CV_32F);
  cv::Mat x = gray - cv::mean(gray)[0];
  x = x.mul(win);
  cv::Mat spec;
  cv::dft(x, spec, cv::DFT_COMPLEX_OUTPUT);
  std::vector<double> bins(36, 0.0);
  double total = 0;
  for (int v = 0; v < kT; ++v)
    for (int u = 0; u < kT; ++u) {
      const int fu = u <= kT / 2 ? u : u - kT, fv = v <= kT / 2 ? v : v - kT;
      if (fu * fu + fv * fv < 4) continue;  // skip DC and the window's leakage around it
      const auto c = spec.at<cv::Vec2f>(v, u);
      const double p = double(c[0]) * c[0] + double(c[1]) * c[1];
      double a = std::atan2(double(fv), double(fu)) * 180 / M_PI;
      if (a < 0) a += 180;
      bins[size_t(std::min(35, int(a / 5)))] += p;
      total += p;
    }
  for (auto& b : bins) b /= std::max(total, 1e-9);
  return bins;
}

/// Share of power in the best 15-degree wedge (3 bins, circular).
double best_wedge(const std::vector<double>& bins, int* at = nullptr) {
  double best = 0;
  for (int i = 0; i < 36; ++i) {
    const double s = bins[size_t((i + 35) % 36)] + bins[size_t(i)] + bins[size_t((i + 1) % 36)];
    if (s > best) best = s, at ? *at = i : 0;
  }
  return best;
}

/// Connected blobs of the minority phase after an Otsu split: count and mean solidity.
struct Blobs {
  int count = 0;
  double mean_area = 0;     // share of the image
  double largest = 0;       // share of the image
  double mean_solidity = 0; // area / convex hull area
};
Blobs blobs(const cv::Mat& gray, bool minority = true, int min_area = 4) {
  cv::Mat g8, bin;
  gray.convertTo(g8, CV_8U);
  cv::threshold(g8, bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  if (minority && size_t(cv::countNonZero(bin)) > bin.total() / 2) cv::bitwise_not(bin, bin);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(bin, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  Blobs b;
  for (const auto& c : contours) {
    const double area = cv::contourArea(c);
    if (area < min_area) continue;
    std::vector<cv::Point> hull;
    cv::convexHull(c, hull);
    ++b.count;
    b.mean_area += area;
    b.largest = std::max(b.largest, area / (kT * kT));
    b.mean_solidity += area / std::max(1.0, cv::contourArea(hull));
  }
  if (b.count) b.mean_area /= b.count * double(kT * kT), b.mean_solidity /= b.count;
  return b;
}

/// Fraction of draws for which `pred` holds.
double share(const std::string& name, const std::function<bool(const Painted&)>& pred) {
  int ok = 0;
  for (int i = 0; i < kDraws; ++i) ok += pred(paint(name, uint64_t(i))) ? 1 : 0;
  return ok / double(kDraws);
}

TEST(MaterialRegistryTest, DuplicateAndUnknownNamesThrow) {
  MaterialRegistry r;
  register_builtin_materials(r);
  EXPECT_EQ(r.names().size(), 7u);
  EXPECT_THROW(r.add("plain", r.get("striped")), ConfigError);
  EXPECT_THROW(r.get("plaid"), ConfigError);
  r.add("plaid", r.get("striped"));  // adding a class is one registration
  EXPECT_TRUE(r.contains("plaid"));
}

TEST(MaterialStatsTest, PlainHasLowTextureVariance) {
  // Plain = one colour x (1 +- grain <= 6%): luminance std stays under ~6 levels even on white;
  // every patterned class has edges between colours. 10 levels leaves margin for grain.
  EXPECT_EQ(share("plain", [](const Painted& p) { return stddev(p.gray) < 10.0; }), 1.0);
}

TEST(MaterialStatsTest, StripedHasOneDominantOrientation) {
  // Parallel bands put their power on one line of harmonics: >= 60% of the spectrum falls in
  // one 15-degree wedge (measured: median ~0.95). Low-contrast pairs can occasionally drown
  // in grain, so 85% of draws must pass. Camouflage (isotropic blobs) must not look like that.
  EXPECT_GE(share("striped", [](const Painted& p) { return best_wedge(orientation_shares(p.gray)) > 0.6; }), 0.85);
  EXPECT_LE(share("camouflage", [](const Painted& p) { return best_wedge(orientation_shares(p.gray)) > 0.6; }), 0.1);
}

TEST(MaterialStatsTest, HerringboneHasTwoAlternatingDiagonals) {
  // The V weave has bands at about +45 and -45 degrees to its columns: the two diagonal
  // wedges (each 45 +- 12.5 degrees from the column axis) together hold far more power than
  // a striped fabric's second direction, and neither alone holds it all.
  auto diagonals = [](const Painted& p, double* lo, double* hi) {
    const auto bins = orientation_shares(p.gray);
    const double axis = p.params["angle_deg"].get<double>();  // column direction 0 or 90
    double d1 = 0, d2 = 0;
    for (int i = 0; i < 36; ++i) {
      const double a = i * 5 + 2.5;
      auto near = [&](double c) { return std::fabs(std::remainder(a - c, 180.0)) <= 12.5; };
      if (near(axis + 45)) d1 += bins[size_t(i)];
      if (near(axis - 45)) d2 += bins[size_t(i)];
    }
    *lo = std::min(d1, d2);
    *hi = std::max(d1, d2);
  };
  EXPECT_GE(share("herringbone",
                  [&](const Painted& p) {
                    double lo, hi;
                    diagonals(p, &lo, &hi);
                    return lo > 0.15 && lo + hi > 0.45;  // both diagonals strong (measured lo ~0.3)
                  }),
            0.85);
}

TEST(MaterialStatsTest, DottedHasManySmallBlobs) {
  // At 128 px, dot radius 1.5-4 px and spacing 2.6-5 radii give >= 40 dots; 15 counts
  // allows for dots merging at tight spacing; each dot is < 1% of the image and round (solidity > 0.8).
  EXPECT_GE(share("dotted",
                  [](const Painted& p) {
                    const auto b = blobs(p.gray, true, 2);
                    return b.count >= 15 && b.mean_area < 0.01;
                  }),
            0.85);
}

TEST(MaterialStatsTest, FloralDiffersFromDotted) {
  // Flowers are petal rosettes (plus leaves) that touch and overlap: their blobs are larger
  // and less convex than dots. Dotted: mean solidity > 0.8 and small blobs; floral fails that.
  auto dot_like = [](const Painted& p) {
    const auto b = blobs(p.gray, true, 2);
    return b.count >= 15 && b.mean_area < 0.01 && b.mean_solidity > 0.8;
  };
  const double dotted = share("dotted", dot_like), floral = share("floral", dot_like);
  EXPECT_GE(dotted, 0.8);
  EXPECT_LE(floral, 0.35);
}

TEST(MaterialStatsTest, GradientIsSmoothAndMonotone) {
  // Smooth: the difference to a 5x5 box blur (what edges produce) stays small: the 99th
  // percentile is under 4 levels, where any edge gives tens of levels.
  // Monotone: for 2-colour gradients, luminance is linear in the blend parameter, so the
  // profile along the logged direction (binned in 8 steps) never reverses by more than grain.
  int smooth = 0, checked = 0, monotone = 0;
  for (int i = 0; i < kDraws; ++i) {
    const auto p = paint("gradient", uint64_t(i));
    cv::Mat blur, diff;
    cv::blur(p.gray, blur, cv::Size(5, 5), cv::Point(-1, -1), cv::BORDER_REFLECT);
    cv::absdiff(p.gray, blur, diff);
    std::vector<float> v(diff.begin<float>(), diff.end<float>());
    std::nth_element(v.begin(), v.begin() + long(v.size() * 99 / 100), v.end());
    smooth += v[v.size() * 99 / 100] < 4.0f ? 1 : 0;
    if (p.params["n_colors"] != 2) continue;
    ++checked;
    std::vector<double> sum(8, 0), cnt(8, 0);
    const bool radial = p.params["kind"] == "radial";
    const double a = p.params["angle_deg"].get<double>() * M_PI / 180;
    const double cx = p.params["centre"][0].get<double>() * kT, cy = p.params["centre"][1].get<double>() * kT;
    double tmin = 1e9, tmax = -1e9;
    std::vector<double> ts(kT * kT);
    for (int y = 0; y < kT; ++y)
      for (int x = 0; x < kT; ++x) {
        const double t = radial ? std::hypot(x - cx, y - cy) : (x - kT / 2.0) * std::cos(a) + (y - kT / 2.0) * std::sin(a);
        ts[size_t(y * kT + x)] = t;
        tmin = std::min(tmin, t), tmax = std::max(tmax, t);
      }
    for (int y = 0; y < kT; ++y)
      for (int x = 0; x < kT; ++x) {
        const int b = std::min(7, int((ts[size_t(y * kT + x)] - tmin) / (tmax - tmin + 1e-9) * 8));
        sum[size_t(b)] += p.gray.at<float>(y, x);
        cnt[size_t(b)] += 1;
      }
    int up = 0, down = 0;
    for (int b = 1; b < 8; ++b) {
      if (!cnt[size_t(b)] || !cnt[size_t(b - 1)]) continue;
      const double d = sum[size_t(b)] / cnt[size_t(b)] - sum[size_t(b - 1)] / cnt[size_t(b - 1)];
      up += d > 1.5, down += d < -1.5;
    }
    monotone += (up == 0 || down == 0) ? 1 : 0;
  }
  EXPECT_GE(smooth, kDraws * 98 / 100);
  ASSERT_GT(checked, 40);
  EXPECT_GE(monotone, checked * 95 / 100);
}

TEST(MaterialStatsTest, CamouflageHasSeveralLargeIrregularBlobs) {
  // 2.2-4 noise cells across the texture give blobs of roughly a quarter of the side: after an
  // Otsu split, 2..40 blobs of >= 8 px with the largest >= 4% of the image, and irregular
  // outlines (mean solidity < 0.9, where dots are ~0.95).
  EXPECT_GE(share("camouflage",
                  [](const Painted& p) {
                    const auto b = blobs(p.gray, true, 8);
                    return b.count >= 2 && b.count <= 40 && b.largest >= 0.04 && b.mean_solidity < 0.9;
                  }),
            0.85);
}

}  // namespace
}  // namespace fashioncut::synth
