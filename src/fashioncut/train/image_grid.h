// Sample grids for samples/epoch_NNN.png and TensorBoard: rows of images (e.g. synthetic |
// translated | real | real through G) tiled into one RGB image, tiny images upscaled.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

namespace fashioncut::train {

/// Layout of image_grid().
struct ImageGridOptions {
  /// Pixels between cells and around the border.
  int pad = 2;
  /// Images whose shorter side is below this are upscaled (nearest, integer factor) to reach it.
  int min_cell_size = 64;
  /// Optional caption per row, drawn in a column left of the row ("" = none). Size may be
  /// smaller than the row count; missing captions are empty.
  std::vector<std::string> row_labels;
  /// Background (padding) colour, RGB.
  cv::Scalar background = cv::Scalar(255, 255, 255);
};

/// Tiles `rows` (each a list of 8-bit gray CV_8UC1, RGB CV_8UC3 or RGBA CV_8UC4 images; rows
/// may differ in length, images in size) into one RGB CV_8UC3 image. Every cell has the size of
/// the largest (upscaled) image; smaller images are centred. Returns an empty Mat if there is
/// no image at all. Throws Error for another image type.
cv::Mat image_grid(const std::vector<std::vector<cv::Mat>>& rows, const ImageGridOptions& options = {});

/// Converts images `x`: [N,C,H,W] (or [C,H,W]) with C in {1,3} and values in [-1,1] (any
/// device and float dtype; clamped) to N 8-bit cv::Mat: CV_8UC1 for C=1, RGB CV_8UC3 for C=3.
/// Throws Error for another shape.
std::vector<cv::Mat> tensor_to_u8_images(const torch::Tensor& x);

/// PNG-encodes an 8-bit gray/RGB/RGBA image (RGB order) and writes it atomically to `path`
/// (creating folders). Throws IoError naming the path on failure, Error on a bad image type.
void write_png(const std::filesystem::path& path, const cv::Mat& rgb_or_gray);

}  // namespace fashioncut::train
