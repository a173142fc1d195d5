// Rendering pipeline of one sample (R = size * supersample):
//   1. draw class/garment/pattern, build the garment geometry, choose the camera (a homography
//      canonical -> pixels: fit, mirror, scale, rotation, offset, perspective);
//   2. rasterise pieces into coverage, layer-height, solid-colour and detail maps (cv primitives);
//   3. height field = rounded silhouette ("pillow") + layers - seams + folds; its gradient bends the
//      texture coordinates (stripes follow folds) and gives normals for shading;
//   4. paint the material (plus an optional print) in garment (u,v) space, remap it to the image;
//   5. shade (ambient + directional light, colour temperature, rim), composite over the background
//      with a soft shadow, area-downsample, camera artefacts, colour mode.
#include "fashioncut/synth/renderer.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>

#include "fashioncut/core/errors.h"
#include "fashioncut/core/seed.h"
#include "fashioncut/synth/garment.h"
#include "fashioncut/synth/material.h"
#include "fashioncut/synth/scene.h"

namespace fashioncut::synth {
namespace {
constexpr int kShift = 4;
constexpr double kDeg = M_PI / 180.0;

std::vector<cv::Point> to_fixed(const std::vector<cv::Point2f>& pts, const cv::Matx33d& H) {
  std::vector<cv::Point> out;
  out.reserve(pts.size());
  for (const auto& p : pts) {
    const double w = H(2, 0) * p.x + H(2, 1) * p.y + H(2, 2);
    const double x = (H(0, 0) * p.x + H(0, 1) * p.y + H(0, 2)) / w;
    const double y = (H(1, 0) * p.x + H(1, 1) * p.y + H(1, 2)) / w;
    out.emplace_back(int(std::lround(x * (1 << kShift))), int(std::lround(y * (1 << kShift))));
  }
  return out;
}

/// Draws a piece or stroke path: filled polygon, or polyline of `thickness` px.
void draw_path(cv::Mat& img, const std::vector<cv::Point>& pts, bool filled, bool closed, int thickness,
               const cv::Scalar& value, int line_type) {
  const cv::Point* p = pts.data();
  const int n = int(pts.size());
  if (filled) cv::fillPoly(img, &p, &n, 1, value, line_type, kShift);
  else cv::polylines(img, &p, &n, 1, closed, value, thickness, line_type, kShift);
}

/// Blurs a float map cheaply: area-downsample by `f`, Gaussian blur, upsample.
cv::Mat coarse_blur(const cv::Mat& src, double sigma_px) {
  const int f = std::clamp(int(sigma_px / 2), 1, 8);
  cv::Mat small, out;
  if (f > 1) cv::resize(src, small, cv::Size(std::max(1, src.cols / f), std::max(1, src.rows / f)), 0, 0, cv::INTER_AREA);
  else small = src;
  cv::GaussianBlur(small, small, cv::Size(0, 0), std::max(0.3, sigma_px / f));
  if (f > 1) cv::resize(small, out, src.size(), 0, 0, cv::INTER_LINEAR);
  else out = small;
  return out;
}
}  // namespace

std::vector<std::string> list_background_photos(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(dir + ": backgrounds folder does not exist; pass a folder of photos to --backgrounds");
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".webp")
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) throw DataError(dir + ": no background photos (png/jpg/jpeg/bmp/webp) found");
  return out;
}

