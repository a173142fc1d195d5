#include "fashioncut/data/image_io.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "fashioncut/core/errors.h"

namespace fashioncut::data {
namespace fs = std::filesystem;
namespace {

enum class Format { kUnknown, kPng, kJpeg, kBmp, kTiff, kWebp };

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint32_t be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
uint32_t le16(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }
uint32_t le24(const uint8_t* p) { return le16(p) | (uint32_t(p[2]) << 16); }
int32_t le32s(const uint8_t* p) { return static_cast<int32_t>(le24(p) | (uint32_t(p[3]) << 24)); }

Format sniff(const std::string& b) {
  const auto* p = u8(b);
  const size_t n = b.size();
  if (n >= 8 && std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return Format::kPng;
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return Format::kJpeg;
  if (n >= 2 && p[0] == 'B' && p[1] == 'M') return Format::kBmp;
  if (n >= 4 && (std::memcmp(p, "II*\0", 4) == 0 || std::memcmp(p, "MM\0*", 4) == 0)) return Format::kTiff;
  if (n >= 12 && std::memcmp(p, "RIFF", 4) == 0 && std::memcmp(p + 8, "WEBP", 4) == 0) return Format::kWebp;
  return Format::kUnknown;
}

/// Walks the JPEG marker segments up to the start of scan, then requires an EOI marker after
/// it: libjpeg "decodes" a truncated file by padding it with gray, so OpenCV would not fail.
/// Returns an empty string when fine, else the reason. Fills `size` from the SOF segment.
std::string check_jpeg(const std::string& b, std::optional<std::array<int64_t, 2>>* size) {
  const auto* p = u8(b);
  const size_t n = b.size();
  size_t pos = 2;
  while (true) {
    if (pos >= n) return "truncated JPEG (ends inside the headers)";
    if (p[pos] != 0xFF) return "corrupt JPEG (bad marker in the headers)";
    while (pos < n && p[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= n) return "truncated JPEG (ends inside the headers)";
    const uint8_t marker = p[pos++];
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9) return "corrupt JPEG (image ends before any scan data)";
    if (pos + 2 > n) return "truncated JPEG (ends inside the headers)";
    const size_t len = be16(p + pos);
    if (len < 2 || pos + len > n) return "truncated JPEG (a header segment runs past the end of the file)";
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && len >= 7 && size) *size = std::array<int64_t, 2>{int64_t(be16(p + pos + 5)), int64_t(be16(p + pos + 3))};
    if (marker == 0xDA) {  // start of scan: entropy-coded data follows, where 0xFF is always stuffed
      for (size_t i = pos + len; i + 1 < n; ++i)
        if (p[i] == 0xFF && p[i + 1] == 0xD9) return "";
      return "truncated JPEG (no end-of-image marker; the file was cut short)";
    }
    pos += len;
  }
}

/// Width and height from the first IFD of a TIFF (tags 256/257, SHORT or LONG), so that a
/// decompression bomb is refused before libtiff allocates its strips.
std::optional<std::array<int64_t, 2>> tiff_size(const std::string& b) {
  const auto* p = u8(b);
  const size_t n = b.size();
  if (n < 8) return std::nullopt;
  const bool le = p[0] == 'I';
  auto r16 = [&](size_t at) { return le ? le16(p + at) : be16(p + at); };
  auto r32 = [&](size_t at) { return le ? uint32_t(le16(p + at)) | (uint32_t(le16(p + at + 2)) << 16) : be32(p + at); };
  const size_t ifd = r32(4);
  if (ifd > n || n - ifd < 2) return std::nullopt;
  const size_t entries = r16(ifd);
  int64_t w = -1, h = -1;
  for (size_t i = 0; i < entries && ifd + 2 + 12 * (i + 1) <= n; ++i) {
    const size_t e = ifd + 2 + 12 * i;
    const uint32_t tag = r16(e), type = r16(e + 2);
    if ((tag != 256 && tag != 257) || (type != 3 && type != 4)) continue;
    const int64_t v = type == 3 ? r16(e + 8) : r32(e + 8);
    (tag == 256 ? w : h) = v;
  }
  if (w < 0 || h < 0) return std::nullopt;
  return std::array<int64_t, 2>{w, h};
}

std::string format_name(Format f) {
  switch (f) {
    case Format::kPng: return "PNG";
    case Format::kJpeg: return "JPEG";
    case Format::kBmp: return "BMP";
    case Format::kTiff: return "TIFF";
    case Format::kWebp: return "WebP";
    default: return "unknown";
  }
}

void quiet_opencv_once() {
  static std::once_flag once;
  std::call_once(once, [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR); });
}

/// Composites 8-bit colour+alpha onto `bg` (per channel), dropping the alpha channel.
cv::Mat composite(const cv::Mat& src, const std::array<uint8_t, 3>& bg_bgr) {
  const int colour = src.channels() - 1;
  cv::Mat out(src.rows, src.cols, CV_8UC(colour));
  for (int y = 0; y < src.rows; ++y) {
    const uint8_t* s = src.ptr<uint8_t>(y);
    uint8_t* d = out.ptr<uint8_t>(y);
    for (int x = 0; x < src.cols; ++x, s += colour + 1, d += colour) {
      const int a = s[colour];
      for (int c = 0; c < colour; ++c) d[c] = static_cast<uint8_t>((s[c] * a + bg_bgr[c] * (255 - a) + 127) / 255);
    }
  }
  return out;
}

}  // namespace

