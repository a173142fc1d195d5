// Batched classifier inference: preprocessing from the checkpoint's spec, eval mode,
// torch::InferenceMode, optional BN folding and bf16, and a streaming path that decodes
// files on worker threads in bounded batches (memory stays flat on any number of files).
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fashioncut/data/transforms.h"
#include "fashioncut/eval/folded_resnet.h"
#include "fashioncut/eval/model_loader.h"

namespace fashioncut::eval {

/// How a Predictor runs.
struct PredictorOptions {
  std::string device = "cpu";  ///< auto | cpu | cuda | cuda:N
  bool bf16 = false;           ///< bf16 convs (needs bf16_supported(device), else ConfigError)
  bool fold_bn = true;         ///< fold BatchNorm into convs (same outputs to ~1e-5, faster)
  bool blocked_layout = true;  ///< with fold_bn on a CPU in fp32: oneDNN blocked layout end to end (FoldedResNet::to)
  int64_t batch_size = 64;     ///< images per forward pass
  int workers = 0;             ///< decode threads (0 = hardware threads)
};

/// One decoded input of a streamed batch: an image tensor [C,S,S], or the reason it failed.
struct StreamItem {
  torch::Tensor image;
  std::string error;       ///< empty when `image` is set
  std::string error_path;  ///< the file an ImageError named, if any
};

/// Calls `load(i)` for every i in [0, n) on `workers` threads, `batch_size` at a time, and
/// `consume(first_index, items)` on the calling thread in index order. Batch k+1 is decoded
/// while batch k is consumed, so at most two batches are in memory. An exception from `load`
/// becomes the item's error (ImageError: its reason; others: what()); one from `consume`
/// propagates after the in-flight batch finishes.
void stream_batches(size_t n, int64_t batch_size, int workers, const std::function<torch::Tensor(size_t)>& load,
                    const std::function<void(size_t, std::vector<StreamItem>&)>& consume);

/// A loaded classifier, ready to label images.
class Predictor {
 public:
  /// Throws ConfigError for a bad device / unsupported bf16.
  Predictor(LoadedClassifier classifier, PredictorOptions options);

  const models::ClassifierSpec& spec() const { return loaded_.spec; }
  const std::vector<std::string>& classes() const { return loaded_.spec.classes; }
  const data::TransformOptions& transform() const { return transform_; }
  /// Whether the BN-folded backbone runs in oneDNN's blocked layout (PredictorOptions::blocked_layout).
  bool blocked_layout() const { return folded_ && folded_->blocked_layout(); }
  const PredictorOptions& options() const { return options_; }
  torch::Device device() const { return device_; }
  const LoadedClassifier& loaded() const { return loaded_; }

  /// x: float [N,C,S,S] normalised per transform() (any device) -> float32 logits [N,K] on CPU.
  torch::Tensor logits(const torch::Tensor& x);
  /// softmax(logits(x)) [N,K] on CPU.
  torch::Tensor probabilities(const torch::Tensor& x);

  /// Decodes and preprocesses one file -> [C,S,S]. Throws ImageError for a bad file.
  torch::Tensor load_image(const std::filesystem::path& path) const;

  /// Probabilities for each file (streamed with stream_batches); `on_batch(first, probs, errors)`
  /// gets, in order, per batch: probs [B,K] (rows of failed files are undefined: zeros) and the
  /// error reason per file (empty = ok).
  void predict_files(const std::vector<std::filesystem::path>& files,
                     const std::function<void(size_t, const torch::Tensor&, const std::vector<std::string>&)>& on_batch);

 private:
  LoadedClassifier loaded_;
  PredictorOptions options_;
  torch::Device device_;
  data::TransformOptions transform_;
  std::optional<FoldedResNet> folded_;  ///< set when BN folding is on
};

}  // namespace fashioncut::eval
