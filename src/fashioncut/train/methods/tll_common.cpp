#include "fashioncut/train/methods/tll_common.h"

#include "fashioncut/core/errors.h"
#include "fashioncut/core/log.h"
#include "fashioncut/models/state_dict_io.h"

namespace fashioncut::train::methods {

TllDefaults tll_defaults(const std::string& method) {
  // Each line: TLL examples/domain_adaptation/image_classification/<script> argparse defaults
  // (method.md §2.1-2.7).
  if (method == "source-only") return {0.001, 5e-4, 0};  // erm.py: --lr 0.001, --wd 5e-4, no bottleneck
  if (method == "dann") return {0.01, 1e-3, 256};        // dann.py: --lr 0.01, --wd 1e-3, --bottleneck-dim 256
  if (method == "bsp") return {0.003, 1e-3, 256};        // bsp.py: --lr 0.003, --wd 1e-3, --bottleneck-dim 256
  if (method == "mdd") return {0.004, 5e-4, 1024};       // mdd.py: --lr 0.004, --wd 5e-4, --bottleneck-dim 1024
  if (method == "afn") return {0.001, 5e-4, 1000};       // afn.py: --lr 0.001, --wd 5e-4, --bottleneck-dim 1000
  throw ConfigError("no TLL defaults for method '" + method + "'");
}

TllHyper resolve_tll_hyper(const TrainConfig& c, const std::string& method) {
  const TllDefaults d = tll_defaults(method);
  TllHyper h;
  h.lr = c.sgd_lr > 0 ? c.sgd_lr : d.lr;
  h.weight_decay = c.weight_decay >= 0 ? c.weight_decay : d.weight_decay;
  h.bottleneck_dim = c.bottleneck_dim > 0 ? c.bottleneck_dim : d.bottleneck_dim;
  log_info(method, ": sgd lr ", h.lr, (c.sgd_lr > 0 ? "" : " (TLL default)"), ", weight decay ", h.weight_decay,
            (c.weight_decay >= 0 ? "" : " (TLL default)"), ", bottleneck ", h.bottleneck_dim);
  return h;
}

models::ClassifierSpec tll_classifier_spec(const TrainConfig& config, const MethodContext& context,
                                           const std::string& bottleneck, int64_t bottleneck_dim,
                                           int64_t head_hidden) {
  models::ClassifierSpec spec = classifier_spec_for(config, context);
  spec.bottleneck = bottleneck;
  spec.bottleneck_dim = bottleneck == "none" ? 0 : bottleneck_dim;
  spec.head_hidden = head_hidden;
  spec.dropout = 0.5;  // TLL mdd.py nn.Dropout(0.5); afn.py --dropout-p 0.5
  return spec;
}

models::Classifier make_tll_classifier(const models::ClassifierSpec& spec, const TrainConfig& config) {
  models::Classifier classifier(spec);
  if (config.pretrained.empty()) return classifier;
  // TLL starts every baseline from ImageNet weights. Our head (fc) has other classes, and a
  // 1-channel or small-input stem has another conv1 shape: those keep their fresh init.
  models::LoadOptions options;
  options.strict = true;
  options.ignore_prefixes = {"fc.", "conv1."};
  const auto report = models::load_state_dict_file(*classifier->backbone, config.pretrained, options);
  log_info("pretrained backbone ", config.pretrained, ": loaded ", report.loaded.size(), " tensors, kept ",
           report.skipped.size(), " fresh (", report.skipped.empty() ? std::string("none") : report.skipped.front(),
           report.skipped.size() > 1 ? ", ..." : "", ")");
  return classifier;
}

std::unique_ptr<torch::optim::SGD> make_tll_sgd(models::ClassifierImpl& classifier,
                                                const std::vector<std::shared_ptr<torch::nn::Module>>& extra,
                                                const TllSgdOptions& o) {
  auto group_options = [&](double factor, bool momentum) {
    auto opts = std::make_unique<torch::optim::SGDOptions>(factor * o.lr);
    opts->momentum(momentum ? o.momentum : 0.0).nesterov(momentum && o.nesterov).weight_decay(o.weight_decay);
    return opts;
  };
  std::vector<torch::Tensor> backbone, head_side;
  for (const auto& item : classifier.backbone->named_parameters()) {
    const bool is_fc = item.key().rfind("fc.", 0) == 0;
    if (!is_fc) backbone.push_back(item.value());
    else if (!classifier.bottleneck) head_side.push_back(item.value());  // plain classifier: fc is the head
  }
  if (classifier.bottleneck) {
    for (auto& p : classifier.bottleneck->parameters()) head_side.push_back(p);
    for (auto& p : classifier.head->parameters()) head_side.push_back(p);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(backbone, group_options(o.backbone_factor, o.backbone_momentum));
  groups.emplace_back(head_side, group_options(1.0, true));
  for (const auto& module : extra) groups.emplace_back(module->parameters(), group_options(1.0, true));
  // Defaults only matter for groups added later (none); every group above has its own options.
  return std::make_unique<torch::optim::SGD>(
      std::move(groups),
      torch::optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.nesterov).weight_decay(o.weight_decay));
}

}  // namespace fashioncut::train::methods
