#include "fashioncut/eval/predict_job.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fashioncut/core/errors.h"
#include "fashioncut/data/dataset.h"
#include "fashioncut/data/image_io.h"

namespace fashioncut::eval {
namespace fs = std::filesystem;
namespace {

/// One JSON line; bytes of a file name that are not UTF-8 (a Latin-1 "café.png") become U+FFFD
/// instead of aborting the whole output (nlohmann throws type_error 316 by default). The CSV
/// output keeps the raw bytes.
std::string json_line(const nlohmann::json& row) {
  return row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string lower_ext(const fs::path& p) {
  std::string e = p.extension().string();
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

bool is_list_file(const fs::path& p) {
  const std::string e = lower_ext(p);
  return e == ".txt" || e == ".csv" || e == ".tsv" || e == ".lst";
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// First field of a CSV/TSV line (a double-quoted field may hold commas and "" escapes).
std::string first_field(const std::string& line) {
  const std::string t = trim(line);
  if (!t.empty() && t[0] == '"') {
    std::string out;
    for (size_t i = 1; i < t.size(); ++i) {
      if (t[i] == '"') {
        if (i + 1 < t.size() && t[i + 1] == '"') {
          out += '"';
          ++i;
        } else {
          break;
        }
      } else {
        out += t[i];
      }
    }
    return out;
  }
  return trim(t.substr(0, t.find_first_of(",\t")));
}

void add_file(std::vector<InputFile>& out, const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) out.push_back({p, "file not found"});
  else if (fs::is_directory(p, ec)) out.push_back({p, "is a folder, not an image file"});
  else out.push_back({p, ""});
}

void read_list(const fs::path& list, std::vector<InputFile>& out) {
  std::ifstream in(list);
  if (!in) throw DataError(list.string() + ": cannot read the list file (check permissions)");
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::string field = first_field(t);
    if (first && (field == "path" || field == "file" || field == "filename")) {
      first = false;
      continue;
    }
    first = false;
    if (field.empty()) continue;
    fs::path p(field);
    if (p.is_relative()) p = list.parent_path() / p;
    add_file(out, p);
  }
}

}  // namespace

std::vector<InputFile> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<InputFile> out;
  for (const auto& input : inputs) {
    const fs::path p(input);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto& f : data::list_images(p)) out.push_back({f, ""});
    } else if (fs::is_regular_file(p, ec) && is_list_file(p) && !data::has_image_extension(p)) {
      read_list(p, out);
    } else {
      add_file(out, p);
    }
  }
  return out;
}

std::vector<double> read_thresholds(const fs::path& file, const std::vector<std::string>& classes,
                                    double default_threshold) {
  std::vector<double> t(classes.size(), default_threshold);
  std::ifstream in(file);
  if (!in) throw ConfigError(file.string() + ": cannot read the thresholds file");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string s = trim(line);
    if (s.empty() || s[0] == '#') continue;
    const auto sep = s.find_first_of(",\t");
    const std::string name = trim(s.substr(0, sep));
    const std::string value = sep == std::string::npos ? "" : trim(s.substr(sep + 1));
    if (number == 1 && (name == "class" || name == "label")) continue;
    const auto it = std::find(classes.begin(), classes.end(), name);
    const std::string where = file.string() + " line " + std::to_string(number) + ": ";
    if (it == classes.end()) {
      std::string list;
      for (const auto& c : classes) list += (list.empty() ? "" : ", ") + c;
      throw ConfigError(where + "class '" + name + "' is not a model class (model classes: " + list + ")");
    }
    double v = -1;
    try {
      size_t used = 0;
      v = std::stod(value, &used);
      if (used != value.size()) v = -1;
    } catch (const std::exception&) {
    }
    if (!(v >= 0.0 && v <= 1.0)) throw ConfigError(where + "threshold '" + value + "' must be a number in [0,1]");
    t[static_cast<size_t>(it - classes.begin())] = v;
  }
  return t;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string PredictSummary::to_text() const {
  std::ostringstream o;
  auto pct = [&](int64_t n) { return total ? 100.0 * double(n) / double(total) : 0.0; };
  char buf[256];
  std::snprintf(buf, sizeof buf, "predict: %lld images in %.2f s (%.1f images/s): %lld accepted, %lld unknown (%.1f%%), "
                "%lld errors (%.1f%%)\n",
                static_cast<long long>(total), seconds, seconds > 0 ? double(total) / seconds : 0.0,
                static_cast<long long>(accepted), static_cast<long long>(unknown), pct(unknown),
                static_cast<long long>(errors), pct(errors));
  o << buf;
  if (!per_class.empty()) {
    o << "per class (top-1, accepted + unknown):";
    for (const auto& [name, n] : per_class) o << ' ' << name << '=' << n;
    o << '\n';
  }
  return o.str();
}

