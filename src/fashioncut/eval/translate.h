// `fashioncut translate`: apply a CUT generator to images at their own size.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "fashioncut/eval/model_loader.h"

namespace fashioncut::eval {

struct TranslateOptions {
  std::vector<std::string> inputs;  ///< files, folders (recursive) or path lists, as for predict
  std::filesystem::path out_dir;
  bool grid = false;                ///< also write OUT/grid/<name>.png: input | output side by side
  std::string device = "cpu";
};

struct TranslateSummary {
  int64_t written = 0;
  std::vector<std::string> failed;  ///< "path: reason"
  double seconds = 0;
};

/// Translates each input image (converted to the generator's channels, [-1,1]) at its own
/// size: the generator pads to a multiple of 4 and crops back, so the output has the input's
/// width and height (>= 8 px each). Outputs are PNGs named like the inputs (folder inputs keep
/// their relative sub-paths), extension replaced by .png. Bad files are listed, not fatal.
TranslateSummary translate_images(LoadedGenerator& generator, const TranslateOptions& options);

/// One image through the generator: 8-bit gray/RGB [H,W] -> 8-bit [H,W] with the generator's
/// output channels.
cv::Mat translate_image(models::ResnetGenerator& generator, const cv::Mat& image, torch::Device device);

}  // namespace fashioncut::eval
