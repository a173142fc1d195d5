#include "fashioncut/synth/dataset_writer.h"

#include <unistd.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <fstream>
#include <iomanip>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/progress.h"
#include "fashioncut/core/threads.h"

namespace fashioncut::synth {
namespace fs = std::filesystem;
namespace {

std::string file_name(uint64_t index) {
  std::ostringstream s;
  s << std::setw(7) << std::setfill('0') << index << ".png";
  return s.str();
}

/// Collects numeric and string leaves of the params for stats.json.
struct ParamStats {
  std::map<std::string, std::vector<double>> numbers;
  std::map<std::string, std::map<std::string, int64_t>> strings;
  void add(const nlohmann::json& j, const std::string& prefix) {
    for (const auto& item : j.items()) {
      const std::string key = prefix.empty() ? item.key() : prefix + "." + item.key();
      const auto& v = item.value();
      if (key == "index" || key == "seed" || key == "label" || key == "pattern" || key == "garment") continue;
      if (v.is_object()) add(v, key);
      else if (v.is_number()) numbers[key].push_back(v.get<double>());
      else if (v.is_boolean()) strings[key][v.get<bool>() ? "true" : "false"]++;
      else if (v.is_string()) strings[key][v.get<std::string>()]++;
    }
  }
  nlohmann::json to_json() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, vals] : numbers) {
      const auto [lo, hi] = std::minmax_element(vals.begin(), vals.end());
      double mean = 0;
      for (double v : vals) mean += v;
      mean /= double(vals.size());
      std::vector<int64_t> hist(10, 0);
      for (double v : vals) hist[size_t(std::clamp(int((v - *lo) / std::max(1e-12, *hi - *lo) * 10), 0, 9))]++;
      out[key] = {{"count", vals.size()}, {"min", *lo}, {"max", *hi}, {"mean", mean}, {"histogram", hist}};
    }
    for (const auto& [key, counts] : strings)
      if (counts.size() <= 64) out[key] = {{"counts", counts}};
    return out;
  }
};

}  // namespace

std::string encode_png(const cv::Mat& image) {
  cv::Mat bgr;
  if (image.channels() == 3) cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  else bgr = image;
  std::vector<uint8_t> buf;
  if (!cv::imencode(".png", bgr, buf)) throw IoError("PNG encoding failed");
  return std::string(buf.begin(), buf.end());
}

cv::Mat make_contact_sheet(const std::vector<cv::Mat>& images, const std::vector<std::string>& labels, int columns,
                           int tile) {
  const int n = int(images.size());
  const int cols = std::max(1, std::min(columns, n));
  const int rows = std::max(1, (n + cols - 1) / cols);
  const int text_h = labels.empty() ? 0 : std::max(12, tile / 7);
  cv::Mat sheet(rows * (tile + text_h), cols * tile, CV_8UC3, cv::Scalar(30, 30, 30));
  for (int i = 0; i < n; ++i) {
    cv::Mat rgb;
    if (images[size_t(i)].channels() == 1) cv::cvtColor(images[size_t(i)], rgb, cv::COLOR_GRAY2RGB);
    else rgb = images[size_t(i)];
    cv::Mat t;
    cv::resize(rgb, t, cv::Size(tile, tile), 0, 0, rgb.cols < tile ? cv::INTER_NEAREST : cv::INTER_AREA);
    const int x = (i % cols) * tile, y = (i / cols) * (tile + text_h);
    t.copyTo(sheet(cv::Rect(x, y, tile, tile)));
    if (!labels.empty() && size_t(i) < labels.size())
      cv::putText(sheet, labels[size_t(i)], cv::Point(x + 2, y + tile + text_h - 3), cv::FONT_HERSHEY_PLAIN,
                  text_h / 14.0, cv::Scalar(235, 235, 235), 1, cv::LINE_AA);
  }
  return sheet;
}

