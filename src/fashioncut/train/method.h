// A training method: builds its modules, losses and optimisers and performs one step.
// The Trainer owns everything else (loop, data, schedules, evaluation, checkpoints) and
// never knows which method runs.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fashioncut/models/classifier.h"
#include "fashioncut/models/weight_ema.h"
#include "fashioncut/train/lr_schedule.h"
#include "fashioncut/train/train_config.h"

namespace fashioncut::train {

/// One optimiser of a method, with its schedule. Per-group lr factors are kept by the
/// Trainer from the lrs the optimiser was built with.
struct OptimizerSlot {
  std::string name;
  torch::optim::Optimizer* optimizer = nullptr;
  LrSchedule schedule = LrSchedule::kConstant;
};

/// What the method sees each step. Images are on the training device.
struct StepInput {
  torch::Tensor source;         ///< [N,C,H,W] in [-1,1], labelled synthetic images
  torch::Tensor source_labels;  ///< [N] int64
  torch::Tensor target;         ///< [N,C,H,W] in [-1,1], unlabelled real images
  int64_t epoch = 0;            ///< 0-based epoch
  int64_t iteration = 0;        ///< global iteration (0-based)
  /// Logits of the averaged classifier (classifier_ema) on real images, eval mode, no graph;
  /// empty when the run keeps no average. Call before this step's first forward pass.
  std::function<torch::Tensor(const torch::Tensor&)> teacher;
};

/// Loss terms (name -> value) and counters of one step.
struct StepStats {
  std::map<std::string, double> losses;  ///< every term, e.g. "G/nce", "D/gan", "C/ce"
  std::map<std::string, double> extras;  ///< non-loss signals, e.g. "pl/acceptance"
};

/// Facts about the data a method needs to build its networks.
struct MethodContext {
  torch::Device device{torch::kCPU};
  int64_t num_classes = 0;
  std::vector<std::string> classes;  ///< source class names, index = label
  int64_t channels = 3;
  int64_t image_size = 32;
  int64_t iters_per_epoch = 1;
};

class Method {
 public:
  virtual ~Method() = default;
  /// Registered name, e.g. "fashion-cut".
  virtual std::string name() const = 0;
  /// Every module by a stable name (checkpoints, device moves, train/eval mode).
  virtual std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() = 0;
  /// Every optimiser with its schedule.
  virtual std::vector<OptimizerSlot> optimizers() = 0;
  /// One training step; modules are already in train mode.
  virtual StepStats train_step(const StepInput& input) = 0;
  /// Logits [N, num_classes] of the shipped classifier on real images x [N,C,H,W]; eval mode.
  virtual torch::Tensor classify(const torch::Tensor& x) = 0;
  /// Logits on (held-out) source images as the classifier is trained on them
  /// (for fashion-cut: C(G(x))). Default: classify(x).
  virtual torch::Tensor classify_source(const torch::Tensor& x) { return classify(x); }
  /// G(x) for sample grids, or an undefined tensor for methods without a translator.
  virtual torch::Tensor translate(const torch::Tensor& x) { return {}; }
  /// False for translation-only methods (cut, fastcut): no classifier is scored or saved.
  virtual bool has_classifier() const { return true; }
  /// The shipped classifier module (saved as model.pt for predict/eval/export).
  virtual std::shared_ptr<torch::nn::Module> classifier_module() = 0;
  /// JSON describing how to rebuild the classifier (arch, classes, ...) for inference.
  virtual nlohmann::json classifier_spec() const = 0;
  /// Extra state that is not a tensor of a module (counters); saved in checkpoints.
  virtual nlohmann::json state() const { return nlohmann::json::object(); }
  virtual void load_state(const nlohmann::json& state) {}
  /// Called once at the end of every epoch (0-based) before evaluation.
  virtual void on_epoch_end(int64_t epoch) {}
};

/// Builds a method for a config and data context.
using MethodFactory = std::function<std::unique_ptr<Method>(const TrainConfig&, const MethodContext&)>;

/// Registers a method; a duplicate name throws ConfigError.
void register_method(const std::string& name, const std::string& description, MethodFactory factory);
/// Builds a registered method; an unknown name throws ConfigError listing the known ones.
std::unique_ptr<Method> make_method(const TrainConfig& config, const MethodContext& context);
/// (name, one-line description) of every registered method, sorted by name.
std::vector<std::pair<std::string, std::string>> list_methods();

/// The classifier the config asks for: arch, channels, stem and the source class names.
models::ClassifierSpec classifier_spec_for(const TrainConfig& config, const MethodContext& context);

/// A run's pseudo-label teacher (StepInput::teacher): logits of `method`'s classifier with the
/// averaged weights of `ema` swapped in, in eval mode, without a graph; the live weights and
/// train mode are back when it returns. Both must outlive the function.
std::function<torch::Tensor(const torch::Tensor&)> averaged_classifier(Method& method, models::WeightEmaImpl& ema);

/// Registers the methods of methods/*.cpp (idempotent). Explicit, not static
/// initialisers: a static library drops unreferenced registration objects.
void register_builtin_methods();

}  // namespace fashioncut::train
