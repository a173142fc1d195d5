#include "fashioncut/data/labelled_folder.h"

#include <sstream>

#include "fashioncut/core/errors.h"
#include "fashioncut/core/log.h"
#include "fashioncut/data/image_io.h"

namespace fashioncut::data {
namespace fs = std::filesystem;

namespace {
const char* const kLayout = "expected layout ROOT/<class>/<image>.png|jpg|... (one subfolder per class)";
}

LabelledFolder::LabelledFolder(fs::path root, LabelledFolderOptions options)
    : root_(std::move(root)), options_(std::move(options)) {
  validate(options_.transform);
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) throw DataError(root_.string() + ": labelled folder not found; " + kLayout);
  std::vector<fs::path> class_dirs;
  int64_t loose_images = 0;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (entry.is_directory()) class_dirs.push_back(entry.path());
    else if (has_image_extension(entry.path())) ++loose_images;
  }
  if (ec) throw DataError(root_.string() + ": cannot list folder (" + ec.message() + ")");
  std::sort(class_dirs.begin(), class_dirs.end());
  if (class_dirs.empty())
    throw DataError(root_.string() + ": no class subfolders" +
                    (loose_images ? " (found " + std::to_string(loose_images) + " images directly inside; use it as an unlabelled folder)" : "") +
                    "; " + kLayout);
  if (loose_images) log_warn(root_.string(), ": ignoring ", loose_images, " images outside the class folders");

  for (const auto& dir : class_dirs) {
    const auto images = list_images(dir);
    if (images.empty() && !options_.allow_empty_classes) {
      bool any_image = false;
      for (const auto& other : class_dirs) any_image = any_image || !list_images(other).empty();
      if (!any_image) throw DataError(root_.string() + ": no images in any class folder; " + kLayout);
      throw DataError(dir.string() + ": class folder '" + dir.filename().string() +
                      "' has no images; add images, remove the folder, or allow empty classes");
    }
    const auto label = static_cast<int64_t>(classes_.size());
    classes_.push_back(dir.filename().string());
    for (const auto& p : images) items_.push_back({p, label});
  }
  if (items_.empty()) throw DataError(root_.string() + ": no images in any class folder; " + kLayout);
}

Example LabelledFolder::get(size_t index, std::mt19937_64& rng) const {
  TORCH_CHECK(index < items_.size(), "LabelledFolder index ", index, " out of range ", items_.size());
  const auto& item = items_[index];
  return {load_and_transform(item.path, options_.transform, rng), item.label, item.path.string()};
}

std::vector<int64_t> LabelledFolder::class_counts() const {
  std::vector<int64_t> counts(classes_.size(), 0);
  for (const auto& item : items_) ++counts[static_cast<size_t>(item.label)];
  return counts;
}

std::string LabelledFolder::describe() const {
  std::ostringstream out;
  out << "LabelledFolder " << root_.string() << ": " << items_.size() << " images, " << classes_.size() << " classes";
  return out.str();
}

}  // namespace fashioncut::data
