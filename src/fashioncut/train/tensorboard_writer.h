// TensorBoard event files without libprotobuf (LibTorch exports protobuf symbols and a second
// copy clashes with it, pytorch #14573). An event file is a sequence of TFRecords:
//   uint64 length | uint32 masked_crc32c(length) | payload | uint32 masked_crc32c(payload)
// (all little-endian), whose payloads are `tensorflow.Event` protos that we encode by hand:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
//             Summary summary = 5; SessionLog session_log = 6; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; Image image = 4; TensorProto tensor = 8;
//             SummaryMetadata metadata = 9; }
//   Image   { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
// The first record of every file is `Event{wall_time, file_version: "brain.Event:2"}`.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

namespace fashioncut::train {

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slice-by-8.
/// `crc` continues a previous result: crc32c(b, crc32c(a)) == crc32c(a + b). crc32c("") == 0,
/// crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::string_view data, uint32_t crc = 0);

/// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8 of crc32c(data).
uint32_t masked_crc32c(std::string_view data);

/// Wraps `payload` in TFRecord framing (length, masked CRC of length, payload, masked CRC).
std::string frame_tfrecord(std::string_view payload);

/// Appends TensorBoard events (scalars, PNG images, text) to one event file in `dir`.
/// Each add_* call writes one Event and flushes it to the OS, so a killed process loses at
/// most the event being written (TensorBoard ignores a torn last record). Every write error
/// throws IoError naming the file. Thread-safe. A resumed run simply opens a new file in the
/// same folder; TensorBoard merges all event files of a folder.
class TensorboardWriter {
 public:
  /// Creates `dir` if needed and opens `dir/events.out.tfevents.<unix time>.<host>.<pid>.<n>`
  /// (or `dir/file_name` when given; TensorBoard only reads names containing "tfevents").
  /// Writes the file_version record. Throws IoError naming the file if it cannot.
  explicit TensorboardWriter(const std::filesystem::path& dir, const std::string& file_name = "");
  /// Flushes and closes; never throws (errors were already reported by the add_* calls).
  ~TensorboardWriter();
  TensorboardWriter(const TensorboardWriter&) = delete;
  TensorboardWriter& operator=(const TensorboardWriter&) = delete;

  /// One scalar point `tag` = `value` at `step` (stored as float32, as TensorBoard does).
  void add_scalar(const std::string& tag, double value, int64_t step);
  /// Several scalars of the same step in a single event (e.g. every loss term of a step).
  void add_scalars(const std::map<std::string, double>& values, int64_t step);
  /// An image: `image` is 8-bit gray (CV_8UC1), RGB (CV_8UC3) or RGBA (CV_8UC4), channel
  /// order R,G,B(,A) — not OpenCV's BGR. It is PNG-encoded. Throws Error on another type.
  void add_image(const std::string& tag, const cv::Mat& image, int64_t step);
  /// A text entry (TensorBoard "Text" tab, markdown), e.g. the effective config.
  void add_text(const std::string& tag, const std::string& text, int64_t step);
  /// Marks a (re)start at `step` (SessionLog START). TensorBoard loaders that honour it drop
  /// points with step >= `step` from earlier files, i.e. those logged after the checkpoint a
  /// resumed run restarted from. Harmless for loaders that ignore it.
  void add_session_start(int64_t step);
  /// Flushes buffered data to the OS; throws IoError naming the file on failure.
  void flush();

  /// The event file being written.
  const std::filesystem::path& path() const { return path_; }

 private:
  void write_event(const std::string& event_payload);  // caller holds mutex_

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
};

}  // namespace fashioncut::train
