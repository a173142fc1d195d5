#include "fashioncut/core/zip_check.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

namespace fashioncut {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndRecord = 0x06054b50;
constexpr uint32_t kZip64EndRecord = 0x06064b50, kZip64Locator = 0x07064b50;
constexpr size_t kEndRecordSize = 22, kZip64LocatorSize = 20, kZip64EndRecordSize = 56;
constexpr size_t kCentralSize = 46, kLocalSize = 30, kMaxComment = 0xFFFF;
constexpr size_t kPiece = size_t(1) << 20;

uint64_t le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string hex32(uint64_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08llx", static_cast<unsigned long long>(v));
  return buf;
}

/// Random access to the archive's bytes: a string in memory or a file.
class Source {
 public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  /// Reads `n` bytes at `offset` into `out`; false when they are not all there.
  virtual bool read(uint64_t offset, size_t n, unsigned char* out) = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  bool read(uint64_t offset, size_t n, unsigned char* out) override {
    if (offset > bytes_.size() || n > bytes_.size() - offset) return false;
    if (n > 0) std::memcpy(out, bytes_.data() + offset, n);  // out may be null for n == 0 (UBSan)
    return true;
  }

 private:
  std::string_view bytes_;
};

class FileSource : public Source {
 public:
  FileSource(std::ifstream& in, uint64_t size) : in_(in), size_(size) {}
  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, size_t n, unsigned char* out) override {
    if (offset > size_ || n > size_ - offset) return false;
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
    return in_.gcount() == static_cast<std::streamsize>(n);
  }

 private:
  std::ifstream& in_;
  uint64_t size_;
};

struct Directory {
  uint64_t entries = 0, offset = 0, size = 0;
};

/// Finds the (ZIP64) end of central directory: the last end record within the final 64 KiB
/// (the longest comment) whose comment reaches the end of the file.
std::string find_directory(Source& src, Directory& dir) {
  const uint64_t size = src.size();
  if (size < kEndRecordSize) return "too short to be a zip archive (" + std::to_string(size) + " bytes)";
  const uint64_t tail_size = std::min<uint64_t>(size, kEndRecordSize + kMaxComment);
  std::vector<unsigned char> tail(tail_size);
  if (!src.read(size - tail_size, tail_size, tail.data())) return "cannot read the end of the archive";
  int64_t at = -1;
  for (int64_t i = int64_t(tail_size - kEndRecordSize); i >= 0; --i) {
    const unsigned char* p = tail.data() + i;
    if (le(p, 4) == kEndRecord && uint64_t(i) + kEndRecordSize + le(p + 20, 2) == tail_size) {
      at = i;
      break;
    }
  }
  if (at < 0) return "no end-of-central-directory record (truncated or not a zip archive)";
  const unsigned char* end = tail.data() + at;
  dir.entries = le(end + 10, 2);
  dir.size = le(end + 12, 4);
  dir.offset = le(end + 16, 4);
  const uint64_t end_offset = size - tail_size + uint64_t(at);
  if (end_offset >= kZip64LocatorSize) {
    unsigned char loc[kZip64LocatorSize];
    if (src.read(end_offset - kZip64LocatorSize, kZip64LocatorSize, loc) && le(loc, 4) == kZip64Locator) {
      unsigned char rec[kZip64EndRecordSize];
      const uint64_t rec_offset = le(loc + 8, 8);
      if (!src.read(rec_offset, kZip64EndRecordSize, rec) || le(rec, 4) != kZip64EndRecord)
        return "the ZIP64 end-of-central-directory record at offset " + std::to_string(rec_offset) + " is missing";
      dir.entries = le(rec + 32, 8);
      dir.size = le(rec + 40, 8);
      dir.offset = le(rec + 48, 8);
    }
  }
  if (dir.offset > size || dir.size > size - dir.offset)
    return "the central directory (offset " + std::to_string(dir.offset) + ", " + std::to_string(dir.size) +
           " bytes) lies outside the " + std::to_string(size) + "-byte file (truncated)";
  if (dir.entries > dir.size / kCentralSize)
    return "the central directory claims " + std::to_string(dir.entries) + " entries in " + std::to_string(dir.size) +
           " bytes (corrupt)";
  return "";
}

struct Entry {
  std::string name;
  uint32_t crc = 0;
  uint16_t method = 0;
  uint64_t compressed = 0, uncompressed = 0, local = 0;
};

/// Replaces 32-bit fields saturated at 0xFFFFFFFF by the ZIP64 extra field's 64-bit values.
bool apply_zip64(const unsigned char* extra, size_t extra_len, Entry& e) {
  size_t i = 0;
  while (i + 4 <= extra_len) {
    const uint64_t id = le(extra + i, 2), len = le(extra + i + 2, 2);
    if (i + 4 + len > extra_len) return false;
    if (id == 0x0001) {
      const unsigned char* p = extra + i + 4;
      size_t left = len;
      for (uint64_t* field : {&e.uncompressed, &e.compressed, &e.local}) {
        if (*field != 0xFFFFFFFFu) continue;
        if (left < 8) return false;
        *field = le(p, 8);
        p += 8;
        left -= 8;
      }
      return true;
    }
    i += 4 + len;
  }
  return e.uncompressed != 0xFFFFFFFFu && e.compressed != 0xFFFFFFFFu && e.local != 0xFFFFFFFFu;
}

