#include "fashioncut/models/classifier.h"

#include <cmath>

#include "fashioncut/core/errors.h"
#include "fashioncut/models/heads.h"

namespace fashioncut::models {
namespace nn = torch::nn;

int64_t ClassifierSpec::depth() const {
  if (arch == "resnet18") return 18;
  if (arch == "resnet34") return 34;
  if (arch == "resnet50") return 50;
  throw ConfigError("arch '" + arch + "' is not one of resnet18, resnet34, resnet50");
}

nlohmann::json ClassifierSpec::to_json() const {
  return {{"arch", arch},           {"in_channels", in_channels},   {"small_input", small_input},
          {"classes", classes},     {"bottleneck_dim", bottleneck_dim}, {"bottleneck", bottleneck},
          {"dropout", dropout},     {"head_hidden", head_hidden},   {"image_size", image_size},
          {"normalization", normalization}};
}

ClassifierSpec ClassifierSpec::from_json(const nlohmann::json& j) {
  ClassifierSpec s;
  try {
    s.arch = j.at("arch").get<std::string>();
    s.in_channels = j.at("in_channels").get<int64_t>();
    s.small_input = j.at("small_input").get<bool>();
    s.classes = j.at("classes").get<std::vector<std::string>>();
    s.bottleneck_dim = j.value("bottleneck_dim", int64_t{0});
    s.bottleneck = j.value("bottleneck", std::string("none"));
    s.dropout = j.value("dropout", 0.5);
    s.head_hidden = j.value("head_hidden", int64_t{0});
    s.image_size = j.at("image_size").get<int64_t>();
    s.normalization = j.value("normalization", std::string("minus-one-one"));
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(std::string("classifier description is incomplete: ") + e.what());
  }
  if (s.classes.size() < 2) throw CheckpointError("classifier description lists fewer than 2 classes");
  s.depth();
  return s;
}

ClassifierImpl::ClassifierImpl(const ClassifierSpec& s) : spec(s) {
  const bool plain = spec.bottleneck == "none";
  backbone = register_module("backbone", ResNet(ResNetOptions()
                                                    .depth(spec.depth())
                                                    .num_classes(plain ? spec.num_classes() : 1)
                                                    .in_channels(spec.in_channels)
                                                    .small_input(spec.small_input)));
  if (plain) return;
  const int64_t in = backbone->feature_dim(), dim = spec.bottleneck_dim;
  TORCH_CHECK(dim > 0, "a bottleneck classifier needs bottleneck_dim > 0");
  // Layer init as TLL (models/heads.h HeadInit): default for bn-relu, MDD and AFN re-initialise.
  nn::Linear fc(in, dim);
  nn::BatchNorm1d bn(dim);
  if (spec.bottleneck == "bn-relu-dropout") {  // TLL mdd.py bottleneck: weights N(0, 0.005), bias 0.1
    normal_init_linear(fc, 0.005, 0.1, 0.0);
  } else if (spec.bottleneck == "afn") {  // TLL afn.py: Linear N(0, 0.01) weight and bias; BN weight N(1, 0.01)
    normal_init_linear(fc, 0.01, 0.0, 0.01);
    torch::NoGradGuard guard;
    bn->weight.normal_(1.0, 0.01);
    bn->bias.zero_();
  } else if (spec.bottleneck != "bn-relu") {
    throw ConfigError("bottleneck '" + spec.bottleneck + "' is not one of none, bn-relu, bn-relu-dropout, afn");
  }
  // Sequential indices are the parameter names (bottleneck.0.weight, bottleneck.1.running_mean, ...).
  nn::Sequential b(fc, bn, nn::ReLU());  // TLL dann/bsp.py: Linear-BN1d-ReLU
  // MDD: Dropout; AFN: dropout whose L2-preserving rescale is applied in features().
  if (spec.bottleneck != "bn-relu") b->push_back(nn::Dropout(spec.dropout));
  bottleneck = register_module("bottleneck", b);
  nn::Sequential h;
  if (spec.head_hidden > 0) {  // TLL mdd.py head: Linear-ReLU-Dropout-Linear, weights N(0, 0.01), bias 0
    nn::Linear l1(dim, spec.head_hidden), l2(spec.head_hidden, spec.num_classes());
    normal_init_linear(l1, 0.01, 0.0, 0.0);
    normal_init_linear(l2, 0.01, 0.0, 0.0);
    h->push_back(l1);
    h->push_back(nn::ReLU());
    h->push_back(nn::Dropout(spec.dropout));
    h->push_back(l2);
  } else {
    nn::Linear l(dim, spec.num_classes());
    // TLL afn.py ImageClassifier re-initialises the head too: weight and bias N(0, 0.01).
    if (spec.bottleneck == "afn") normal_init_linear(l, 0.01, 0.0, 0.01);
    h->push_back(l);
  }
  head = register_module("head", h);
}

torch::Tensor ClassifierImpl::features(const torch::Tensor& x) {
  auto f = backbone->features(x);
  if (!bottleneck) return f;
  f = bottleneck->forward(f);
  // AFN's L2-preserved dropout: dropout scales kept units by 1/(1-p); AFN wants 1/sqrt(1-p).
  if (spec.bottleneck == "afn" && is_training()) f = f * std::sqrt(1.0 - spec.dropout);
  return f;
}

torch::Tensor ClassifierImpl::logits_from_features(const torch::Tensor& f) {
  return bottleneck ? head->forward(f) : backbone->fc->forward(f);
}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) {
  if (!bottleneck) return backbone->forward(x);
  return logits_from_features(features(x));
}

int64_t ClassifierImpl::feature_dim() const { return bottleneck ? spec.bottleneck_dim : backbone->feature_dim(); }

}  // namespace fashioncut::models
