#include "fashioncut/data/fmnist_export.h"

#include <unistd.h>

#include <opencv2/imgcodecs.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/progress.h"
#include "fashioncut/core/threads.h"
#include "fashioncut/data/fmnist.h"

namespace fashioncut::data {
namespace fs = std::filesystem;
namespace {

std::string index_name(int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%05lld.png", static_cast<long long>(i));
  return buf;
}

std::vector<int64_t> per_class(const torch::Tensor& labels) {
  const auto counts = torch::bincount(labels, {}, 10);
  return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

FmnistExportSummary read_marker(const fs::path& out) {
  const auto j = nlohmann::json::parse(read_file(out / kFmnistMarker));
  FmnistExportSummary s;
  s.out_dir = out;
  s.train_images = j.at("train_images");
  s.test_images = j.at("test_images");
  s.train_per_class = j.at("train_per_class").get<std::vector<int64_t>>();
  s.test_per_class = j.at("test_per_class").get<std::vector<int64_t>>();
  s.classes = j.at("classes").get<std::vector<std::string>>();
  s.already_complete = true;
  return s;
}

void write_png(const fs::path& path, const torch::Tensor& image) {
  const cv::Mat gray(static_cast<int>(image.size(0)), static_cast<int>(image.size(1)), CV_8UC1,
                     const_cast<uint8_t*>(image.data_ptr<uint8_t>()));
  std::vector<uint8_t> png;
  if (!cv::imencode(".png", gray, png)) throw IoError(path.string() + ": PNG encoding failed");
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  if (!out.flush()) throw IoError(path.string() + ": write failed (disk full or not writable?)");
}

}  // namespace

FmnistExportSummary export_fmnist(const FmnistExportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  fs::path out = options.out_dir;
  if (out.empty()) throw ConfigError("fmnist export: an output folder (--out) is required");
  if (!out.has_filename()) out = out.parent_path();
  std::error_code ec;
  const bool exists = fs::exists(out, ec);
  if (exists && !options.force) {
    if (fs::is_regular_file(out / kFmnistMarker, ec)) return read_marker(out);
    if (!fs::is_directory(out, ec) || !fs::is_empty(out, ec))
      throw DataError(out.string() + ": exists and is not a complete Fashion-MNIST import; remove it or pass --force");
  }
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  try {
    require_output_parent(out);
  } catch (const IoError& e) {
    throw IoError(std::string("cannot create the output folder: ") + e.what());
  }

  const auto classes = fmnist_class_names();
  const auto train_images = read_idx_images(fmnist_images_file(options.source_dir, "train"));
  const auto train_labels = read_idx_labels(fmnist_labels_file(options.source_dir, "train"));
  const auto test_images = read_idx_images(fmnist_images_file(options.source_dir, "test"));
  const auto test_labels = read_idx_labels(fmnist_labels_file(options.source_dir, "test"));
  if (train_images.size(0) != train_labels.size(0) || test_images.size(0) != test_labels.size(0))
    throw DataError(options.source_dir.string() + ": image and label counts differ");
  for (const auto* labels : {&train_labels, &test_labels})
    if (labels->min().item<int64_t>() < 0 || labels->max().item<int64_t>() > 9)
      throw DataError(options.source_dir.string() + ": labels outside 0..9");

  const fs::path partial = parent / (out.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(partial, ec);
  try {
    fs::create_directories(partial / "train");
    for (const auto& c : classes) fs::create_directories(partial / "test" / c);
  } catch (const fs::filesystem_error& e) {
    throw IoError(partial.string() + ": cannot create folder (" + e.code().message() + ")");
  }

  const int64_t n_train = train_images.size(0), n_test = test_images.size(0), total = n_train + n_test;
  const auto* train_label = train_labels.data_ptr<int64_t>();
  const auto* test_label = test_labels.data_ptr<int64_t>();
  try {
    Progress progress("fmnist export", total, 5.0);
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&] {
      try {
        constexpr int64_t kChunk = 256;
        while (!failed) {
          const int64_t begin = next.fetch_add(kChunk);
          if (begin >= total) break;
          const int64_t end = std::min(total, begin + kChunk);
          for (int64_t i = begin; i < end; ++i) {
            if (i < n_train) {
              write_png(partial / "train" / index_name(i), train_images[i]);
            } else {
              const int64_t t = i - n_train;
              write_png(partial / "test" / classes[static_cast<size_t>(test_label[t])] / index_name(t), test_images[t]);
            }
          }
          progress.advance(end - begin);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    };
    const int threads = options.threads > 0 ? options.threads : hardware_threads();
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    progress.finish();

    std::ostringstream csv;
    csv << "path,label,class\n";
    for (int64_t i = 0; i < n_train; ++i)
      csv << "train/" << index_name(i) << ',' << train_label[i] << ',' << classes[size_t(train_label[i])] << '\n';
    write_file_atomic(partial / "train_labels.csv", csv.str());
  } catch (...) {
    fs::remove_all(partial, ec);
    throw;
  }

  FmnistExportSummary s;
  s.out_dir = out;
  s.classes = classes;
  s.train_images = n_train;
  s.test_images = n_test;
  s.train_per_class = per_class(train_labels);
  s.test_per_class = per_class(test_labels);
  const nlohmann::json marker{{"source_dir", options.source_dir.string()}, {"train_images", n_train},
                              {"test_images", n_test},                     {"train_per_class", s.train_per_class},
                              {"test_per_class", s.test_per_class},        {"classes", classes}};
  write_file_atomic(partial / kFmnistMarker, marker.dump(2) + "\n");  // last file: marks the folder complete

  const fs::path old = parent / (out.filename().string() + ".old-" + std::to_string(::getpid()));
  if (fs::exists(out, ec)) fs::rename(out, old, ec);
  fs::rename(partial, out, ec);
  if (ec) throw IoError(out.string() + ": cannot move the finished import into place (" + ec.message() + "); it is in " +
                        partial.string());
  fs::remove_all(old, ec);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

std::string format_summary(const FmnistExportSummary& s) {
  std::ostringstream out;
  out << "Fashion-MNIST -> " << s.out_dir.string();
  if (s.already_complete) out << " (already complete; nothing written, use --force to redo)";
  else out << " (" << std::fixed << std::setprecision(1) << s.seconds << " s)";
  out << "\n  train/             " << s.train_images << " images, unlabelled (labels only in train_labels.csv)";
  out << "\n  test/<class>/      " << s.test_images << " images, " << s.classes.size() << " classes";
  out << "\n  " << std::left << std::setw(14) << "class" << std::right << std::setw(8) << "train" << std::setw(8)
      << "test";
  for (size_t c = 0; c < s.classes.size(); ++c)
    out << "\n  " << std::left << std::setw(14) << s.classes[c] << std::right << std::setw(8)
        << (c < s.train_per_class.size() ? s.train_per_class[c] : 0) << std::setw(8)
        << (c < s.test_per_class.size() ? s.test_per_class[c] : 0);
  return out.str();
}

}  // namespace fashioncut::data
