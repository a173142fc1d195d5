// Every knob of the synthetic data generator, with defaults, presets, validation and a
// flat key/value form (JSON and TOML) whose keys are the field names. The CLI binds one
// option per field (see apps/synth_cmd.cpp), so every field is settable from a TOML file.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fashioncut::synth {

/// Options of the renderer. A preset sets many fields at once; keys given explicitly (CLI,
/// TOML, JSON) override the preset's value.
struct SynthOptions {
  // ---- what is rendered ----
  std::string preset = "catalog";    ///< "catalog" (RGB product shots) | "fmnist" (28 px gray, like Fashion-MNIST)
  int size = 128;                    ///< output side in px (16..2048)
  int channels = 3;                  ///< 3 = RGB, 1 = gray
  std::string label = "pattern";     ///< "pattern" | "garment": which label names the class
  std::vector<std::string> classes;  ///< classes of the label kind, in this order; empty = all of the kind
  std::vector<std::string> garments; ///< garment pool when label = pattern; empty = the preset's set
  std::vector<std::string> patterns; ///< pattern pool when label = garment; empty = all materials
  double plain_prob = 0.0;           ///< label = garment: probability of "plain" (if pooled); else uniform
  uint64_t seed = 0;                 ///< global seed; sample i uses make_rng(seed, i)
  int supersample = 1;               ///< render at size*supersample, then area-downsample (1..4)
  // ---- camera ----
  double scale_min = 0.72;    ///< garment's longest side as a fraction of the frame: lower bound
  double scale_max = 0.92;    ///< ... upper bound
  double rotation_deg = 8.0;  ///< max |in-plane rotation| in degrees
  double perspective = 0.05;  ///< max perspective tilt (fraction of size moved per corner)
  double offset = 0.05;       ///< max centre offset as a fraction of the frame
  double mirror_prob = 0.5;   ///< probability of a horizontal flip of the garment
  // ---- garment surface ----
  double fold_strength = 1.0;   ///< amplitude of folds in the height field (0 = flat)
  double texture_warp = 1.0;    ///< how much the height field bends texture coordinates
  double seam_strength = 1.0;   ///< darkness of seams, hems, collars, buttons (0 = none)
  double print_prob = 0.15;     ///< probability of a chest print / logo on tops
  double texture_scale_min = 0.75;  ///< material feature-size multiplier: lower bound
  double texture_scale_max = 1.35;  ///< ... upper bound
  double exposure_min = 1.0;    ///< multiplier on the garment's radiance: lower bound
  double exposure_max = 1.0;    ///< ... upper bound
  double dark_garment_prob = 0.0;  ///< probability that the garment's colours are darkened (black clothes)
  double gamma = 1.0;           ///< output tone curve out = 255 * (in / 255)^(1 / gamma); > 1 lifts mid-tones
  // ---- lighting ----
  double ambient_min = 0.45;        ///< ambient light intensity: lower bound
  double ambient_max = 0.70;        ///< ... upper bound
  double light_min = 0.30;          ///< directional light intensity: lower bound
  double light_max = 0.60;          ///< ... upper bound
  double elevation_min_deg = 35.0;  ///< directional light elevation above the image plane: lower bound
  double elevation_max_deg = 80.0;  ///< ... upper bound
  double color_temp_min = 4200.0;   ///< light colour temperature in kelvin: lower bound
  double color_temp_max = 7500.0;   ///< ... upper bound
  double shadow_prob = 0.6;         ///< probability of a soft drop shadow on the background
  double rim_light = 0.0;           ///< brightening of silhouette edges (Fashion-MNIST's bright outlines)
  // ---- background ----
  std::vector<std::string> background_kinds{"solid", "gradient", "noise"};  ///< solid|gradient|noise|photo|black
  std::string backgrounds_dir;  ///< folder of photos for kind "photo" (added automatically when set)
  // ---- artefacts ----
  double blur_prob = 0.2;        ///< probability of a Gaussian blur
  double blur_sigma_max = 1.0;   ///< max blur sigma in output px
  double noise_prob = 0.3;       ///< probability of additive Gaussian noise
  double noise_sigma_max = 6.0;  ///< max noise sigma in 8-bit levels
  double jpeg_prob = 0.2;        ///< probability of a JPEG round trip
  int jpeg_quality_min = 40;     ///< lowest JPEG quality used (quality in [min, 95])

  /// Defaults of a named preset ("catalog" | "fmnist"); throws ConfigError on unknown names.
  static SynthOptions preset_options(const std::string& name);
  /// Checks ranges and names; throws ConfigError naming the key and the allowed values.
  void validate() const;

