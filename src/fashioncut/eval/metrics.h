// Classification metrics and label-free prediction statistics. Pure tensor code on CPU.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fashioncut::eval {

/// Accuracy, per-class precision/recall/F1 and the confusion matrix.
struct ClassificationMetrics {
  int64_t count = 0;
  double accuracy = 0;        ///< correct / count
  double macro_accuracy = 0;  ///< mean per-class recall (classes present in the labels)
  std::vector<double> precision, recall, f1;       ///< per class; 0 where undefined
  std::vector<int64_t> support;                    ///< true count per class
  std::vector<std::vector<int64_t>> confusion;     ///< [true][predicted]
  nlohmann::json to_json(const std::vector<std::string>& class_names) const;
};

/// predictions, labels: [N] int64 in [0, num_classes). Labels < 0 are ignored.
ClassificationMetrics classification_metrics(const torch::Tensor& predictions, const torch::Tensor& labels,
                                             int64_t num_classes);

/// Label-free statistics of a classifier's predictions on unlabelled images.
struct PredictionStats {
  int64_t count = 0;
  double mean_entropy = 0;    ///< mean H(p_i) / log C, in [0,1]; low = confident
  double class_balance = 0;   ///< H(mean_i p_i) / log C, in [0,1]; 1 = all classes used equally
  double acceptance = 0;      ///< share of images with max p_i >= threshold
  double mean_confidence = 0; ///< mean max p_i
  std::vector<double> predicted_share;  ///< share of argmax per class
};

/// probs: [N, C] softmax outputs (rows sum to 1).
PredictionStats prediction_stats(const torch::Tensor& probs, double threshold);

/// The label-free model-selection score: held-out synthetic accuracy times the class balance
/// of the target predictions (normalised entropy of their mean); in [0,1], higher is better.
/// Synthetic accuracy guards against forgetting the labelled task; the product makes a
/// collapse onto few classes lose however well the synthetic task goes (self-training drives
/// both up together otherwise). Target entropy is deliberately not rewarded: pseudo-labelling
/// minimises it directly, so it rose most in runs that collapsed. Assumes the target classes
/// are not extremely unbalanced (balance of a catalogue with a 50/50 two-class split is 0.3).
double label_free_score(double heldout_accuracy, const PredictionStats& target);

}  // namespace fashioncut::eval