int64_t default_max_pixels() {
  static const int64_t limit = [] {
    const char* text = std::getenv("FASHIONCUT_MAX_PIXELS");
    if (text == nullptr || *text == '\0') return int64_t(64'000'000);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
      throw ImageError("FASHIONCUT_MAX_PIXELS", std::string("'") + text + "' is not a positive pixel count");
    return int64_t(v);
  }();
  return limit;
}

bool has_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" || ext == ".tiff" ||
         ext == ".webp";
}

std::optional<std::array<int64_t, 2>> peek_image_size(const std::string& b) {
  const auto* p = u8(b);
  const size_t n = b.size();
  switch (sniff(b)) {
    case Format::kPng:
      if (n >= 24 && std::memcmp(p + 12, "IHDR", 4) == 0) return std::array<int64_t, 2>{be32(p + 16), be32(p + 20)};
      return std::nullopt;
    case Format::kJpeg: {
      std::optional<std::array<int64_t, 2>> size;
      check_jpeg(b, &size);
      return size;
    }
    case Format::kBmp:
      if (n >= 26) return std::array<int64_t, 2>{std::abs(int64_t(le32s(p + 18))), std::abs(int64_t(le32s(p + 22)))};
      return std::nullopt;
    case Format::kTiff: return tiff_size(b);
    case Format::kWebp:
      if (n >= 30 && std::memcmp(p + 12, "VP8 ", 4) == 0)
        return std::array<int64_t, 2>{le16(p + 26) & 0x3FFF, le16(p + 28) & 0x3FFF};
      if (n >= 25 && std::memcmp(p + 12, "VP8L", 4) == 0) {
        const uint32_t bits = uint32_t(p[21]) | (uint32_t(p[22]) << 8) | (uint32_t(p[23]) << 16) | (uint32_t(p[24]) << 24);
        return std::array<int64_t, 2>{int64_t(bits & 0x3FFF) + 1, int64_t((bits >> 14) & 0x3FFF) + 1};
      }
      if (n >= 30 && std::memcmp(p + 12, "VP8X", 4) == 0)
        return std::array<int64_t, 2>{int64_t(le24(p + 24)) + 1, int64_t(le24(p + 27)) + 1};
      return std::nullopt;
    default: return std::nullopt;
  }
}

