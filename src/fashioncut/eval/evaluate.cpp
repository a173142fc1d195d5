#include "fashioncut/eval/evaluate.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/seed.h"
#include "fashioncut/data/dataset.h"
#include "fashioncut/data/image_io.h"
#include "fashioncut/eval/plots.h"

namespace fashioncut::eval {
namespace fs = std::filesystem;
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string fmt(double v, const char* f = "%.6f") {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void write_png(const fs::path& path, const cv::Mat& rgb) {
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp.png");
  data::write_image(tmp, rgb);
  fs::rename(tmp, path);
}

}  // namespace

std::vector<double> default_coverage_thresholds() {
  std::vector<double> t;
  for (int i = 0; i < 20; ++i) t.push_back(i * 0.05);
  t.push_back(0.99);
  return t;
}

std::vector<CoveragePoint> coverage_curve(const torch::Tensor& confidence, const torch::Tensor& correct,
                                          const std::vector<double>& thresholds) {
  TORCH_CHECK(confidence.dim() == 1 && correct.sizes() == confidence.sizes(), "coverage_curve: [N] inputs expected");
  const auto conf = confidence.to(torch::kDouble);
  const auto ok = correct.to(torch::kBool);
  const int64_t n = conf.size(0);
  std::vector<CoveragePoint> out;
  for (double t : thresholds) {
    const auto mask = conf >= t;
    CoveragePoint p;
    p.threshold = t;
    p.accepted = mask.sum().item<int64_t>();
    p.coverage = n ? double(p.accepted) / double(n) : 0.0;
    p.accuracy = p.accepted ? double((mask & ok).sum().item<int64_t>()) / double(p.accepted)
                            : std::numeric_limits<double>::quiet_NaN();
    out.push_back(p);
  }
  return out;
}

std::vector<int64_t> match_classes(const std::vector<std::string>& model_classes,
                                   const std::vector<std::string>& data_classes, const std::string& data_name) {
  std::vector<int64_t> map;
  for (const auto& c : data_classes) {
    const auto it = std::find(model_classes.begin(), model_classes.end(), c);
    if (it == model_classes.end())
      throw DataError(data_name + ": data class '" + c + "' is not a class of the model (model classes: " +
                      join(model_classes) + "; data classes: " + join(data_classes) +
                      "); rename the folder or evaluate a model trained on these classes");
    map.push_back(static_cast<int64_t>(it - model_classes.begin()));
  }
  return map;
}

EvalResult evaluate(Predictor& predictor, const std::string& data_spec) {
  const auto start = std::chrono::steady_clock::now();
  auto dataset = data::open_dataset(data_spec, predictor.transform(), true);
  if (dataset->classes().empty())
    throw DataError(data_spec + ": has no labels; eval needs a folder of class folders, a labelled list or fmnist:test");
  if (dataset->size() == 0) throw DataError(data_spec + ": no images");
  const auto map = match_classes(predictor.classes(), dataset->classes(), data_spec);
  const size_t n = dataset->size();
  std::vector<int64_t> labels(n, -1);
  std::vector<std::string> paths(n);
  EvalResult result;
  result.classes = predictor.classes();
  result.data = dataset->describe();
  result.model = predictor.loaded().file.string();
  std::vector<torch::Tensor> probs_parts;
  std::vector<int64_t> kept_labels;
  stream_batches(
      n, predictor.options().batch_size, predictor.options().workers,
      [&](size_t i) {
        auto rng = make_rng(0, i);
        auto ex = dataset->get(i, rng);
        labels[i] = ex.label;
        paths[i] = ex.path;
        return ex.image;
      },
      [&](size_t first, std::vector<StreamItem>& items) {
        std::vector<torch::Tensor> ok;
        for (size_t i = 0; i < items.size(); ++i) {
          if (!items[i].error.empty()) {
            const auto& where = items[i].error_path;
            result.skipped.push_back((where.empty() ? "#" + std::to_string(first + i) : where) + ": " + items[i].error);
            continue;
          }
          ok.push_back(std::move(items[i].image));
          const int64_t l = labels[first + i];
          kept_labels.push_back(l >= 0 && l < int64_t(map.size()) ? map[size_t(l)] : -1);
        }
        if (!ok.empty()) probs_parts.push_back(predictor.probabilities(torch::stack(ok)).clone());
      });
  if (probs_parts.empty()) throw DataError(data_spec + ": none of its images could be read");
  const auto probs = torch::cat(probs_parts);
  const auto label_t = torch::tensor(kept_labels, torch::kInt64);
  const auto [conf, pred] = probs.max(1);
  result.metrics = classification_metrics(pred, label_t, static_cast<int64_t>(result.classes.size()));
  result.coverage = coverage_curve(conf, pred.eq(label_t), default_coverage_thresholds());
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

nlohmann::json EvalResult::to_json() const {
  auto j = metrics.to_json(classes);
  j["model"] = model;
  j["data"] = data;
  j["skipped"] = skipped;
  j["seconds"] = seconds;
  nlohmann::json cov = nlohmann::json::array();
  for (const auto& p : coverage)
    cov.push_back({{"threshold", p.threshold},
                   {"accepted", p.accepted},
                   {"coverage", p.coverage},
                   {"accuracy", std::isnan(p.accuracy) ? nlohmann::json(nullptr) : nlohmann::json(p.accuracy)}});
  j["coverage"] = cov;
  return j;
}

std::string EvalResult::summary() const {
  std::ostringstream o;
  o << "eval: " << model << " on " << data << '\n';
  o << "  images " << metrics.count << (skipped.empty() ? "" : " (" + std::to_string(skipped.size()) + " unreadable, skipped)")
    << ", accuracy " << fmt(100 * metrics.accuracy, "%.2f") << "%, macro accuracy "
    << fmt(100 * metrics.macro_accuracy, "%.2f") << "%\n";
  o << "  class            precision  recall     f1  support\n";
  for (size_t c = 0; c < classes.size(); ++c) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-16s %9.3f %7.3f %6.3f %8lld\n", classes[c].c_str(), metrics.precision[c],
                  metrics.recall[c], metrics.f1[c], static_cast<long long>(metrics.support[c]));
    o << buf;
  }
  for (const auto& p : coverage)
    if (std::abs(p.threshold - 0.5) < 1e-9 || std::abs(p.threshold - 0.9) < 1e-9)
      o << "  confidence >= " << fmt(p.threshold, "%.2f") << ": coverage " << fmt(100 * p.coverage, "%.1f")
        << "%, accuracy " << (std::isnan(p.accuracy) ? "n/a" : fmt(100 * p.accuracy, "%.2f") + "%") << '\n';
  return o.str();
}

