// Bottoms (trousers, shorts, skirts; front view), shoes (side view, toe to the left as in
// catalogue shots) and bags (front view). Shoes: ground at y = 0, up is negative y,
// length about 1.
#include <cmath>

#include "fashioncut/synth/garment_builders.h"

namespace fashioncut::synth {
namespace {

using namespace builders;  // NOLINT: U, line, P

GarmentPiece strap(std::vector<P> pts, float width, float height = 0.3f) {
  GarmentPiece p;
  p.points = std::move(pts);
  p.stroke_width = width;
  p.height = height;
  return p;
}

GarmentPiece solid(std::vector<P> pts, cv::Vec3f color, float height = 0.f) {
  GarmentPiece p;
  p.points = std::move(pts);
  p.textured = false;
  p.color = color;
  p.height = height;
  return p;
}

cv::Vec3f sole_color(Rng& rng) {
  const float v = chance(rng, 0.7) ? U(rng, 200, 250) : U(rng, 30, 80);
  return cv::Vec3f(v, v * U(rng, 0.96, 1.0), v * U(rng, 0.9, 1.0));
}

float smoothstep01(float t) {
  t = std::clamp(t, 0.f, 1.f);
  return t * t * (3 - 2 * t);
}

}  // namespace

GarmentGeometry build_bottom(Rng& rng, const std::string& kind) {
  GarmentGeometry g;
  const float seam = 0.72f;
  if (kind == "skirt") {
    const float W = U(rng, 0.15, 0.22), len = U(rng, 0.5, 1.0), hw = U(rng, 0.25, 0.45);
    std::vector<P> half{P(0, 0), P(-W, 0), P(-W - 0.01f, 0.08f)};
    append(half, bezier(P(-W - 0.01f, 0.08f), P(-W - (hw - W) * 0.3f, len * 0.5f), P(-hw * 0.97f, len * 0.85f),
                        P(-hw, len), 5));
    half.emplace_back(0, len + 0.02f);
    GarmentPiece body;
    body.points = mirror_outline(half);
    g.pieces.push_back(body);
    g.strokes.push_back(line({P(-W, 0.05f), P(W, 0.05f)}, 0.012f, seam));
    if (chance(rng, 0.4)) {
      const int n = uniform_int(rng, 4, 8);
      for (int i = 0; i < n; ++i) {
        const float t = (i + 0.5f) / n * 2 - 1;
        g.strokes.push_back(line({P(W * t, 0.07f), P(hw * t * 0.95f, len - 0.01f)}, 0.008f, 0.8f));
      }
    }
    g.fold_angle_deg = 90;
    g.params["length"] = len;
    g.params["hem_width"] = 2 * hw;
    return g;
  }
  const bool shorts = kind == "shorts";
  const float W = shorts ? U(rng, 0.2, 0.27) : U(rng, 0.14, 0.2);
  const float crotch = shorts ? U(rng, 0.2, 0.3) : U(rng, 0.25, 0.36);
  const float length = shorts ? crotch + U(rng, 0.12, 0.3) : 1.0f;
  const float fo = shorts ? U(rng, 0.02, 0.07) : U(rng, -0.04, 0.06);  // taper (<0) or flare (>0)
  float lw = shorts ? U(rng, 0.15, 0.23) : U(rng, 0.09, 0.15);
  lw = std::min(lw, W + fo - 0.02f);
  const float inner = W + fo - lw;
  std::vector<P> poly{P(-W, 0),         P(W, 0),           P(W + 0.012f, crotch * 0.6f), P(W + fo, length),
                      P(inner, length), P(0.0f, crotch),   P(-inner, length),            P(-W - fo, length),
                      P(-W - 0.012f, crotch * 0.6f)};
  GarmentPiece body;
  body.points = poly;
  g.pieces.push_back(body);
  g.strokes.push_back(line({P(-W, 0.045f), P(W, 0.045f)}, 0.012f, seam));  // waistband
  g.strokes.push_back(line(bezier(P(0.01f, 0.05f), P(0.01f, crotch * 0.5f), P(0.02f, crotch * 0.75f), P(0, crotch * 0.85f), 5),
                           0.01f, seam));  // fly
  for (int side = 0; side < 2; ++side) {
    std::vector<P> pocket{P(-W * 0.92f, 0.06f), P(-W * 0.5f, U(rng, 0.14, 0.2))};
    if (side) pocket = mirror_x(pocket);
    g.strokes.push_back(line(pocket, 0.01f, seam));
    if (!shorts && chance(rng, 0.6)) {  // centre crease of the leg
      std::vector<P> crease{P(-(W + inner) * 0.5f, crotch), P(-(W + fo + inner) * 0.5f, length - 0.02f)};
      if (side) crease = mirror_x(crease);
      g.strokes.push_back(line(crease, 0.006f, 0.85f));
    }
    std::vector<P> hem{P(-W - fo, length - 0.03f), P(-inner, length - 0.03f)};
    if (side) hem = mirror_x(hem);
    g.strokes.push_back(line(hem, 0.008f, 0.8f));
  }
  g.fold_angle_deg = 90;
  g.params["waist_width"] = 2 * W;
  g.params["crotch"] = crotch;
  g.params["leg_width"] = lw;
  g.params["length"] = length;
  return g;
}

GarmentGeometry build_shoe(Rng& rng, const std::string& kind) {
  GarmentGeometry g;
  g.rigid = true;
  const float seam = 0.65f;
  if (kind == "sneaker") {
    const float st = U(rng, 0.08, 0.13), th = U(rng, 0.14, 0.22);
    const bool high = chance(rng, 0.12);
    const float ch = high ? U(rng, 0.52, 0.65) : U(rng, 0.36, 0.5);
    std::vector<P> up{P(-0.49f, -st * 0.6f)};
    append(up, bezier(P(-0.49f, -st * 0.6f), P(-0.5f, -th), P(-0.45f, -th), P(-0.36f, -th - 0.01f), 5));
    up.emplace_back(-0.06f, -ch * U(rng, 0.7, 0.8));
    up.emplace_back(0.08f, -ch * 0.95f);
    append(up, bezier(P(0.08f, -ch * 0.95f), P(0.18f, -ch * 0.8f), P(0.3f, -ch * 0.8f), P(0.44f, -ch), 5));
    append(up, bezier(P(0.44f, -ch), P(0.52f, -ch * 0.8f), P(0.51f, -st * 1.5f), P(0.49f, -st), 5));
    GarmentPiece upper;
    upper.points = up;
    g.pieces.push_back(upper);
    const cv::Vec3f sc = sole_color(rng);
    g.pieces.push_back(solid({P(-0.47f, 0), P(0.47f, 0), P(0.5f, -st * 0.4f), P(0.5f, -st), P(-0.5f, -st * 1.25f),
                              P(-0.51f, -st * 0.5f)},
                             sc, 0.2f));
    g.strokes.push_back(line({P(-0.5f, -st * 1.25f), P(0.5f, -st)}, 0.01f, 0.75f));
    const int laces = uniform_int(rng, 3, 6);
    for (int i = 0; i < laces; ++i) {  // laces across the vamp
      const float t = (i + 0.5f) / laces;
      const P a(-0.3f + 0.33f * t, -th - (ch * 0.75f - th) * t - 0.02f);
      g.strokes.push_back(line({a, a + P(0.06f, 0.05f)}, 0.014f, chance(rng, 0.5) ? 0.55f : 1.35f));
    }
    if (chance(rng, 0.6))  // side logo stripe / swoosh
      g.strokes.push_back(line(bezier(P(-0.18f, -st - 0.03f), P(0.0f, -st - 0.02f), P(0.15f, -ch * 0.4f), P(0.35f, -ch * 0.65f), 6),
                               U(rng, 0.02, 0.045), chance(rng, 0.5) ? 0.6f : 1.4f));
    if (chance(rng, 0.6)) g.strokes.push_back(line(bezier(P(-0.36f, -st), P(-0.3f, -th), P(-0.25f, -th - 0.02f), P(-0.2f, -th - 0.03f), 4), 0.01f, seam));
    g.params["sole"] = st;
    g.params["collar_height"] = ch;
    return g;
  }
  if (kind == "sandal") {
    const double heel_draw = uniform01(rng);
    const std::string heel = heel_draw < 0.6 ? "flat" : heel_draw < 0.88 ? "high" : "wedge";
    const float hh = heel == "flat" ? U(rng, 0.0, 0.05) : heel == "high" ? U(rng, 0.25, 0.55) : U(rng, 0.15, 0.35);
    const float st = U(rng, 0.04, 0.07);
    auto sole_y = [&](float x) { return -st / 2 - hh * smoothstep01((x + 0.15f) / 0.58f); };
    std::vector<P> sole;
    for (int i = 0; i <= 12; ++i) {
      const float x = -0.48f + 0.93f * i / 12.f;
      sole.emplace_back(x, sole_y(x));
    }
    const float strap_w = U(rng, 0.035, 0.07);
    const P ankle(0.33f, sole_y(0.4f) - U(rng, 0.18, 0.3));
    if (chance(rng, 0.6)) g.pieces.push_back(strap(arc_points(ankle, 0.09f, 0.035f, 0, 360, 14), strap_w * 0.8f, 0.2f));
    g.pieces.push_back(strap({P(0.44f, sole_y(0.44f)), ankle + P(0.08f, 0.01f)}, strap_w, 0.2f));  // heel counter
    if (heel == "high") {
      GarmentPiece h;
      h.points = tube(P(0.41f, sole_y(0.41f)), P(0.39f + U(rng, -0.03, 0.02), 0.0f), U(rng, 0.05, 0.09), U(rng, 0.015, 0.05));
      h.height = 0.1f;
      g.pieces.push_back(h);
    } else if (heel == "wedge") {
      GarmentPiece w;
      w.points = {P(-0.15f, 0), P(-0.05f, sole_y(-0.05f)), P(0.45f, sole_y(0.45f)), P(0.46f, 0)};
      g.pieces.push_back(w);
    }
    GarmentPiece sp = strap(sole, st, 0.0f);
    g.pieces.push_back(sp);
    const int cross = uniform_int(rng, 1, 4);
    for (int i = 0; i < cross; ++i) {  // straps over the foot
      const float x0 = -0.42f + 0.16f * i + U(rng, -0.03, 0.03);
      const float rise = U(rng, 0.07, 0.14) + 0.03f * i;
      const P a(x0, sole_y(x0)), b(x0 + U(rng, 0.12, 0.2), sole_y(x0 + 0.16f));
      if (i == cross - 1 && chance(rng, 0.5))
        g.pieces.push_back(strap(bezier(a, a + P(0.02f, -rise), ankle + P(-0.1f, 0), ankle, 6), strap_w, 0.3f));
      else
        g.pieces.push_back(strap(bezier(a, a + P(0.0f, -rise * 1.3f), b + P(0.0f, -rise * 1.3f), b, 6), strap_w, 0.3f));
    }
    g.params["heel"] = heel;
    g.params["heel_height"] = hh;
    g.params["straps"] = cross;
    return g;
  }
  // ankle boot
  const float st = U(rng, 0.05, 0.09);
  const bool high_heel = chance(rng, 0.3);
  const float hh = high_heel ? U(rng, 0.12, 0.28) : U(rng, 0.0, 0.05);
  const float H = U(rng, 0.5, 0.85);
  auto lift = [&](P p) { return P(p.x, p.y - hh * smoothstep01((p.x + 0.15f) / 0.6f)); };
  std::vector<P> up{P(-0.5f, -st * 0.7f)};
  append(up, bezier(P(-0.5f, -st * 0.7f), P(-0.51f, -0.2f), P(-0.45f, -0.24f), P(-0.32f, -0.27f), 5));
  append(up, bezier(P(-0.32f, -0.27f), P(-0.15f, -0.32f), P(-0.06f, -0.4f), P(-0.03f, -0.5f), 4));
  const float top_front = U(rng, -0.04, 0.05), top_back = U(rng, 0.36, 0.46);
  up.emplace_back(top_front, -H);
  up.emplace_back(top_back, -H - U(rng, -0.02, 0.04));
  append(up, bezier(P(top_back + 0.01f, -H * 0.9f), P(0.44f, -0.4f), P(0.53f, -0.2f), P(0.49f, -st), 5));
  for (auto& p : up) p = lift(p);
  GarmentPiece upper;
  upper.points = up;
  g.pieces.push_back(upper);
  std::vector<P> sole{P(-0.5f, -st * 1.1f), P(-0.49f, 0), P(-0.1f, 0), P(0.5f, 0), P(0.5f, -st)};
  for (auto& p : sole) p = lift(p);
  const cv::Vec3f sc = sole_color(rng) * (chance(rng, 0.6) ? 0.35f : 1.0f);
  g.pieces.push_back(solid(sole, sc, 0.2f));
  if (hh > 0.06f) g.pieces.push_back(solid({P(0.3f, -hh + 0.01f), P(0.49f, -hh), P(0.47f, 0), P(0.36f, 0)}, sc, 0.1f));
  const double detail = uniform01(rng);
  if (detail < 0.35) {
    g.strokes.push_back(line({lift(P(0.1f, -H + 0.04f)), lift(P(0.14f, -0.3f))}, 0.014f, chance(rng, 0.5) ? 0.5f : 1.4f));
  } else if (detail < 0.6) {  // chelsea elastic panel
    GarmentStroke panel = line({lift(P(0.12f, -H)), lift(P(0.16f, -0.3f)), lift(P(0.28f, -0.3f)), lift(P(0.3f, -H))},
                               0.01f, 0.7f);
    panel.filled = true;
    panel.closed = true;
    g.strokes.push_back(panel);
  } else if (detail < 0.8) {  // laces up the front
    for (int i = 0; i < 5; ++i) {
      const float t = i / 4.f;
      const P a = lift(P(-0.2f + 0.18f * t, -0.33f - (H - 0.4f) * t));
      g.strokes.push_back(line({a, a + P(0.09f, 0.02f)}, 0.015f, 0.6f));
    }
  }
  g.strokes.push_back(line({lift(P(-0.5f, -st * 1.1f)), lift(P(0.5f, -st))}, 0.01f, 0.75f));
  g.strokes.push_back(line({P(top_front, -H + 0.03f), P(top_back, -H + 0.03f)}, 0.012f, seam));
  g.params["shaft_height"] = H;
  g.params["heel_height"] = hh;
  return g;
}

GarmentGeometry build_bag(Rng& rng) {
  GarmentGeometry g;
  g.rigid = true;
  const float bh = U(rng, 0.6, 1.0), tn = U(rng, 0.72, 1.0), r = U(rng, 0.02, 0.12);
  std::vector<P> body{P(-0.5f * tn, 0), P(0.5f * tn, 0)};
  append(body, arc_points(P(0.5f - r, bh - r), r, r, 0, 90, 5));
  append(body, arc_points(P(-0.5f + r, bh - r), r, r, 90, 180, 5));
  GarmentPiece b;
  b.points = body;
  const double handle = uniform01(rng);
  const float hw = U(rng, 0.025, 0.05);
  std::string kind;
  if (handle < 0.4) {  // two short handles
    kind = "two_handles";
    const float a = U(rng, 0.12, 0.3) * tn, h = U(rng, 0.18, 0.4);
    for (int k = 0; k < 2; ++k) {
      const float dx = k ? 0.03f : 0.0f;
      GarmentPiece p = strap(bezier(P(-a + dx, 0.03f), P(-a + dx, -h * 1.33f), P(a + dx, -h * 1.33f), P(a + dx, 0.03f), 10), hw);
      p.shade = k ? 0.8f : 1.0f;
      g.pieces.push_back(p);
    }
  } else if (handle < 0.6) {
    kind = "top_handle";
    const float a = U(rng, 0.1, 0.2) * tn, h = U(rng, 0.1, 0.22);
    g.pieces.push_back(strap(bezier(P(-a, 0.02f), P(-a, -h * 1.33f), P(a, -h * 1.33f), P(a, 0.02f), 10), hw * 1.3f));
  } else if (handle < 0.8) {
    kind = "shoulder_strap";
    const float h = U(rng, 0.35, 0.7);
    g.pieces.push_back(strap(bezier(P(-0.47f * tn, 0.02f), P(-0.4f, -h * 1.33f), P(0.4f, -h * 1.33f), P(0.47f * tn, 0.02f), 12),
                             hw * 0.5f));
  } else {
    kind = "clutch";
  }
  g.pieces.push_back(b);
  if (chance(rng, 0.45)) {  // flap
    const float fy = bh * U(rng, 0.3, 0.55);
    g.strokes.push_back(line(bezier(P(-0.5f * tn, 0.02f), P(-0.45f, fy), P(0.45f, fy), P(0.5f * tn, 0.02f), 8), 0.012f, 0.65f));
    g.strokes.push_back(line(arc_points(P(0, fy * 0.78f), 0.03f, 0.03f, 0, 360, 8), 0.015f, 1.4f, true));
  } else if (chance(rng, 0.5)) {
    g.strokes.push_back(line({P(-0.45f * tn, 0.05f), P(0.45f * tn, 0.05f)}, 0.012f, 0.65f));  // zip
  }
  if (chance(rng, 0.4)) {
    g.strokes.push_back(line({P(-0.4f * tn, 0.02f), P(-0.4f, bh - 0.02f)}, 0.008f, 0.75f));
    g.strokes.push_back(line({P(0.4f * tn, 0.02f), P(0.4f, bh - 0.02f)}, 0.008f, 0.75f));
  }
  g.print_area = cv::Rect2f(-0.3f, bh * 0.45f, 0.6f, bh * 0.4f);
  g.params["handle"] = kind;
  g.params["height"] = bh;
  g.params["top_width"] = tn;
  return g;
}

}  // namespace fashioncut::synth
