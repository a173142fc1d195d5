// Fashion-MNIST: the IDX (.gz) reader and an in-memory dataset over it.
#pragma once
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fashioncut/data/dataset.h"

namespace fashioncut::data {

/// Where Debian's dataset-fashion-mnist package puts the four IDX files.
inline const char* const kDefaultFmnistDir = "/usr/share/datasets/fashion-mnist";

/// Reads a whole file, inflating it if it is gzip (any number of members; detected by magic,
/// not by extension). Throws DataError naming the path if it is missing, unreadable or a
/// corrupt/truncated gzip stream.
std::string read_maybe_gzip(const std::filesystem::path& path);

/// IDX3 images (magic 0x00000803) -> uint8 [N,rows,cols]. Validates magic, dims and that the
/// payload is exactly N*rows*cols bytes; each failure is a DataError naming the path.
torch::Tensor read_idx_images(const std::filesystem::path& path);

/// IDX1 labels (magic 0x00000801) -> int64 [N]. Same validation as read_idx_images.
torch::Tensor read_idx_labels(const std::filesystem::path& path);

/// The ten class names in label order: t-shirt_top, trouser, pullover, dress, coat, sandal,
/// shirt, sneaker, bag, ankle_boot.
std::vector<std::string> fmnist_class_names();

/// Paths of the two IDX files of `split` ("train" | "test") in `dir`.
std::filesystem::path fmnist_images_file(const std::filesystem::path& dir, const std::string& split);
std::filesystem::path fmnist_labels_file(const std::filesystem::path& dir, const std::string& split);

struct FmnistDatasetOptions {
  std::string split = "train";  ///< "train" (60,000) or "test" (10,000)
  std::filesystem::path dir = kDefaultFmnistDir;
  bool labelled = true;  ///< false hides the labels (label -1, no classes), e.g. for the adaptation target
  TransformOptions transform;
};

/// All of one split in memory (47 MB for train); get() applies the transform to the 28x28
/// gray image. Paths are "fmnist:<split>#<index>".
class FmnistDataset : public Dataset {
 public:
  explicit FmnistDataset(FmnistDatasetOptions options);
  size_t size() const override { return static_cast<size_t>(images_.size(0)); }
  Example get(size_t index, std::mt19937_64& rng) const override;
  const std::vector<std::string>& classes() const override { return classes_; }
  std::string describe() const override;
  /// uint8 [N,28,28] and int64 [N] (labels even when hidden from get()).
  const torch::Tensor& images() const { return images_; }
  const torch::Tensor& labels() const { return labels_; }

 private:
  FmnistDatasetOptions options_;
  torch::Tensor images_, labels_;
  std::vector<std::string> classes_;
};

}  // namespace fashioncut::data
