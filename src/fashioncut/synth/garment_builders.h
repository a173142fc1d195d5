// Small helpers shared by the garment builders (garments_tops.cpp, garments_other.cpp).
#pragma once

#include <utility>
#include <vector>

#include "fashioncut/synth/garment.h"

namespace fashioncut::synth::builders {

using P = cv::Point2f;

/// Uniform draw in [lo, hi) as float (garment proportions).
inline float U(Rng& rng, double lo, double hi) { return float(uniform(rng, lo, hi)); }

/// A seam/hem/trim stroke through `pts`.
inline GarmentStroke line(std::vector<P> pts, float width, float shade, bool closed = false) {
  GarmentStroke s;
  s.points = std::move(pts);
  s.width = width;
  s.shade = shade;
  s.closed = closed;
  return s;
}

}  // namespace fashioncut::synth::builders
