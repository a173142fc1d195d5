// Image decoding with validation: every way a file can be unusable becomes an
// ImageError{path, reason}, never an empty cv::Mat or a crash deep in a worker.
#pragma once
#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace fashioncut::data {

/// The pixel limit DecodeOptions starts with: FASHIONCUT_MAX_PIXELS (a positive integer) if
/// set, else 64,000,000. Throws ImageError naming the variable for a malformed value.
int64_t default_max_pixels();

/// How decode_image treats unusual sources.
struct DecodeOptions {
  /// Decompression-bomb guard: width*height above this is rejected (checked from the
  /// header before the full decode for PNG, JPEG, BMP, TIFF and WebP).
  /// Default: 64,000,000, or the environment variable FASHIONCUT_MAX_PIXELS when set (read
  /// once; every reader of a dataset, predict and translate use the default).
  int64_t max_pixels = default_max_pixels();
  /// RGB colour that transparent pixels are composited onto (gray+alpha sources use its luma).
  std::array<uint8_t, 3> background{255, 255, 255};
};

/// Decodes any PNG/JPEG/BMP/TIFF/WebP OpenCV reads: gray, RGB, RGBA (alpha composited on
/// `options.background`), 16-bit (scaled to 8-bit by 1/257), float (assumed [0,1]), any aspect
/// ratio. JPEG EXIF orientation is applied.
/// Returns CV_8UC1 [H,W] for gray sources, CV_8UC3 [H,W] in RGB order otherwise.
/// Throws ImageError{path, reason} for a missing or unreadable file, a 0-byte file, a file
/// that is not an image, a truncated or corrupt image, too many pixels, or an unsupported
/// channel count / depth.
cv::Mat decode_image(const std::filesystem::path& path, const DecodeOptions& options = {});

/// Same as decode_image, from bytes already in memory; `name` is used in error messages.
cv::Mat decode_image_bytes(const std::string& bytes, const std::string& name, const DecodeOptions& options = {});

/// True for .png .jpg .jpeg .bmp .tif .tiff .webp (case-insensitive).
bool has_image_extension(const std::filesystem::path& path);

/// Width and height read from the file header alone (PNG, JPEG, BMP, TIFF, WebP); nullopt when the
/// format is not one of those or the header does not say.
std::optional<std::array<int64_t, 2>> peek_image_size(const std::string& bytes);

/// Writes an 8-bit gray or RGB image (as returned by decode_image) to `path`; the format
/// follows the extension. Throws IoError naming the path on failure.
void write_image(const std::filesystem::path& path, const cv::Mat& image);

}  // namespace fashioncut::data