  /// Flat JSON object {field: value} of every field.
  nlohmann::json to_json() const;
  /// Starts from preset_options(j["preset"] or "catalog") and applies every key of `j`;
  /// unknown keys and wrong types throw ConfigError naming the key. Does not validate.
  static SynthOptions from_json(const nlohmann::json& j);
  /// The whole configuration as commented flat TOML (what `synth --print-config` shows).
  std::string to_toml() const;
  /// Parses flat TOML (key = value, strings, numbers, booleans, arrays of strings) the way
  /// from_json does; `source` names the file in errors. Keys in `ignore` are skipped.
  static SynthOptions from_toml(const std::string& text, const std::string& source = "config",
                                const std::vector<std::string>& ignore = {});
};

/// Calls f(name, field, doc) for every field of `o` (const or not), in declaration order.
/// The one place that lists the fields: JSON, TOML and CLI bindings are all built from it.
template <typename Options, typename F>
void for_each_field(Options& o, F&& f) {
  f("preset", o.preset, "catalog | fmnist: the preset whose defaults the other keys override");
  f("size", o.size, "output side in px (16..2048)");
  f("channels", o.channels, "3 = RGB, 1 = gray");
  f("label", o.label, "pattern | garment: which label names the class");
  f("classes", o.classes, "classes of the label kind, in this order; [] = all of the kind");
  f("garments", o.garments, "garment pool when label = pattern; [] = the preset's set");
  f("patterns", o.patterns, "pattern pool when label = garment; [] = all materials");
  f("plain_prob", o.plain_prob, "label = garment: probability of the plain material (if pooled); 0 = uniform");
  f("seed", o.seed, "global seed; sample i is a pure function of (options, seed, i)");
  f("supersample", o.supersample, "render at size*supersample then area-downsample (1..4)");
  f("scale_min", o.scale_min, "garment's longest side / frame: lower bound");
  f("scale_max", o.scale_max, "garment's longest side / frame: upper bound");
  f("rotation_deg", o.rotation_deg, "max |in-plane rotation| in degrees");
  f("perspective", o.perspective, "max perspective tilt (fraction of the frame per corner)");
  f("offset", o.offset, "max centre offset (fraction of the frame)");
  f("mirror_prob", o.mirror_prob, "probability of a horizontal flip");
  f("fold_strength", o.fold_strength, "fold amplitude in the height field (0 = flat)");
  f("texture_warp", o.texture_warp, "how much the height field bends texture coordinates");
  f("seam_strength", o.seam_strength, "darkness of seams, hems, collars, buttons (0 = none)");
  f("print_prob", o.print_prob, "probability of a chest print / logo on tops");
  f("texture_scale_min", o.texture_scale_min, "material feature-size multiplier: lower bound");
  f("texture_scale_max", o.texture_scale_max, "material feature-size multiplier: upper bound");
  f("exposure_min", o.exposure_min, "garment radiance multiplier: lower bound");
  f("exposure_max", o.exposure_max, "garment radiance multiplier: upper bound");
  f("dark_garment_prob", o.dark_garment_prob, "probability of darkened (black) garment colours");
  f("gamma", o.gamma, "output tone curve out = 255*(in/255)^(1/gamma); > 1 lifts mid-tones");
  f("ambient_min", o.ambient_min, "ambient light: lower bound");
  f("ambient_max", o.ambient_max, "ambient light: upper bound");
  f("light_min", o.light_min, "directional light intensity: lower bound");
  f("light_max", o.light_max, "directional light intensity: upper bound");
  f("elevation_min_deg", o.elevation_min_deg, "light elevation in degrees: lower bound");
  f("elevation_max_deg", o.elevation_max_deg, "light elevation in degrees: upper bound");
  f("color_temp_min", o.color_temp_min, "light colour temperature (K): lower bound");
  f("color_temp_max", o.color_temp_max, "light colour temperature (K): upper bound");
  f("shadow_prob", o.shadow_prob, "probability of a soft drop shadow");
  f("rim_light", o.rim_light, "brightening of silhouette edges");
  f("background_kinds", o.background_kinds, "background kinds drawn uniformly: solid|gradient|noise|photo|black");
  f("backgrounds_dir", o.backgrounds_dir, "folder of background photos (adds kind photo)");
  f("blur_prob", o.blur_prob, "probability of a Gaussian blur");
  f("blur_sigma_max", o.blur_sigma_max, "max blur sigma (output px)");
  f("noise_prob", o.noise_prob, "probability of additive Gaussian noise");
  f("noise_sigma_max", o.noise_sigma_max, "max noise sigma (8-bit levels)");
  f("jpeg_prob", o.jpeg_prob, "probability of a JPEG round trip");
  f("jpeg_quality_min", o.jpeg_quality_min, "lowest JPEG quality (quality drawn in [min, 95])");
}

}  // namespace fashioncut::synth
