// ImageFolder layout: root/<class>/<image>, classes sorted by name.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "fashioncut/data/dataset.h"

namespace fashioncut::data {

struct LabelledFolderOptions {
  TransformOptions transform;
  bool allow_empty_classes = false;  ///< keep a class folder with no images (else DataError naming it)
};

/// root/<class>/**/<image>: one class per non-hidden subfolder (sorted by name, label = position),
/// images found recursively inside each, sorted by path. Files directly under root are ignored
/// (with a warning). Throws DataError naming the folder for: a missing root, no class folders,
/// an empty class (unless allowed), or no images at all (the message shows the expected layout).
class LabelledFolder : public Dataset {
 public:
  LabelledFolder(std::filesystem::path root, LabelledFolderOptions options);
  size_t size() const override { return items_.size(); }
  Example get(size_t index, std::mt19937_64& rng) const override;
  const std::vector<std::string>& classes() const override { return classes_; }
  std::string describe() const override;
  /// Number of images per class, index = label.
  std::vector<int64_t> class_counts() const;
  const std::filesystem::path& root() const { return root_; }

 private:
  struct Item {
    std::filesystem::path path;
    int64_t label;
  };
  std::filesystem::path root_;
  LabelledFolderOptions options_;
  std::vector<std::string> classes_;
  std::vector<Item> items_;
};

}  // namespace fashioncut::data
