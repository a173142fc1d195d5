// Front views of tops (t-shirts, tank tops, shirts, sweaters/pullovers/hoodies, coats)
// and dresses. Canonical frame: x = 0 is the centre line, y = 0 the shoulder line, the
// body length is about 1.
#include <cmath>

#include "fashioncut/synth/garment_builders.h"

namespace fashioncut::synth {
namespace {

using namespace builders;  // NOLINT: U, line, P

GarmentStroke dot(P c, float r, float shade) {
  GarmentStroke s;
  s.points = arc_points(c, r, r, 0, 360, 10);
  s.filled = true;
  s.closed = true;
  s.shade = shade;
  s.width = r * 0.5f;
  return s;
}

/// Adds a symmetric pair of sleeves hanging from the shoulder (drawn before the body).
void add_sleeves(GarmentGeometry& g, Rng& rng, float bw, float sd, float ap, float length_total, bool long_sleeves,
                 float seam, bool cuffs) {
  const float w0 = ap - sd;
  const float angle = long_sleeves ? U(rng, 78, 88) : U(rng, 22, 50);
  const float rad = angle * float(M_PI / 180);
  const cv::Point2f dir(-std::cos(rad), std::sin(rad));
  const float len = long_sleeves ? (length_total - sd) * U(rng, 0.78, 0.98) / std::sin(rad) : U(rng, 0.13, 0.28);
  const float w1 = long_sleeves ? U(rng, 0.09, 0.14) : w0 * U(rng, 0.7, 0.95);
  const P p0 = P(-bw + 0.03f, (sd + ap) / 2) - dir * 0.04f;
  const P p1 = p0 + dir * (len + 0.04f);
  for (int side = 0; side < 2; ++side) {
    GarmentPiece sleeve;
    sleeve.points = tube(p0, p1, w0, w1);
    if (side) sleeve.points = mirror_x(sleeve.points);
    sleeve.height = 0.25f;
    sleeve.shade = U(rng, 0.93, 1.0);
    g.pieces.push_back(sleeve);
    // cuff / sleeve hem seam across the sleeve end
    const P back = p1 - dir * (cuffs ? 0.06f : 0.03f);
    const P n(-dir.y, dir.x);
    std::vector<P> hem{back + n * (w1 / 2), back - n * (w1 / 2)};
    if (side) hem = mirror_x(hem);
    g.strokes.push_back(line(hem, 0.012f, seam));
  }
  g.params["sleeves"] = long_sleeves ? "long" : "short";
  g.params["sleeve_angle_deg"] = angle;
  g.params["sleeve_length"] = len;
}

}  // namespace

GarmentGeometry build_top(Rng& rng, const std::string& kind) {
  GarmentGeometry g;
  const bool tee = kind == "t-shirt" || kind == "t-shirt_top";
  const bool tank = kind == "t-shirt_top" && chance(rng, 0.2);
  const bool shirt = kind == "shirt";
  const bool coat = kind == "coat";
  const bool knit = kind == "sweater" || kind == "pullover";
  const bool hood = (knit && chance(rng, 0.15)) || (coat && chance(rng, 0.25));
  const float seam = 0.72f;

  const float L = coat ? U(rng, 1.0, 1.35) : tee ? U(rng, 0.95, 1.15) : U(rng, 0.9, 1.1);
  const float bw = tank ? U(rng, 0.2, 0.28) : coat ? U(rng, 0.23, 0.31) : tee ? U(rng, 0.26, 0.34) : U(rng, 0.22, 0.29);
  const float flare = U(rng, -0.02, 0.04);
  const bool vneck = (tee && chance(rng, 0.2)) || (knit && chance(rng, 0.15));
  const float nw = tank ? U(rng, 0.09, 0.14) : U(rng, 0.065, 0.105);
  const float nd = tank ? U(rng, 0.12, 0.25) : vneck ? U(rng, 0.12, 0.22) : U(rng, 0.03, 0.08);
  const float sd = tank ? 0.0f : U(rng, 0.03, 0.08);
  const float ap = U(rng, 0.22, 0.3);

  bool long_sleeves = false, sleeves = !tank;
  if (shirt) long_sleeves = chance(rng, 0.75);
  else if (knit || coat) long_sleeves = true;
  else if (kind == "t-shirt_top") long_sleeves = chance(rng, 0.08);
  if (sleeves) add_sleeves(g, rng, bw, sd, ap, L, long_sleeves, seam, knit || coat);

  if (hood) {  // a hood lying behind the neck
    GarmentPiece h;
    h.points = arc_points(P(0, 0.02f), nw + U(rng, 0.05, 0.09), U(rng, 0.12, 0.18), 180, 360, 16);
    h.points.emplace_back(nw + 0.02f, 0.06f);
    h.points.emplace_back(-nw - 0.02f, 0.06f);
    h.height = 0.1f;
    h.shade = 0.9f;
    g.pieces.push_back(h);
  }

  // body outline, left half from the neck centre down to the hem centre
  std::vector<P> half;
  append(half, bezier(P(0, nd), P(-nw * 0.7f, nd), P(-nw, nd * 0.35f), P(-nw, 0), 6));
  if (tank) {
    const float strap = U(rng, 0.035, 0.08);
    half.emplace_back(-nw - strap, 0);
    append(half, bezier(P(-nw - strap, 0), P(-nw - strap, ap * 0.6f), P(-bw + 0.02f, ap), P(-bw, ap + 0.08f), 6));
  } else {
    half.emplace_back(-bw, sd);
    half.emplace_back(-bw - 0.005f, ap);
  }
  const float waist_in = knit ? 0.0f : U(rng, 0.0, 0.03);
  half.emplace_back(-bw + waist_in, L * 0.55f);
  if (shirt && chance(rng, 0.5)) {  // shirt tail: curved hem
    half.emplace_back(-bw - flare, L * 0.93f);
    append(half, bezier(P(-bw - flare, L * 0.93f), P(-bw * 0.7f, L * 0.93f), P(-bw * 0.5f, L), P(0, L + 0.03f), 5));
  } else {
    half.emplace_back(-bw - flare, L);
    half.emplace_back(0, L);
  }
  GarmentPiece body;
  body.points = mirror_outline(half);
  g.pieces.push_back(body);

  // details
  const float hem_y = L - (knit ? U(rng, 0.05, 0.09) : 0.035f);
  g.strokes.push_back(line({P(-bw - flare * 0.9f, hem_y), P(bw + flare * 0.9f, hem_y)}, knit ? 0.016f : 0.01f, seam));
  auto neck = bezier(P(0, nd + 0.025f), P(-nw * 0.7f, nd + 0.025f), P(-nw - 0.01f, nd * 0.35f), P(-nw - 0.015f, 0), 6);
  std::vector<P> neckline = neck;
  std::reverse(neckline.begin(), neckline.end());
  append(neckline, mirror_x(neck));
  if (!shirt && !(coat && chance(rng, 0.5))) g.strokes.push_back(line(neckline, 0.014f, seam));
  if (!tank) {
    g.strokes.push_back(line({P(-nw, 0), P(-bw, sd)}, 0.008f, 0.85f));  // shoulder seams
    g.strokes.push_back(line({P(nw, 0), P(bw, sd)}, 0.008f, 0.85f));
  }
  if (shirt) {
    for (int side = 0; side < 2; ++side) {  // pointed collar
      GarmentPiece c;
      c.points = {P(-nw - 0.02f, -0.015f), P(-0.004f, nd), P(-nw * 0.45f, nd + U(rng, 0.07, 0.12)),
                  P(-nw - 0.045f, 0.05f)};
      if (side) c.points = mirror_x(c.points);
      c.height = 0.5f;
      g.pieces.push_back(c);
      GarmentStroke edge = line(c.points, 0.01f, seam);
      edge.closed = true;
      g.strokes.push_back(edge);
    }
    g.strokes.push_back(line({P(0, nd), P(0, L)}, 0.012f, seam));
    const int buttons = uniform_int(rng, 5, 7);
    const float button_shade = chance(rng, 0.5) ? 0.55f : 1.35f;
    for (int b = 0; b < buttons; ++b)
      g.strokes.push_back(dot(P(0.018f, nd + 0.05f + (L - nd - 0.12f) * b / float(buttons - 1)), 0.012f, button_shade));
    if (chance(rng, 0.5)) {
      GarmentStroke pocket = line({P(-bw * 0.7f, 0.22f), P(-bw * 0.2f, 0.22f), P(-bw * 0.2f, 0.36f), P(-bw * 0.7f, 0.36f)},
                                  0.01f, seam);
      pocket.closed = true;
      g.strokes.push_back(pocket);
    }
  }
  if (coat) {
    const float zip_shade = chance(rng, 0.6) ? 0.5f : 1.3f;
    g.strokes.push_back(line({P(0, nd), P(0, L)}, 0.016f, zip_shade));
    if (chance(rng, 0.5)) {  // lapels
      for (int side = 0; side < 2; ++side) {
        std::vector<P> lap{P(-nw, 0), P(-0.012f, U(rng, 0.28, 0.42)), P(-nw - U(rng, 0.05, 0.1), 0.12f)};
        if (side) lap = mirror_x(lap);
        GarmentStroke s = line(lap, 0.012f, seam);
        s.closed = true;
        g.strokes.push_back(s);
      }
    }
    if (chance(rng, 0.6)) {  // pockets
      for (int side = 0; side < 2; ++side) {
        std::vector<P> p{P(-bw * 0.75f, L * 0.62f), P(-bw * 0.35f, L * 0.7f)};
        if (side) p = mirror_x(p);
        g.strokes.push_back(line(p, 0.014f, seam));
      }
    }
    if (chance(rng, 0.2))
      g.strokes.push_back(line({P(-bw, L * 0.5f), P(bw, L * 0.5f)}, 0.045f, U(rng, 0.6, 0.85)));
  }
  if (knit && hood && chance(rng, 0.7)) {  // kangaroo pocket
    GarmentStroke pk = line({P(-bw * 0.6f, L * 0.62f), P(bw * 0.6f, L * 0.62f), P(bw * 0.75f, hem_y), P(-bw * 0.75f, hem_y)},
                            0.012f, seam);
    pk.closed = true;
    g.strokes.push_back(pk);
  }
  if (!coat) g.print_area = cv::Rect2f(-bw * 0.62f, nd + 0.07f, bw * 1.24f, std::min(0.42f, L * 0.45f));
  g.fold_angle_deg = 0.0;
  g.params["body_width"] = 2 * bw;
  g.params["length"] = L;
  g.params["neck"] = tank ? "tank" : vneck ? "v" : "round";
  g.params["hood"] = hood;
  return g;
}

GarmentGeometry build_dress(Rng& rng) {
  GarmentGeometry g;
  const float seam = 0.72f;
  const float L = U(rng, 1.0, 1.25);
  const double style = uniform01(rng);
  const bool sheath = style < 0.3;
  const float nw = U(rng, 0.06, 0.11), nd = U(rng, 0.04, 0.2);
  const float ap = U(rng, 0.17, 0.25), bb = U(rng, 0.14, 0.2);
  const float wy = U(rng, 0.32, 0.48), ww = bb * U(rng, 0.78, 0.95);
  const float hw = sheath ? bb * U(rng, 1.0, 1.35) : U(rng, 0.22, 0.38);
  const double sleeve_draw = uniform01(rng);
  const bool straps = sleeve_draw < 0.45;
  const bool sleeves = !straps;
  const bool long_sleeves = sleeves && sleeve_draw > 0.85;
  if (sleeves) add_sleeves(g, rng, bb + 0.02f, 0.03f, ap, L * 0.55f, long_sleeves, seam, false);
  std::vector<P> half;
  append(half, bezier(P(0, nd), P(-nw * 0.7f, nd), P(-nw, nd * 0.35f), P(-nw, 0), 6));
  if (straps) {
    const float strap = U(rng, 0.02, 0.06);
    half.emplace_back(-nw - strap, 0);
    append(half, bezier(P(-nw - strap, 0), P(-nw - strap, ap * 0.6f), P(-bb + 0.02f, ap * 0.8f), P(-bb, ap), 5));
  } else {
    half.emplace_back(-bb - 0.02f, 0.03f);
    half.emplace_back(-bb, ap);
  }
  half.emplace_back(-ww, wy);
  append(half, bezier(P(-ww, wy), P(-ww - (hw - ww) * 0.2f, wy + (L - wy) * 0.4f), P(-hw * 0.95f, L * 0.85f),
                      P(-hw, L), 6));
  half.emplace_back(-hw * 0.5f, L + 0.015f);
  half.emplace_back(0, L + 0.02f);
  GarmentPiece body;
  body.points = mirror_outline(half);
  g.pieces.push_back(body);
  if (chance(rng, 0.5)) g.strokes.push_back(line({P(-ww, wy), P(ww, wy)}, chance(rng, 0.3) ? 0.04f : 0.01f, seam));
  if (!sheath && chance(rng, 0.3)) {  // pleats fanning out from the waist
    const int n = uniform_int(rng, 3, 6);
    for (int i = 0; i < n; ++i) {
      const float t = (i + 0.5f) / n * 2 - 1;
      g.strokes.push_back(line({P(ww * t * 0.9f, wy + 0.02f), P(hw * t * 0.92f, L - 0.02f)}, 0.01f, 0.8f));
    }
  }
  g.strokes.push_back(line({P(-hw * 0.97f, L - 0.025f), P(hw * 0.97f, L - 0.025f)}, 0.008f, 0.8f));
  g.print_area = cv::Rect2f(-bb * 0.7f, nd + 0.06f, bb * 1.4f, 0.22f);
  g.fold_angle_deg = 90.0;  // vertical drapes
  g.params["style"] = sheath ? "sheath" : "a-line";
  g.params["sleeves"] = straps ? "straps" : long_sleeves ? "long" : "short";
  g.params["length"] = L;
  g.params["hem_width"] = 2 * hw;
  return g;
}

}  // namespace fashioncut::synth
