// The seven built-in materials (pattern classes). Sizes are fractions of the texture side
// T, which spans the garment's bounding square, so a pattern looks the same at any output
// size. Each paint() logs its parameters.
#include <opencv2/imgproc.hpp>

#include <cmath>

#include "fashioncut/synth/material.h"

namespace fashioncut::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;

cv::Scalar rgb(const cv::Vec3f& c) { return cv::Scalar(c[0], c[1], c[2]); }
cv::Vec3b to8(const cv::Vec3f& c) {
  return cv::Vec3b(cv::saturate_cast<uint8_t>(c[0]), cv::saturate_cast<uint8_t>(c[1]), cv::saturate_cast<uint8_t>(c[2]));
}
cv::Vec3f mix(const cv::Vec3f& a, const cv::Vec3f& b, float t) { return a * (1 - t) + b * t; }
float smooth_edge(float d, float width) { return std::clamp(0.5f + d / width, 0.f, 1.f); }
constexpr int kShift = 4;  // sub-pixel bits for cv drawing
cv::Point fixp(double x, double y) { return cv::Point(int(std::lround(x * 16)), int(std::lround(y * 16))); }
int fixr(double r) { return std::max(1, int(std::lround(r * 16))); }

/// One colour and subtle fabric noise: low texture variance.
class PlainMaterial : public Material {
 public:
  void paint(cv::Mat& tex, Rng& rng, double scale, nlohmann::json& p) const override {
    const cv::Vec3f c = garment_color(rng);
    tex.setTo(rgb(c));
    const double grain = uniform(rng, 0.02, 0.06);
    add_fabric_grain(tex, rng, grain);
    p["color"] = color_json(c);
    p["grain"] = grain;
  }
};

/// Petal/leaf motifs of random size, density and colours on a ground colour.
class FloralMaterial : public Material {
 public:
  void paint(cv::Mat& tex, Rng& rng, double scale, nlohmann::json& p) const override {
    const int T = tex.rows;
    const cv::Vec3f ground = garment_color(rng);
    const int n_colors = uniform_int(rng, 1, 3);
    std::vector<cv::Vec3f> petals;
    for (int i = 0; i < n_colors; ++i) petals.push_back(contrasting_color(rng, ground));
    const cv::Vec3f centre = contrasting_color(rng, petals[0]);
    const bool leaves = chance(rng, 0.6);
    const cv::Vec3f leaf(float(uniform(rng, 30, 90)), float(uniform(rng, 90, 150)), float(uniform(rng, 30, 80)));
    const double size = T * uniform(rng, 0.035, 0.09) * scale;  // flower diameter
    const double cell = size * uniform(rng, 1.5, 3.0);           // density: one flower per cell
    tex.setTo(rgb(ground));
    const int cells = int(std::ceil(T / cell)) + 1;
    for (int gy = -1; gy < cells; ++gy) {
      for (int gx = -1; gx < cells; ++gx) {
        const double cx = (gx + uniform01(rng)) * cell, cy = (gy + uniform01(rng)) * cell;
        const double f = size * uniform(rng, 0.7, 1.3);
        const int n_petals = uniform_int(rng, 4, 7);
        const double rot = uniform(rng, 0, 360);
        const cv::Vec3f pc = petals[uniform_int(rng, 0, n_colors - 1)];
        if (leaves) {
          const int n_leaves = uniform_int(rng, 1, 2);
          for (int l = 0; l < n_leaves; ++l) {
            const double a = uniform(rng, 0, 2 * kPi);
            cv::ellipse(tex, fixp(cx + std::cos(a) * f * 0.75, cy + std::sin(a) * f * 0.75),
                        cv::Size(fixr(f * 0.45), fixr(f * 0.17)), a * 180 / kPi, 0, 360, rgb(leaf), cv::FILLED,
                        cv::LINE_AA, kShift);
          }
        }
        for (int k = 0; k < n_petals; ++k) {
          const double a = (rot + 360.0 * k / n_petals) * kPi / 180;
          cv::ellipse(tex, fixp(cx + std::cos(a) * f * 0.28, cy + std::sin(a) * f * 0.28),
                      cv::Size(fixr(f * 0.3), fixr(f * 0.15)), a * 180 / kPi, 0, 360, rgb(pc), cv::FILLED,
                      cv::LINE_AA, kShift);
        }
        cv::circle(tex, fixp(cx, cy), fixr(f * 0.12), rgb(centre), cv::FILLED, cv::LINE_AA, kShift);
      }
    }
    add_fabric_grain(tex, rng, 0.025);
    p["ground"] = color_json(ground);
    p["n_colors"] = n_colors;
    p["flower_size"] = size / T;
    p["spacing"] = cell / T;
    p["leaves"] = leaves;
  }
};