WriteSummary write_dataset(const Renderer& renderer, const WriteOptions& wo) {
  const auto start = std::chrono::steady_clock::now();
  if (wo.count < 0) throw ConfigError("synth: count must be >= 0, got " + std::to_string(wo.count));
  if (wo.shard_n < 1 || wo.shard_k < 1 || wo.shard_k > wo.shard_n)
    throw ConfigError("synth: shard " + std::to_string(wo.shard_k) + "/" + std::to_string(wo.shard_n) +
                      " is invalid; use k/n with 1 <= k <= n");
  if (wo.out.empty()) throw ConfigError("synth: an output folder (--out) is required");
  const bool sharded = wo.shard_n > 1;
  const std::string suffix = sharded ? ".shard-" + std::to_string(wo.shard_k) + "-of-" + std::to_string(wo.shard_n) : "";
  const fs::path out = wo.out;
  std::error_code ec;
  if (!sharded && fs::exists(out, ec) && !fs::is_empty(out, ec))
    throw IoError(out.string() + ": output folder exists and is not empty; choose a new folder or delete it");
  if (sharded && fs::exists(out / ("manifest" + suffix + ".jsonl"), ec))
    throw IoError(out.string() + ": shard " + std::to_string(wo.shard_k) + "/" + std::to_string(wo.shard_n) +
                  " is already complete there; choose a new folder");
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  require_output_parent(out);
  if (sharded) ensure_writable_dir(out);  // shards share the folder; each writes its own temp dir in it
  const fs::path tmp = (sharded ? out : parent) /
                       ("." + out.filename().string() + suffix + ".partial." + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  ensure_writable_dir(tmp);
  for (const auto& c : renderer.class_names()) fs::create_directories(tmp / c);

  std::vector<uint64_t> indices;
  for (int64_t i = wo.shard_k - 1; i < wo.count; i += wo.shard_n) indices.push_back(uint64_t(i));
  std::vector<std::string> manifest(indices.size());
  std::vector<std::string> labels(indices.size()), garments(indices.size()), patterns(indices.size());
  const size_t n_preview = std::min<size_t>(indices.size(), 64);
  std::vector<cv::Mat> previews(n_preview);
  std::vector<nlohmann::json> params(indices.size());

  const int threads = std::max(1, std::min<int>(wo.threads <= 0 ? hardware_threads() : wo.threads,
                                                 int(std::max<size_t>(1, indices.size()))));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  std::optional<Progress> progress;
  if (wo.progress) progress.emplace("synth", int64_t(indices.size()));
  auto worker = [&] {
    try {
      for (size_t j = next++; j < indices.size() && !failed; j = next++) {
        SynthSample s = renderer.render(indices[j]);
        const std::string rel = s.label + "/" + file_name(indices[j]);
        const std::string png = encode_png(s.image);
        std::ofstream f(tmp / rel, std::ios::binary);
        f.write(png.data(), std::streamsize(png.size()));
        if (!f) throw IoError((out / rel).string() + ": cannot write image (disk full?)");
        nlohmann::json line = s.params;
        line["file"] = rel;
        manifest[j] = line.dump();
        labels[j] = s.label;
        garments[j] = s.garment;
        patterns[j] = s.pattern;
        params[j] = std::move(s.params);
        if (j < n_preview) previews[j] = s.image;
        if (progress) progress->advance();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (error) {
    fs::remove_all(tmp, ec);
    std::rethrow_exception(error);
  }
  if (progress) progress->finish();

  WriteSummary summary;
  summary.written = int64_t(indices.size());
  nlohmann::json per_garment = nlohmann::json::object(), per_pattern = nlohmann::json::object();
  ParamStats stats;
  for (const auto& c : renderer.class_names()) summary.per_class[c] = 0;
  for (size_t j = 0; j < indices.size(); ++j) {
    summary.per_class[labels[j]]++;
    per_garment[garments[j]] = per_garment.value(garments[j], 0) + 1;
    per_pattern[patterns[j]] = per_pattern.value(patterns[j], 0) + 1;
    stats.add(params[j], "");
  }
  try {
    std::vector<std::string> preview_labels;
    for (size_t j = 0; j < n_preview; ++j) preview_labels.push_back(labels[j]);
    const int tile = std::max(64, std::min(128, renderer.options().size));
    if (n_preview > 0)
      write_file_atomic(tmp / ("preview" + suffix + ".png"),
                        encode_png(make_contact_sheet(previews, preview_labels, 8, tile)));
    nlohmann::json st = {{"count", summary.written},
                         {"seed", renderer.options().seed},
                         {"shard", {wo.shard_k, wo.shard_n}},
                         {"total_count", wo.count},
                         {"label", renderer.options().label},
                         {"classes", renderer.class_names()},
                         {"per_class", summary.per_class},
                         {"per_garment", per_garment},
                         {"per_pattern", per_pattern},
                         {"params", stats.to_json()},
                         {"options", renderer.options().to_json()}};
    write_file_atomic(tmp / ("stats" + suffix + ".json"), st.dump(2) + "\n");
    std::string all;
    for (const auto& line : manifest) all += line + "\n";
    write_file_atomic(tmp / ("manifest" + suffix + ".jsonl"), all);
    // Publish: the whole folder at once (unsharded), or file by file with the manifest last.
    if (!sharded) {
      if (fs::exists(out, ec)) fs::remove(out);  // an empty folder
      fs::rename(tmp, out);
    } else {
      for (const auto& c : renderer.class_names()) {
        fs::create_directories(out / c);
        for (const auto& e : fs::directory_iterator(tmp / c)) fs::rename(e.path(), out / c / e.path().filename());
      }
      if (n_preview > 0) fs::rename(tmp / ("preview" + suffix + ".png"), out / ("preview" + suffix + ".png"));
      fs::rename(tmp / ("stats" + suffix + ".json"), out / ("stats" + suffix + ".json"));
      fs::rename(tmp / ("manifest" + suffix + ".jsonl"), out / ("manifest" + suffix + ".jsonl"));
      fs::remove_all(tmp);
    }
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    throw IoError(out.string() + ": cannot publish the dataset (" + e.what() + ")");
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace fashioncut::synth
