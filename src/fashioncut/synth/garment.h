// Garments are parametric silhouettes (front views of apparel, side views of shoes) with
// random proportions, built from pieces (filled polygons or thick polylines stacked in
// layers, e.g. sleeves over the body) and detail strokes (seams, hems, collars, buttons,
// zips, laces). The renderer turns layers + strokes into a height field for folds/normals.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fashioncut/synth/random.h"

namespace fashioncut::synth {

/// One part of a garment in canonical coordinates (x right, y down, any unit).
struct GarmentPiece {
  std::vector<cv::Point2f> points;  ///< polygon (stroke_width == 0) or open polyline
  float stroke_width = 0.f;         ///< > 0: a strap/handle drawn as a polyline of this width
  float height = 0.f;               ///< layer height (sleeves over body > 0)
  float shade = 1.f;                ///< brightness multiplier of this part
  bool textured = true;             ///< false: solid `color` (soles, heels, trims)
  cv::Vec3f color{235, 235, 235};   ///< RGB used when !textured
};

/// A detail line (seam, hem, collar edge, button, zip, lace) in canonical coordinates.
struct GarmentStroke {
  std::vector<cv::Point2f> points;
  float width = 0.01f;   ///< canonical units
  float shade = 0.6f;    ///< brightness multiplier (< 1 darker, > 1 brighter)
  bool closed = false;
  bool filled = false;   ///< filled polygon (buttons, pockets)
};

/// A garment instance: everything the renderer needs, plus the parameters drawn.
struct GarmentGeometry {
  std::vector<GarmentPiece> pieces;    ///< drawn in order (later pieces on top)
  std::vector<GarmentStroke> strokes;  ///< drawn after all pieces
  std::optional<cv::Rect2f> print_area;  ///< where a chest print may go (tops)
  bool rigid = false;                  ///< shoes and bags: few folds
  double fold_angle_deg = 0.0;         ///< main direction of fold crests (0 = horizontal)
  nlohmann::json params = nlohmann::json::object();
};

/// Builds one random instance of garment `name`; throws ConfigError if unknown.
GarmentGeometry build_garment(const std::string& name, Rng& rng);
/// Every garment name (apparel set, then the Fashion-MNIST names not in it).
std::vector<std::string> garment_names();
/// t-shirt, shirt, dress, skirt, trousers, shorts, sweater, coat.
const std::vector<std::string>& apparel_garments();
/// t-shirt_top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle_boot (FMNIST order).
const std::vector<std::string>& fmnist_garments();

// ---- shape helpers (used by the builders) ----

/// Closes a left half-outline (listed from the top centre down to the bottom centre, x <= 0)
/// into a full symmetric polygon.
std::vector<cv::Point2f> mirror_outline(const std::vector<cv::Point2f>& left_half);
/// Mirrors points in x.
std::vector<cv::Point2f> mirror_x(std::vector<cv::Point2f> pts);
/// Points on an elliptic arc (angles in degrees, y down).
std::vector<cv::Point2f> arc_points(cv::Point2f c, float rx, float ry, float a0_deg, float a1_deg, int n);
/// Cubic Bezier through p0..p3 (n points, endpoints included).
std::vector<cv::Point2f> bezier(cv::Point2f p0, cv::Point2f p1, cv::Point2f p2, cv::Point2f p3, int n);
/// A tapered quad along p0 -> p1 (sleeves, legs, straps).
std::vector<cv::Point2f> tube(cv::Point2f p0, cv::Point2f p1, float w0, float w1);
/// Appends `b` to `a`.
void append(std::vector<cv::Point2f>& a, const std::vector<cv::Point2f>& b);

// Builders, split by family (garments_tops.cpp, garments_other.cpp).
GarmentGeometry build_top(Rng& rng, const std::string& kind);      ///< t-shirt, t-shirt_top, shirt, sweater, pullover, coat
GarmentGeometry build_dress(Rng& rng);
GarmentGeometry build_bottom(Rng& rng, const std::string& kind);   ///< trousers, trouser, shorts, skirt
GarmentGeometry build_shoe(Rng& rng, const std::string& kind);     ///< sneaker, sandal, ankle_boot
GarmentGeometry build_bag(Rng& rng);

}  // namespace fashioncut::synth