/// Parallel bands: width, spacing, 1-3 stripe colours, orientation.
class StripedMaterial : public Material {
 public:
  void paint(cv::Mat& tex, Rng& rng, double scale, nlohmann::json& p) const override {
    const int T = tex.rows;
    const cv::Vec3f ground = garment_color(rng);
    const int n_colors = uniform_int(rng, 1, 3);
    std::vector<cv::Vec3f> cols;
    for (int i = 0; i < n_colors; ++i) cols.push_back(contrasting_color(rng, ground));
    const double period = T * uniform(rng, 0.05, 0.16) * scale;
    const double duty = uniform(rng, 0.25, 0.6);
    const double o = uniform01(rng);
    const double angle = o < 0.5 ? 0.0 : o < 0.8 ? 90.0 : uniform(rng, 20, 70) * (chance(rng, 0.5) ? 1 : -1);
    const double c = std::cos(angle * kPi / 180), s = std::sin(angle * kPi / 180);
    const double phase = uniform(rng, 0, period);
    for (int y = 0; y < T; ++y) {
      cv::Vec3b* row = tex.ptr<cv::Vec3b>(y);
      for (int x = 0; x < T; ++x) {
        // t runs across the stripes (angle 0 = horizontal stripes)
        const double t = (-x * s + y * c + phase) / period;
        const double band = std::floor(t);
        const float f = float(t - band);  // position in the period, 0..1
        const int idx = (int(band) % n_colors + n_colors) % n_colors;
        // coverage of the stripe [0, duty) with a one-texel soft edge
        const float w = float(1.0 / period);
        const float cov = std::min(smooth_edge(f, w), smooth_edge(float(duty) - f, w)) +
                          smooth_edge(f - 1.0f, w);  // wrap-around at f ~ 1
        row[x] = to8(mix(ground, cols[idx], std::clamp(cov, 0.f, 1.f)));
      }
    }
    add_fabric_grain(tex, rng, 0.02);
    p["ground"] = color_json(ground);
    p["n_colors"] = n_colors;
    p["period"] = period / T;
    p["duty"] = duty;
    p["angle_deg"] = angle;
  }
};

/// Round dots: radius, spacing, regular (optionally staggered) grid or scattered.
class DottedMaterial : public Material {
 public:
  void paint(cv::Mat& tex, Rng& rng, double scale, nlohmann::json& p) const override {
    const int T = tex.rows;
    const cv::Vec3f ground = garment_color(rng);
    const cv::Vec3f dot = contrasting_color(rng, ground);
    const double r = T * uniform(rng, 0.012, 0.032) * scale;
    const double spacing = r * uniform(rng, 2.6, 5.0);
    const bool scattered = chance(rng, 0.4);
    const bool stagger = !scattered && chance(rng, 0.5);
    tex.setTo(rgb(ground));
    const int n = int(std::ceil(T / spacing)) + 2;
    for (int gy = -1; gy < n; ++gy) {
      for (int gx = -1; gx < n; ++gx) {
        double cx = gx * spacing + ((stagger && (gy & 1)) ? spacing / 2 : 0), cy = gy * spacing;
        double rr = r;
        if (scattered) {
          cx += uniform(rng, 0, spacing);
          cy += uniform(rng, 0, spacing);
          rr *= uniform(rng, 0.75, 1.25);
        }
        cv::circle(tex, fixp(cx, cy), fixr(rr), rgb(dot), cv::FILLED, cv::LINE_AA, kShift);
      }
    }
    add_fabric_grain(tex, rng, 0.02);
    p["ground"] = color_json(ground);
    p["dot"] = color_json(dot);
    p["radius"] = r / T;
    p["spacing"] = spacing / T;
    p["layout"] = scattered ? "scattered" : stagger ? "staggered" : "grid";
  }
};

/// Several large irregular blobs from thresholded multi-octave noise, 3-5 colours.
class CamouflageMaterial : public Material {
 public:
  void paint(cv::Mat& tex, Rng& rng, double scale, nlohmann::json& p) const override {
    static const float kEarthy[][3] = {{85, 95, 55},  {120, 110, 70}, {60, 45, 30},  {35, 40, 30},  {150, 135, 95},
                                       {100, 80, 55}, {70, 85, 60},   {190, 170, 130}, {45, 60, 40}, {130, 120, 110}};
    const int T = tex.rows;
    const int k = uniform_int(rng, 3, 5);
    const bool earthy = chance(rng, 0.7);
    std::vector<cv::Vec3f> cols;
    for (int i = 0; i < k; ++i) {
      if (earthy) {
        const auto* e = kEarthy[uniform_int(rng, 0, 9)];
        cols.emplace_back(e[0] + float(uniform(rng, -10, 10)), e[1] + float(uniform(rng, -10, 10)),
                          e[2] + float(uniform(rng, -10, 10)));
      } else {
        cols.push_back(i == 0 ? garment_color(rng) : contrasting_color(rng, cols[0]));
      }
    }
    const double cells = uniform(rng, 2.2, 4.0) / scale;
    std::vector<cv::Mat> fields;
    for (int i = 1; i < k; ++i) fields.push_back(fractal_noise(T, cells, 3, rng));
    const float thr = float(uniform(rng, 0.5, 0.58));
    for (int y = 0; y < T; ++y) {
      cv::Vec3b* row = tex.ptr<cv::Vec3b>(y);
      for (int x = 0; x < T; ++x) {
        cv::Vec3f c = cols[0];
        for (int i = 1; i < k; ++i) {
          const float v = fields[i - 1].at<float>(y, x);
          if (v > thr) c = mix(c, cols[i], std::clamp((v - thr) * 40.f, 0.f, 1.f));
        }
        row[x] = to8(c);
      }
    }
    add_fabric_grain(tex, rng, 0.03);
    p["n_colors"] = k;
    p["palette"] = earthy ? "earthy" : "random";
    p["blob_cells"] = cells;
    p["threshold"] = thr;
  }
};

