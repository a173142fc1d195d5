// `fashioncut data fmnist`: writes Fashion-MNIST out as image folders.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fashioncut::data {

struct FmnistExportOptions {
  std::filesystem::path source_dir = "/usr/share/datasets/fashion-mnist";
  std::filesystem::path out_dir;
  int threads = 0;     ///< encoder threads; 0 = all cores
  bool force = false;  ///< replace an existing out_dir (else a complete one is kept, anything else is an error)
};

struct FmnistExportSummary {
  std::filesystem::path out_dir;
  int64_t train_images = 0;
  std::vector<int64_t> train_per_class;  ///< from the labels in train_labels.csv
  int64_t test_images = 0;
  std::vector<int64_t> test_per_class;
  std::vector<std::string> classes;
  double seconds = 0;
  bool already_complete = false;  ///< out_dir was a complete import; nothing written
};

/// Name of the completion marker written last into out_dir (JSON with the counts).
inline const char* const kFmnistMarker = "fmnist_import.json";

/// Writes out_dir/train/NNNNN.png (60,000 unlabelled 28x28 gray PNGs), out_dir/train_labels.csv
/// (`path,label,class`, paths relative to out_dir, for supervised reference runs only) and
/// out_dir/test/<class>/NNNNN.png (10,000 labelled PNGs; NNNNN = index in the IDX file).
/// Everything goes into a sibling `<out_dir>.partial-<pid>` folder that is renamed into place
/// after the marker is written, so an interrupted run never looks complete. Throws IoError
/// naming out_dir when it cannot be created, DataError for bad source files.
FmnistExportSummary export_fmnist(const FmnistExportOptions& options);

/// Multi-line human summary (counts per split and class, time).
std::string format_summary(const FmnistExportSummary& summary);

}  // namespace fashioncut::data
