#include "fashioncut/train/tensorboard_writer.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fashioncut/core/errors.h"

namespace fashioncut::train {
namespace fs = std::filesystem;
namespace {

// ---- CRC-32C, slice-by-8 -------------------------------------------------------------------
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : (c >> 1);
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFu];
  return t;
}

const CrcTables& crc_tables() {
  static const CrcTables tables = make_crc_tables();
  return tables;
}

uint32_t load_le32(const unsigned char* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

// ---- protobuf wire format ------------------------------------------------------------------
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_key(std::string& out, uint32_t field, WireType type) { put_varint(out, (uint64_t(field) << 3) | type); }
void put_varint_field(std::string& out, uint32_t field, int64_t v) {
  put_key(out, field, kVarint);
  put_varint(out, static_cast<uint64_t>(v));  // negative int64: 10-byte two's complement, as protobuf
}
void put_bytes_field(std::string& out, uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}
template <typename T>
void put_fixed_le(std::string& out, T value) {
  unsigned char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));  // x86/ARM little-endian hosts only (static_assert below)
  out.append(reinterpret_cast<const char*>(raw), sizeof(T));
}
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "event encoding assumes a little-endian host");

double wall_time_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// Event{wall_time, step, <extra fields already encoded>}.
std::string event_with(int64_t step, const std::string& extra) {
  std::string ev;
  put_key(ev, 1, kFixed64);
  put_fixed_le(ev, wall_time_now());
  put_varint_field(ev, 2, step);
  ev += extra;
  return ev;
}

// Event.summary (field 5) holding the given encoded Summary.Value messages.
std::string summary_field(const std::vector<std::string>& values) {
  std::string summary;
  for (const auto& v : values) put_bytes_field(summary, 1, v);
  std::string field;
  put_bytes_field(field, 5, summary);
  return field;
}

std::string scalar_value(const std::string& tag, double value) {
  std::string v;
  put_bytes_field(v, 1, tag);
  put_key(v, 2, kFixed32);
  put_fixed_le(v, static_cast<float>(value));
  return v;
}

std::string default_file_name() {
  static std::atomic<int> counter{0};
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  for (char* c = host; *c; ++c)
    if (*c == '/') *c = '_';
  const auto seconds = static_cast<long long>(wall_time_now());
  char stamp[32];
  std::snprintf(stamp, sizeof(stamp), "%010lld", seconds);
  return std::string("events.out.tfevents.") + stamp + "." + host + "." + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

uint32_t crc32c(std::string_view data, uint32_t crc) {
  const auto& t = crc_tables();
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  crc = ~crc;
  while (n >= 8) {
    const uint32_t lo = load_le32(p) ^ crc;
    const uint32_t hi = load_le32(p + 4);
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

uint32_t masked_crc32c(std::string_view data) {
  const uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string frame_tfrecord(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 16);
  std::string length;
  put_fixed_le(length, static_cast<uint64_t>(payload.size()));
  out += length;
  put_fixed_le(out, masked_crc32c(length));
  out.append(payload.data(), payload.size());
  put_fixed_le(out, masked_crc32c(payload));
  return out;
}

TensorboardWriter::TensorboardWriter(const fs::path& dir, const std::string& file_name)
    : path_(dir / (file_name.empty() ? default_file_name() : file_name)) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec && !fs::is_directory(dir))
    throw IoError(dir.string() + ": cannot create TensorBoard log folder (" + ec.message() +
                  "); choose a writable --runs-dir");
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_)
    throw IoError(path_.string() + ": cannot open TensorBoard event file (" + std::strerror(errno) +
                  "); choose a writable --runs-dir");
  std::string version;
  put_bytes_field(version, 3, "brain.Event:2");
  try {
    write_event(event_with(0, version));
  } catch (...) {
    std::fclose(file_);  // the destructor does not run when a constructor throws
    file_ = nullptr;
    throw;
  }
}

