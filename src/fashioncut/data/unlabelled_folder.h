// A bag of images: a folder tree, or a text/CSV list of paths (optionally with labels).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "fashioncut/data/dataset.h"

namespace fashioncut::data {

struct UnlabelledFolderOptions {
  TransformOptions transform;
  /// For a list file with a label column: use it (classes() non-empty). Ignored for folders.
  bool use_list_labels = false;
};

/// Either every image under a folder (recursive, sorted, hidden entries skipped), or the
/// files named by a list: one entry per line, `path[,label[,class_name]]` (comma or tab
/// separated; blank lines and lines starting with '#' skipped; an optional header row whose
/// first field is "path"). Relative paths are relative to the list's folder. Labels are
/// integers (class names from the third column, or "0".."K-1") or class names (sorted,
/// label = position). Throws DataError naming the folder/list (and line) for: missing
/// source, no images, a listed file that does not exist, inconsistent labels.
class UnlabelledFolder : public Dataset {
 public:
  UnlabelledFolder(std::filesystem::path source, UnlabelledFolderOptions options);
  size_t size() const override { return paths_.size(); }
  Example get(size_t index, std::mt19937_64& rng) const override;
  const std::vector<std::string>& classes() const override { return classes_; }
  std::string describe() const override;
  const std::vector<std::filesystem::path>& paths() const { return paths_; }

 private:
  void read_list();
  std::filesystem::path source_;
  UnlabelledFolderOptions options_;
  bool is_list_ = false;
  std::vector<std::filesystem::path> paths_;
  std::vector<int64_t> labels_;  // empty unless labelled
  std::vector<std::string> classes_;
};

}  // namespace fashioncut::data
