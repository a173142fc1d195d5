#include "fashioncut/synth/scene.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>

#include "fashioncut/synth/material.h"

namespace fashioncut::synth {
namespace {
cv::Vec3f studio_color(Rng& rng) {
  if (chance(rng, 0.6)) {  // product-shot neutrals: white, light grey, warm paper
    const float v = float(uniform(rng, 200, 255));
    return cv::Vec3f(v, v * float(uniform(rng, 0.97, 1.0)), v * float(uniform(rng, 0.92, 1.0)));
  }
  cv::Vec3f c = garment_color(rng);
  const float f = float(uniform(rng, 0.3, 0.7));  // soften towards white
  return c * (1 - f) + cv::Vec3f(240, 240, 240) * f;
}
}  // namespace

cv::Mat make_background(const std::string& kind, Rng& rng, int side, const std::vector<cv::Mat>& photos,
                        nlohmann::json& params) {
  params["background"] = kind;
  cv::Mat bg(side, side, CV_32FC3);
  if (kind == "black") {
    bg.setTo(cv::Scalar::all(0));
  } else if (kind == "solid") {
    const cv::Vec3f c = studio_color(rng);
    bg.setTo(cv::Scalar(c[0], c[1], c[2]));
  } else if (kind == "gradient") {
    const cv::Vec3f a = studio_color(rng), b = studio_color(rng);
    const double angle = uniform(rng, 0, 2 * M_PI), ca = std::cos(angle), sa = std::sin(angle);
    for (int y = 0; y < side; ++y) {
      cv::Vec3f* row = bg.ptr<cv::Vec3f>(y);
      for (int x = 0; x < side; ++x) {
        const float t = float(std::clamp(((x - side / 2.0) * ca + (y - side / 2.0) * sa) / side + 0.5, 0.0, 1.0));
        row[x] = a * (1 - t) + b * t;
      }
    }
  } else if (kind == "noise") {
    const cv::Vec3f a = studio_color(rng), b = chance(rng, 0.5) ? studio_color(rng) : garment_color(rng);
    const cv::Mat n = fractal_noise(side, uniform(rng, 2, 8), 3, rng);
    for (int y = 0; y < side; ++y) {
      cv::Vec3f* row = bg.ptr<cv::Vec3f>(y);
      const float* v = n.ptr<float>(y);
      for (int x = 0; x < side; ++x) row[x] = a * (1 - v[x]) + b * v[x];
    }
  } else {  // photo: a random square crop
    const cv::Mat& p = photos[size_t(uniform_int(rng, 0, int(photos.size()) - 1))];
    const int s = std::max(8, int(std::min(p.cols, p.rows) * uniform(rng, 0.4, 1.0)));
    const int x0 = uniform_int(rng, 0, p.cols - s), y0 = uniform_int(rng, 0, p.rows - s);
    cv::Mat crop;
    cv::resize(p(cv::Rect(x0, y0, s, s)), crop, cv::Size(side, side), 0, 0, cv::INTER_AREA);
    crop.convertTo(bg, CV_32FC3);
    params["photo_crop"] = {x0, y0, s};
  }
  return bg;
}

void paint_print(cv::Mat& tex, const cv::Rect2f& area, Rng& rng, nlohmann::json& params) {
  const cv::Vec3b ground = tex.at<cv::Vec3b>(std::clamp(int(area.y + area.height / 2), 0, tex.rows - 1),
                                             std::clamp(int(area.x + area.width / 2), 0, tex.cols - 1));
  const cv::Vec3f gf(ground[0], ground[1], ground[2]);
  const cv::Vec3f c = contrasting_color(rng, gf);
  const cv::Scalar ink(c[0], c[1], c[2]);
  const float cx = area.x + area.width / 2, cy = area.y + area.height * float(uniform(rng, 0.3, 0.5));
  const float w = area.width * float(uniform(rng, 0.4, 0.9)), h = area.height * float(uniform(rng, 0.25, 0.6));
  const double kind = uniform01(rng);
  auto rect = [&](float x, float y, float ww, float hh, const cv::Scalar& col) {
    cv::rectangle(tex, cv::Point(int(x), int(y)), cv::Point(int(x + ww), int(y + hh)), col, cv::FILLED, cv::LINE_AA);
  };
  std::string name;
  if (kind < 0.25) {  // box logo with a text line knocked out
    name = "box";
    rect(cx - w / 2, cy - h / 2, w, h, ink);
    rect(cx - w * 0.35f, cy - h * 0.12f, w * 0.7f, h * 0.24f, cv::Scalar(gf[0], gf[1], gf[2]));
  } else if (kind < 0.5) {  // lines of text
    name = "text";
    const int lines = uniform_int(rng, 1, 3);
    for (int i = 0; i < lines; ++i) {
      const float lw = w * float(uniform(rng, 0.5, 1.0)), lh = std::max(1.5f, h / (lines * 2.0f));
      rect(cx - lw / 2, cy - h / 2 + i * lh * 2, lw, lh, ink);
    }
  } else if (kind < 0.7) {  // round emblem
    name = "emblem";
    const int r = std::max(2, int(std::min(w, h * 1.6f) / 2));
    cv::circle(tex, cv::Point(int(cx), int(cy)), r, ink, chance(rng, 0.5) ? cv::FILLED : std::max(1, r / 4), cv::LINE_AA);
  } else if (kind < 0.85) {  // broad bands across the chest
    name = "bands";
    const int n = uniform_int(rng, 1, 3);
    const float bh = area.height / (2.5f * n);
    for (int i = 0; i < n; ++i) rect(0, area.y + i * bh * 2.2f, float(tex.cols), bh, ink);
  } else {  // an irregular graphic
    name = "graphic";
    const int T = std::max(8, int(std::max(w, h)));
    Rng local(rng());
    const cv::Mat n = fractal_noise(T, 3, 2, local);
    for (int y = 0; y < T; ++y)
      for (int x = 0; x < T; ++x) {
        const int tx = int(cx - T / 2 + x), ty = int(cy - h / 2 + y * h / T);
        if (tx < 0 || ty < 0 || tx >= tex.cols || ty >= tex.rows) continue;
        if (n.at<float>(y, x) > 0.55f) tex.at<cv::Vec3b>(ty, tx) = cv::Vec3b(cv::saturate_cast<uint8_t>(c[0]),
                                                                            cv::saturate_cast<uint8_t>(c[1]),
                                                                            cv::saturate_cast<uint8_t>(c[2]));
      }
  }
  params["print"] = name;
  params["print_color"] = color_json(c);
}

cv::Vec3f light_color(double kelvin) {
  // Fit of blackbody colour (after T. Helland), good enough for a light tint.
  const double t = kelvin / 100.0;
  double r, g, b;
  if (t <= 66) {
    r = 255;
    g = 99.4708025861 * std::log(t) - 161.1195681661;
    b = t <= 19 ? 0 : 138.5177312231 * std::log(t - 10) - 305.0447927307;
  } else {
    r = 329.698727446 * std::pow(t - 60, -0.1332047592);
    g = 288.1221695283 * std::pow(t - 60, -0.0755148492);
    b = 255;
  }
  cv::Vec3f c(float(std::clamp(r, 0.0, 255.0)), float(std::clamp(g, 0.0, 255.0)), float(std::clamp(b, 0.0, 255.0)));
  const float m = std::max({c[0], c[1], c[2], 1.f});
  return c / m;
}

void apply_artefacts(cv::Mat& img, const SynthOptions& o, Rng& rng, nlohmann::json& params) {
  // Draw every decision up front so the random stream does not depend on image content.
  const bool blur = chance(rng, o.blur_prob);
  const double sigma = uniform(rng, 0.3, std::max(0.31, o.blur_sigma_max));
  const bool noise = chance(rng, o.noise_prob);
  const double noise_sigma = uniform(rng, 0.5, std::max(0.51, o.noise_sigma_max));
  const uint64_t noise_key = rng();
  const bool jpeg = chance(rng, o.jpeg_prob);
  const int quality = uniform_int(rng, o.jpeg_quality_min, 95);
  if (blur && o.blur_sigma_max > 0) {
    cv::GaussianBlur(img, img, cv::Size(0, 0), sigma);
    params["blur_sigma"] = sigma;
  }
  if (noise && o.noise_sigma_max > 0) {
    const int n = img.cols * img.channels();
    for (int y = 0; y < img.rows; ++y) {
      uint8_t* row = img.ptr<uint8_t>(y);
      for (int x = 0; x < n; ++x) {
        uint64_t h = noise_key ^ (uint64_t(y) << 32 | uint64_t(x));
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDULL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53ULL;
        h ^= h >> 33;
        // sum of two uniforms: triangular, variance 1/6 -> scale to unit variance
        const double u = ((h & 0xFFFFFFFF) + (h >> 32)) / 4294967296.0 - 1.0;
        row[x] = cv::saturate_cast<uint8_t>(row[x] + u * 2.449489743 * noise_sigma);
      }
    }
    params["noise_sigma"] = noise_sigma;
  }
  if (jpeg) {
    std::vector<uint8_t> buf;
    cv::Mat bgr;
    if (img.channels() == 3) cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
    else bgr = img;
    cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
    cv::Mat dec = cv::imdecode(buf, img.channels() == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
    if (img.channels() == 3) cv::cvtColor(dec, img, cv::COLOR_BGR2RGB);
    else img = dec;
    params["jpeg_quality"] = quality;
  }
}

}  // namespace fashioncut::synth
