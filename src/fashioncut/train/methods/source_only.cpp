// Source-only (ERM, "no adaptation"): the classifier trained on labelled synthetic images
// alone, with TLL's optimiser (SGD momentum 0.9, Nesterov, weight decay) and inverse
// lr decay lr0·(1+γi)^-0.75 (TLL examples/domain_adaptation/image_classification/erm.py).
#include <torch/torch.h>

#include "fashioncut/losses/classification.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/methods/methods.h"
#include "fashioncut/train/methods/tll_common.h"

namespace fashioncut::train::methods {
namespace {

class SourceOnly : public Method {
 public:
  SourceOnly(const TrainConfig& c, const MethodContext& ctx)
      : spec_(classifier_spec_for(c, ctx)), C_(make_tll_classifier(spec_, c)) {
    // TLL erm.py: SGD(classifier.get_parameters() [backbone x0.1, head x1.0], lr, momentum 0.9, wd, nesterov)
    TllSgdOptions o;
    const TllHyper h = resolve_tll_hyper(c, "source-only");
    o.lr = h.lr;
    o.weight_decay = h.weight_decay;
    opt_ = make_tll_sgd(*C_, {}, o);
  }
  std::string name() const override { return "source-only"; }
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override { return {{"C", C_.ptr()}}; }
  std::vector<OptimizerSlot> optimizers() override { return {{"C", opt_.get(), LrSchedule::kInverseDecay}}; }
  StepStats train_step(const StepInput& in) override {
    opt_->zero_grad();
    const auto loss = losses::cross_entropy(C_->forward(in.source), in.source_labels);
    loss.backward();
    opt_->step();
    return {{{"C/ce", loss.item<double>()}}, {}};
  }
  torch::Tensor classify(const torch::Tensor& x) override { return C_->forward(x); }
  std::shared_ptr<torch::nn::Module> classifier_module() override { return C_.ptr(); }
  nlohmann::json classifier_spec() const override { return spec_.to_json(); }

 private:
  models::ClassifierSpec spec_;
  models::Classifier C_;
  std::unique_ptr<torch::optim::SGD> opt_;
};

}  // namespace

void register_source_only_method() {
  register_method("source-only", "no adaptation: classifier trained on the labelled source only (TLL ERM)",
                  [](const TrainConfig& c, const MethodContext& ctx) { return std::make_unique<SourceOnly>(c, ctx); });
}

}  // namespace fashioncut::train::methods