PredictSummary run_predict(Predictor& predictor, const PredictJobOptions& options, std::ostream& out,
                           std::ostream* progress) {
  const auto& classes = predictor.classes();
  const int64_t k_classes = static_cast<int64_t>(classes.size());
  const int64_t top_k = std::clamp<int64_t>(options.top_k, 1, k_classes);
  if (options.threshold < 0 || options.threshold > 1) throw ConfigError("--threshold must be in [0,1]");
  const std::vector<double> thresholds = options.thresholds_file.empty()
                                             ? std::vector<double>(classes.size(), options.threshold)
                                             : read_thresholds(options.thresholds_file, classes, options.threshold);
  const auto inputs = expand_inputs(options.inputs);
  if (inputs.empty()) throw DataError("predict: no images found in the given inputs");

  if (options.format == OutputFormat::kCsv) {
    out << "path,label,confidence";
    for (int64_t j = 2; j <= top_k; ++j) out << ",top" << j << ",top" << j << "_conf";
    out << ",status,error\n";
  }
  PredictSummary summary;
  const auto start = std::chrono::steady_clock::now();
  std::vector<fs::path> paths;
  std::vector<size_t> readable;  // index into inputs of files that get decoded
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].error.empty()) {
      readable.push_back(i);
      paths.push_back(inputs[i].path);
    }
  }
  size_t next_input = 0;  // rows are written in input order
  auto write_row = [&](size_t input_index, const float* probs, const std::string& error) {
    const std::string path = inputs[input_index].path.string();
    ++summary.total;
    char num[32];
    if (!error.empty() || !probs) {
      ++summary.errors;
      if (options.format == OutputFormat::kCsv) {
        out << csv_field(path) << ",,";
        for (int64_t j = 2; j <= top_k; ++j) out << ",,";
        out << ",error," << csv_field(error) << '\n';
      } else {
        out << json_line({{"path", path}, {"status", "error"}, {"error", error}}) << '\n';
      }
      return;
    }
    std::vector<int64_t> order(static_cast<size_t>(k_classes));
    for (int64_t c = 0; c < k_classes; ++c) order[size_t(c)] = c;
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(),
                      [&](int64_t a, int64_t b) { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b); });
    const int64_t best = order[0];
    const bool accepted = probs[best] >= thresholds[size_t(best)];
    const std::string status = accepted ? "accepted" : "unknown";
    (accepted ? summary.accepted : summary.unknown)++;
    summary.per_class[classes[size_t(best)]]++;
    if (options.format == OutputFormat::kCsv) {
      out << csv_field(path);
      for (int64_t j = 0; j < top_k; ++j) {
        std::snprintf(num, sizeof num, "%.6f", probs[order[size_t(j)]]);
        out << ',' << csv_field(classes[size_t(order[size_t(j)])]) << ',' << num;
      }
      out << ',' << status << ",\n";
    } else {
      nlohmann::json top = nlohmann::json::array();
      for (int64_t j = 0; j < top_k; ++j)
        top.push_back({{"label", classes[size_t(order[size_t(j)])]}, {"confidence", probs[order[size_t(j)]]}});
      out << json_line({{"path", path},
                        {"label", classes[size_t(best)]},
                        {"confidence", probs[best]},
                        {"top", top},
                        {"status", status}})
          << '\n';
    }
  };
  auto flush_pre_errors = [&](size_t upto) {  // inputs that failed before decoding
    while (next_input < upto) {
      write_row(next_input, nullptr, inputs[next_input].error);
      ++next_input;
    }
  };
  auto last_report = start;
  predictor.predict_files(paths, [&](size_t first, const torch::Tensor& probs, const std::vector<std::string>& errors) {
    const auto p = probs.contiguous();
    for (size_t i = 0; i < errors.size(); ++i) {
      const size_t input_index = readable[first + i];
      flush_pre_errors(input_index);
      write_row(input_index, errors[i].empty() ? p[int64_t(i)].data_ptr<float>() : nullptr, errors[i]);
      next_input = input_index + 1;
    }
    const auto now = std::chrono::steady_clock::now();
    if (progress && now - last_report > std::chrono::seconds(10)) {
      last_report = now;
      *progress << "predict: " << summary.total << "/" << inputs.size() << " images\n" << std::flush;
    }
  });
  flush_pre_errors(inputs.size());
  out.flush();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace fashioncut::eval
