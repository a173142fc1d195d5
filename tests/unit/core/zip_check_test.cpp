#include "fashioncut/core/zip_check.h"

#include <gmock/gmock.h>
#include <zlib.h>

#include <caffe2/serialize/inline_container.h>

#include "fashioncut/core/atomic_file.h"
#include "support/test_support.h"

namespace fashioncut {
namespace {
using ::testing::HasSubstr;

void put(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

struct Built {
  std::string bytes;
  std::vector<std::pair<size_t, size_t>> data;  // [begin, end) of each entry's bytes
};

/// A stored (uncompressed) zip written field by field from the format description (APPNOTE
/// 4.3), independently of the checker. `zip64` saturates the central directory's 32-bit sizes
/// and offsets and puts the real values in ZIP64 extra fields, with a ZIP64 end record.
Built build_zip(const std::vector<std::pair<std::string, std::string>>& entries, bool zip64 = false) {
  Built b;
  std::string central;
  for (const auto& [name, data] : entries) {
    const uint64_t local = b.bytes.size();
    const uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    put(b.bytes, 0x04034b50, 4);
    put(b.bytes, 20, 2);
    put(b.bytes, 0, 2);
    put(b.bytes, 0, 2);  // stored
    put(b.bytes, 0, 4);  // time, date
    put(b.bytes, crc, 4);
    put(b.bytes, data.size(), 4);
    put(b.bytes, data.size(), 4);
    put(b.bytes, name.size(), 2);
    put(b.bytes, 3, 2);  // extra: padding as LibTorch writes for alignment
    b.bytes += name + "FB";
    b.bytes.push_back('\0');
    b.data.emplace_back(b.bytes.size(), b.bytes.size() + data.size());
    b.bytes += data;

    const std::string extra = [&] {
      std::string e;
      if (!zip64) return e;
      put(e, 0x0001, 2);
      put(e, 24, 2);
      put(e, data.size(), 8);
      put(e, data.size(), 8);
      put(e, local, 8);
      return e;
    }();
    const uint64_t sat = 0xFFFFFFFFu;
    put(central, 0x02014b50, 4);
    put(central, 45, 2);
    put(central, 45, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 4);
    put(central, crc, 4);
    put(central, zip64 ? sat : data.size(), 4);
    put(central, zip64 ? sat : data.size(), 4);
    put(central, name.size(), 2);
    put(central, extra.size(), 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 2);
    put(central, 0, 4);
    put(central, zip64 ? sat : local, 4);
    central += name + extra;
  }
  const uint64_t cd_offset = b.bytes.size();
  b.bytes += central;
  if (zip64) {
    const uint64_t record = b.bytes.size();
    put(b.bytes, 0x06064b50, 4);
    put(b.bytes, 44, 8);
    put(b.bytes, 45, 2);
    put(b.bytes, 45, 2);
    put(b.bytes, 0, 4);
    put(b.bytes, 0, 4);
    put(b.bytes, entries.size(), 8);
    put(b.bytes, entries.size(), 8);
    put(b.bytes, central.size(), 8);
    put(b.bytes, cd_offset, 8);
    put(b.bytes, 0x07064b50, 4);
    put(b.bytes, 0, 4);
    put(b.bytes, record, 8);
    put(b.bytes, 1, 4);
  }
  put(b.bytes, 0x06054b50, 4);
  put(b.bytes, 0, 4);
  put(b.bytes, zip64 ? 0xFFFF : entries.size(), 2);
  put(b.bytes, zip64 ? 0xFFFF : entries.size(), 2);
  put(b.bytes, zip64 ? 0xFFFFFFFFu : central.size(), 4);
  put(b.bytes, zip64 ? 0xFFFFFFFFu : cd_offset, 4);
  put(b.bytes, 0, 2);
  return b;
}

const std::vector<std::pair<std::string, std::string>> kEntries = {
    {"archive/data.pkl", "pickled bytes"}, {"archive/data/0", std::string(300, '\x7f')}, {"archive/version", "3\n"}};

class ZipCheckTest : public testing::SeedingFixture {};

TEST_F(ZipCheckTest, SoundArchivesHaveNoProblem) {
  EXPECT_EQ(zip_problem(build_zip(kEntries).bytes), "");
  EXPECT_EQ(zip_problem(build_zip(kEntries, /*zip64=*/true).bytes), "");
  EXPECT_EQ(zip_problem(build_zip({}).bytes), "");
  // LibTorch's own writer (the one behind checkpoints and torch.save): ZIP64 end record,
  // alignment padding in the local extra field.
  std::string written;
  caffe2::serialize::PyTorchStreamWriter writer([&written](const void* data, size_t n) {
    written.append(static_cast<const char*>(data), n);
    return n;
  });
  writer.writeRecord("data.pkl", "abc", 3);
  const std::string big(3 << 20, 'w');  // crosses the checker's 1 MiB read pieces
  writer.writeRecord("data/0", big.data(), big.size());
  // Deflated, as LibTorch writes a checkpoint's TorchScript code records; inflates to 5 MiB,
  // several of the checker's output pieces.
  std::string code;
  for (int i = 0; code.size() < (5u << 20); ++i) code += "def forward(self, x" + std::to_string(i) + "):\n  return x\n";
  writer.writeRecord("code/__torch__.py", code.data(), code.size(), /*compress=*/true);
  writer.writeEndOfFile();
  EXPECT_EQ(zip_problem(written), "");
  {
    // A flip inside the deflated bytes: zlib refuses the stream, or it inflates to other bytes.
    const size_t at = written.find("code/__torch__.py") + 200;
    std::string bad = written;
    bad[at] = char(bad[at] ^ 0x40);
    EXPECT_THAT(zip_problem(bad), HasSubstr("entry 'archive/code/__torch__.py'"));
  }
  const auto path = scratch() / "w.pt";
  write_file_atomic(path, written);
  EXPECT_EQ(zip_file_problem(path), "");
  // A flip in the middle of the big record, from the file (read in pieces).
  written[written.size() / 2] = char(written[written.size() / 2] ^ 1);
  write_file_atomic(path, written);
  EXPECT_THAT(zip_file_problem(path), HasSubstr("entry 'archive/data/0' fails its CRC-32 check"));
}

TEST_F(ZipCheckTest, EveryFlippedDataByteIsFoundAndTheEntryNamed) {
  for (const bool zip64 : {false, true}) {
    const Built zip = build_zip(kEntries, zip64);
    for (size_t k = 0; k < kEntries.size(); ++k) {
      for (size_t at = zip.data[k].first; at < zip.data[k].second; ++at) {
        std::string bad = zip.bytes;
        bad[at] = char(bad[at] ^ (1 << (at % 8)));
        const std::string why = zip_problem(bad);
        ASSERT_THAT(why, HasSubstr("entry '" + kEntries[k].first + "' fails its CRC-32 check")) << "byte " << at;
        ASSERT_THAT(why, HasSubstr("(stored 0x")) << why;
      }
    }
  }
}

TEST_F(ZipCheckTest, TruncatedAndMangledStructuresAreNamed) {
  const Built zip = build_zip(kEntries, true);
  for (size_t n = 0; n < zip.bytes.size(); ++n) {
    ASSERT_NE(zip_problem(std::string_view(zip.bytes).substr(0, n)), "") << "cut at " << n;
  }
  EXPECT_THAT(zip_problem("PK\x03\x04 is a local header, but nothing ends this archive"), HasSubstr("no end-of-central-directory record"));
  EXPECT_THAT(zip_problem(""), HasSubstr("too short"));
  // The second entry's local header moved by one byte: its offset no longer points at one.
  std::string moved = build_zip(kEntries).bytes;
  const size_t second_local = build_zip({kEntries[0]}).bytes.find("PK\x01\x02");
  const size_t cd = moved.find("PK\x01\x02");
  const size_t second_cd = moved.find("PK\x01\x02", cd + 4);
  moved[second_cd + 42] = char(second_local + 1);
  EXPECT_THAT(zip_problem(moved), HasSubstr("entry 'archive/data/0': no local header at offset"));
  // The local header renamed.
  std::string renamed = build_zip(kEntries).bytes;
  renamed[renamed.find("archive/version")] = 'A';
  EXPECT_THAT(zip_problem(renamed), HasSubstr("entry 'archive/version': its local header names another file"));
  // More entries claimed than the directory holds.
  std::string counted = build_zip(kEntries).bytes;
  counted[counted.size() - 22 + 10] = 4;
  counted[counted.size() - 22 + 8] = 4;
  EXPECT_THAT(zip_problem(counted), HasSubstr("the central directory claims 4 entries"));
  // The directory offset past the end.
  std::string far = build_zip(kEntries).bytes;
  far[far.size() - 22 + 19] = char(0x7f);
  EXPECT_THAT(zip_problem(far), HasSubstr("lies outside the"));
  EXPECT_THAT(zip_file_problem(scratch() / "missing.zip"), HasSubstr("cannot open"));
}

TEST_F(ZipCheckTest, Zip64ExtraFieldIsRequiredWhenSizesAreSaturated) {
  std::string bytes = build_zip({kEntries[0]}, true).bytes;
  // Rename the extra field's id (0x0001 -> 0x0002): the saturated sizes have no 64-bit values.
  const size_t cd = bytes.find("PK\x01\x02");
  const size_t extra = cd + 46 + kEntries[0].first.size();
  ASSERT_EQ(bytes[extra], '\x01');
  bytes[extra] = '\x02';
  EXPECT_THAT(zip_problem(bytes), HasSubstr("entry 'archive/data.pkl': its ZIP64 sizes are missing"));
}

}  // namespace
}  // namespace fashioncut
