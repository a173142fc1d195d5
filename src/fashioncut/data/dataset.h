// The Dataset interface every source implements (folders, Fashion-MNIST, on-the-fly
// synthetic), and open_dataset(): one spec string -> a dataset.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fashioncut/data/transforms.h"

namespace fashioncut::data {

/// One transformed sample.
struct Example {
  torch::Tensor image;  ///< float [C,H,W], normalised per TransformOptions::norm
  int64_t label = -1;   ///< class index into Dataset::classes(), -1 when unlabelled
  std::string path;     ///< source file (or a pseudo-path such as "fmnist:train#17")
};

/// A random-access source of examples. Implementations are immutable after construction,
/// so get() is thread-safe.
class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Number of examples; 0 = unlimited (e.g. on-the-fly synthetic: any index is valid).
  virtual size_t size() const = 0;
  /// Example `index`, transformed with randomness drawn from `rng` only. Thread-safe.
  /// Throws ImageError for a bad file.
  virtual Example get(size_t index, std::mt19937_64& rng) const = 0;
  /// Class names, index = label; empty if unlabelled.
  virtual const std::vector<std::string>& classes() const = 0;
  /// One line for logs, e.g. "LabelledFolder out/fm/test: 10000 images, 10 classes".
  virtual std::string describe() const = 0;
};

/// Builds a dataset from the part of a spec after "prefix:".
using DatasetFactory =
    std::function<std::shared_ptr<Dataset>(const std::string& rest, const TransformOptions&, bool labelled)>;

/// Registers `factory` for specs "prefix:rest" (e.g. "synth"). Throws ConfigError on a duplicate prefix.
/// Note: fashioncut_core is a static library, so a static registrar object in an otherwise
/// unreferenced .cpp may be dropped by the linker: call this from a function the app or
/// trainer calls (e.g. `synth::register_synth_dataset()`), before open_dataset.
void register_dataset_prefix(const std::string& prefix, DatasetFactory factory);

/// Registered prefixes, sorted (built in: "fmnist").
std::vector<std::string> dataset_prefixes();

/// Opens a dataset from a spec:
///  - "PREFIX:REST" for a registered prefix: "fmnist:train", "fmnist:test", "fmnist:test:/dir/of/idx/files";
///  - a folder: LabelledFolder if `labelled` and it has (non-hidden) subfolders, else UnlabelledFolder;
///  - a file: a list of image paths (see UnlabelledFolder), labelled if `labelled` and it has a label column.
/// Throws DataError naming the spec when nothing matches.
std::shared_ptr<Dataset> open_dataset(const std::string& spec, const TransformOptions& transform, bool labelled);

/// Every image file (has_image_extension) under `root`, recursively, sorted by path; hidden
/// files and folders (name starting with '.') are skipped. Throws DataError if `root` is not a folder.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& root);

/// Decodes `path`, transforms it; the shared body of the file-backed datasets' get().
torch::Tensor load_and_transform(const std::filesystem::path& path, const TransformOptions& transform,
                                 std::mt19937_64& rng);

}  // namespace fashioncut::data