/// Inflates a deflated entry (LibTorch compresses its TorchScript code records) piece by piece
/// into `crc`; the output must be exactly the entry's uncompressed size.
std::string inflate_crc(Source& src, uint64_t data, const Entry& e, std::vector<unsigned char>& in, uLong& crc) {
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return "cannot start zlib";
  std::unique_ptr<z_stream, int (*)(z_stream*)> end(&z, inflateEnd);
  std::vector<unsigned char> out(kPiece);
  uint64_t read = 0, produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kPiece, e.compressed - read));
      if (n == 0) return "its compressed data ends early (corrupt)";
      if (!src.read(data + read, n, in.data())) return "cannot read its data (truncated)";
      read += n;
      z.next_in = in.data();
      z.avail_in = static_cast<uInt>(n);
    }
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) return "its compressed data is corrupt (zlib: " + std::string(z.msg ? z.msg : "error") + ")";
    const size_t n = out.size() - z.avail_out;
    produced += n;
    if (produced > e.uncompressed) return "it inflates past its " + std::to_string(e.uncompressed) + " bytes (corrupt)";
    crc = crc32(crc, out.data(), static_cast<uInt>(n));
  }
  if (produced != e.uncompressed)
    return "it inflates to " + std::to_string(produced) + " bytes, not " + std::to_string(e.uncompressed) + " (corrupt)";
  return "";
}

std::string check_entry(Source& src, const Entry& e, std::vector<unsigned char>& buf) {
  const std::string what = "entry '" + e.name + "'";
  unsigned char local[kLocalSize];
  if (!src.read(e.local, kLocalSize, local) || le(local, 4) != kLocalHeader)
    return what + ": no local header at offset " + std::to_string(e.local) + " (corrupt)";
  const uint64_t name_len = le(local + 26, 2), extra_len = le(local + 28, 2);
  std::string local_name(name_len, '\0');
  if (!src.read(e.local + kLocalSize, name_len, reinterpret_cast<unsigned char*>(local_name.data())) ||
      local_name != e.name)
    return what + ": its local header names another file (corrupt)";
  const uint64_t data = e.local + kLocalSize + name_len + extra_len;
  if (data > src.size() || e.compressed > src.size() - data)
    return what + ": its " + std::to_string(e.compressed) + " bytes run past the end of the file (truncated)";
  uLong crc = crc32(0L, Z_NULL, 0);
  if (e.method == 0) {
    if (e.compressed != e.uncompressed)
      return what + ": stored uncompressed but sizes differ (" + std::to_string(e.compressed) + " vs " +
             std::to_string(e.uncompressed) + ")";
    for (uint64_t done = 0; done < e.uncompressed;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kPiece, e.uncompressed - done));
      if (!src.read(data + done, n, buf.data())) return what + ": cannot read its data (truncated)";
      crc = crc32(crc, buf.data(), static_cast<uInt>(n));
      done += n;
    }
  } else if (e.method == 8) {
    if (auto why = inflate_crc(src, data, e, buf, crc); !why.empty()) return what + ": " + why;
  } else {
    return what + ": compression method " + std::to_string(e.method) + " is not one a PyTorch archive uses";
  }
  if (crc != e.crc)
    return what + " fails its CRC-32 check (stored " + hex32(e.crc) + ", computed " + hex32(crc) + ")";
  return "";
}

std::string problem(Source& src) {
  Directory dir;
  if (auto why = find_directory(src, dir); !why.empty()) return why;
  std::vector<unsigned char> central(static_cast<size_t>(dir.size));
  if (!src.read(dir.offset, central.size(), central.data())) return "cannot read the central directory";
  std::vector<unsigned char> buf(kPiece);
  size_t at = 0;
  for (uint64_t k = 0; k < dir.entries; ++k) {
    const std::string which = "central-directory entry " + std::to_string(k);
    if (at + kCentralSize > central.size() || le(central.data() + at, 4) != kCentralHeader)
      return which + " is missing (corrupt central directory)";
    const unsigned char* c = central.data() + at;
    const size_t name_len = le(c + 28, 2), extra_len = le(c + 30, 2), comment_len = le(c + 32, 2);
    if (at + kCentralSize + name_len + extra_len + comment_len > central.size())
      return which + " runs past the central directory (corrupt)";
    Entry e;
    e.method = static_cast<uint16_t>(le(c + 10, 2));
    e.crc = static_cast<uint32_t>(le(c + 16, 4));
    e.compressed = le(c + 20, 4);
    e.uncompressed = le(c + 24, 4);
    e.local = le(c + 42, 4);
    e.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    if (!apply_zip64(c + kCentralSize + name_len, extra_len, e))
      return "entry '" + e.name + "': its ZIP64 sizes are missing (corrupt)";
    if (auto why = check_entry(src, e, buf); !why.empty()) return why;
    at += kCentralSize + name_len + extra_len + comment_len;
  }
  return "";
}

}  // namespace

std::string zip_problem(std::string_view bytes) {
  MemorySource src(bytes);
  return problem(src);
}

std::string zip_file_problem(const std::filesystem::path& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) return "cannot open the file for reading";
  FileSource src(in, size);
  return problem(src);
}

}  // namespace fashioncut