cv::Mat decode_image(const fs::path& path, const DecodeOptions& options) {
  const std::string name = path.string();
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) throw ImageError(name, "file not found");
  if (fs::is_directory(status)) throw ImageError(name, "is a folder, not an image file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImageError(name, std::string("cannot open (") + std::strerror(errno) + "); check permissions");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw ImageError(name, "read failed (I/O error)");
  return decode_image_bytes(buffer.str(), name, options);
}

cv::Mat decode_image_bytes(const std::string& bytes, const std::string& name, const DecodeOptions& options) {
  if (bytes.empty()) throw ImageError(name, "empty file (0 bytes)");
  const Format format = sniff(bytes);
  if (format == Format::kUnknown)
    throw ImageError(name, "not an image (unrecognised content; expected PNG, JPEG, BMP, TIFF or WebP)");
  std::optional<std::array<int64_t, 2>> size;
  if (format == Format::kJpeg) {
    const std::string why = check_jpeg(bytes, &size);
    if (!why.empty()) throw ImageError(name, why);
  } else {
    size = peek_image_size(bytes);
  }
  if (size) {
    const auto [w, h] = *size;
    if (w <= 0 || h <= 0) throw ImageError(name, "corrupt " + format_name(format) + " header (zero width or height)");
    // Divide rather than multiply: PNG and TIFF headers hold 32-bit sizes whose product
    // overflows int64 (found by tests/fuzz/image_decode_fuzz).
    if (w > options.max_pixels / h)
      throw ImageError(name, "image too large (" + std::to_string(w) + "x" + std::to_string(h) + " > " +
                                 std::to_string(options.max_pixels) + " pixels); refusing to decode");
  }

  quiet_opencv_once();
  const int flags = format == Format::kJpeg ? cv::IMREAD_ANYCOLOR : cv::IMREAD_UNCHANGED;
  cv::Mat raw;
  try {
    raw = cv::imdecode(cv::_InputArray(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size())), flags);
  } catch (const cv::Exception& e) {
    throw ImageError(name, "corrupt " + format_name(format) + " (" + e.err + ")");
  }
  if (raw.empty()) throw ImageError(name, "corrupt or truncated " + format_name(format) + " (decoder failed)");
  if (int64_t(raw.rows) * raw.cols > options.max_pixels)
    throw ImageError(name, "image too large (" + std::to_string(raw.cols) + "x" + std::to_string(raw.rows) + ")");

  cv::Mat img8;
  switch (raw.depth()) {
    case CV_8U: img8 = raw; break;
    case CV_16U: raw.convertTo(img8, CV_8U, 1.0 / 257.0); break;
    case CV_32F: raw.convertTo(img8, CV_8U, 255.0); break;
    default: throw ImageError(name, "unsupported sample type (OpenCV depth " + std::to_string(raw.depth()) + ")");
  }
  const auto& bg = options.background;  // RGB
  cv::Mat out;
  switch (img8.channels()) {
    case 1: out = img8; break;
    case 2: {
      const uint8_t luma = static_cast<uint8_t>(std::lround(0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2]));
      out = composite(img8, {luma, luma, luma});
      break;
    }
    case 3: cv::cvtColor(img8, out, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(composite(img8, {bg[2], bg[1], bg[0]}), out, cv::COLOR_BGR2RGB); break;
    default: throw ImageError(name, "unsupported channel count " + std::to_string(img8.channels()) + " (expected 1-4)");
  }
  return out;
}

void write_image(const fs::path& path, const cv::Mat& image) {
  cv::Mat bgr;
  if (image.channels() == 3) cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  else bgr = image;
  bool ok = false;
  try {
    ok = cv::imwrite(path.string(), bgr);
  } catch (const cv::Exception& e) {
    throw IoError(path.string() + ": cannot write image (" + e.err + ")");
  }
  if (!ok) throw IoError(path.string() + ": cannot write image (check the folder exists and is writable)");
}

}  // namespace fashioncut::data
