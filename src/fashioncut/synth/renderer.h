// The synthetic image renderer: garment silhouette x material x scene, as a pure function
// of (options, index). Used by `fashioncut synth` (write_dataset) and by the on-the-fly
// synthetic dataset in data/.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fashioncut/synth/random.h"
#include "fashioncut/synth/synth_options.h"

namespace fashioncut::synth {

class Material;

/// One rendered image with its labels and every parameter drawn for it.
struct SynthSample {
  cv::Mat image;          ///< CV_8UC3 in RGB order (channels == 3) or CV_8UC1 (channels == 1), size x size
  int label_index = 0;    ///< index into Renderer::class_names()
  std::string label;      ///< class name (the pattern or the garment, per options.label)
  std::string pattern;    ///< pattern class (material) of this image
  std::string garment;    ///< garment of this image
  nlohmann::json params;  ///< every randomised parameter + seed + index
};

/// Renders samples. The class of sample i is class_names()[i % num_classes], so any count
/// is balanced exactly (off by one).
class Renderer {
 public:
  /// Validates `options` (throws ConfigError) and loads background photos if any.
  explicit Renderer(SynthOptions options);
  /// Pure function of (options, index): same bytes whatever thread calls it. Thread-safe.
  SynthSample render(uint64_t index) const;
  /// Class names of the label kind, in label-index order.
  const std::vector<std::string>& class_names() const { return classes_; }
  const SynthOptions& options() const { return options_; }

 private:
  cv::Mat render_background(Rng& rng, int side, nlohmann::json& params) const;

  SynthOptions options_;
  std::vector<std::string> classes_;
  std::vector<std::string> garment_pool_;
  std::vector<std::string> pattern_pool_;
  std::vector<std::string> background_kinds_;
  std::vector<std::shared_ptr<const Material>> materials_;  // by pattern_pool_ / classes_ name
  std::vector<std::string> material_names_;
  std::vector<cv::Mat> photos_;  // RGB, longest side <= 512
};

/// Lists image files (png/jpg/jpeg/bmp/webp) in `dir`, sorted; throws DataError if none.
std::vector<std::string> list_background_photos(const std::string& dir);

}  // namespace fashioncut::synth