Renderer::Renderer(SynthOptions options) : options_(std::move(options)) {
  options_.validate();
  const auto& o = options_;
  const auto all_materials = MaterialRegistry::global().names();
  const auto& preset_garments = o.preset == "fmnist" ? fmnist_garments() : apparel_garments();
  if (o.label == "pattern") {
    classes_ = o.classes.empty() ? all_materials : o.classes;
    garment_pool_ = o.garments.empty() ? preset_garments : o.garments;
    pattern_pool_ = classes_;
  } else {
    classes_ = o.classes.empty() ? (o.garments.empty() ? preset_garments : o.garments) : o.classes;
    garment_pool_ = classes_;
    pattern_pool_ = o.patterns.empty() ? all_materials : o.patterns;
  }
  for (const auto& name : pattern_pool_) {
    material_names_.push_back(name);
    materials_.push_back(MaterialRegistry::global().get(name));
  }
  background_kinds_ = o.background_kinds;
  if (!o.backgrounds_dir.empty()) {
    if (std::find(background_kinds_.begin(), background_kinds_.end(), "photo") == background_kinds_.end())
      background_kinds_.push_back("photo");
    for (const auto& path : list_background_photos(o.backgrounds_dir)) {
      cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
      if (img.empty()) throw ImageError(path, "cannot decode background photo; remove it or convert it to PNG/JPEG");
      const double f = 512.0 / std::max(img.cols, img.rows);
      if (f < 1) cv::resize(img, img, cv::Size(), f, f, cv::INTER_AREA);
      cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
      photos_.push_back(img);
      if (photos_.size() >= 256) break;
    }
  }
}

cv::Mat Renderer::render_background(Rng& rng, int side, nlohmann::json& params) const {
  const std::string& kind = background_kinds_[size_t(uniform_int(rng, 0, int(background_kinds_.size()) - 1))];
  return make_background(kind, rng, side, photos_, params);
}