void write_eval_report(const EvalResult& r, const fs::path& dir) {
  ensure_writable_dir(dir);
  write_file_atomic(dir / "metrics.json", r.to_json().dump(2) + "\n");
  std::ostringstream pc;
  pc << "class,precision,recall,f1,support\n";
  for (size_t c = 0; c < r.classes.size(); ++c)
    pc << csv(r.classes[c]) << ',' << fmt(r.metrics.precision[c]) << ',' << fmt(r.metrics.recall[c]) << ','
       << fmt(r.metrics.f1[c]) << ',' << r.metrics.support[c] << '\n';
  write_file_atomic(dir / "per_class.csv", pc.str());
  std::ostringstream cm;
  cm << "true\\predicted";
  for (const auto& c : r.classes) cm << ',' << csv(c);
  cm << '\n';
  for (size_t i = 0; i < r.classes.size(); ++i) {
    cm << csv(r.classes[i]);
    for (size_t j = 0; j < r.classes.size(); ++j) cm << ',' << r.metrics.confusion[i][j];
    cm << '\n';
  }
  write_file_atomic(dir / "confusion.csv", cm.str());
  std::ostringstream cv;
  cv << "threshold,accepted,coverage,accuracy\n";
  std::vector<double> x, coverage, accuracy;
  for (const auto& p : r.coverage) {
    cv << fmt(p.threshold, "%.2f") << ',' << p.accepted << ',' << fmt(p.coverage) << ',' << fmt(p.accuracy) << '\n';
    x.push_back(p.threshold);
    coverage.push_back(p.coverage);
    accuracy.push_back(p.accuracy);
  }
  write_file_atomic(dir / "coverage.csv", cv.str());
  write_png(dir / "confusion.png", draw_confusion(r.metrics.confusion, r.classes));
  write_png(dir / "coverage.png", draw_curves(x, {accuracy, coverage}, {"accuracy of accepted (precision)", "coverage"},
                                              "confidence threshold", "precision / coverage vs confidence threshold"));
}

}  // namespace fashioncut::eval
