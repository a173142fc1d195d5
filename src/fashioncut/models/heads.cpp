#include "fashioncut/models/heads.h"

#include <cmath>

namespace fashioncut::models {

namespace {

void check_input(const torch::Tensor& x, int64_t in_features, const char* who) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == in_features, who, " expects features [N, ", in_features, "], got ",
              x.sizes());
}

const char* init_name(HeadInit init) {
  switch (init) {
    case HeadInit::kTorchDefault: return "default";
    case HeadInit::kMdd: return "mdd";
    case HeadInit::kAfn: return "afn";
  }
  return "?";
}

}  // namespace

void normal_init_linear(torch::nn::Linear& layer, double weight_std, double bias_mean, double bias_std) {
  torch::NoGradGuard no_grad;
  layer->weight.normal_(0.0, weight_std);
  if (layer->bias.defined()) {
    if (bias_std > 0.0) {
      layer->bias.normal_(bias_mean, bias_std);
    } else {
      layer->bias.fill_(bias_mean);
    }
  }
}

BottleneckOptions dann_bottleneck_options(int64_t in_features, int64_t out_features) {
  return BottleneckOptions(in_features, out_features).dropout(0.0).init(HeadInit::kTorchDefault);
}

BottleneckOptions mdd_bottleneck_options(int64_t in_features, int64_t out_features) {
  // TLL mdd.py: nn.Dropout(0.5); bottleneck[1] (the Linear) weight N(0, 0.005), bias 0.1.
  return BottleneckOptions(in_features, out_features).dropout(0.5).init(HeadInit::kMdd);
}

BottleneckOptions afn_block_options(int64_t in_features, int64_t out_features, double dropout) {
  return BottleneckOptions(in_features, out_features)
      .dropout(dropout)
      .l2_preserved_dropout(true)
      .init(HeadInit::kAfn);
}

FeatureBottleneckImpl::FeatureBottleneckImpl(const BottleneckOptions& options_)
    : options(options_),
      fc(register_module("fc", torch::nn::Linear(options_.in_features(), options_.out_features()))),
      bn(register_module("bn", torch::nn::BatchNorm1d(options_.out_features()))) {
  TORCH_CHECK(options.in_features() > 0 && options.out_features() > 0, "FeatureBottleneck: feature sizes must be positive, got ",
              options.in_features(), " -> ", options.out_features());
  TORCH_CHECK(options.dropout() >= 0.0 && options.dropout() < 1.0, "FeatureBottleneck: dropout must be in [0, 1), got ",
              options.dropout());
  torch::NoGradGuard no_grad;
  switch (options.init()) {
    case HeadInit::kTorchDefault:
      break;
    case HeadInit::kMdd:
      normal_init_linear(fc, 0.005, 0.1, 0.0);
      break;
    case HeadInit::kAfn:
      normal_init_linear(fc, 0.01, 0.0, 0.01);
      bn->weight.normal_(1.0, 0.01);
      bn->bias.zero_();
      break;
  }
}

torch::Tensor FeatureBottleneckImpl::forward(const torch::Tensor& x) {
  check_input(x, options.in_features(), "FeatureBottleneck");
  auto h = torch::relu(bn->forward(fc->forward(x)));
  const double p = options.dropout();
  if (p > 0.0) {
    h = torch::dropout(h, p, is_training());
    // L2-preserved dropout: undo part of dropout's 1/(1-p) so the squared norm is kept on average.
    if (options.l2_preserved_dropout() && is_training()) h = h * std::sqrt(1.0 - p);
  }
  return h;
}

void FeatureBottleneckImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::FeatureBottleneck(" << options.in_features() << " -> " << options.out_features()
         << ", dropout=" << options.dropout() << (options.l2_preserved_dropout() ? " (L2-preserved)" : "")
         << ", init=" << init_name(options.init()) << ")";
}

DomainDiscriminatorImpl::DomainDiscriminatorImpl(const DomainDiscriminatorOptions& options_) : options(options_) {
  TORCH_CHECK(options.in_features() > 0 && options.hidden() > 0,
              "DomainDiscriminator: feature sizes must be positive, got in=", options.in_features(),
              " hidden=", options.hidden());
  fc1 = register_module("fc1", torch::nn::Linear(options.in_features(), options.hidden()));
  if (options.batch_norm()) bn1 = register_module("bn1", torch::nn::BatchNorm1d(options.hidden()));
  fc2 = register_module("fc2", torch::nn::Linear(options.hidden(), options.hidden()));
  if (options.batch_norm()) bn2 = register_module("bn2", torch::nn::BatchNorm1d(options.hidden()));
  fc3 = register_module("fc3", torch::nn::Linear(options.hidden(), 1));
}

torch::Tensor DomainDiscriminatorImpl::forward(const torch::Tensor& x) {
  check_input(x, options.in_features(), "DomainDiscriminator");
  auto h = fc1->forward(x);
  if (options.batch_norm()) {
    h = torch::relu(bn1->forward(h));
    h = torch::relu(bn2->forward(fc2->forward(h)));
  } else {
    // TLL's batch_norm=False variant: ReLU-Dropout(0.5) after each hidden Linear.
    h = torch::dropout(torch::relu(h), 0.5, is_training());
    h = torch::dropout(torch::relu(fc2->forward(h)), 0.5, is_training());
  }
  return fc3->forward(h);
}

void DomainDiscriminatorImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::DomainDiscriminator(in=" << options.in_features() << ", hidden=" << options.hidden()
         << ", batch_norm=" << (options.batch_norm() ? "true" : "false") << ", out=logits)";
}

MddHeadImpl::MddHeadImpl(const MddHeadOptions& options_)
    : options(options_),
      fc1(register_module("fc1", torch::nn::Linear(options_.in_features(), options_.width()))),
      fc2(register_module("fc2", torch::nn::Linear(options_.width(), options_.num_classes()))) {
  TORCH_CHECK(options.num_classes() > 0, "MddHead: num_classes must be positive, got ", options.num_classes());
  TORCH_CHECK(options.dropout() >= 0.0 && options.dropout() < 1.0, "MddHead: dropout must be in [0, 1), got ",
              options.dropout());
  // TLL mdd.py: head[dep*3].weight.normal_(0, 0.01), bias.fill_(0) for both Linear layers.
  normal_init_linear(fc1, 0.01, 0.0, 0.0);
  normal_init_linear(fc2, 0.01, 0.0, 0.0);
}

torch::Tensor MddHeadImpl::forward(const torch::Tensor& x) {
  check_input(x, options.in_features(), "MddHead");
  auto h = torch::relu(fc1->forward(x));
  h = torch::dropout(h, options.dropout(), is_training());
  return fc2->forward(h);
}

void MddHeadImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::MddHead(in=" << options.in_features() << ", width=" << options.width()
         << ", classes=" << options.num_classes() << ", dropout=" << options.dropout() << ")";
}

}  // namespace fashioncut::models