SynthSample Renderer::render(uint64_t index) const {
  const auto& o = options_;
  Rng rng = make_rng(o.seed, index);
  SynthSample s;
  s.label_index = int(index % classes_.size());
  s.label = classes_[size_t(s.label_index)];
  if (o.label == "pattern") {
    s.pattern = s.label;
    s.garment = garment_pool_[size_t(uniform_int(rng, 0, int(garment_pool_.size()) - 1))];
  } else {
    s.garment = s.label;
    const bool has_plain = std::find(pattern_pool_.begin(), pattern_pool_.end(), "plain") != pattern_pool_.end();
    const bool plain = chance(rng, o.plain_prob) && has_plain;
    s.pattern = plain ? "plain" : pattern_pool_[size_t(uniform_int(rng, 0, int(pattern_pool_.size()) - 1))];
  }
  nlohmann::json& P = s.params;
  P["index"] = index;
  P["seed"] = o.seed;
  P["label"] = s.label;
  P["pattern"] = s.pattern;
  P["garment"] = s.garment;

  // Independent streams per stage, so changing one stage's draws leaves the others alone.
  Rng geo_rng = make_rng(o.seed, index, 1), mat_rng = make_rng(o.seed, index, 2), scene_rng = make_rng(o.seed, index, 3);
  const GarmentGeometry geo = build_garment(s.garment, geo_rng);
  P["garment_params"] = geo.params;

  // ---- camera ----
  const int R = o.size * o.supersample;
  float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f, max_w = 0.f;
  for (const auto& piece : geo.pieces) {
    for (const auto& p : piece.points) {
      x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
    }
    max_w = std::max(max_w, piece.stroke_width);
  }
  x0 -= max_w / 2, y0 -= max_w / 2, x1 += max_w / 2, y1 += max_w / 2;
  const double extent = std::max(x1 - x0, y1 - y0);
  const double scale = uniform(rng, o.scale_min, o.scale_max);
  const double k = scale * R / extent;  // px per canonical unit
  const bool mirror = chance(rng, o.mirror_prob);
  const double rot = uniform(rng, -o.rotation_deg, o.rotation_deg) * kDeg;
  const double ox = uniform(rng, -o.offset, o.offset) * R, oy = uniform(rng, -o.offset, o.offset) * R;
  const double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const double cr = std::cos(rot) * k, sr = std::sin(rot) * k, m = mirror ? -1.0 : 1.0;
  cv::Matx33d A(cr * m, -sr, 0, sr * m, cr, 0, 0, 0, 1);
  A(0, 2) = R / 2.0 + ox - (A(0, 0) * cx + A(0, 1) * cy);
  A(1, 2) = R / 2.0 + oy - (A(1, 0) * cx + A(1, 1) * cy);
  cv::Matx33d H = A;
  if (o.perspective > 0) {
    std::vector<cv::Point2f> src{{0, 0}, {float(R), 0}, {float(R), float(R)}, {0, float(R)}}, dst = src;
    for (auto& p : dst) p += cv::Point2f(float(uniform(rng, -o.perspective, o.perspective) * R),
                                         float(uniform(rng, -o.perspective, o.perspective) * R));
    const cv::Mat Hp = cv::getPerspectiveTransform(src, dst);
    H = cv::Matx33d(Hp) * A;
  }
  const cv::Matx33d Hinv = H.inv();
  P["camera"] = {{"scale", scale}, {"rotation_deg", rot / kDeg}, {"offset", {ox / R, oy / R}}, {"mirror", mirror}};

  // ---- rasterise ----
  cv::Mat mask = cv::Mat::zeros(R, R, CV_8U), layer = cv::Mat::zeros(R, R, CV_32F);
  cv::Mat solid_mask = cv::Mat::zeros(R, R, CV_8U), solid = cv::Mat::zeros(R, R, CV_8UC3);
  cv::Mat detail(R, R, CV_8U, cv::Scalar(128)), groove = cv::Mat::zeros(R, R, CV_8U);
  for (const auto& piece : geo.pieces) {
    const auto pts = to_fixed(piece.points, H);
    const bool filled = piece.stroke_width <= 0;
    const int th = std::max(1, int(std::lround(piece.stroke_width * k)));
    draw_path(mask, pts, filled, false, th, cv::Scalar(255), cv::LINE_AA);
    draw_path(layer, pts, filled, false, th, cv::Scalar(piece.height), cv::LINE_8);
    draw_path(solid_mask, pts, filled, false, th, cv::Scalar(piece.textured ? 0 : 255), cv::LINE_AA);
    if (!piece.textured) draw_path(solid, pts, filled, false, th, cv::Scalar(piece.color[0], piece.color[1], piece.color[2]), cv::LINE_AA);
    draw_path(detail, pts, filled, false, th, cv::Scalar(std::clamp(128.0 * piece.shade, 0.0, 255.0)), cv::LINE_8);
  }
  for (const auto& st : geo.strokes) {
    const auto pts = to_fixed(st.points, H);
    const int th = std::max(1, int(std::lround(st.width * k)));
    const double shade = 1.0 + (st.shade - 1.0) * o.seam_strength;
    draw_path(detail, pts, st.filled, st.closed, th, cv::Scalar(std::clamp(128.0 * shade, 0.0, 255.0)), cv::LINE_AA);
    if (st.shade < 1) draw_path(groove, pts, st.filled, st.closed, th, cv::Scalar(255), cv::LINE_AA);
  }

  // ---- height field: pillow + layers - seams + folds (in px) ----
  const double garment_px = scale * R;
  cv::Mat mask_f;
  mask.convertTo(mask_f, CV_32F, 1.0 / 255);
  const double pillow_sigma = std::max(0.8, 0.03 * garment_px);
  cv::Mat pillow = coarse_blur(mask_f, pillow_sigma);
  cv::Mat height = pillow * (1.2 * pillow_sigma) + coarse_blur(layer, std::max(0.6, 0.01 * garment_px)) * (0.5 * pillow_sigma);
  cv::Mat groove_f;
  groove.convertTo(groove_f, CV_32F, -0.4 * o.seam_strength * pillow_sigma / 255.0);
  height += groove_f;
  const double fold_amp = o.fold_strength * (geo.rigid ? 0.25 : 1.0) * uniform(rng, 0.4, 1.2) * 0.012 * garment_px;
  const int n_folds = uniform_int(rng, 2, 4);
  struct Fold { double fx, fy, ph, a; };
  std::vector<Fold> folds;
  for (int i = 0; i < n_folds; ++i) {
    const double dir = (geo.fold_angle_deg + 90 + uniform(rng, -35, 35)) * kDeg;  // wave vector across crests
    const double cycles = uniform(rng, 2.0, 6.0) / extent;
    folds.push_back({std::cos(dir) * cycles * 2 * M_PI, std::sin(dir) * cycles * 2 * M_PI, uniform(rng, 0, 2 * M_PI),
                     fold_amp * uniform(rng, 0.5, 1.0)});
  }
  P["folds"] = {{"count", n_folds}, {"amplitude_px", fold_amp / o.supersample}};
  // folds on a coarse grid (smooth), upsampled
  const int G = std::max(8, R / 4);
  cv::Mat fold_small(G, G, CV_32F);
  for (int gy = 0; gy < G; ++gy)
    for (int gx = 0; gx < G; ++gx) {
      const double px = (gx + 0.5) * R / G, py = (gy + 0.5) * R / G;
      const double w = Hinv(2, 0) * px + Hinv(2, 1) * py + Hinv(2, 2);
      const double u = (Hinv(0, 0) * px + Hinv(0, 1) * py + Hinv(0, 2)) / w;
      const double v = (Hinv(1, 0) * px + Hinv(1, 1) * py + Hinv(1, 2)) / w;
      double h = 0;
      for (const auto& f : folds) h += f.a * std::sin(f.fx * u + f.fy * v + f.ph);
      fold_small.at<float>(gy, gx) = float(h);
    }
  cv::Mat fold_full;
  cv::resize(fold_small, fold_full, cv::Size(R, R), 0, 0, cv::INTER_LINEAR);
  height += fold_full.mul(pillow);
  cv::Mat gx, gy;
  cv::Sobel(height, gx, CV_32F, 1, 0, 3, 0.125);
  cv::Sobel(height, gy, CV_32F, 0, 1, 3, 0.125);

  // ---- material in (u,v) space ----
  const int T = std::max(16, int(std::ceil(garment_px)));
  cv::Mat tex(T, T, CV_8UC3);
  const auto& mat = materials_[size_t(std::find(material_names_.begin(), material_names_.end(), s.pattern) - material_names_.begin())];
  const double tscale = uniform(mat_rng, o.texture_scale_min, o.texture_scale_max);
  nlohmann::json mp = nlohmann::json::object();
  mat->paint(tex, mat_rng, tscale, mp);
  mp["scale"] = tscale;
  const double tex_per_unit = T / extent;
  if (geo.print_area && chance(rng, o.print_prob)) {
    const auto& a = *geo.print_area;
    paint_print(tex, cv::Rect2f(float((a.x - x0) * tex_per_unit), float((a.y - y0) * tex_per_unit),
                                float(a.width * tex_per_unit), float(a.height * tex_per_unit)),
                mat_rng, mp);
  }
  P["material"] = mp;
  cv::Mat mapx(R, R, CV_32F), mapy(R, R, CV_32F);
  const double warp = o.texture_warp * 1.5 * tex_per_unit / k;
  for (int y = 0; y < R; ++y) {
    float* mx = mapx.ptr<float>(y);
    float* my = mapy.ptr<float>(y);
    const float* dx = gx.ptr<float>(y);
    const float* dy = gy.ptr<float>(y);
    for (int x = 0; x < R; ++x) {
      const double w = Hinv(2, 0) * x + Hinv(2, 1) * y + Hinv(2, 2);
      const double u = (Hinv(0, 0) * x + Hinv(0, 1) * y + Hinv(0, 2)) / w;
      const double v = (Hinv(1, 0) * x + Hinv(1, 1) * y + Hinv(1, 2)) / w;
      mx[x] = float((u - x0) * tex_per_unit + warp * dx[x]);
      my[x] = float((v - y0) * tex_per_unit + warp * dy[x]);
    }
  }
  cv::Mat albedo;
  cv::remap(tex, albedo, mapx, mapy, cv::INTER_LINEAR, cv::BORDER_REFLECT);

  // ---- lighting and composite ----
  const double ambient = uniform(scene_rng, o.ambient_min, o.ambient_max);
  const double light = uniform(scene_rng, o.light_min, o.light_max);
  const double az = uniform(scene_rng, 0, 2 * M_PI);
  const double el = uniform(scene_rng, o.elevation_min_deg, o.elevation_max_deg) * kDeg;
  const double kelvin = uniform(scene_rng, o.color_temp_min, o.color_temp_max);
  const double exposure = uniform(scene_rng, o.exposure_min, o.exposure_max);
  const bool dark = chance(scene_rng, o.dark_garment_prob);
  const double dark_f = dark ? uniform(scene_rng, 0.12, 0.4) : 1.0;
  const cv::Vec3f lc = light_color(kelvin);
  const double lx = std::cos(el) * std::cos(az), ly = std::cos(el) * std::sin(az), lz = std::sin(el);
  P["light"] = {{"ambient", ambient}, {"intensity", light}, {"azimuth_deg", az / kDeg}, {"elevation_deg", el / kDeg},
                {"kelvin", kelvin}, {"exposure", exposure}, {"dark_garment", dark}};
  cv::Mat bg = render_background(scene_rng, R, P);
  if (chance(scene_rng, o.shadow_prob)) {  // soft drop shadow, offset away from the light
    const double off = uniform(scene_rng, 0.01, 0.04) * R, strength = uniform(scene_rng, 0.2, 0.5);
    cv::Mat sh;
    cv::Matx23d T2(1, 0, -lx / std::max(0.2, std::cos(el)) * off, 0, 1, -ly / std::max(0.2, std::cos(el)) * off);
    cv::warpAffine(pillow, sh, T2, pillow.size());
    sh = coarse_blur(sh, 0.03 * R);
    for (int y = 0; y < R; ++y) {
      cv::Vec3f* b = bg.ptr<cv::Vec3f>(y);
      const float* v = sh.ptr<float>(y);
      for (int x = 0; x < R; ++x) b[x] *= float(1 - strength * v[x]);
    }
    P["shadow"] = strength;
  }
  const float amb = float(ambient), lit = float(light), rim = float(o.rim_light * 255);
  const float gain = float(exposure);
  cv::Mat out(R, R, CV_8UC3);
  for (int y = 0; y < R; ++y) {
    const uint8_t* ma = mask.ptr<uint8_t>(y);
    const uint8_t* sm = solid_mask.ptr<uint8_t>(y);
    const uint8_t* de = detail.ptr<uint8_t>(y);
    const cv::Vec3b* al = albedo.ptr<cv::Vec3b>(y);
    const cv::Vec3b* so = solid.ptr<cv::Vec3b>(y);
    const float* dx = gx.ptr<float>(y);
    const float* dy = gy.ptr<float>(y);
    const cv::Vec3f* b = bg.ptr<cv::Vec3f>(y);
    cv::Vec3b* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < R; ++x) {
      const float alpha = ma[x] * (1.f / 255);
      if (alpha <= 0) {
        dst[x] = cv::Vec3b(cv::saturate_cast<uint8_t>(b[x][0]), cv::saturate_cast<uint8_t>(b[x][1]),
                           cv::saturate_cast<uint8_t>(b[x][2]));
        continue;
      }
      const float nx = -dx[x], ny = -dy[x];
      const float inv = 1.f / std::sqrt(nx * nx + ny * ny + 1.f);
      const float ndl = std::max(0.f, float(nx * lx + ny * ly + lz) * inv);
      const float I = (amb + lit * ndl) * gain * (de[x] * (1.f / 128));
      const float rim_add = rim * (1.f - inv);
      const float st = sm[x] * (1.f / 255);
      for (int c = 0; c < 3; ++c) {
        const float base = (al[x][c] * float(dark_f)) * (1 - st) + so[x][c] * st;
        const float fg = base * I * lc[c] + rim_add;
        dst[x][c] = cv::saturate_cast<uint8_t>(b[x][c] * (1 - alpha) + fg * alpha);
      }
    }
  }
  if (o.supersample > 1) cv::resize(out, out, cv::Size(o.size, o.size), 0, 0, cv::INTER_AREA);
  apply_artefacts(out, o, scene_rng, P);
  if (o.channels == 1) cv::cvtColor(out, out, cv::COLOR_RGB2GRAY);
  if (o.gamma != 1.0) {
    cv::Mat lut(1, 256, CV_8U);
    for (int v = 0; v < 256; ++v) lut.at<uint8_t>(v) = cv::saturate_cast<uint8_t>(255.0 * std::pow(v / 255.0, 1.0 / o.gamma));
    cv::LUT(out, lut, out);
  }
  s.image = out;
  return s;
}

}  // namespace fashioncut::synth
