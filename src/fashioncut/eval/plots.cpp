#include "fashioncut/eval/plots.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fashioncut::eval {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
const cv::Scalar kBlack(0, 0, 0), kGray(200, 200, 200), kWhite(255, 255, 255);

int text_width(const std::string& s, double scale) {
  int base = 0;
  return cv::getTextSize(s, kFont, scale, 1, &base).width;
}

/// Writes `s` rotated 90 degrees counter-clockwise with its baseline end at (x, bottom).
void put_vertical(cv::Mat& img, const std::string& s, int x, int bottom, double scale) {
  int base = 0;
  const cv::Size size = cv::getTextSize(s, kFont, scale, 1, &base);
  cv::Mat strip(size.height + base + 2, size.width + 2, img.type(), kWhite);
  cv::putText(strip, s, {1, size.height + 1}, kFont, scale, kBlack, 1, cv::LINE_AA);
  cv::Mat rotated;
  cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int top = std::max(0, bottom - rotated.rows);
  const int left = std::max(0, std::min(x, img.cols - rotated.cols));
  const int h = std::min(rotated.rows, img.rows - top), w = std::min(rotated.cols, img.cols - left);
  rotated(cv::Rect(0, rotated.rows - h, w, h)).copyTo(img(cv::Rect(left, top, w, h)));
}

}  // namespace

cv::Mat draw_confusion(const std::vector<std::vector<int64_t>>& confusion, const std::vector<std::string>& classes) {
  const int k = static_cast<int>(confusion.size());
  const double scale = 0.45;
  int label_w = 0;
  for (const auto& c : classes) label_w = std::max(label_w, text_width(c, scale));
  const int cell = 44, margin = 10;
  const int left = margin + label_w + 10 + 18, top = margin + 24 + label_w + 10;
  cv::Mat img(top + k * cell + margin + 20, left + k * cell + margin, CV_8UC3, kWhite);
  cv::putText(img, "rows: true class, columns: predicted (colour = share of the row)", {margin, margin + 14}, kFont,
              0.45, kBlack, 1, cv::LINE_AA);
  for (int i = 0; i < k; ++i) {
    int64_t row_total = 0;
    for (int j = 0; j < k; ++j) row_total += confusion[size_t(i)][size_t(j)];
    const std::string name = i < int(classes.size()) ? classes[size_t(i)] : std::to_string(i);
    cv::putText(img, name, {left - 8 - text_width(name, scale), top + i * cell + cell / 2 + 5}, kFont, scale, kBlack, 1,
                cv::LINE_AA);
    put_vertical(img, name, left + i * cell + cell / 2 - 8, top - 6, scale);
    for (int j = 0; j < k; ++j) {
      const int64_t n = confusion[size_t(i)][size_t(j)];
      const double share = row_total > 0 ? double(n) / double(row_total) : 0.0;
      // White -> dark blue (RGB image).
      const cv::Scalar colour(255 * (1 - share) + 20 * share, 255 * (1 - share) + 60 * share,
                              255 * (1 - share) + 140 * share);
      const cv::Rect r(left + j * cell, top + i * cell, cell, cell);
      cv::rectangle(img, r, colour, cv::FILLED);
      cv::rectangle(img, r, kGray, 1);
      const std::string text = std::to_string(n);
      const double ts = text.size() > 4 ? 0.35 : 0.45;
      cv::putText(img, text, {r.x + (cell - text_width(text, ts)) / 2, r.y + cell / 2 + 5}, kFont, ts,
                  share > 0.5 ? kWhite : kBlack, 1, cv::LINE_AA);
    }
  }
  return img;
}

cv::Mat draw_curves(const std::vector<double>& x, const std::vector<std::vector<double>>& series,
                    const std::vector<std::string>& names, const std::string& x_label, const std::string& title) {
  const int w = 640, h = 440, l = 60, r = 20, t = 40, b = 60;
  const int pw = w - l - r, ph = h - t - b;
  cv::Mat img(h, w, CV_8UC3, kWhite);
  auto px = [&](double v) { return l + static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * pw)); };
  auto py = [&](double v) { return t + ph - static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * ph)); };
  for (int i = 0; i <= 10; ++i) {
    const double v = i / 10.0;
    cv::line(img, {px(v), t}, {px(v), t + ph}, cv::Scalar(235, 235, 235), 1);
    cv::line(img, {l, py(v)}, {l + pw, py(v)}, cv::Scalar(235, 235, 235), 1);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    if (i % 2 == 0) {
      cv::putText(img, buf, {px(v) - 10, t + ph + 18}, kFont, 0.4, kBlack, 1, cv::LINE_AA);
      cv::putText(img, buf, {l - 32, py(v) + 4}, kFont, 0.4, kBlack, 1, cv::LINE_AA);
    }
  }
  cv::rectangle(img, cv::Rect(l, t, pw, ph), kBlack, 1);
  cv::putText(img, title, {l, t - 14}, kFont, 0.55, kBlack, 1, cv::LINE_AA);
  cv::putText(img, x_label, {l + pw / 2 - text_width(x_label, 0.45) / 2, h - 18}, kFont, 0.45, kBlack, 1, cv::LINE_AA);
  const cv::Scalar colours[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}};
  for (size_t s = 0; s < series.size(); ++s) {
    const cv::Scalar c = colours[s % 4];
    for (size_t i = 1; i < x.size() && i < series[s].size(); ++i) {
      const double a = series[s][i - 1], bv = series[s][i];
      if (std::isnan(a) || std::isnan(bv)) continue;
      cv::line(img, {px(x[i - 1]), py(a)}, {px(x[i]), py(bv)}, c, 2, cv::LINE_AA);
    }
    for (size_t i = 0; i < x.size() && i < series[s].size(); ++i)
      if (!std::isnan(series[s][i])) cv::circle(img, {px(x[i]), py(series[s][i])}, 3, c, cv::FILLED, cv::LINE_AA);
    const int ly = t + 16 + int(s) * 18;
    cv::line(img, {l + 10, ly - 4}, {l + 30, ly - 4}, c, 2, cv::LINE_AA);
    cv::putText(img, s < names.size() ? names[s] : "", {l + 36, ly}, kFont, 0.45, kBlack, 1, cv::LINE_AA);
  }
  return img;
}

}  // namespace fashioncut::eval
