#include "fashioncut/train/streams.h"

#include <algorithm>

#include "fashioncut/core/errors.h"
#include "fashioncut/core/seed.h"
#include "fashioncut/data/synth_dataset.h"

namespace fashioncut::train {
namespace {

bool is_synth(const std::string& spec) { return spec.rfind("synth:", 0) == 0; }

std::string synth_spec(const std::string& spec, int64_t count, uint64_t seed) {
  return spec + (spec.find('?') == std::string::npos ? "?" : "&") + "count=" + std::to_string(count) +
         "&seed=" + std::to_string(seed);
}

/// `count` indices spread evenly over [0, n).
std::vector<size_t> evenly_spaced(size_t n, size_t count) {
  std::vector<size_t> out;
  count = std::min(count, n);
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(i * n / count);
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

SubsetDataset::SubsetDataset(std::shared_ptr<const data::Dataset> base, std::vector<size_t> indices, std::string name)
    : base_(std::move(base)), indices_(std::move(indices)), name_(std::move(name)) {}

data::Example SubsetDataset::get(size_t index, std::mt19937_64& rng) const {
  TORCH_CHECK(index < indices_.size(), "SubsetDataset index ", index, " out of range ", indices_.size());
  return base_->get(indices_[index], rng);
}

std::string SubsetDataset::describe() const {
  return name_ + ": " + std::to_string(indices_.size()) + " of " + base_->describe();
}

RunData open_run_data(const TrainConfig& c) {
  data::register_synth_dataset();
  RunData d;
  d.transform.size = c.image_size;
  d.transform.channels = c.channels;
  d.transform.norm = data::Normalization::kMinusOneOne;
  if (is_synth(c.source)) {
    // Distinct synthetic images for the whole run unless capped; the held-out set uses
    // another seed, so it never overlaps the training renders.
    const int64_t count = c.source_count > 0 ? c.source_count : c.epochs * c.iters_per_epoch * c.batch_size;
    if (count <= 0) throw ConfigError("config key 'source-count': set it (or iters-per-epoch) for a synth: source");
    d.source = data::open_dataset(synth_spec(c.source, count, c.seed), d.transform, true);
    if (c.heldout_count > 0)
      d.heldout = data::open_dataset(synth_spec(c.source, c.heldout_count, derive_seed(c.seed, 0, 0x5EED)),
                                     d.transform, true);
  } else {
    auto full = data::open_dataset(c.source, d.transform, true);
    // Every 20th image (up to heldout_count) is held out for label-free selection.
    std::vector<size_t> train_idx, held_idx;
    for (size_t i = 0; i < full->size(); ++i) {
      if (i % 20 == 19 && static_cast<int64_t>(held_idx.size()) < c.heldout_count) held_idx.push_back(i);
      else train_idx.push_back(i);
    }
    d.source = std::make_shared<SubsetDataset>(full, train_idx, "source");
    if (!held_idx.empty()) d.heldout = std::make_shared<SubsetDataset>(full, held_idx, "held-out source");
  }
  d.classes = d.source->classes();
  if (d.classes.size() < 2)
    throw DataError(c.source + ": the source needs at least 2 classes, found " + std::to_string(d.classes.size()));
  d.target = data::open_dataset(c.target, d.transform, false);
  if (d.target->size() == 0) throw DataError(c.target + ": the target has no images");
  d.target_eval = std::make_shared<SubsetDataset>(
      d.target, evenly_spaced(d.target->size(), static_cast<size_t>(c.target_eval_count)), "target eval");
  if (!c.eval.empty()) {
    std::shared_ptr<const data::Dataset> oracle = data::open_dataset(c.eval, d.transform, true);
    for (const auto& name : oracle->classes()) {
      const auto it = std::find(d.classes.begin(), d.classes.end(), name);
      if (it == d.classes.end())
        throw DataError(c.eval + ": class '" + name + "' is not a source class; source classes: " + join(d.classes) +
                        "; eval classes: " + join(oracle->classes()));
      d.oracle_to_source.push_back(it - d.classes.begin());
    }
    if (c.eval_count > 0 && static_cast<size_t>(c.eval_count) < oracle->size())
      oracle = std::make_shared<SubsetDataset>(oracle, evenly_spaced(oracle->size(), c.eval_count), "oracle");
    d.oracle = oracle;
  }
  return d;
}

BatchStream::BatchStream(std::shared_ptr<const data::Dataset> dataset, const data::LoaderOptions& options)
    : loader_(std::make_unique<data::Loader>(std::move(dataset), options)) {
  loader_->start_epoch(0, 0);
}

data::Batch BatchStream::next() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto batch = loader_->next()) {
      ++batch_;
      return std::move(*batch);
    }
    ++epoch_;
    batch_ = 0;
    loader_->start_epoch(epoch_, 0);
  }
  throw DataError("dataset yields no complete batch (fewer images than the batch size?)");
}

void BatchStream::seek(const nlohmann::json& position) {
  epoch_ = position.at("epoch").get<int64_t>();
  batch_ = position.at("batch").get<int64_t>();
  loader_->start_epoch(epoch_, batch_);
}

std::pair<torch::Tensor, torch::Tensor> collect_logits(const data::Dataset& dataset,
                                                       const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                                                       const torch::Device& device, int64_t batch_size, int workers) {
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = false;
  options.drop_last = false;
  options.workers = workers;
  // The loader takes shared ownership; wrap the reference without deleting it.
  data::Loader loader(std::shared_ptr<const data::Dataset>(&dataset, [](const data::Dataset*) {}), options);
  loader.start_epoch(0, 0);
  std::vector<torch::Tensor> logits, labels;
  torch::NoGradGuard no_grad;
  while (auto batch = loader.next()) {
    logits.push_back(fn(batch->images.to(device)).to(torch::kCPU, torch::kFloat));
    labels.push_back(batch->labels);
  }
  if (logits.empty()) return {torch::empty({0, 0}), torch::empty({0}, torch::kLong)};
  return {torch::cat(logits), torch::cat(labels)};
}

}  // namespace fashioncut::train
