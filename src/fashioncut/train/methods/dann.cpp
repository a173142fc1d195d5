#include "fashioncut/train/methods/dann.h"

#include "fashioncut/losses/classification.h"
#include "fashioncut/losses/domain_adaptation.h"
#include "fashioncut/train/methods/baselines.h"

namespace fashioncut::train::methods {

Dann::Dann(const TrainConfig& c, const MethodContext& ctx, const std::string& name)
    : TllMethod(c, ctx, name, "bn-relu"),  // TLL dann.py / bsp.py: Linear-BN1d-ReLU bottleneck
      trade_off_(c.trade_off),  // TLL dann.py / bsp.py --trade-off 1.0
      // TLL dann.py: DomainDiscriminator(in_feature=bottleneck_dim, hidden_size=1024)
      D_(models::DomainDiscriminatorOptions(hyper_.bottleneck_dim).hidden(1024)),
      // TLL DomainAdversarialLoss: WarmStartGradientReverseLayer(1, 0, 1, 1000, auto_step=True)
      grl_(models::dann_grl_options()) {
  // TLL dann.py: SGD(classifier + discriminator params, lr, momentum 0.9, wd, nesterov=True)
  opt_ = make_tll_sgd(*C_, {D_.ptr()}, sgd_options());
}

std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> Dann::modules() {
  return {{"C", C_.ptr()}, {"D", D_.ptr()}};
}

std::vector<OptimizerSlot> Dann::optimizers() {
  return {{"C+D", opt_.get(), LrSchedule::kInverseDecay}};  // TLL LambdaLR lr0 (1 + gamma i)^-decay
}

StepStats Dann::train_step(const StepInput& in) {
  StepStats stats;
  const int64_t ns = in.source.size(0);
  opt_->zero_grad();
  const auto f = C_->features(torch::cat({in.source, in.target}));
  const auto y_s = C_->logits_from_features(f.slice(0, 0, ns));
  const auto f_s = f.slice(0, 0, ns), f_t = f.slice(0, ns);
  const double coeff = grl_->coeff();
  // One GRL forward per step on both domains, as TLL (its auto_step advances once per call).
  const auto d = D_->forward(grl_->forward(f));
  const auto domain = losses::dann_domain_loss(d.slice(0, 0, ns), d.slice(0, ns));
  const auto ce = losses::cross_entropy(y_s, in.source_labels);
  auto loss = ce + trade_off_ * domain.loss;
  const auto penalty = feature_penalty(f_s, f_t, stats);
  if (penalty.defined()) loss = loss + penalty;
  loss.backward();
  opt_->step();
  stats.losses["C/ce"] = ce.item<double>();
  stats.losses["D/domain"] = domain.loss.item<double>();
  stats.extras["D/accuracy"] = domain.accuracy.item<double>();
  stats.extras["grl/coeff"] = coeff;
  return stats;
}

nlohmann::json Dann::state() const { return {{"grl_iteration", grl_->iteration()}}; }

void Dann::load_state(const nlohmann::json& state) { grl_->set_iteration(state.value("grl_iteration", int64_t{0})); }

void register_dann_method() {
  register_method("dann", "DANN: domain discriminator behind a gradient reversal layer (TLL dann.py)",
                  [](const TrainConfig& c, const MethodContext& ctx) { return std::make_unique<Dann>(c, ctx); });
}

}  // namespace fashioncut::train::methods
