#include "fashioncut/models/blur_pool.h"

namespace fashioncut::models {

namespace F = torch::nn::functional;

torch::Tensor binomial_filter(int64_t size) {
  TORCH_CHECK(size >= 1 && size <= 7, "binomial_filter: size must be in [1,7], got ", size);
  std::vector<double> row{1.0};
  for (int64_t i = 1; i < size; ++i) {
    std::vector<double> next(row.size() + 1, 0.0);
    for (size_t j = 0; j < row.size(); ++j) {
      next[j] += row[j];
      next[j + 1] += row[j];
    }
    row = std::move(next);
  }
  auto a = torch::tensor(row, torch::kFloat64);
  auto filt = torch::outer(a, a);
  return (filt / filt.sum()).to(torch::kFloat32);
}

BlurDownsampleImpl::BlurDownsampleImpl(const BlurDownsampleOptions& options_) : options(options_) {
  reset();
}

void BlurDownsampleImpl::reset() {
  TORCH_CHECK(options.channels() > 0, "BlurDownsample: channels must be > 0, got ", options.channels());
  auto f = binomial_filter(options.filt_size());
  filt = register_buffer("filt", f.view({1, 1, f.size(0), f.size(1)}).repeat({options.channels(), 1, 1, 1}));
}

torch::Tensor BlurDownsampleImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.channels(), "BlurDownsample expects [N,", options.channels(),
              ",H,W], got ", x.sizes());
  const int64_t k = options.filt_size();
  const int64_t lo = (k - 1) / 2, hi = k / 2;  // CUT: floor/ceil of (k-1)/2
  auto padded = F::pad(x, F::PadFuncOptions({lo, hi, lo, hi}).mode(torch::kReflect));
  return F::conv2d(padded, filt, F::Conv2dFuncOptions().stride(2).groups(x.size(1)));
}

void BlurDownsampleImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::BlurDownsample(channels=" << options.channels()
         << ", filt_size=" << options.filt_size() << ", stride=2, pad=reflect)";
}

BlurUpsampleImpl::BlurUpsampleImpl(const BlurUpsampleOptions& options_) : options(options_) { reset(); }

void BlurUpsampleImpl::reset() {
  TORCH_CHECK(options.channels() > 0, "BlurUpsample: channels must be > 0, got ", options.channels());
  auto f = binomial_filter(options.filt_size()) * 4.0;  // * stride^2 keeps the mean
  filt = register_buffer("filt", f.view({1, 1, f.size(0), f.size(1)}).repeat({options.channels(), 1, 1, 1}));
}

torch::Tensor BlurUpsampleImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.channels(), "BlurUpsample expects [N,", options.channels(),
              ",H,W], got ", x.sizes());
  const int64_t k = options.filt_size();
  const int64_t pad_size = (k - 1) / 2;
  auto padded = F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
  auto y = F::conv_transpose2d(
      padded, filt, F::ConvTranspose2dFuncOptions().stride(2).padding(1 + pad_size).groups(x.size(1)));
  using torch::indexing::Slice;
  y = y.index({Slice(), Slice(), Slice(1, torch::indexing::None), Slice(1, torch::indexing::None)});
  if (k % 2 == 0) y = y.index({Slice(), Slice(), Slice(torch::indexing::None, -1), Slice(torch::indexing::None, -1)});
  return y;
}

void BlurUpsampleImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::BlurUpsample(channels=" << options.channels()
         << ", filt_size=" << options.filt_size() << ", stride=2, pad=replicate)";
}

}  // namespace fashioncut::models
