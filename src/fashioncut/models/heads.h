// Small heads of the domain-adaptation baselines, as built by thuml's Transfer-Learning-Library
// (TLL): bottleneck blocks (DANN/BSP/CDAN, MDD, AFN), the DANN domain discriminator and MDD's
// classifier heads. All take pooled backbone features [N, F].
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace fashioncut::models {

/// How a head's parameters are initialised.
enum class HeadInit {
  kTorchDefault,  ///< LibTorch's (= PyTorch's) default Linear/BatchNorm init (TLL DANN/BSP/CDAN)
  kMdd,           ///< MDD bottleneck: Linear weight N(0, 0.005), bias 0.1; BN default (TLL mdd.py)
  kAfn,           ///< AFN: Linear weight and bias N(0, 0.01); BN weight N(1, 0.01), bias 0 (TLL afn.py)
};

/// Re-initialises a Linear layer in place: weight ~ N(0, weight_std), bias ~ N(bias_mean, bias_std)
/// (bias_std = 0 fills the bias with bias_mean). E.g. the AFN classifier head Linear(1000, C) uses
/// (0.01, 0, 0.01) as in TLL afn.py ImageClassifier.
void normal_init_linear(torch::nn::Linear& layer, double weight_std, double bias_mean, double bias_std);

/// Options of FeatureBottleneck.
struct BottleneckOptions {
  BottleneckOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);   ///< backbone feature width (512 for resnet18, 2048 for resnet50)
  TORCH_ARG(int64_t, out_features);  ///< bottleneck width
  TORCH_ARG(double, dropout) = 0.0;  ///< dropout probability after the ReLU; 0 = no dropout
  /// AFN's "L2-preserved dropout" (TLL afn.py L2PreservedDropout): in training the dropout output is
  /// also multiplied by sqrt(1 - p), so kept units are scaled by 1/sqrt(1 - p) instead of 1/(1 - p)
  /// and E||out||^2 = ||in||^2.
  TORCH_ARG(bool, l2_preserved_dropout) = false;
  TORCH_ARG(HeadInit, init) = HeadInit::kTorchDefault;
};

/// DANN/BSP/CDAN bottleneck: Linear(in, 256)-BN1d-ReLU, default init
/// (TLL dann.py / bsp.py ImageClassifier, bottleneck_dim default 256).
BottleneckOptions dann_bottleneck_options(int64_t in_features, int64_t out_features = 256);

/// MDD bottleneck: Linear(in, 1024)-BN1d-ReLU-Dropout(0.5), Linear weight N(0, 0.005), bias 0.1
/// (TLL mdd.py ImageClassifier, bottleneck_dim default 1024).
BottleneckOptions mdd_bottleneck_options(int64_t in_features, int64_t out_features = 1024);

/// AFN block: Linear(in, 1000)-BN1d-ReLU-L2PreservedDropout(0.5), AFN init
/// (TLL afn.py Block / ImageClassifier, bottleneck_dim default 1000, dropout_p default 0.5).
BottleneckOptions afn_block_options(int64_t in_features, int64_t out_features = 1000, double dropout = 0.5);

/// Linear - BatchNorm1d - ReLU [- Dropout | L2-preserved dropout]. (Not `Bottleneck`: that is the
/// ResNet-50 block of models/resnet.h, in the same namespace.)
/// Submodules: `fc` (Linear), `bn` (BatchNorm1d).
/// x: [N, in_features] -> [N, out_features], values >= 0.
/// requires: N >= 2 in training mode (batch norm statistics).
struct FeatureBottleneckImpl : torch::nn::Module {
  explicit FeatureBottleneckImpl(const BottleneckOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  BottleneckOptions options;
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(FeatureBottleneck);

/// Options of DomainDiscriminator (TLL tllib/modules/domain_discriminator.py).
struct DomainDiscriminatorOptions {
  explicit DomainDiscriminatorOptions(int64_t in_features) : in_features_(in_features) {}
  TORCH_ARG(int64_t, in_features);          ///< bottleneck width (DANN/BSP: 256)
  TORCH_ARG(int64_t, hidden) = 1024;        ///< TLL dann.py example: hidden_size=1024
  TORCH_ARG(bool, batch_norm) = true;       ///< TLL default batch_norm=True (else ReLU-Dropout(0.5))
};

/// DANN domain discriminator: Linear(in, h)-BN1d-ReLU-Linear(h, h)-BN1d-ReLU-Linear(h, 1).
/// Unlike TLL it has NO final Sigmoid: it returns logits for losses::dann_domain_loss
/// (BCE-with-logits, numerically stable); sigmoid(logit) is TLL's probability of "source".
/// Submodules: `fc1`, `bn1`, `fc2`, `bn2`, `fc3` (bn* absent without batch norm). Default init.
/// x: [N, in_features] -> logits [N, 1].
struct DomainDiscriminatorImpl : torch::nn::Module {
  explicit DomainDiscriminatorImpl(const DomainDiscriminatorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  DomainDiscriminatorOptions options;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr};
};
TORCH_MODULE(DomainDiscriminator);

/// Options of MddHead (TLL mdd.py ImageClassifier head / adv_head).
struct MddHeadOptions {
  MddHeadOptions(int64_t in_features, int64_t num_classes) : in_features_(in_features), num_classes_(num_classes) {}
  TORCH_ARG(int64_t, in_features);    ///< bottleneck width (TLL bottleneck_dim default 1024)
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(int64_t, width) = 1024;   ///< TLL mdd.py width default 1024
  TORCH_ARG(double, dropout) = 0.5;   ///< TLL mdd.py nn.Dropout(0.5)
};

/// MDD classifier head, used twice (main head and adversarial head; the adversarial one is fed
/// through WarmStartGrl(mdd_grl_options())): Linear(in, width)-ReLU-Dropout(0.5)-Linear(width, C),
/// both Linear weights N(0, 0.01), biases 0 (TLL mdd.py). Submodules: `fc1`, `fc2`.
/// x: [N, in_features] -> logits [N, num_classes].
struct MddHeadImpl : torch::nn::Module {
  explicit MddHeadImpl(const MddHeadOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  MddHeadOptions options;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(MddHead);

}  // namespace fashioncut::models
