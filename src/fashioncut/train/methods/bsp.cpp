// BSP (Chen et al. 2019, batch spectral penalization) as run in TLL (tllib/alignment/bsp.py,
// examples/.../bsp.py): DANN plus bsp_trade_off * (sigma_1(F_s)^2 + sigma_1(F_t)^2) on the
// bottleneck features, after a source-only pre-training phase.
#include "fashioncut/losses/classification.h"
#include "fashioncut/losses/domain_adaptation.h"
#include "fashioncut/train/methods/baselines.h"
#include "fashioncut/train/methods/dann.h"

namespace fashioncut::train::methods {
namespace {

/// Epochs [0, pretrain_epochs): CE on the source only, with its own SGD at bsp_pretrain_lr
/// (TLL bsp.py pre-trains with a fresh `pretrain_optimizer` before building the adaptation
/// optimizer; the discriminator and GRL are not touched). Later epochs: DANN + BSP penalty.
/// Deviation: TLL restarts the lr schedule at i = 0 for adaptation; our Trainer keeps one global
/// iteration count, so adaptation starts at the decayed factor (1 + gamma * i_pretrain)^-decay.
class Bsp : public Dann {
 public:
  Bsp(const TrainConfig& c, const MethodContext& ctx)
      : Dann(c, ctx, "bsp"), bsp_trade_off_(c.bsp_trade_off), pretrain_epochs_(c.bsp_pretrain_epochs) {
    // TLL bsp.py: pretrain_optimizer = SGD(classifier.get_parameters(), pretrain_lr, momentum, wd, nesterov)
    TllSgdOptions o = sgd_options();
    o.lr = c.bsp_pretrain_lr;
    pretrain_opt_ = make_tll_sgd(*C_, {}, o);
  }

  std::vector<OptimizerSlot> optimizers() override {
    auto slots = Dann::optimizers();
    slots.push_back({"C-pretrain", pretrain_opt_.get(), LrSchedule::kInverseDecay});
    return slots;
  }

  StepStats train_step(const StepInput& in) override {
    if (in.epoch >= pretrain_epochs_) return Dann::train_step(in);
    // TLL utils.empirical_risk_minimization: source batch alone through the classifier.
    pretrain_opt_->zero_grad();
    const auto ce = losses::cross_entropy(C_->forward(in.source), in.source_labels);
    ce.backward();
    pretrain_opt_->step();
    return {{{"C/ce", ce.item<double>()}}, {{"bsp/pretraining", 1.0}}};
  }

 protected:
  torch::Tensor feature_penalty(const torch::Tensor& f_s, const torch::Tensor& f_t, StepStats& stats) override {
    const auto bsp = losses::bsp_loss(f_s, f_t);
    stats.losses["F/bsp"] = bsp.item<double>();
    return bsp_trade_off_ * bsp;  // TLL bsp.py: loss = cls + trade_off * transfer + trade_off_bsp * bsp
  }

 private:
  double bsp_trade_off_;
  int64_t pretrain_epochs_;
  std::unique_ptr<torch::optim::SGD> pretrain_opt_;
};

}  // namespace

void register_bsp_method() {
  register_method("bsp", "BSP: DANN + batch spectral penalization, after source-only pre-training (TLL bsp.py)",
                  [](const TrainConfig& c, const MethodContext& ctx) { return std::make_unique<Bsp>(c, ctx); });
}

}  // namespace fashioncut::train::methods