/// Smooth linear or radial blend of 2-3 colours.
class GradientMaterial : public Material {
 public:
  void paint(cv::Mat& tex, Rng& rng, double scale, nlohmann::json& p) const override {
    const int T = tex.rows;
    const int k = uniform_int(rng, 2, 3);
    std::vector<cv::Vec3f> cols{garment_color(rng)};
    for (int i = 1; i < k; ++i) cols.push_back(contrasting_color(rng, cols.back()));
    const bool radial = chance(rng, 0.3);
    const double angle = uniform(rng, 0, 2 * kPi);
    const double ca = std::cos(angle), sa = std::sin(angle);
    const double cx = uniform(rng, 0.3, 0.7) * T, cy = uniform(rng, 0.2, 0.6) * T;
    const double extent = (radial ? uniform(rng, 0.5, 0.9) : uniform(rng, 0.7, 1.1)) * T;
    for (int y = 0; y < T; ++y) {
      cv::Vec3b* row = tex.ptr<cv::Vec3b>(y);
      for (int x = 0; x < T; ++x) {
        double t;
        if (radial) t = std::hypot(x - cx, y - cy) / extent;
        else t = ((x - T / 2.0) * ca + (y - T / 2.0) * sa) / extent + 0.5;
        t = std::clamp(t, 0.0, 1.0) * (k - 1);
        const int i = std::min(int(t), k - 2);
        const float f = float(t - i);
        const float s = f * f * (3 - 2 * f);  // smoothstep between stops
        row[x] = to8(mix(cols[i], cols[i + 1], s));
      }
    }
    add_fabric_grain(tex, rng, 0.012);
    p["n_colors"] = k;
    p["kind"] = radial ? "radial" : "linear";
    p["angle_deg"] = angle * 180 / kPi;
    p["centre"] = {cx / T, cy / T};
  }
};

/// Herringbone twill: columns of short diagonal bands whose direction alternates (a V weave).
class HerringboneMaterial : public Material {
 public:
  void paint(cv::Mat& tex, Rng& rng, double scale, nlohmann::json& p) const override {
    const int T = tex.rows;
    const cv::Vec3f a = garment_color(rng);
    cv::Vec3f b;
    const double contrast = uniform(rng, 0.3, 0.75);
    if (chance(rng, 0.6)) {  // tone-on-tone twill
      const float f = float(1 - contrast);
      b = (a[0] + a[1] + a[2] > 300) ? a * f : a + (cv::Vec3f(255, 255, 255) - a) * float(contrast);
    } else {
      b = contrasting_color(rng, a);
    }
    const double width = T * uniform(rng, 0.045, 0.1) * scale;  // column width
    const double period = width * uniform(rng, 0.35, 0.6);       // band period along the column
    const double angle = chance(rng, 0.75) ? 0.0 : 90.0;
    const double c = std::cos(angle * kPi / 180), s = std::sin(angle * kPi / 180);
    for (int y = 0; y < T; ++y) {
      cv::Vec3b* row = tex.ptr<cv::Vec3b>(y);
      for (int x = 0; x < T; ++x) {
        const double u = x * c + y * s, v = -x * s + y * c;
        const double col = std::floor(u / width);
        const double local = u - col * width;
        const double dir = (int64_t(col) & 1) ? 1.0 : -1.0;
        const double t = (v + dir * local) / period;
        const float w = float(0.5 + 0.5 * std::cos(2 * kPi * t));  // soft twill band
        float shade = 1.0f;
        if (local < 0.7 || width - local < 0.7) shade = 0.85f;  // the seam between columns
        row[x] = to8(mix(a, b, w) * shade);
      }
    }
    add_fabric_grain(tex, rng, 0.02);
    p["colors"] = {color_json(a), color_json(b)};
    p["column_width"] = width / T;
    p["period"] = period / T;
    p["contrast"] = contrast;
    p["angle_deg"] = angle;
  }
};

}  // namespace

void register_builtin_materials(MaterialRegistry& registry) {
  registry.add("plain", std::make_shared<PlainMaterial>());
  registry.add("floral", std::make_shared<FloralMaterial>());
  registry.add("striped", std::make_shared<StripedMaterial>());
  registry.add("dotted", std::make_shared<DottedMaterial>());
  registry.add("camouflage", std::make_shared<CamouflageMaterial>());
  registry.add("gradient", std::make_shared<GradientMaterial>());
  registry.add("herringbone", std::make_shared<HerringboneMaterial>());
}

}  // namespace fashioncut::synth
