// Scene pieces of the renderer: backgrounds, chest prints, light colour and camera
// artefacts (blur, noise, JPEG). Internal to synth/, used by renderer.cpp.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "fashioncut/synth/random.h"
#include "fashioncut/synth/synth_options.h"

namespace fashioncut::synth {

/// A background of `kind` (solid|gradient|noise|photo|black): CV_32FC3 RGB 0..255, side x side.
cv::Mat make_background(const std::string& kind, Rng& rng, int side, const std::vector<cv::Mat>& photos,
                        nlohmann::json& params);

/// Paints a chest print (box logo, text lines, emblem, bands or a graphic) into `texture`
/// (CV_8UC3) inside `area` (texture pixels).
void paint_print(cv::Mat& texture, const cv::Rect2f& area, Rng& rng, nlohmann::json& params);

/// RGB multiplier of a light of colour temperature `kelvin` (max channel 1).
cv::Vec3f light_color(double kelvin);

/// Optional blur, noise and JPEG round trip on an 8-bit RGB image, per `options`.
void apply_artefacts(cv::Mat& image, const SynthOptions& options, Rng& rng, nlohmann::json& params);

}  // namespace fashioncut::synth
