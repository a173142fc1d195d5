#include "fashioncut/data/synth_dataset.h"

#include <fstream>
#include <mutex>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/data/transforms.h"

namespace fashioncut::data {

SynthDataset::SynthDataset(std::shared_ptr<const synth::Renderer> renderer, size_t count, TransformOptions transform)
    : renderer_(std::move(renderer)), count_(count), transform_(std::move(transform)) {}

Example SynthDataset::get(size_t index, std::mt19937_64& rng) const {
  TORCH_CHECK(index < count_, "SynthDataset index ", index, " out of range ", count_);
  const synth::SynthSample sample = renderer_->render(index);
  Example e;
  e.image = apply_transform(sample.image, transform_, rng);
  e.label = sample.label_index;
  e.path = "synth#" + std::to_string(index);
  return e;
}

std::string SynthDataset::describe() const {
  const auto& o = renderer_->options();
  return "synth:" + o.preset + " (seed " + std::to_string(o.seed) + "): " + std::to_string(count_) + " renders, " +
         std::to_string(renderer_->class_names().size()) + " " + o.label + " classes, rendered on the fly";
}

namespace {
std::shared_ptr<Dataset> open_synth(const std::string& rest, const TransformOptions& transform, bool labelled) {
  const auto q = rest.find('?');
  const std::string base = rest.substr(0, q);
  size_t count = 10000;
  uint64_t seed = 0;
  std::string label;
  if (q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    size_t start = 0;
    while (start <= query.size()) {
      const size_t end = std::min(query.find('&', start), query.size());
      const std::string item = query.substr(start, end - start);
      const auto eq = item.find('=');
      const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
      try {
        if (key == "count") count = std::stoull(value);
        else if (key == "seed") seed = std::stoull(value);
        else if (key == "label") label = value;
        else if (!key.empty()) throw ConfigError("");
      } catch (const std::exception&) {
        throw ConfigError("synth:" + rest + ": bad parameter '" + item + "' (use count=N, seed=S, label=pattern|garment)");
      }
      start = end + 1;
    }
  }
  synth::SynthOptions options;
  if (base.size() > 5 && base.substr(base.size() - 5) == ".json") {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(base));
    } catch (const nlohmann::json::exception& e) {
      throw ConfigError(base + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    options = synth::SynthOptions::from_json(j);
  } else if (base.size() > 5 && base.substr(base.size() - 5) == ".toml") {
    options = synth::SynthOptions::from_toml(read_file(base), base);
  } else {
    options = synth::SynthOptions::preset_options(base);
  }
  options.seed = seed;
  if (!label.empty()) options.label = label;
  auto renderer = std::make_shared<const synth::Renderer>(options);
  return std::make_shared<SynthDataset>(renderer, count, transform);
}
}  // namespace

void register_synth_dataset() {
  static std::once_flag once;
  std::call_once(once, [] { register_dataset_prefix("synth", open_synth); });
}

}  // namespace fashioncut::data
