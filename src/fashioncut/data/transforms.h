// Per-sample transforms: decoded cv::Mat -> normalised float tensor, deterministic under an RNG.
#pragma once
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <random>

namespace fashioncut::data {

enum class ResizeMode {
  kStretch,         ///< resize to a square, ignoring aspect ratio
  kKeepAspectPad,   ///< fit the longer side, pad the rest with `pad_value`
  kKeepAspectCrop,  ///< fill with the shorter side, centre-crop the rest
};

enum class Normalization {
  kMinusOneOne,  ///< x/127.5 - 1 -> [-1,1] (GAN convention)
  kImageNet,     ///< (x/255 - mean)/std with ImageNet stats (gray: mean 0.449, std 0.226)
};

/// What apply_transform does, in order: channels -> resize to load_size -> crop to size -> flip -> normalise.
struct TransformOptions {
  int size = 32;      ///< output height = width
  int channels = 3;   ///< 1 (gray) or 3 (RGB); sources are converted (RGB->gray uses luma)
  ResizeMode resize = ResizeMode::kStretch;
  int load_size = 0;  ///< 0 = size; > size: resize to load_size, then crop to size
  bool random_crop = false;  ///< crop position random (else centred); only matters when load_size > size
  bool hflip = false;        ///< flip horizontally with probability 1/2
  Normalization norm = Normalization::kMinusOneOne;
  int pad_value = 255;  ///< gray level of the padding for kKeepAspectPad (0..255; white suits product photos)
};

/// Throws ConfigError if `options` is inconsistent (size < 1, channels not 1/3, load_size in (0,size)).
void validate(const TransformOptions& options);

/// image: CV_8UC1 or CV_8UC3 RGB [H,W] (decode_image output). Returns float [C,H,W] with
/// C = options.channels, H = W = options.size, normalised per options.norm.
/// Deterministic given `rng`: always draws the same number of values (crop x, crop y, flip)
/// whatever the options, so toggling one augmentation does not shift the others.
torch::Tensor apply_transform(const cv::Mat& image, const TransformOptions& options, std::mt19937_64& rng);

/// Geometric part only (channels, resize, crop, flip) on 8-bit images; returns CV_8UC{channels}.
cv::Mat transform_image(const cv::Mat& image, const TransformOptions& options, std::mt19937_64& rng);

/// 8-bit [H,W] gray or RGB image -> normalised float [C,H,W].
torch::Tensor image_to_tensor(const cv::Mat& image, Normalization norm);

/// Inverse for viewing: normalised [C,H,W] (C = 1 or 3) -> CV_8UC1 / CV_8UC3 RGB; [N,C,H,W]
/// -> a near-square grid (see make_grid). Values are clamped.
cv::Mat tensor_to_image(const torch::Tensor& chw, Normalization norm);

/// [N,C,H,W] normalised -> one uint8 image with `columns` tiles per row (0 = ceil(sqrt N)),
/// tiles separated by `padding` pixels of `pad_value`.
cv::Mat make_grid(const torch::Tensor& nchw, Normalization norm, int columns = 0, int padding = 2,
                  int pad_value = 255);

/// Batch augmentation on a device tensor (the student's view in consistency training): each
/// image of x [N,C,H,W] is translated by (dx, dy), each uniform in [-max_shift, max_shift]
/// (edges replicated, so a plain background stays plain), then flipped horizontally with
/// probability 1/2. Draws 3·N values from torch's CPU generator (deterministic under
/// torch::manual_seed, whatever the device). max_shift = 0: flips only.
/// requires: x.dim() == 4, 0 <= max_shift < min(H, W).
torch::Tensor random_shift_flip(const torch::Tensor& x, int64_t max_shift);

/// The strong student view of consistency training (FixMatch's "strong" augmentation, reduced
/// to what suits product images): random_shift_flip(x, max_shift), then per image a contrast
/// change around its own mean by a factor uniform in [1 - contrast, 1 + contrast], then one
/// square hole (cutout) of side uniform in [1, max(1, cutout·min(H, W))] at a uniform position
/// (it may hang over an edge), filled with 0 (mid-gray in [-1,1] normalisation); clamped to
/// [-1, 1]. Draws from torch's CPU generator only (deterministic under torch::manual_seed).
/// requires: x.dim() == 4, 0 <= max_shift < min(H, W), contrast in [0, 1), cutout in [0, 1].
torch::Tensor random_strong_view(const torch::Tensor& x, int64_t max_shift, double contrast, double cutout);

}  // namespace fashioncut::data
