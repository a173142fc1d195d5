// DANN (Ganin et al. 2016) as run in TLL (tllib/alignment/dann.py, examples/.../dann.py):
// classifier = backbone -> Linear-BN-ReLU bottleneck (256) -> Linear head; a domain
// discriminator on the bottleneck features behind a warm-start gradient reversal layer.
// BSP (methods/bsp.cpp) extends it, hence this header.
#pragma once
#include <torch/torch.h>

#include "fashioncut/models/grl.h"
#include "fashioncut/models/heads.h"
#include "fashioncut/train/methods/tll_common.h"

namespace fashioncut::train::methods {

/// DANN: loss = CE(y_s, labels) + trade_off * 0.5 * (BCE(D(GRL(f_s)), 1) + BCE(D(GRL(f_t)), 0)).
/// Source and target pass through the classifier in ONE forward (TLL concatenates them, so the
/// batch norms see both domains). Modules: "C" (classifier), "D" (domain discriminator).
/// Loss terms: C/ce, D/domain, and extras D/accuracy, grl/coeff.
class Dann : public TllMethod {
 public:
  Dann(const TrainConfig& config, const MethodContext& context, const std::string& name = "dann");
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override;
  std::vector<OptimizerSlot> optimizers() override;
  StepStats train_step(const StepInput& input) override;
  /// {"grl_iteration": i}: the GRL warm-start counter.
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;

  /// The domain discriminator (tests).
  models::DomainDiscriminator& discriminator() { return D_; }
  /// The gradient reversal layer (tests).
  models::WarmStartGrl& grl() { return grl_; }

 protected:
  /// Extra penalty on the bottleneck features (BSP); undefined = none. Adds its terms to `stats`.
  virtual torch::Tensor feature_penalty(const torch::Tensor& f_source, const torch::Tensor& f_target,
                                        StepStats& stats) {
    return {};
  }

  double trade_off_;
  models::DomainDiscriminator D_;
  models::WarmStartGrl grl_;
  std::unique_ptr<torch::optim::SGD> opt_;
};


}  // namespace fashioncut::train::methods
