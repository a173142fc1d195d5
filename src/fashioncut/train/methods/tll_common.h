// What the TLL baselines (source-only, dann, bsp, mdd, afn) share: their per-method defaults,
// the classifier they build and TLL's SGD with per-group lr factors
// (thuml Transfer-Learning-Library, tllib/modules/classifier.py Classifier.get_parameters and
// examples/domain_adaptation/image_classification/*.py).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "fashioncut/models/classifier.h"
#include "fashioncut/train/method.h"

namespace fashioncut::train::methods {

/// A method's TLL defaults for the config fields whose TLL value differs per method.
struct TllDefaults {
  double lr = 0.01;             ///< SGD base lr (TLL --lr)
  double weight_decay = 1e-3;   ///< SGD weight decay (TLL --wd)
  int64_t bottleneck_dim = 0;   ///< bottleneck width (TLL --bottleneck-dim); 0 = no bottleneck
};

/// The TLL defaults of a registered baseline name (source-only, dann, bsp, mdd, afn), each
/// from its TLL example script. Throws ConfigError for other names.
TllDefaults tll_defaults(const std::string& method);

/// Hyper-parameters after applying the config's "auto" values (sgd_lr 0, weight_decay < 0,
/// bottleneck_dim 0 -> the method's TLL default; anything else is the user's choice).
struct TllHyper {
  double lr = 0;
  double weight_decay = 0;
  int64_t bottleneck_dim = 0;
};

/// Resolves the config against tll_defaults(method) and logs the values used once.
TllHyper resolve_tll_hyper(const TrainConfig& config, const std::string& method);

/// The classifier spec of a baseline: classifier_spec_for(config, ctx) plus bottleneck kind
/// ("none" | "bn-relu" | "bn-relu-dropout" | "afn"), width and MDD's hidden head width.
models::ClassifierSpec tll_classifier_spec(const TrainConfig& config, const MethodContext& context,
                                           const std::string& bottleneck, int64_t bottleneck_dim,
                                           int64_t head_hidden = 0);

/// Builds the classifier; when config.pretrained names a torchvision state_dict, loads the
/// backbone from it (fc.* always skipped; conv1.* skipped when the stem/channels differ) and logs
/// what was loaded. Throws CheckpointError when the file does not fit the backbone.
models::Classifier make_tll_classifier(const models::ClassifierSpec& spec, const TrainConfig& config);

/// How make_tll_sgd builds the parameter groups.
struct TllSgdOptions {
  double lr = 0.01;               ///< base lr (each group gets factor * lr)
  double weight_decay = 1e-3;     ///< every group
  double momentum = 0.9;          ///< TLL --momentum 0.9
  bool nesterov = true;           ///< TLL dann/bsp/mdd/erm.py: SGD(..., nesterov=True)
  double backbone_factor = 0.1;   ///< TLL Classifier.get_parameters: backbone lr x0.1 (finetune)
  /// AFN (afn.py ImageClassifier.get_parameters): the backbone group has NO momentum.
  bool backbone_momentum = true;
};

/// TLL's SGD: group 0 = backbone without its fc (lr x backbone_factor), group 1 = the head
/// side of the classifier (bottleneck + head, or the backbone's fc when there is no
/// bottleneck; lr x1.0), then one group per module of `extra` (domain discriminator, MDD
/// adversarial head; lr x1.0). The Trainer keeps these per-group lrs as the schedule's base.
std::unique_ptr<torch::optim::SGD> make_tll_sgd(models::ClassifierImpl& classifier,
                                                const std::vector<std::shared_ptr<torch::nn::Module>>& extra,
                                                const TllSgdOptions& options);

/// Base class of the baselines: resolves the TLL hyper-parameters, owns the classifier and its
/// spec; classify() is the classifier.
class TllMethod : public Method {
 public:
  /// method: registered name (selects tll_defaults); bottleneck: see tll_classifier_spec;
  /// hidden_head: MDD's Linear-ReLU-Dropout-Linear head, as wide as the bottleneck (TLL mdd.py
  /// builds ImageClassifier(width=args.bottleneck_dim)).
  TllMethod(const TrainConfig& config, const MethodContext& context, const std::string& method,
            const std::string& bottleneck, bool hidden_head = false)
      : name_(method),
        hyper_(resolve_tll_hyper(config, method)),
        spec_(tll_classifier_spec(config, context, bottleneck, hyper_.bottleneck_dim,
                                  hidden_head ? hyper_.bottleneck_dim : 0)),
        C_(make_tll_classifier(spec_, config)) {}
  std::string name() const override { return name_; }
  torch::Tensor classify(const torch::Tensor& x) override { return C_->forward(x); }
  std::shared_ptr<torch::nn::Module> classifier_module() override { return C_.ptr(); }
  nlohmann::json classifier_spec() const override { return spec_.to_json(); }
  /// The classifier (tests).
  models::Classifier& classifier() { return C_; }

 protected:
  /// TLL SGD options with the resolved lr and weight decay.
  TllSgdOptions sgd_options() const {
    TllSgdOptions o;
    o.lr = hyper_.lr;
    o.weight_decay = hyper_.weight_decay;
    return o;
  }

  std::string name_;
  TllHyper hyper_;
  models::ClassifierSpec spec_;
  models::Classifier C_;
};

}  // namespace fashioncut::train::methods
