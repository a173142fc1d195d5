// Training data streams: the datasets of a run and endless, resumable batch streams over them.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fashioncut/data/dataset.h"
#include "fashioncut/data/loader.h"
#include "fashioncut/train/train_config.h"

namespace fashioncut::train {

/// A fixed list of indices of another dataset (held-out splits, evaluation subsets).
class SubsetDataset : public data::Dataset {
 public:
  SubsetDataset(std::shared_ptr<const data::Dataset> base, std::vector<size_t> indices, std::string name);
  size_t size() const override { return indices_.size(); }
  data::Example get(size_t index, std::mt19937_64& rng) const override;
  const std::vector<std::string>& classes() const override { return base_->classes(); }
  std::string describe() const override;

 private:
  std::shared_ptr<const data::Dataset> base_;
  std::vector<size_t> indices_;
  std::string name_;
};

/// The datasets of one run.
struct RunData {
  std::shared_ptr<const data::Dataset> source;    ///< labelled training source
  std::shared_ptr<const data::Dataset> heldout;   ///< labelled held-out source (label-free selection)
  std::shared_ptr<const data::Dataset> target;    ///< unlabelled target
  std::shared_ptr<const data::Dataset> target_eval;  ///< subset of target scored each epoch
  std::shared_ptr<const data::Dataset> oracle;    ///< labelled target (may be null)
  std::vector<int64_t> oracle_to_source;          ///< oracle label -> source label
  std::vector<std::string> classes;               ///< source class names
  data::TransformOptions transform;
};

/// Opens every dataset of `config`; checks that the oracle's classes are among the source's.
RunData open_run_data(const TrainConfig& config);

/// An endless stream of batches with a saveable position (loader epoch, batch index).
class BatchStream {
 public:
  BatchStream(std::shared_ptr<const data::Dataset> dataset, const data::LoaderOptions& options);
  /// Next batch; moves to the next loader epoch at the end of one.
  data::Batch next();
  /// Position for checkpoints and restore.
  nlohmann::json position() const { return {{"epoch", epoch_}, {"batch", batch_}}; }
  void seek(const nlohmann::json& position);
  double wait_seconds() const { return loader_->wait_seconds(); }
  std::vector<std::string> skipped() const { return loader_->skipped(); }

 private:
  std::unique_ptr<data::Loader> loader_;
  int64_t epoch_ = 0, batch_ = 0;
};

/// Runs `fn` (images on `device` -> logits) over `dataset` in order and returns
/// {logits [N,C] on CPU, labels [N]}.
std::pair<torch::Tensor, torch::Tensor> collect_logits(const data::Dataset& dataset,
                                                       const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                                                       const torch::Device& device, int64_t batch_size, int workers);

}  // namespace fashioncut::train
