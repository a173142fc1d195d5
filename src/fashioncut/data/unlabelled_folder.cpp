#include "fashioncut/data/unlabelled_folder.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fashioncut/core/errors.h"
#include "fashioncut/data/image_io.h"

namespace fashioncut::data {
namespace fs = std::filesystem;
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_fields(const std::string& line) {
  const char sep = line.find('\t') != std::string::npos ? '\t' : ',';
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, sep)) out.push_back(trim(field));
  return out;
}

bool parse_int(const std::string& s, int64_t* value) {
  if (s.empty()) return false;
  size_t used = 0;
  try {
    *value = std::stoll(s, &used);
  } catch (...) {
    return false;
  }
  return used == s.size();
}

}  // namespace

UnlabelledFolder::UnlabelledFolder(fs::path source, UnlabelledFolderOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
  validate(options_.transform);
  std::error_code ec;
  if (fs::is_directory(source_, ec)) {
    paths_ = list_images(source_);
    if (paths_.empty())
      throw DataError(source_.string() +
                      ": no images found (looked recursively for .png .jpg .jpeg .bmp .tif .tiff .webp)");
  } else if (fs::is_regular_file(source_, ec)) {
    is_list_ = true;
    read_list();
  } else {
    throw DataError(source_.string() + ": no such folder or list file");
  }
}

void UnlabelledFolder::read_list() {
  const std::string name = source_.string();
  std::ifstream in(source_);
  if (!in) throw DataError(name + ": cannot open list file");
  const fs::path base = source_.parent_path();
  std::vector<std::string> raw_labels, raw_names;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const auto fields = split_fields(t);
    if (paths_.empty() && raw_labels.empty() && (fields[0] == "path" || fields[0] == "file")) continue;  // header
    if (fields[0].empty()) throw DataError(name + ":" + std::to_string(line_no) + ": empty path field");
    fs::path p(fields[0]);
    if (p.is_relative()) p = base / p;
    if (!has_image_extension(p))
      throw DataError(name + ":" + std::to_string(line_no) + ": '" + fields[0] +
                      "' is not an image path (first column must be an image file)");
    if (!fs::exists(p))
      throw DataError(name + ":" + std::to_string(line_no) + ": listed image " + p.string() + " does not exist");
    paths_.push_back(p);
    if (options_.use_list_labels) {
      if (fields.size() < 2 || fields[1].empty()) {
        if (!raw_labels.empty())
          throw DataError(name + ":" + std::to_string(line_no) + ": missing label (earlier lines have one)");
      } else {
        if (raw_labels.size() + 1 != paths_.size())
          throw DataError(name + ":" + std::to_string(line_no) + ": label present but earlier lines have none");
        raw_labels.push_back(fields[1]);
        raw_names.push_back(fields.size() >= 3 ? fields[2] : "");
      }
    }
  }
  if (paths_.empty()) throw DataError(name + ": list file names no images");
  if (raw_labels.empty()) return;

  bool all_int = true;
  for (const auto& s : raw_labels) {
    int64_t v = 0;
    all_int = all_int && parse_int(s, &v) && v >= 0;
  }
  if (all_int) {
    std::map<int64_t, std::string> names;
    int64_t max_label = 0;
    for (size_t i = 0; i < raw_labels.size(); ++i) {
      int64_t v = 0;
      parse_int(raw_labels[i], &v);
      labels_.push_back(v);
      max_label = std::max(max_label, v);
      if (raw_names[i].empty()) continue;
      auto [it, inserted] = names.emplace(v, raw_names[i]);
      if (!inserted && it->second != raw_names[i])
        throw DataError(name + ": label " + std::to_string(v) + " is called both '" + it->second + "' and '" +
                        raw_names[i] + "'");
    }
    for (int64_t k = 0; k <= max_label; ++k) classes_.push_back(names.count(k) ? names[k] : std::to_string(k));
  } else {
    const std::set<std::string> unique(raw_labels.begin(), raw_labels.end());
    classes_.assign(unique.begin(), unique.end());
    for (const auto& s : raw_labels)
      labels_.push_back(std::lower_bound(classes_.begin(), classes_.end(), s) - classes_.begin());
  }
}

Example UnlabelledFolder::get(size_t index, std::mt19937_64& rng) const {
  TORCH_CHECK(index < paths_.size(), "UnlabelledFolder index ", index, " out of range ", paths_.size());
  const int64_t label = labels_.empty() ? -1 : labels_[index];
  return {load_and_transform(paths_[index], options_.transform, rng), label, paths_[index].string()};
}

std::string UnlabelledFolder::describe() const {
  std::ostringstream out;
  out << "UnlabelledFolder " << source_.string() << (is_list_ ? " (list)" : "") << ": " << paths_.size() << " images";
  if (!classes_.empty()) out << ", " << classes_.size() << " classes from the list";
  return out.str();
}

}  // namespace fashioncut::data
