#include "fashioncut/train/image_grid.h"

#include <algorithm>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"

namespace fashioncut::train {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.4;
constexpr int kFontThickness = 1;

void check_u8(const cv::Mat& m, const char* where) {
  if (m.empty() || m.depth() != CV_8U || (m.channels() != 1 && m.channels() != 3 && m.channels() != 4))
    throw Error(std::string(where) + ": expects non-empty 8-bit gray, RGB or RGBA images, got " +
                std::to_string(m.cols) + "x" + std::to_string(m.rows) + " with " + std::to_string(m.channels()) +
                " channel(s) of depth " + std::to_string(m.depth()));
}

cv::Mat to_rgb(const cv::Mat& m) {
  cv::Mat rgb;
  if (m.channels() == 1) cv::cvtColor(m, rgb, cv::COLOR_GRAY2RGB);
  else if (m.channels() == 4) cv::cvtColor(m, rgb, cv::COLOR_RGBA2RGB);
  else rgb = m;
  return rgb;
}

cv::Mat upscale(const cv::Mat& m, int min_size) {
  const int shorter = std::min(m.rows, m.cols);
  if (shorter >= min_size || shorter <= 0) return m;
  const int factor = (min_size + shorter - 1) / shorter;
  cv::Mat out;
  cv::resize(m, out, cv::Size(m.cols * factor, m.rows * factor), 0, 0, cv::INTER_NEAREST);
  return out;
}

}  // namespace

cv::Mat image_grid(const std::vector<std::vector<cv::Mat>>& rows, const ImageGridOptions& options) {
  const int pad = std::max(0, options.pad);
  std::vector<std::vector<cv::Mat>> cells(rows.size());
  int cell_w = 0, cell_h = 0;
  size_t max_cols = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (const auto& m : rows[r]) {
      check_u8(m, "image_grid");
      cells[r].push_back(upscale(to_rgb(m), options.min_cell_size));
      cell_w = std::max(cell_w, cells[r].back().cols);
      cell_h = std::max(cell_h, cells[r].back().rows);
    }
    max_cols = std::max(max_cols, rows[r].size());
  }
  if (max_cols == 0) return {};

  int label_w = 0;
  for (const auto& label : options.row_labels) {
    if (label.empty()) continue;
    int baseline = 0;
    label_w = std::max(label_w, cv::getTextSize(label, kFont, kFontScale, kFontThickness, &baseline).width + 2 * pad + 4);
  }
  const int n_rows = static_cast<int>(rows.size());
  const int width = label_w + pad + static_cast<int>(max_cols) * (cell_w + pad);
  const int height = pad + n_rows * (cell_h + pad);
  cv::Mat grid(height, width, CV_8UC3, options.background);

  for (int r = 0; r < n_rows; ++r) {
    const int y0 = pad + r * (cell_h + pad);
    if (r < static_cast<int>(options.row_labels.size()) && !options.row_labels[r].empty()) {
      int baseline = 0;
      const auto size = cv::getTextSize(options.row_labels[r], kFont, kFontScale, kFontThickness, &baseline);
      cv::putText(grid, options.row_labels[r], cv::Point(pad + 2, y0 + (cell_h + size.height) / 2), kFont,
                  kFontScale, cv::Scalar(0, 0, 0), kFontThickness, cv::LINE_AA);
    }
    for (size_t c = 0; c < cells[r].size(); ++c) {
      const cv::Mat& m = cells[r][c];
      const int x = label_w + pad + static_cast<int>(c) * (cell_w + pad) + (cell_w - m.cols) / 2;
      const int y = y0 + (cell_h - m.rows) / 2;
      m.copyTo(grid(cv::Rect(x, y, m.cols, m.rows)));
    }
  }
  return grid;
}

std::vector<cv::Mat> tensor_to_u8_images(const torch::Tensor& x) {
  torch::Tensor t = x;
  if (t.dim() == 3) t = t.unsqueeze(0);
  if (t.dim() != 4 || (t.size(1) != 1 && t.size(1) != 3))
    throw Error("tensor_to_u8_images: expects [N,C,H,W] or [C,H,W] with C in {1,3}, got " +
                c10::str(x.sizes()));
  t = t.detach().to(torch::kCPU, torch::kFloat32)
          .clamp(-1.0, 1.0)
          .add(1.0)
          .mul(127.5)
          .round()
          .to(torch::kUInt8)
          .permute({0, 2, 3, 1})
          .contiguous();
  const int n = static_cast<int>(t.size(0)), h = static_cast<int>(t.size(1)), w = static_cast<int>(t.size(2));
  const int c = static_cast<int>(t.size(3));
  std::vector<cv::Mat> images;
  images.reserve(n);
  for (int i = 0; i < n; ++i) {
    const cv::Mat view(h, w, CV_8UC(c), t[i].data_ptr<uint8_t>());
    images.push_back(view.clone());
  }
  return images;
}

void write_png(const std::filesystem::path& path, const cv::Mat& rgb_or_gray) {
  check_u8(rgb_or_gray, ("write_png(" + path.string() + ")").c_str());
  cv::Mat bgr;
  if (rgb_or_gray.channels() == 3) cv::cvtColor(rgb_or_gray, bgr, cv::COLOR_RGB2BGR);
  else if (rgb_or_gray.channels() == 4) cv::cvtColor(rgb_or_gray, bgr, cv::COLOR_RGBA2BGRA);
  else bgr = rgb_or_gray;
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) throw IoError(path.string() + ": PNG encoding failed");
  write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace fashioncut::train
