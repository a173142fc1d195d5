#include "fashioncut/data/fmnist.h"

#include <zlib.h>

#include <cstring>
#include <limits>
#include <fstream>
#include <sstream>

#include "fashioncut/core/errors.h"

namespace fashioncut::data {
namespace fs = std::filesystem;
namespace {

uint32_t be32(const std::string& b, size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data()) + at;
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

std::string inflate_gzip(const std::string& in, const std::string& name) {
  std::string out;
  out.reserve(in.size() * 4);
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw DataError(name + ": zlib initialisation failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::vector<char> chunk(1 << 20);
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(chunk.data());
    z.avail_out = static_cast<uInt>(chunk.size());
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - z.avail_out);
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (concatenated .gz files are valid gzip).
      if (z.avail_in >= 2 && z.next_in[0] == 0x1F && z.next_in[1] == 0x8B) {
        inflateReset(&z);
        continue;
      }
      break;
    }
    if (rc == Z_OK) continue;
    const std::string why = rc == Z_BUF_ERROR ? "truncated gzip stream (file cut short)"
                                              : std::string("corrupt gzip data (") + (z.msg ? z.msg : "zlib error") + ")";
    inflateEnd(&z);
    throw DataError(name + ": " + why + "; re-install or re-download the file");
  }
  inflateEnd(&z);
  return out;
}

/// Parses an IDX header with `dims` dimensions and checks magic and payload size.
std::vector<int64_t> parse_idx(const std::string& b, uint32_t magic, size_t dims, const std::string& name) {
  const size_t header = 4 + 4 * dims;
  if (b.size() < 4) throw DataError(name + ": too short for an IDX header (" + std::to_string(b.size()) + " bytes)");
  const uint32_t got = be32(b, 0);  // the magic first: a file of the other kind is named as such
  if (got != magic) {
    std::ostringstream msg;
    msg << name << ": not an IDX file of this kind (magic 0x" << std::hex << got << ", expected 0x" << magic
        << "); check the file name";
    throw DataError(msg.str());
  }
  if (b.size() < header)
    throw DataError(name + ": too short for an IDX header (" + std::to_string(b.size()) + " bytes)");
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (size_t d = 0; d < dims; ++d) {
    const int64_t n = be32(b, 4 + 4 * d);
    if (n <= 0 || n > (int64_t(1) << 28)) throw DataError(name + ": implausible IDX dimension " + std::to_string(n));
    shape.push_back(n);
    // Saturate: three dimensions of up to 2^28 overflow int64 (found by tests/fuzz/idx_reader_fuzz);
    // such a header can only be "truncated" for any real file.
    count = count > std::numeric_limits<int64_t>::max() / n ? std::numeric_limits<int64_t>::max() : count * n;
  }
  const auto payload = static_cast<int64_t>(b.size() - header);
  if (payload != count)
    throw DataError(name + ": IDX payload is " + std::to_string(payload) + " bytes, header says " +
                    std::to_string(count) + (payload < count ? " (truncated)" : " (trailing data)"));
  return shape;
}

}  // namespace

std::string read_maybe_gzip(const fs::path& path) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(name + ": cannot open (" + std::strerror(errno) + "); install dataset-fashion-mnist or pass the folder");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = buffer.str();
  if (bytes.size() >= 2 && uint8_t(bytes[0]) == 0x1F && uint8_t(bytes[1]) == 0x8B) return inflate_gzip(bytes, name);
  return bytes;
}

torch::Tensor read_idx_images(const fs::path& path) {
  const std::string b = read_maybe_gzip(path);
  const auto shape = parse_idx(b, 0x00000803, 3, path.string());
  auto out = torch::empty(shape, torch::kUInt8);
  std::memcpy(out.data_ptr<uint8_t>(), b.data() + 16, static_cast<size_t>(out.numel()));
  return out;
}

torch::Tensor read_idx_labels(const fs::path& path) {
  const std::string b = read_maybe_gzip(path);
  const auto shape = parse_idx(b, 0x00000801, 1, path.string());
  auto bytes = torch::empty(shape, torch::kUInt8);
  std::memcpy(bytes.data_ptr<uint8_t>(), b.data() + 8, static_cast<size_t>(bytes.numel()));
  return bytes.to(torch::kInt64);
}

std::vector<std::string> fmnist_class_names() {
  return {"t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"};
}

fs::path fmnist_images_file(const fs::path& dir, const std::string& split) {
  return dir / (split == "test" ? "t10k-images-idx3-ubyte.gz" : "train-images-idx3-ubyte.gz");
}
fs::path fmnist_labels_file(const fs::path& dir, const std::string& split) {
  return dir / (split == "test" ? "t10k-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte.gz");
}

FmnistDataset::FmnistDataset(FmnistDatasetOptions options) : options_(std::move(options)) {
  if (options_.split != "train" && options_.split != "test")
    throw DataError("fmnist:" + options_.split + ": unknown split; use fmnist:train or fmnist:test");
  validate(options_.transform);
  images_ = read_idx_images(fmnist_images_file(options_.dir, options_.split));
  labels_ = read_idx_labels(fmnist_labels_file(options_.dir, options_.split));
  if (images_.size(0) != labels_.size(0))
    throw DataError(options_.dir.string() + ": " + options_.split + " has " + std::to_string(images_.size(0)) +
                    " images but " + std::to_string(labels_.size(0)) + " labels");
  if (labels_.min().item<int64_t>() < 0 || labels_.max().item<int64_t>() > 9)
    throw DataError(fmnist_labels_file(options_.dir, options_.split).string() + ": labels outside 0..9");
  if (options_.labelled) classes_ = fmnist_class_names();
}

Example FmnistDataset::get(size_t index, std::mt19937_64& rng) const {
  TORCH_CHECK(index < size(), "FmnistDataset index ", index, " out of range ", size());
  const auto image = images_[static_cast<int64_t>(index)];
  const cv::Mat gray(static_cast<int>(image.size(0)), static_cast<int>(image.size(1)), CV_8UC1,
                     const_cast<uint8_t*>(image.data_ptr<uint8_t>()));
  const int64_t label = options_.labelled ? labels_[static_cast<int64_t>(index)].item<int64_t>() : -1;
  return {apply_transform(gray, options_.transform, rng), label,
          "fmnist:" + options_.split + "#" + std::to_string(index)};
}

std::string FmnistDataset::describe() const {
  return "Fashion-MNIST " + options_.split + " (" + options_.dir.string() + "): " + std::to_string(size()) +
         " images, " + (options_.labelled ? "10 classes" : "labels hidden");
}

}  // namespace fashioncut::data
