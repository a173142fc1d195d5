#include "fashioncut/train/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>

#include "fashioncut/core/atomic_file.h"

namespace fashioncut::train {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

constexpr size_t kMaxCurvePoints = 500;
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

std::string escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt(double v, const char* spec = "%.4g") {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf");
  char buf[64];
  std::snprintf(buf, sizeof(buf), spec, v);
  return buf;
}

std::optional<double> number(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string json_text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- curves and SVG charts -------------------------------------------------------------------
using Points = std::vector<std::pair<double, double>>;
struct Series {
  std::string name;
  Points points;
};

/// Bucket-averages `p` (sorted by x) down to at most `max_points` points.
Points downsample(const Points& p, size_t max_points) {
  if (p.size() <= max_points) return p;
  Points out;
  out.reserve(max_points);
  for (size_t b = 0; b < max_points; ++b) {
    const size_t lo = b * p.size() / max_points, hi = (b + 1) * p.size() / max_points;
    double sx = 0, sy = 0;
    for (size_t i = lo; i < hi; ++i) sx += p[i].first, sy += p[i].second;
    out.emplace_back(sx / double(hi - lo), sy / double(hi - lo));
  }
  return out;
}

// A line chart: `title` drawn on top (keep it short), `caption` (may be long) below as HTML text.
std::string svg_chart(const std::string& title, const std::string& x_label, const std::vector<Series>& series,
                      bool markers, const std::string& caption = "") {
  constexpr double W = 340, H = 200, L = 54, R = 10, T = 22, B = 32;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  std::ostringstream o;
  o << "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" viewBox=\"0 0 " << W << " " << H << "\" role=\"img\"><title>" << escape(title) << "</title>";
  o << "<text x=\"" << W / 2 << "\" y=\"15\" text-anchor=\"middle\" class=\"ct\">" << escape(title) << "</text>";
  if (!(x0 <= x1)) {
    o << "<text x=\"" << W / 2 << "\" y=\"" << H / 2 << "\" text-anchor=\"middle\">no finite values</text></svg>";
    if (!caption.empty()) o << "<figcaption>" << escape(caption) << "</figcaption>";
    o << "</figure>";
    return o.str();
  }
  if (x1 == x0) x0 -= 1, x1 += 1;
  if (y1 == y0) {
    const double d = std::abs(y0) > 0 ? std::abs(y0) * 0.1 : 1.0;
    y0 -= d, y1 += d;
  } else {
    const double d = (y1 - y0) * 0.05;
    y0 -= d, y1 += d;
  }
  const auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  const auto py = [&](double y) { return T + (y1 - y) / (y1 - y0) * (H - T - B); };
  o << "<g class=\"axis\">";
  for (int i = 0; i <= 4; ++i) {
    const double y = y0 + (y1 - y0) * i / 4.0;
    o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << fmt(py(y), "%.1f") << "\" y2=\""
      << fmt(py(y), "%.1f") << "\" class=\"grid\"/>";
    o << "<text x=\"" << L - 4 << "\" y=\"" << fmt(py(y) + 3, "%.1f") << "\" text-anchor=\"end\">" << fmt(y, "%.3g")
      << "</text>";
  }
  for (int i = 0; i <= 2; ++i) {
    const double x = x0 + (x1 - x0) * i / 2.0;
    o << "<text x=\"" << fmt(px(x), "%.1f") << "\" y=\"" << H - B + 13 << "\" text-anchor=\"middle\">"
      << fmt(x, "%.5g") << "</text>";
  }
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 4 << "\" text-anchor=\"middle\">" << escape(x_label)
    << "</text>";
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
    << "\" class=\"frame\"/></g>";
  for (size_t s = 0; s < series.size(); ++s) {
    const char* colour = kPalette[s % (sizeof(kPalette) / sizeof(kPalette[0]))];
    o << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.5\" points=\"";
    for (const auto& [x, y] : series[s].points) o << fmt(px(x), "%.1f") << ',' << fmt(py(y), "%.1f") << ' ';
    o << "\"/>";
    if (markers || series[s].points.size() == 1)
      for (const auto& [x, y] : series[s].points)
        o << "<circle cx=\"" << fmt(px(x), "%.1f") << "\" cy=\"" << fmt(py(y), "%.1f") << "\" r=\"2.5\" fill=\""
          << colour << "\"/>";
    if (series.size() > 1)
      o << "<text x=\"" << L + 6 << "\" y=\"" << T + 12 + 12 * s << "\" fill=\"" << colour << "\">"
        << escape(series[s].name) << "</text>";
  }
  o << "</svg>";
  if (!caption.empty()) o << "<figcaption>" << escape(caption) << "</figcaption>";
  o << "</figure>";
  return o.str();
}

// Collects the finite points (x_key, obj[group][name]) of every record, per name, x-sorted.
std::map<std::string, Points> curves(const std::vector<json>& records, const char* x_key, const char* group) {
  std::map<std::string, Points> out;
  for (const auto& r : records) {
    const auto x = number(r, x_key);
    const auto it = r.find(group);
    if (!x || it == r.end() || !it->is_object()) continue;
    for (const auto& [name, v] : it->items()) {
      auto& points = out[name];  // a term that is never finite still gets a (empty) chart
      if (v.is_number() && std::isfinite(v.get<double>())) points.emplace_back(*x, v.get<double>());
    }
  }
  for (auto& [name, p] : out) std::stable_sort(p.begin(), p.end(), [](auto& a, auto& b) { return a.first < b.first; });
  return out;
}

// Series of a top-level step field: a number gives one series named `key`; an object (e.g.
// "lr": {"G": 2e-4, "C": 1e-3}) gives one series per entry, named "key/entry".
std::vector<Series> top_level_series(const std::vector<json>& records, const char* x_key, const char* key) {
  std::map<std::string, Points> by_name;
  for (const auto& r : records) {
    const auto x = number(r, x_key);
    const auto it = r.find(key);
    if (!x || it == r.end()) continue;
    if (it->is_number() && std::isfinite(it->get<double>())) by_name[key].emplace_back(*x, it->get<double>());
    else if (it->is_object())
      for (const auto& [name, v] : it->items())
        if (v.is_number() && std::isfinite(v.get<double>()))
          by_name[std::string(key) + "/" + name].emplace_back(*x, v.get<double>());
  }
  std::vector<Series> out;
  for (auto& [name, p] : by_name) {
    std::stable_sort(p.begin(), p.end(), [](auto& a, auto& b) { return a.first < b.first; });
    out.push_back({name, downsample(p, kMaxCurvePoints)});
  }
  return out;
}

bool flag(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

// Keeps the last record per value of `key` (a resumed run re-logs steps after its checkpoint).
std::vector<json> dedupe(const std::vector<json>& records, const char* key) {
  std::map<double, json> by_key;
  std::vector<json> unkeyed;
  for (const auto& r : records) {
    if (const auto k = number(r, key)) by_key[*k] = r;
    else unkeyed.push_back(r);
  }
  for (auto& [k, r] : by_key) unkeyed.push_back(std::move(r));
  return unkeyed;
}

bool oracle_selected(const std::vector<json>& epochs) {
  for (auto it = epochs.rbegin(); it != epochs.rend(); ++it)
    if (flag(*it, "is_best")) {
      const auto c = it->find("selection_criterion");
      return c != it->end() && c->is_string() && c->get<std::string>().find("oracle") != std::string::npos;
    }
  return false;
}

std::string eval_label(const std::string& name, bool oracle_used) {
  static const std::map<std::string, std::string> known = {
      {"synthetic/accuracy", "held-out synthetic accuracy"},
      {"target/entropy", "target prediction entropy"},
      {"target/class_balance", "target predicted-class balance"},
      {"target/pseudo_label_acceptance", "pseudo-label acceptance"}};
  const auto it = known.find(name);
  std::string label = it != known.end() ? it->second + " (" + name + ")" : name;
  if (name.find("oracle") != std::string::npos)
    label += oracle_used ? " — oracle (uses target labels; USED for selection: --select oracle)"
                         : " — oracle (uses target labels, not used for selection)";
  return label;
}

// Label-free selection signals first, in a fixed order, then other metrics, oracle ones last.
std::vector<std::string> eval_order(const std::map<std::string, Points>& curves) {
  static const char* const kFirst[] = {"synthetic/accuracy", "target/entropy", "target/class_balance",
                                       "target/pseudo_label_acceptance"};
  std::vector<std::string> names;
  for (const char* n : kFirst)
    if (curves.count(n)) names.push_back(n);
  for (int oracle = 0; oracle < 2; ++oracle)
    for (const auto& [n, p] : curves)
      if (std::find(names.begin(), names.end(), n) == names.end() &&
          (n.find("oracle") != std::string::npos) == bool(oracle))
        names.push_back(n);
  return names;
}

std::string best_note(const ReportData& d, const std::vector<json>& epochs) {
  if (!d.best_note.empty()) return d.best_note;
  for (auto it = epochs.rbegin(); it != epochs.rend(); ++it) {
    if (!flag(*it, "is_best")) continue;
    std::string note = "checkpoints/best = epoch " + json_text(it->value("epoch", json("?")));
    if (const auto c = it->find("selection_criterion"); c != it->end()) note += ", chosen by " + json_text(*c);
    if (const auto s = number(*it, "selection_score")) note += " (score " + fmt(*s) + ")";
    return note;
  }
  return "No best checkpoint recorded yet.";
}

void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (!prefix.empty() || !j.is_object()) {
    out.emplace_back(prefix.empty() ? "value" : prefix, json_text(j));
  }
}

std::string confusion_table(const std::string& title, const std::vector<std::vector<int64_t>>& m,
                            const std::vector<std::string>& names) {
  const auto name = [&](size_t i) { return escape(i < names.size() ? names[i] : std::to_string(i)); };
  size_t cols = 0;
  int64_t total = 0, correct = 0;
  for (size_t r = 0; r < m.size(); ++r) {
    cols = std::max(cols, m[r].size());
    for (size_t c = 0; c < m[r].size(); ++c) total += m[r][c], correct += (r == c) ? m[r][c] : 0;
  }
  std::ostringstream o;
  o << "<table class=\"confusion\"><caption>" << escape(title) << " — rows: true class, columns: predicted";
  if (total > 0) o << "; accuracy " << fmt(100.0 * double(correct) / double(total), "%.2f") << "% of " << total;
  o << "</caption><thead><tr><th>true \\ predicted</th>";
  for (size_t c = 0; c < cols; ++c) o << "<th>" << name(c) << "</th>";
  o << "<th>recall</th></tr></thead><tbody>";
  for (size_t r = 0; r < m.size(); ++r) {
    int64_t row_sum = 0;
    for (auto v : m[r]) row_sum += v;
    o << "<tr><th>" << name(r) << "</th>";
    for (size_t c = 0; c < cols; ++c) {
      const int64_t v = c < m[r].size() ? m[r][c] : 0;
      const double frac = row_sum > 0 ? double(v) / double(row_sum) : 0.0;
      o << "<td style=\"background:rgba(" << (r == c ? "33,113,181" : "214,39,40") << ',' << fmt(frac, "%.3f")
        << ")" << (frac > 0.55 ? ";color:#fff" : "") << "\">" << v << "</td>";
    }
    o << "<td>" << (row_sum > 0 ? fmt(100.0 * double(r < cols ? m[r][r] : 0) / double(row_sum), "%.1f") + "%" : "–")
      << "</td></tr>";
  }
  o << "</tbody></table>";
  return o.str();
}

std::vector<std::pair<std::string, std::vector<std::vector<int64_t>>>> confusions(const ReportData& d,
                                                                                   const std::vector<json>& epochs) {
  std::vector<std::pair<std::string, std::vector<std::vector<int64_t>>>> out;
  if (!d.confusion.empty()) {
    out.emplace_back(d.confusion_title.empty() ? "Confusion matrix" : d.confusion_title, d.confusion);
    return out;
  }
  const auto as_matrix = [](const json& j, std::vector<std::vector<int64_t>>& m) {
    if (!j.is_array()) return false;
    for (const auto& row : j) {
      if (!row.is_array()) return false;
      m.emplace_back();
      for (const auto& v : row) m.back().push_back(v.is_number() ? v.get<int64_t>() : 0);
    }
    return !m.empty();
  };
  for (auto it = epochs.rbegin(); it != epochs.rend(); ++it) {
    const auto c = it->find("confusion");
    if (c == it->end()) continue;
    const std::string suffix = ", epoch " + json_text(it->value("epoch", json("?")));
    std::vector<std::vector<int64_t>> m;
    if (as_matrix(*c, m)) out.emplace_back("Confusion matrix" + suffix, std::move(m));
    else if (c->is_object())
      for (const auto& [title, v] : c->items()) {
        std::vector<std::vector<int64_t>> mm;
        if (as_matrix(v, mm)) out.emplace_back(title + suffix, std::move(mm));
      }
    if (!out.empty()) break;
  }
  return out;
}

const char* kStyle = R"(body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}table.kv td,table.kv th{text-align:left}caption{text-align:left;padding:4px 0}
.charts{display:flex;flex-wrap:wrap;gap:8px}figure.chart{margin:0;border:1px solid #eee}
svg text{font-size:10px;fill:#333}svg text.ct{font-size:12px;font-weight:bold}
.grid{stroke:#eee}.frame{fill:none;stroke:#999}.note{background:#f7f7e8;padding:8px;border-left:4px solid #cc9}
figure.chart figcaption{font-size:11px;max-width:330px;padding:2px 4px}.samples figure{margin:8px 0}.samples img{image-rendering:pixelated;max-width:100%;border:1px solid #ccc}
.muted{color:#777})";

}  // namespace

void add_records(ReportData& data, const std::vector<json>& records) {
  for (const auto& r : records) {
    if (!r.is_object()) continue;
    const auto k = r.find("kind");
    const std::string kind = k != r.end() && k->is_string() ? k->get<std::string>() : "";
    if (kind == "step") data.step_records.push_back(r);
    else if (kind == "epoch") data.epoch_records.push_back(r);
  }
}

std::string render_report_html(const ReportData& d) {
  const std::vector<json> steps = dedupe(d.step_records, "iter");
  const std::vector<json> epochs = dedupe(d.epoch_records, "epoch");
  const bool oracle_used = oracle_selected(epochs);
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>" << escape(d.title)
    << " — fashioncut report</title><style>" << kStyle << "</style></head><body>\n";
  o << "<h1>" << escape(d.title) << "</h1>";
  {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char stamp[64];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
    o << "<p class=\"muted\">fashioncut run report, generated " << stamp;
    if (!epochs.empty()) o << "; last evaluated epoch " << json_text(epochs.back().value("epoch", json("?")));
    if (!steps.empty()) o << "; last logged iteration " << json_text(steps.back().value("iter", json("?")));
    o << ".</p>\n";
  }

  std::vector<std::pair<std::string, std::string>> config;
  flatten(d.config_summary, "", config);
  if (!config.empty()) {
    o << "<h2>Run summary</h2><table class=\"kv\"><tbody>";
    for (const auto& [k, v] : config) o << "<tr><th>" << escape(k) << "</th><td>" << escape(v) << "</td></tr>";
    o << "</tbody></table>\n";
  }
  o << "<h2>Model selection</h2><p class=\"note\">" << escape(best_note(d, epochs)) << "</p>\n";

  // Latest evaluation table + curves per epoch.
  const auto eval_curves = curves(epochs, "epoch", "eval");
  if (!eval_curves.empty()) {
    o << "<h2>Evaluation per epoch</h2><table class=\"kv\"><thead><tr><th>metric</th><th>latest</th>"
         "<th>epoch</th></tr></thead><tbody>";
    const std::vector<std::string> order = eval_order(eval_curves);
    for (const auto& name : order) {
      const Points& p = eval_curves.at(name);
      o << "<tr><td>" << escape(eval_label(name, oracle_used)) << "</td><td>"
        << (p.empty() ? "–" : fmt(p.back().second)) << "</td><td>" << (p.empty() ? "–" : fmt(p.back().first, "%.0f"))
        << "</td></tr>";
    }
    o << "</tbody></table><div class=\"charts\">";
    for (const auto& name : order)
      o << svg_chart(name, "epoch", {{name, downsample(eval_curves.at(name), kMaxCurvePoints)}}, true,
                     eval_label(name, oracle_used));
    o << "</div>\n";
  }

  const auto loss_curves = curves(steps, "iter", "losses");
  if (!loss_curves.empty()) {
    o << "<h2>Training losses</h2><p class=\"muted\">One chart per loss term, against the global iteration"
         " (long curves are averaged into at most "
      << kMaxCurvePoints << " points).</p><div class=\"charts\">";
    for (const auto& [name, p] : loss_curves)
      o << svg_chart(name, "iteration", {{name, downsample(p, kMaxCurvePoints)}}, false);
    o << "</div>\n";
  }

  {
    std::vector<std::pair<std::string, std::vector<Series>>> extra;
    for (const char* key : {"lr", "images_per_s", "data_wait"})
      if (auto series = top_level_series(steps, "iter", key); !series.empty()) extra.emplace_back(key, std::move(series));
    if (!extra.empty()) {
      o << "<h2>Schedule and throughput</h2><p>";
      for (const auto& [key, series] : extra) {
        if (key == "lr") continue;
        for (const auto& s : series) {  // means over the (downsampled, equal-weight) curve
          double sum = 0;
          for (const auto& pt : s.points) sum += pt.second;
          o << "mean " << escape(s.name) << " = " << fmt(sum / double(s.points.size())) << "; ";
        }
      }
      o << "over " << steps.size() << " logged steps.</p><div class=\"charts\">";
      for (const auto& [key, series] : extra) o << svg_chart(key, "iteration", series, false);
      o << "</div>\n";
    }
  }

  if (!d.sample_images.empty()) {
    o << "<h2>Samples</h2><p class=\"muted\">Rows: synthetic | translated G(synthetic) | real | real through G."
         " Newest first.</p><div class=\"samples\">";
    for (const auto& src : d.sample_images)
      o << "<figure><img src=\"" << escape(src) << "\" alt=\"" << escape(src) << "\"/><figcaption>" << escape(src)
        << "</figcaption></figure>";
    o << "</div>\n";
  }

  const auto matrices = confusions(d, epochs);
  if (!matrices.empty()) {
    o << "<h2>Confusion matrix (latest evaluation)</h2>";
    for (const auto& [title, m] : matrices) o << confusion_table(title, m, d.class_names);
    o << "\n";
  }

  o << "</body></html>\n";
  return o.str();
}

fs::path write_report(const fs::path& run_dir, const ReportData& data) {
  ReportData d = data;
  if (d.sample_images.empty()) {
    std::vector<std::string> found;
    std::error_code ec;
    for (fs::directory_iterator it(run_dir / "samples", ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".png") found.push_back("samples/" + it->path().filename().string());
    std::sort(found.rbegin(), found.rend());  // epoch_NNN.png: zero-padded, so newest first
    if (found.size() > 3) found.resize(3);
    d.sample_images = std::move(found);
  }
  const fs::path path = run_dir / "report.html";
  write_file_atomic(path, render_report_html(d));
  return path;
}

}  // namespace fashioncut::train
