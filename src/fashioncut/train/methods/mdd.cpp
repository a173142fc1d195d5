// MDD (Zhang et al. 2019, margin disparity discrepancy) as run in TLL (tllib/alignment/mdd.py,
// examples/.../mdd.py): bottleneck Linear-BN-ReLU-Dropout (1024), main head and an adversarial
// head of the same shape (Linear-ReLU-Dropout-Linear); the adversarial head sees the features
// through a gradient reversal layer warming up to 0.1.
#include "fashioncut/losses/classification.h"
#include "fashioncut/losses/domain_adaptation.h"
#include "fashioncut/models/grl.h"
#include "fashioncut/models/heads.h"
#include "fashioncut/train/methods/baselines.h"
#include "fashioncut/train/methods/tll_common.h"

namespace fashioncut::train::methods {
namespace {

/// loss = CE(y_s, labels) - trade_off * mdd(y_s, y_s_adv, y_t, y_t_adv), where the adversarial
/// logits come from adv(GRL(f)). Minimising -mdd trains the adversarial head to maximise the
/// disparity while the reversed gradient makes the features minimise it (scaled by the GRL
/// coefficient). Modules: "C" (classifier = backbone, bottleneck, main head), "adv".
class Mdd : public TllMethod {
 public:
  Mdd(const TrainConfig& c, const MethodContext& ctx)
      // TLL mdd.py ImageClassifier(bottleneck_dim=1024, width=bottleneck_dim): Linear-BN-ReLU-Dropout(0.5)
      // bottleneck (N(0, 0.005) weights, bias 0.1) and a Linear-ReLU-Dropout-Linear head.
      : TllMethod(c, ctx, "mdd", "bn-relu-dropout", /*hidden_head=*/true),
        trade_off_(c.trade_off),  // TLL mdd.py --trade-off 1.0
        margin_(c.mdd_margin),    // TLL mdd.py --margin 4
        adv_(models::MddHeadOptions(hyper_.bottleneck_dim, spec_.num_classes()).width(hyper_.bottleneck_dim)),
        // TLL mdd.py: WarmStartGradientReverseLayer(alpha=1, lo=0, hi=0.1, max_iters=1000, auto_step=False)
        grl_(models::mdd_grl_options()) {
    // TLL mdd.py: SGD(classifier.get_parameters() [backbone x0.1, bottleneck, head, adv_head],
    // lr 0.004, momentum 0.9, wd 5e-4, nesterov=True)
    opt_ = make_tll_sgd(*C_, {adv_.ptr()}, sgd_options());
  }

  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override {
    return {{"C", C_.ptr()}, {"adv", adv_.ptr()}};
  }
  // Deviation: TLL mdd.py uses lr_gamma 0.0002; the Trainer applies the config's lr_gamma
  // (one value for every method; set lr_gamma = 0.0002 in the config for TLL's MDD schedule).
  std::vector<OptimizerSlot> optimizers() override { return {{"C+adv", opt_.get(), LrSchedule::kInverseDecay}}; }

  StepStats train_step(const StepInput& in) override {
    const int64_t ns = in.source.size(0);
    opt_->zero_grad();
    // TLL concatenates x_s and x_t into one forward.
    const auto f = C_->features(torch::cat({in.source, in.target}));
    const auto y = C_->logits_from_features(f);
    const double coeff = grl_->coeff();
    const auto y_adv = adv_->forward(grl_->forward(f));
    const auto y_s = y.slice(0, 0, ns), y_t = y.slice(0, ns);
    const auto disparity = losses::mdd_loss(y_s, y_adv.slice(0, 0, ns), y_t, y_adv.slice(0, ns), margin_);
    const auto ce = losses::cross_entropy(y_s, in.source_labels);
    const auto loss = ce - trade_off_ * disparity;
    loss.backward();
    opt_->step();
    grl_->step();  // TLL: classifier.step() once per iteration, after the optimiser step
    return {{{"C/ce", ce.item<double>()}, {"adv/disparity", disparity.item<double>()}}, {{"grl/coeff", coeff}}};
  }

  nlohmann::json state() const override { return {{"grl_iteration", grl_->iteration()}}; }
  void load_state(const nlohmann::json& state) override {
    grl_->set_iteration(state.value("grl_iteration", int64_t{0}));
  }

 private:
  double trade_off_;
  double margin_;
  models::MddHead adv_;
  models::WarmStartGrl grl_;
  std::unique_ptr<torch::optim::SGD> opt_;
};

}  // namespace

void register_mdd_method() {
  register_method("mdd", "MDD: margin disparity discrepancy with an adversarial head (TLL mdd.py)",
                  [](const TrainConfig& c, const MethodContext& ctx) { return std::make_unique<Mdd>(c, ctx); });
}

}  // namespace fashioncut::train::methods
