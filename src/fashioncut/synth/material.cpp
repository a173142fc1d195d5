#include "fashioncut/synth/material.h"

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "fashioncut/core/errors.h"

namespace fashioncut::synth {

MaterialRegistry& MaterialRegistry::global() {
  static MaterialRegistry* registry = [] {
    auto* r = new MaterialRegistry();
    register_builtin_materials(*r);
    return r;
  }();
  return *registry;
}

void MaterialRegistry::add(const std::string& name, std::shared_ptr<const Material> material) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (name.empty() || !material) throw ConfigError("material registration needs a name and a material");
  for (const auto& e : entries_)
    if (e.first == name) throw ConfigError("material '" + name + "' is already registered");
  entries_.emplace_back(name, std::move(material));
}

std::shared_ptr<const Material> MaterialRegistry::get(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string known;
  for (const auto& e : entries_) {
    if (e.first == name) return e.second;
    known += (known.empty() ? "" : ", ") + e.first;
  }
  throw ConfigError("unknown pattern class '" + name + "' (known: " + known + ")");
}

bool MaterialRegistry::contains(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& e : entries_)
    if (e.first == name) return true;
  return false;
}

std::vector<std::string> MaterialRegistry::names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

namespace {
// Fabric colours seen in catalogues (RGB): neutrals, denim, earth tones, brights, pastels.
const float kPalette[][3] = {
    {20, 20, 22},    {245, 245, 240}, {235, 228, 210}, {128, 128, 130}, {60, 62, 68},   {25, 35, 70},
    {45, 70, 120},   {90, 120, 160},  {150, 180, 210}, {200, 170, 130}, {180, 150, 100}, {120, 110, 70},
    {85, 95, 55},    {35, 75, 45},    {110, 30, 40},   {190, 30, 40},   {230, 120, 140}, {245, 190, 200},
    {240, 200, 60},  {210, 150, 40},  {230, 110, 50},  {250, 130, 110}, {40, 120, 130},  {150, 120, 180},
    {200, 190, 230}, {160, 210, 180}, {110, 70, 45},   {160, 100, 60},  {250, 250, 250}, {10, 10, 10}};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

cv::Vec3f hsv_to_rgb(double h, double s, double v) {
  const double c = v * s, hp = std::fmod(h, 360.0) / 60.0, x = c * (1 - std::fabs(std::fmod(hp, 2.0) - 1));
  double r = 0, g = 0, b = 0;
  if (hp < 1) r = c, g = x;
  else if (hp < 2) r = x, g = c;
  else if (hp < 3) g = c, b = x;
  else if (hp < 4) g = x, b = c;
  else if (hp < 5) r = x, b = c;
  else r = c, b = x;
  const double m = v - c;
  return cv::Vec3f(float((r + m) * 255), float((g + m) * 255), float((b + m) * 255));
}

float luma(const cv::Vec3f& c) { return 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2]; }
}  // namespace

cv::Vec3f garment_color(Rng& rng) {
  if (chance(rng, 0.7)) {
    const auto* p = kPalette[uniform_int(rng, 0, kPaletteSize - 1)];
    cv::Vec3f c(p[0], p[1], p[2]);
    for (int k = 0; k < 3; ++k) c[k] = std::clamp(float(c[k] + uniform(rng, -15, 15)), 0.f, 255.f);
    return c;
  }
  return hsv_to_rgb(uniform(rng, 0, 360), uniform(rng, 0.2, 0.85), uniform(rng, 0.25, 0.95));
}

cv::Vec3f contrasting_color(Rng& rng, const cv::Vec3f& base) {
  const double mode = uniform01(rng);
  if (mode < 0.45) {  // light on dark / dark on light
    const bool dark_base = luma(base) < 128;
    if (chance(rng, 0.5)) return dark_base ? cv::Vec3f(245, 243, 235) : cv::Vec3f(25, 28, 40);
    cv::Vec3f c = garment_color(rng);
    for (int k = 0; k < 3; ++k) c[k] = dark_base ? 255 - (255 - c[k]) * 0.35f : c[k] * 0.45f;
    return c;
  }
  if (mode < 0.75) return garment_color(rng);
  // a tone of the base colour: clearly lighter or darker
  const float f = chance(rng, 0.5) ? float(uniform(rng, 0.35, 0.6)) : float(uniform(rng, 1.5, 2.2));
  cv::Vec3f c;
  for (int k = 0; k < 3; ++k) c[k] = std::clamp(base[k] * f + (f > 1 ? 30.f : 0.f), 0.f, 255.f);
  return c;
}

cv::Mat value_noise(int T, double cells, Rng& rng) {
  const int n = std::max(2, static_cast<int>(std::ceil(cells)) + 1);
  cv::Mat grid(n, n, CV_32F);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) grid.at<float>(y, x) = static_cast<float>(uniform01(rng));
  cv::Mat out;
  cv::resize(grid, out, cv::Size(T, T), 0, 0, cv::INTER_CUBIC);
  return out;
}

cv::Mat fractal_noise(int T, double cells, int octaves, Rng& rng) {
  cv::Mat acc = cv::Mat::zeros(T, T, CV_32F);
  double amp = 1.0, total = 0.0, c = cells;
  for (int o = 0; o < octaves; ++o) {
    cv::scaleAdd(value_noise(T, c, rng), amp, acc, acc);
    total += amp;
    amp *= 0.5;
    c *= 2.0;
  }
  acc /= total;
  return acc;
}

void add_fabric_grain(cv::Mat& texture, Rng& rng, double amount) {
  if (amount <= 0) return;
  const int T = texture.rows;
  cv::Mat coarse = value_noise(T, std::max(4, T / 24), rng);
  cv::Mat fine(T, T, CV_32F);
  // fine per-texel grain from a cheap hash of the position keyed by one draw
  const uint64_t key = rng();
  for (int y = 0; y < T; ++y) {
    float* f = fine.ptr<float>(y);
    for (int x = 0; x < T; ++x) {
      uint64_t h = key ^ (uint64_t(y) * 0x9E3779B97F4A7C15ULL) ^ (uint64_t(x) * 0xC2B2AE3D27D4EB4FULL);
      h ^= h >> 29;
      h *= 0xBF58476D1CE4E5B9ULL;
      h ^= h >> 32;
      f[x] = static_cast<float>((h & 0xFFFF) / 65535.0);
    }
  }
  for (int y = 0; y < T; ++y) {
    cv::Vec3b* t = texture.ptr<cv::Vec3b>(y);
    const float* c = coarse.ptr<float>(y);
    const float* f = fine.ptr<float>(y);
    for (int x = 0; x < T; ++x) {
      const float m = 1.0f + float(amount) * ((c[x] - 0.5f) * 1.2f + (f[x] - 0.5f) * 0.8f);
      for (int k = 0; k < 3; ++k) t[x][k] = cv::saturate_cast<uint8_t>(t[x][k] * m);
    }
  }
}

nlohmann::json color_json(const cv::Vec3f& c) {
  return nlohmann::json::array({std::lround(c[0]), std::lround(c[1]), std::lround(c[2])});
}

}  // namespace fashioncut::synth
