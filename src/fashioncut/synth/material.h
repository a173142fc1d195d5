// Materials are the pattern classes: each is a procedural texture of surface coordinates
// with randomised parameters. A registry maps class names to materials; adding a class is
// writing one Material and registering it (see materials.cpp).
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fashioncut/synth/random.h"

namespace fashioncut::synth {

/// A procedural texture (one pattern class).
class Material {
 public:
  virtual ~Material() = default;
  /// Paints the texture in garment (u,v) space.
  /// texture: CV_8UC3, RGB, side T x T, already allocated; (0,0) is the top-left
  ///          of the garment's bounding square.
  /// scale:   feature-size multiplier (1 = typical feature size for a garment).
  /// params:  receives every parameter drawn (logged to the manifest).
  /// Must draw all randomness from `rng` (determinism).
  virtual void paint(cv::Mat& texture, Rng& rng, double scale, nlohmann::json& params) const = 0;
};

/// Name -> material, in registration order. The global registry holds the seven built-in
/// classes; registering happens before rendering starts (not concurrently with it).
class MaterialRegistry {
 public:
  /// The process-wide registry, with the built-in materials registered on first use.
  static MaterialRegistry& global();
  /// Registers `material` under `name`; throws ConfigError if the name is taken or empty.
  void add(const std::string& name, std::shared_ptr<const Material> material);
  /// The material of `name`; throws ConfigError naming the known classes if unknown.
  std::shared_ptr<const Material> get(const std::string& name) const;
  bool contains(const std::string& name) const;
  /// Names in registration order.
  std::vector<std::string> names() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::shared_ptr<const Material>>> entries_;
};

/// Registers plain, floral, striped, dotted, camouflage, gradient, herringbone.
void register_builtin_materials(MaterialRegistry& registry);

// ---- colour and noise helpers shared by materials and the renderer ----

/// A colour a garment plausibly has (named fabric palette or a moderate random hue), RGB 0..255.
cv::Vec3f garment_color(Rng& rng);
/// A colour that reads well against `base` (light on dark, complementary, or a tone of it).
cv::Vec3f contrasting_color(Rng& rng, const cv::Vec3f& base);
/// Smooth value noise in [0,1]: CV_32F, side T, about `cells` features across.
cv::Mat value_noise(int T, double cells, Rng& rng);
/// Fractal (multi-octave) value noise in [0,1] (roughly), CV_32F side T.
cv::Mat fractal_noise(int T, double cells, int octaves, Rng& rng);
/// Adds subtle fabric grain (multiplicative, amplitude `amount`) to a CV_8UC3 texture.
void add_fabric_grain(cv::Mat& texture, Rng& rng, double amount);
/// Colour as a JSON array [r,g,b] (rounded).
nlohmann::json color_json(const cv::Vec3f& c);

}  // namespace fashioncut::synth
