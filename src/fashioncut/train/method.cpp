#include "fashioncut/train/method.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "fashioncut/core/errors.h"
#include "fashioncut/train/methods/methods.h"

namespace fashioncut::train {
namespace {
struct Entry {
  std::string description;
  MethodFactory factory;
};
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r;
  return r;
}
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

void register_method(const std::string& name, const std::string& description, MethodFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  if (!registry().emplace(name, Entry{description, std::move(factory)}).second)
    throw ConfigError("method '" + name + "' is registered twice");
}

std::unique_ptr<Method> make_method(const TrainConfig& config, const MethodContext& context) {
  register_builtin_methods();
  MethodFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    const auto it = registry().find(config.method);
    if (it == registry().end()) {
      std::string known;
      for (const auto& [name, entry] : registry()) known += (known.empty() ? "" : ", ") + name;
      throw ConfigError("unknown method '" + config.method + "'; known methods: " + known);
    }
    factory = it->second.factory;
  }
  return factory(config, context);
}

std::vector<std::pair<std::string, std::string>> list_methods() {
  register_builtin_methods();
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, entry] : registry()) out.emplace_back(name, entry.description);
  return out;
}

models::ClassifierSpec classifier_spec_for(const TrainConfig& config, const MethodContext& context) {
  models::ClassifierSpec spec;
  spec.arch = config.arch;
  spec.in_channels = context.channels;
  spec.small_input = config.small_input;
  spec.classes = context.classes;
  spec.image_size = context.image_size;
  spec.normalization = "minus-one-one";
  return spec;
}

std::function<torch::Tensor(const torch::Tensor&)> averaged_classifier(Method& method, models::WeightEmaImpl& ema) {
  return [&method, &ema](const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    torch::nn::Module& classifier = *method.classifier_module();
    models::EmaSwapGuard averaged(&ema, &classifier);
    classifier.eval();
    torch::Tensor logits = method.classify(x);
    classifier.train();
    return logits;
  };
}

void register_builtin_methods() {
  static std::once_flag once;
  std::call_once(once, [] {
    methods::register_cut_methods();
    methods::register_source_only_method();
    methods::register_baseline_methods();
  });
}

}  // namespace fashioncut::train
