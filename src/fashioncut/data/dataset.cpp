#include "fashioncut/data/dataset.h"

#include <sys/stat.h>

#include <map>
#include <set>
#include <mutex>

#include "fashioncut/core/errors.h"
#include "fashioncut/data/fmnist.h"
#include "fashioncut/data/image_io.h"
#include "fashioncut/data/labelled_folder.h"
#include "fashioncut/data/unlabelled_folder.h"

namespace fashioncut::data {
namespace fs = std::filesystem;
namespace {

std::shared_ptr<Dataset> open_fmnist(const std::string& rest, const TransformOptions& transform, bool labelled) {
  // rest = "train" | "test" | "train:/dir" | "test:/dir"
  FmnistDatasetOptions options;
  const auto colon = rest.find(':');
  options.split = rest.substr(0, colon);
  if (colon != std::string::npos) options.dir = rest.substr(colon + 1);
  options.labelled = labelled;
  options.transform = transform;
  return std::make_shared<FmnistDataset>(options);
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, DatasetFactory> factories{{"fmnist", open_fmnist}};
};
Registry& registry() {
  static Registry instance;
  return instance;
}

bool has_subfolders(const fs::path& root) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec))
    if (entry.is_directory() && entry.path().filename().string().rfind('.', 0) != 0) return true;
  return false;
}

}  // namespace

void register_dataset_prefix(const std::string& prefix, DatasetFactory factory) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!r.factories.emplace(prefix, std::move(factory)).second)
    throw ConfigError("dataset prefix '" + prefix + ":' is registered twice");
}

std::vector<std::string> dataset_prefixes() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& [name, factory] : r.factories) out.push_back(name);
  return out;
}

std::shared_ptr<Dataset> open_dataset(const std::string& spec, const TransformOptions& transform, bool labelled) {
  validate(transform);
  if (spec.empty()) throw DataError("empty dataset spec; give a folder, a list file, or fmnist:train|test");
  const auto colon = spec.find(':');
  if (colon != std::string::npos && colon > 0) {
    DatasetFactory factory;
    {
      auto& r = registry();
      std::lock_guard<std::mutex> lock(r.mutex);
      const auto it = r.factories.find(spec.substr(0, colon));
      if (it != r.factories.end()) factory = it->second;
    }
    if (factory) return factory(spec.substr(colon + 1), transform, labelled);
  }
  const fs::path path(spec);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (labelled && has_subfolders(path)) return std::make_shared<LabelledFolder>(path, LabelledFolderOptions{transform});
    return std::make_shared<UnlabelledFolder>(path, UnlabelledFolderOptions{transform, false});
  }
  if (fs::is_regular_file(path, ec)) return std::make_shared<UnlabelledFolder>(path, UnlabelledFolderOptions{transform, labelled});
  std::string known;
  for (const auto& p : dataset_prefixes()) known += (known.empty() ? "" : ", ") + p + ":";
  throw DataError(spec + ": no such folder or list file, and not a known dataset spec (prefixes: " + known + ")");
}

std::vector<fs::path> list_images(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw DataError(root.string() + ": not a folder (missing or not a directory)");
  std::vector<fs::path> out;
  // Folders by (device, inode): a symlink loop (a/loop -> ..) or a second link to a folder is
  // listed once, instead of recursing 40 links deep into ELOOP (and 2^40 paths for two loops).
  std::set<std::pair<dev_t, ino_t>> seen;
  auto first_visit = [&seen](const fs::path& dir) {
    struct stat st {};
    return ::stat(dir.c_str(), &st) != 0 || seen.insert({st.st_dev, st.st_ino}).second;
  };
  first_visit(root);
  fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink, ec), end;
  if (ec) throw DataError(root.string() + ": cannot list folder (" + ec.message() + ")");
  for (; it != end; it.increment(ec)) {
    if (ec) throw DataError(root.string() + ": cannot list folder (" + ec.message() + ")");
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec) && !first_visit(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (has_image_extension(it->path()) && !it->is_directory()) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

torch::Tensor load_and_transform(const fs::path& path, const TransformOptions& transform, std::mt19937_64& rng) {
  return apply_transform(decode_image(path), transform, rng);
}

}  // namespace fashioncut::data