TensorboardWriter::~TensorboardWriter() {
  if (file_) std::fclose(file_);
}

void TensorboardWriter::write_event(const std::string& event_payload) {
  const std::string record = frame_tfrecord(event_payload);
  errno = 0;
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() || std::fflush(file_) != 0) {
    const std::string why = errno ? std::strerror(errno) : "short write";
    std::clearerr(file_);
    throw IoError(path_.string() + ": cannot write TensorBoard event (" + why + "); free disk space and resume");
  }
}

void TensorboardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  add_scalars({{tag, value}}, step);
}

void TensorboardWriter::add_scalars(const std::map<std::string, double>& values, int64_t step) {
  if (values.empty()) return;
  std::vector<std::string> encoded;
  encoded.reserve(values.size());
  for (const auto& [tag, value] : values) encoded.push_back(scalar_value(tag, value));
  const std::string event = event_with(step, summary_field(encoded));
  std::lock_guard<std::mutex> lock(mutex_);
  write_event(event);
}

void TensorboardWriter::add_image(const std::string& tag, const cv::Mat& image, int64_t step) {
  if (image.empty() || image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    throw Error("TensorboardWriter::add_image('" + tag +
                "'): expects a non-empty 8-bit gray, RGB or RGBA image, got " + std::to_string(image.cols) +
                "x" + std::to_string(image.rows) + " with " + std::to_string(image.channels()) +
                " channel(s) of depth " + std::to_string(image.depth()));
  cv::Mat bgr;  // OpenCV encodes BGR(A); our API takes RGB(A).
  if (image.channels() == 3) cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  else if (image.channels() == 4) cv::cvtColor(image, bgr, cv::COLOR_RGBA2BGRA);
  else bgr = image;
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png, {cv::IMWRITE_PNG_COMPRESSION, 3}))
    throw Error("TensorboardWriter::add_image('" + tag + "'): PNG encoding failed");

  std::string img;
  put_varint_field(img, 1, image.rows);
  put_varint_field(img, 2, image.cols);
  put_varint_field(img, 3, image.channels());  // colorspace: 1 gray, 3 RGB, 4 RGBA
  put_bytes_field(img, 4, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
  std::string value;
  put_bytes_field(value, 1, tag);
  put_bytes_field(value, 4, img);
  const std::string event = event_with(step, summary_field({value}));
  std::lock_guard<std::mutex> lock(mutex_);
  write_event(event);
}

void TensorboardWriter::add_text(const std::string& tag, const std::string& text, int64_t step) {
  // Value{tag, metadata{plugin_data{plugin_name: "text"}}, tensor{dtype: DT_STRING, string_val}}.
  std::string plugin_data;
  put_bytes_field(plugin_data, 1, "text");
  std::string metadata;
  put_bytes_field(metadata, 1, plugin_data);
  std::string tensor;
  put_varint_field(tensor, 1, 7);  // DT_STRING
  put_bytes_field(tensor, 2, "");  // TensorShapeProto{} (scalar)
  put_bytes_field(tensor, 8, text);
  std::string value;
  put_bytes_field(value, 1, tag);
  put_bytes_field(value, 8, tensor);
  put_bytes_field(value, 9, metadata);
  const std::string event = event_with(step, summary_field({value}));
  std::lock_guard<std::mutex> lock(mutex_);
  write_event(event);
}

void TensorboardWriter::add_session_start(int64_t step) {
  std::string session_log;
  put_varint_field(session_log, 1, 1);  // SessionLog.START
  std::string field;
  put_bytes_field(field, 6, session_log);
  const std::string event = event_with(step, field);
  std::lock_guard<std::mutex> lock(mutex_);
  write_event(event);
}

void TensorboardWriter::flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  errno = 0;
  if (std::fflush(file_) != 0)
    throw IoError(path_.string() + ": cannot flush TensorBoard events (" + std::strerror(errno) + ")");
}

}  // namespace fashioncut::train
