// Fixture makers shared by the data tests: tiny images written into a test's scratch folder.
#pragma once
#include <opencv2/imgcodecs.hpp>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fashioncut::data::testing_util {
namespace fs = std::filesystem;

/// Writes `image` (BGR order, as OpenCV expects) and returns the path.
inline fs::path write_cv(const fs::path& path, const cv::Mat& image, const std::vector<int>& params = {}) {
  fs::create_directories(path.parent_path());
  if (!cv::imwrite(path.string(), image, params)) throw std::runtime_error("cannot write fixture " + path.string());
  return path;
}

/// A solid w x h RGB image (given in RGB) saved at `path`.
inline fs::path write_solid(const fs::path& path, int w, int h, cv::Vec3b rgb) {
  return write_cv(path, cv::Mat(h, w, CV_8UC3, cv::Scalar(rgb[2], rgb[1], rgb[0])));
}

inline void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// An IDX file (big-endian header) gzip-compressed with zlib.
inline void write_idx_gz(const fs::path& path, uint32_t magic, const std::vector<uint32_t>& dims,
                         const std::vector<uint8_t>& payload) {
  std::string bytes;
  auto put32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<char>((v >> s) & 0xFF));
  };
  put32(magic);
  for (auto d : dims) put32(d);
  bytes.append(payload.begin(), payload.end());
  fs::create_directories(path.parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

}  // namespace fashioncut::data::testing_util
