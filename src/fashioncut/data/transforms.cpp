#include "fashioncut/data/transforms.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "fashioncut/core/errors.h"

namespace fashioncut::data {
namespace {

constexpr float kImageNetMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kImageNetStd[3] = {0.229f, 0.224f, 0.225f};
constexpr float kGrayMean = 0.449f;
constexpr float kGrayStd = 0.226f;

/// Uniform double in [0,1) from one 64-bit draw (portable, unlike std::uniform_*_distribution).
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

cv::Mat resize_to(const cv::Mat& src, int width, int height) {
  if (src.cols == width && src.rows == height) return src;
  const bool shrinking = width < src.cols && height < src.rows;
  cv::Mat out;
  cv::resize(src, out, cv::Size(width, height), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

/// Per-channel (mean, std) of the normalisation, for c in [0, channels).
std::pair<float, float> stats(Normalization norm, int channels, int c) {
  if (norm == Normalization::kMinusOneOne) return {0.5f, 0.5f};
  if (channels == 1) return {kGrayMean, kGrayStd};
  return {kImageNetMean[c], kImageNetStd[c]};
}

}  // namespace

void validate(const TransformOptions& o) {
  if (o.size < 1) throw ConfigError("transform size must be >= 1 (got " + std::to_string(o.size) + ")");
  if (o.channels != 1 && o.channels != 3)
    throw ConfigError("transform channels must be 1 or 3 (got " + std::to_string(o.channels) + ")");
  if (o.load_size != 0 && o.load_size < o.size)
    throw ConfigError("load_size (" + std::to_string(o.load_size) + ") must be 0 or >= size (" +
                      std::to_string(o.size) + ")");
  if (o.pad_value < 0 || o.pad_value > 255) throw ConfigError("pad_value must be in 0..255");
}

cv::Mat transform_image(const cv::Mat& image, const TransformOptions& o, std::mt19937_64& rng) {
  TORCH_CHECK(!image.empty() && image.depth() == CV_8U && (image.channels() == 1 || image.channels() == 3),
              "apply_transform expects an 8-bit gray or RGB image, got type ", image.type());
  // Draw every random number up front, whatever the options (see header).
  const double u_x = unit(rng), u_y = unit(rng), u_flip = unit(rng);

  cv::Mat img = image;
  if (img.channels() != o.channels) {
    cv::Mat converted;
    cv::cvtColor(img, converted, o.channels == 1 ? cv::COLOR_RGB2GRAY : cv::COLOR_GRAY2RGB);
    img = converted;
  }
  const int load = o.load_size > 0 ? o.load_size : o.size;
  switch (o.resize) {
    case ResizeMode::kStretch: img = resize_to(img, load, load); break;
    case ResizeMode::kKeepAspectPad: {
      const double scale = static_cast<double>(load) / std::max(img.cols, img.rows);
      const int w = std::max(1, static_cast<int>(std::lround(img.cols * scale)));
      const int h = std::max(1, static_cast<int>(std::lround(img.rows * scale)));
      cv::Mat fitted = resize_to(img, std::min(w, load), std::min(h, load));
      const int left = (load - fitted.cols) / 2, top = (load - fitted.rows) / 2;
      cv::Mat padded;
      cv::copyMakeBorder(fitted, padded, top, load - fitted.rows - top, left, load - fitted.cols - left,
                         cv::BORDER_CONSTANT, cv::Scalar::all(o.pad_value));
      img = padded;
      break;
    }
    case ResizeMode::kKeepAspectCrop: {
      const double scale = static_cast<double>(load) / std::min(img.cols, img.rows);
      const int w = std::max(load, static_cast<int>(std::lround(img.cols * scale)));
      const int h = std::max(load, static_cast<int>(std::lround(img.rows * scale)));
      cv::Mat filled = resize_to(img, w, h);
      img = filled(cv::Rect((w - load) / 2, (h - load) / 2, load, load));
      break;
    }
  }
  if (load > o.size) {
    const int range = load - o.size;
    const int x = o.random_crop ? std::min(range, static_cast<int>(u_x * (range + 1))) : range / 2;
    const int y = o.random_crop ? std::min(range, static_cast<int>(u_y * (range + 1))) : range / 2;
    img = img(cv::Rect(x, y, o.size, o.size));
  }
  if (o.hflip && u_flip < 0.5) {
    cv::Mat flipped;
    cv::flip(img, flipped, 1);
    img = flipped;
  }
  return img;
}

torch::Tensor image_to_tensor(const cv::Mat& image, Normalization norm) {
  TORCH_CHECK(image.depth() == CV_8U && (image.channels() == 1 || image.channels() == 3),
              "image_to_tensor expects an 8-bit gray or RGB image");
  const cv::Mat contiguous = image.isContinuous() ? image : image.clone();
  const int c = contiguous.channels();
  auto hwc = torch::from_blob(const_cast<uint8_t*>(contiguous.ptr<uint8_t>()), {contiguous.rows, contiguous.cols, c},
                              torch::kUInt8);
  auto chw = hwc.permute({2, 0, 1}).to(torch::kFloat32).div_(255.0f);  // copies: owns its memory
  for (int i = 0; i < c; ++i) {
    const auto [mean, std] = stats(norm, c, i);
    chw[i].sub_(mean).div_(std);
  }
  return chw.contiguous();
}

torch::Tensor apply_transform(const cv::Mat& image, const TransformOptions& options, std::mt19937_64& rng) {
  return image_to_tensor(transform_image(image, options, rng), options.norm);
}

cv::Mat tensor_to_image(const torch::Tensor& tensor, Normalization norm) {
  if (tensor.dim() == 4) return make_grid(tensor, norm);
  TORCH_CHECK(tensor.dim() == 3 && (tensor.size(0) == 1 || tensor.size(0) == 3),
              "tensor_to_image expects [C,H,W] or [N,C,H,W] with C = 1 or 3, got ", tensor.sizes());
  const int c = static_cast<int>(tensor.size(0));
  auto x = tensor.detach().to(torch::kCPU, torch::kFloat32).clone();
  for (int i = 0; i < c; ++i) {
    const auto [mean, std] = stats(norm, c, i);
    x[i].mul_(std).add_(mean);
  }
  auto hwc = x.mul(255.0f).round().clamp(0, 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  cv::Mat out(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC(c));
  std::memcpy(out.data, hwc.data_ptr<uint8_t>(), hwc.numel());
  return out;
}

cv::Mat make_grid(const torch::Tensor& nchw, Normalization norm, int columns, int padding, int pad_value) {
  TORCH_CHECK(nchw.dim() == 4 && nchw.size(0) > 0, "make_grid expects [N,C,H,W] with N > 0, got ", nchw.sizes());
  const int n = static_cast<int>(nchw.size(0));
  const int h = static_cast<int>(nchw.size(2)), w = static_cast<int>(nchw.size(3));
  const int cols = columns > 0 ? std::min(columns, n) : static_cast<int>(std::ceil(std::sqrt(double(n))));
  const int rows = (n + cols - 1) / cols;
  cv::Mat grid(rows * h + (rows + 1) * padding, cols * w + (cols + 1) * padding, CV_8UC(int(nchw.size(1))),
               cv::Scalar::all(pad_value));
  for (int i = 0; i < n; ++i) {
    const cv::Mat tile = tensor_to_image(nchw[i], norm);
    tile.copyTo(grid(cv::Rect(padding + (i % cols) * (w + padding), padding + (i / cols) * (h + padding), w, h)));
  }
  return grid;
}

torch::Tensor random_shift_flip(const torch::Tensor& x, int64_t max_shift) {
  TORCH_CHECK(x.dim() == 4, "random_shift_flip expects [N,C,H,W], got ", x.sizes());
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  TORCH_CHECK(max_shift >= 0 && max_shift < std::min(h, w), "random_shift_flip: max_shift ", max_shift,
              " must be in [0, ", std::min(h, w), ")");
  const torch::Tensor draws = torch::randint(0, 2 * max_shift + 1, {n, 2}, torch::kLong);
  const torch::Tensor flips = torch::randint(0, 2, {n}, torch::kLong);
  const int64_t s = max_shift;
  const torch::Tensor padded =
      s > 0 ? torch::nn::functional::pad(x, torch::nn::functional::PadFuncOptions({s, s, s, s}).mode(torch::kReplicate))
            : x;
  std::vector<torch::Tensor> rows;
  rows.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    // Output pixel (r, c) = input (r - dy, c - dx): a crop of the padded image at (s - dy, s - dx).
    const int64_t dy = draws[i][0].item<int64_t>() - s, dx = draws[i][1].item<int64_t>() - s;
    torch::Tensor r = padded[i].narrow(1, s - dy, h).narrow(2, s - dx, w);
    if (flips[i].item<int64_t>() == 1) r = r.flip({2});
    rows.push_back(r);
  }
  return torch::stack(rows);
}

torch::Tensor random_strong_view(const torch::Tensor& x, int64_t max_shift, double contrast, double cutout) {
  TORCH_CHECK(contrast >= 0 && contrast < 1, "random_strong_view: contrast ", contrast, " must be in [0, 1)");
  TORCH_CHECK(cutout >= 0 && cutout <= 1, "random_strong_view: cutout ", cutout, " must be in [0, 1]");
  torch::Tensor y = random_shift_flip(x, max_shift);
  const int64_t n = y.size(0), h = y.size(2), w = y.size(3);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat);
  const torch::Tensor factor = (torch::rand({n, 1, 1, 1}, opts) * 2 - 1) * contrast + 1;
  const torch::Tensor mean = y.mean({1, 2, 3}, /*keepdim=*/true);
  y = (y - mean) * factor.to(y.device(), y.scalar_type()) + mean;
  const int64_t max_side = std::max<int64_t>(1, static_cast<int64_t>(cutout * static_cast<double>(std::min(h, w))));
  const torch::Tensor sides = torch::randint(1, max_side + 1, {n}, torch::kLong);
  const torch::Tensor centre_y = torch::randint(0, h, {n}, torch::kLong), centre_x = torch::randint(0, w, {n}, torch::kLong);
  if (cutout > 0) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t side = sides[i].item<int64_t>();
      const int64_t y0 = std::clamp<int64_t>(centre_y[i].item<int64_t>() - side / 2, 0, h);
      const int64_t x0 = std::clamp<int64_t>(centre_x[i].item<int64_t>() - side / 2, 0, w);
      const int64_t y1 = std::min(h, y0 + side), x1 = std::min(w, x0 + side);
      y[i].narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0).fill_(0.0);
    }
  }
  return y.clamp(-1.0, 1.0);
}

}  // namespace fashioncut::data
