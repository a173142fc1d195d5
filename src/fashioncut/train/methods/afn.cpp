// AFN (Xu et al. 2019, stepwise adaptive feature norm) as run in TLL
// (tllib/normalization/afn.py, examples/.../afn.py): bottleneck block Linear-BN-ReLU with
// L2-preserved dropout (1000), linear head; the loss pushes the feature norms of both domains
// up by delta per step.
#include "fashioncut/losses/classification.h"
#include "fashioncut/losses/domain_adaptation.h"
#include "fashioncut/train/methods/baselines.h"
#include "fashioncut/train/methods/tll_common.h"

namespace fashioncut::train::methods {
namespace {

/// loss = CE(y_s, labels) + afn_trade_off * (afn(f_s) + afn(f_t)), f = bottleneck output.
/// Source and target go through the classifier in SEPARATE forwards (TLL afn.py), so each
/// domain's batch norm statistics are its own. Modules: "C".
class Afn : public TllMethod {
 public:
  Afn(const TrainConfig& c, const MethodContext& ctx)
      : TllMethod(c, ctx, "afn", "afn"),  // TLL afn.py ImageClassifier: one Block, dropout_p 0.5
        trade_off_(c.afn_trade_off),      // TLL afn.py --trade-off-norm 0.05
        delta_(c.afn_delta) {             // TLL afn.py -r 1.0
    // TLL afn.py: SGD(classifier.get_parameters(), lr 0.001, wd 5e-4) WITHOUT nesterov; groups:
    // backbone (lr x1.0, no momentum), bottleneck and head (momentum 0.9).
    TllSgdOptions o = sgd_options();
    o.nesterov = false;
    o.backbone_factor = 1.0;
    o.backbone_momentum = false;
    opt_ = make_tll_sgd(*C_, {}, o);
  }

  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override {
    return {{"C", C_.ptr()}};
  }
  // TLL afn.py: no lr scheduler ("fixed according to origin paper").
  std::vector<OptimizerSlot> optimizers() override { return {{"C", opt_.get(), LrSchedule::kConstant}}; }

  StepStats train_step(const StepInput& in) override {
    opt_->zero_grad();
    const auto f_s = C_->features(in.source);
    const auto f_t = C_->features(in.target);
    const auto ce = losses::cross_entropy(C_->logits_from_features(f_s), in.source_labels);
    const auto norm = losses::afn_loss(f_s, delta_) + losses::afn_loss(f_t, delta_);
    const auto loss = ce + trade_off_ * norm;
    loss.backward();
    opt_->step();
    const auto mean_norm = [](const torch::Tensor& f) { return f.detach().pow(2).sum(1).sqrt().mean().item<double>(); };
    return {{{"C/ce", ce.item<double>()}, {"F/afn", norm.item<double>()}},
            {{"afn/norm_source", mean_norm(f_s)}, {"afn/norm_target", mean_norm(f_t)}}};
  }

 private:
  double trade_off_;
  double delta_;
  std::unique_ptr<torch::optim::SGD> opt_;
};

}  // namespace

void register_afn_method() {
  register_method("afn", "AFN: stepwise adaptive feature norm with L2-preserved dropout (TLL afn.py)",
                  [](const TrainConfig& c, const MethodContext& ctx) { return std::make_unique<Afn>(c, ctx); });
}

}  // namespace fashioncut::train::methods
