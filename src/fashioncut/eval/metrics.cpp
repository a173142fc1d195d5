#include "fashioncut/eval/metrics.h"

#include <cmath>

#include "fashioncut/core/errors.h"

namespace fashioncut::eval {

ClassificationMetrics classification_metrics(const torch::Tensor& predictions, const torch::Tensor& labels,
                                             int64_t num_classes) {
  TORCH_CHECK(predictions.dim() == 1 && labels.dim() == 1 && predictions.size(0) == labels.size(0),
              "classification_metrics expects two [N] tensors, got ", predictions.sizes(), " and ", labels.sizes());
  TORCH_CHECK(num_classes > 0, "classification_metrics needs num_classes > 0");
  ClassificationMetrics m;
  m.confusion.assign(num_classes, std::vector<int64_t>(num_classes, 0));
  const auto p = predictions.to(torch::kCPU, torch::kLong).contiguous();
  const auto y = labels.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* pp = p.data_ptr<int64_t>();
  const int64_t* yy = y.data_ptr<int64_t>();
  int64_t correct = 0;
  for (int64_t i = 0; i < p.size(0); ++i) {
    if (yy[i] < 0) continue;
    TORCH_CHECK(yy[i] < num_classes && pp[i] >= 0 && pp[i] < num_classes, "label or prediction out of range");
    ++m.confusion[yy[i]][pp[i]];
    ++m.count;
    correct += (yy[i] == pp[i]);
  }
  m.accuracy = m.count ? static_cast<double>(correct) / m.count : 0.0;
  m.precision.assign(num_classes, 0);
  m.recall.assign(num_classes, 0);
  m.f1.assign(num_classes, 0);
  m.support.assign(num_classes, 0);
  double recall_sum = 0;
  int present = 0;
  for (int64_t c = 0; c < num_classes; ++c) {
    int64_t predicted = 0;
    for (int64_t t = 0; t < num_classes; ++t) {
      m.support[c] += m.confusion[c][t];
      predicted += m.confusion[t][c];
    }
    const double tp = static_cast<double>(m.confusion[c][c]);
    m.precision[c] = predicted ? tp / predicted : 0.0;
    m.recall[c] = m.support[c] ? tp / m.support[c] : 0.0;
    const double pr = m.precision[c] + m.recall[c];
    m.f1[c] = pr > 0 ? 2 * m.precision[c] * m.recall[c] / pr : 0.0;
    if (m.support[c]) {
      recall_sum += m.recall[c];
      ++present;
    }
  }
  m.macro_accuracy = present ? recall_sum / present : 0.0;
  return m;
}

nlohmann::json ClassificationMetrics::to_json(const std::vector<std::string>& class_names) const {
  nlohmann::json j;
  j["count"] = count;
  j["accuracy"] = accuracy;
  j["macro_accuracy"] = macro_accuracy;
  j["confusion"] = confusion;
  j["classes"] = class_names;
  nlohmann::json per = nlohmann::json::array();
  for (size_t c = 0; c < precision.size(); ++c) {
    per.push_back({{"class", c < class_names.size() ? class_names[c] : std::to_string(c)},
                   {"precision", precision[c]},
                   {"recall", recall[c]},
                   {"f1", f1[c]},
                   {"support", support[c]}});
  }
  j["per_class"] = per;
  return j;
}

PredictionStats prediction_stats(const torch::Tensor& probs, double threshold) {
  TORCH_CHECK(probs.dim() == 2 && probs.size(1) >= 2, "prediction_stats expects [N, C>=2] probabilities, got ",
              probs.sizes());
  PredictionStats s;
  s.count = probs.size(0);
  if (s.count == 0) return s;
  const auto p = probs.to(torch::kCPU, torch::kDouble);
  const double log_c = std::log(static_cast<double>(p.size(1)));
  const auto entropy = -(p * torch::log(p.clamp_min(1e-12))).sum(1);
  s.mean_entropy = entropy.mean().item<double>() / log_c;
  const auto mean_p = p.mean(0);
  s.class_balance = (-(mean_p * torch::log(mean_p.clamp_min(1e-12))).sum()).item<double>() / log_c;
  const auto [conf, arg] = p.max(1);
  s.acceptance = (conf >= threshold).to(torch::kDouble).mean().item<double>();
  s.mean_confidence = conf.mean().item<double>();
  const auto counts = torch::bincount(arg, {}, p.size(1)).to(torch::kDouble) / static_cast<double>(s.count);
  s.predicted_share.assign(counts.data_ptr<double>(), counts.data_ptr<double>() + counts.numel());
  return s;
}

double label_free_score(double heldout_accuracy, const PredictionStats& target) {
  return heldout_accuracy * target.class_balance;
}

}  // namespace fashioncut::eval
