// Writes a rendered dataset to disk: DIR/<label>/<index>.png, manifest.jsonl, stats.json,
// preview.png. Images go to a temporary folder first; the final layout appears only when
// the run completes (the manifest is the completion marker), so an interrupted run never
// looks complete.
#pragma once
#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "fashioncut/synth/renderer.h"

namespace fashioncut::synth {

/// What to write.
struct WriteOptions {
  int64_t count = 0;          ///< number of images in the whole dataset (all shards)
  int threads = 1;            ///< render threads (<= 0: all cores)
  int shard_k = 1, shard_n = 1;  ///< render indices i < count with i % shard_n == shard_k - 1
  std::filesystem::path out;  ///< output folder (must not hold a finished dataset)
  bool progress = true;       ///< progress bar / periodic lines on stderr
};

/// What was written.
struct WriteSummary {
  int64_t written = 0;                     ///< images written by this shard
  double seconds = 0;                      ///< wall time
  std::map<std::string, int64_t> per_class;  ///< images per class (this shard)
};

/// Renders and writes this shard of the dataset. Unshareded (1/1): DIR/manifest.jsonl and
/// DIR/stats.json; shard k of n: DIR/manifest.shard-k-of-n.jsonl and stats.shard-k-of-n.json
/// (images of all shards share DIR/<label>/). Throws ConfigError (bad count/shard), IoError
/// (unwritable or non-empty out dir), and leaves no finished-looking output on failure.
WriteSummary write_dataset(const Renderer& renderer, const WriteOptions& options);

/// A labelled contact sheet: `images` (8-bit, 1 or 3 channels, RGB) as tiles of `tile` px in
/// `columns` columns, with `labels` written under each tile. Returns CV_8UC3 RGB.
cv::Mat make_contact_sheet(const std::vector<cv::Mat>& images, const std::vector<std::string>& labels, int columns,
                           int tile);

/// Encodes an RGB (or gray) 8-bit image as PNG bytes.
std::string encode_png(const cv::Mat& image);

}  // namespace fashioncut::synth
