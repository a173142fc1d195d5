#include "fashioncut/synth/garment.h"

#include <cmath>

#include "fashioncut/core/errors.h"

namespace fashioncut::synth {

const std::vector<std::string>& apparel_garments() {
  static const std::vector<std::string> names{"t-shirt", "shirt", "dress", "skirt",
                                              "trousers", "shorts", "sweater", "coat"};
  return names;
}

const std::vector<std::string>& fmnist_garments() {
  static const std::vector<std::string> names{"t-shirt_top", "trouser", "pullover", "dress", "coat",
                                              "sandal",      "shirt",   "sneaker",  "bag",   "ankle_boot"};
  return names;
}

std::vector<std::string> garment_names() {
  std::vector<std::string> out = apparel_garments();
  for (const auto& n : fmnist_garments())
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  return out;
}

GarmentGeometry build_garment(const std::string& name, Rng& rng) {
  GarmentGeometry g;
  if (name == "t-shirt" || name == "t-shirt_top" || name == "shirt" || name == "sweater" || name == "pullover" ||
      name == "coat")
    g = build_top(rng, name);
  else if (name == "dress")
    g = build_dress(rng);
  else if (name == "trousers" || name == "trouser" || name == "shorts" || name == "skirt")
    g = build_bottom(rng, name);
  else if (name == "sneaker" || name == "sandal" || name == "ankle_boot")
    g = build_shoe(rng, name);
  else if (name == "bag")
    g = build_bag(rng);
  else {
    std::string known;
    for (const auto& n : garment_names()) known += (known.empty() ? "" : ", ") + n;
    throw ConfigError("unknown garment '" + name + "' (known: " + known + ")");
  }
  return g;
}

std::vector<cv::Point2f> mirror_outline(const std::vector<cv::Point2f>& left_half) {
  // the polygon runs: top centre -> left side -> bottom centre -> right side (centre points shared)
  std::vector<cv::Point2f> poly;
  poly.insert(poly.end(), left_half.begin(), left_half.end());
  for (size_t i = left_half.size(); i-- > 0;) {
    const auto& p = left_half[i];
    if (std::fabs(p.x) < 1e-6f) continue;
    poly.emplace_back(-p.x, p.y);
  }
  return poly;
}

std::vector<cv::Point2f> mirror_x(std::vector<cv::Point2f> pts) {
  for (auto& p : pts) p.x = -p.x;
  return pts;
}

std::vector<cv::Point2f> arc_points(cv::Point2f c, float rx, float ry, float a0, float a1, int n) {
  std::vector<cv::Point2f> out;
  for (int i = 0; i < n; ++i) {
    const float a = (a0 + (a1 - a0) * i / float(std::max(1, n - 1))) * float(M_PI / 180.0);
    out.emplace_back(c.x + rx * std::cos(a), c.y + ry * std::sin(a));
  }
  return out;
}

std::vector<cv::Point2f> bezier(cv::Point2f p0, cv::Point2f p1, cv::Point2f p2, cv::Point2f p3, int n) {
  std::vector<cv::Point2f> out;
  for (int i = 0; i < n; ++i) {
    const float t = i / float(std::max(1, n - 1)), u = 1 - t;
    out.push_back(p0 * (u * u * u) + p1 * (3 * u * u * t) + p2 * (3 * u * t * t) + p3 * (t * t * t));
  }
  return out;
}

std::vector<cv::Point2f> tube(cv::Point2f p0, cv::Point2f p1, float w0, float w1) {
  cv::Point2f d = p1 - p0;
  const float len = std::max(1e-6f, std::hypot(d.x, d.y));
  const cv::Point2f n(-d.y / len, d.x / len);
  return {p0 + n * (w0 / 2), p1 + n * (w1 / 2), p1 - n * (w1 / 2), p0 - n * (w0 / 2)};
}

void append(std::vector<cv::Point2f>& a, const std::vector<cv::Point2f>& b) { a.insert(a.end(), b.begin(), b.end()); }

}  // namespace fashioncut::synth
