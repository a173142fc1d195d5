#include "fashioncut/train/tensorboard_writer.h"

#include <gmock/gmock.h>

#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "support/test_support.h"

namespace fashioncut::train {
namespace {
using ::testing::HasSubstr;

// ---- a minimal, independent decoder of what the writer produces ------------------------------
struct DecodedValue {
  std::string tag;
  std::optional<float> simple_value;
  int64_t height = 0, width = 0, colorspace = 0;
  std::string png;
  std::string text;
  std::string plugin;
};
struct DecodedEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<DecodedValue> values;
  int64_t session_status = 0;
};

struct Reader {
  std::string_view s;
  size_t pos = 0;
  bool done() const { return pos >= s.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      EXPECT_LT(pos, s.size());
      const auto b = static_cast<unsigned char>(s[pos++]);
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    ADD_FAILURE() << "varint too long";
    return v;
  }
  std::string_view bytes(size_t n) {
    EXPECT_LE(pos + n, s.size());
    const auto out = s.substr(pos, n);
    pos += n;
    return out;
  }
  std::string_view length_delimited() { return bytes(varint()); }
};

template <typename T>
T load(std::string_view b) {
  T v;
  std::memcpy(&v, b.data(), sizeof(T));
  return v;
}

// Calls f(field, wire_type, reader) for each field of a message.
template <typename F>
void for_fields(std::string_view msg, F f) {
  Reader r{msg};
  while (!r.done()) {
    const uint64_t key = r.varint();
    f(uint32_t(key >> 3), uint32_t(key & 7), r);
  }
}

DecodedValue decode_value(std::string_view msg) {
  DecodedValue v;
  for_fields(msg, [&](uint32_t field, uint32_t wt, Reader& r) {
    if (field == 1) v.tag = std::string(r.length_delimited());
    else if (field == 2 && wt == 5) v.simple_value = load<float>(r.bytes(4));
    else if (field == 4) {
      for_fields(r.length_delimited(), [&](uint32_t f, uint32_t, Reader& ir) {
        if (f == 1) v.height = int64_t(ir.varint());
        else if (f == 2) v.width = int64_t(ir.varint());
        else if (f == 3) v.colorspace = int64_t(ir.varint());
        else if (f == 4) v.png = std::string(ir.length_delimited());
      });
    } else if (field == 8) {
      for_fields(r.length_delimited(), [&](uint32_t f, uint32_t w, Reader& tr) {
        if (f == 8) v.text = std::string(tr.length_delimited());
        else if (w == 2) tr.length_delimited();
        else tr.varint();
      });
    } else if (field == 9) {
      for_fields(r.length_delimited(), [&](uint32_t, uint32_t, Reader& mr) {
        for_fields(mr.length_delimited(), [&](uint32_t f, uint32_t, Reader& pr) {
          if (f == 1) v.plugin = std::string(pr.length_delimited());
          else pr.length_delimited();
        });
      });
    } else ADD_FAILURE() << "unexpected Value field " << field;
  });
  return v;
}

DecodedEvent decode_event(std::string_view msg) {
  DecodedEvent e;
  for_fields(msg, [&](uint32_t field, uint32_t wt, Reader& r) {
    if (field == 1 && wt == 1) e.wall_time = load<double>(r.bytes(8));
    else if (field == 2 && wt == 0) e.step = int64_t(r.varint());
    else if (field == 3) e.file_version = std::string(r.length_delimited());
    else if (field == 5) {
      for_fields(r.length_delimited(), [&](uint32_t f, uint32_t, Reader& sr) {
        EXPECT_EQ(f, 1u);
        e.values.push_back(decode_value(sr.length_delimited()));
      });
    } else if (field == 6) {
      for_fields(r.length_delimited(), [&](uint32_t f, uint32_t, Reader& lr) {
        if (f == 1) e.session_status = int64_t(lr.varint());
      });
    } else ADD_FAILURE() << "unexpected Event field " << field;
  });
  return e;
}

uint32_t mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

// Splits a TFRecord file, checking both CRCs of every record.
std::vector<DecodedEvent> read_events(const std::filesystem::path& path) {
  const std::string data = read_file(path);
  std::vector<DecodedEvent> events;
  size_t pos = 0;
  while (pos < data.size()) {
    EXPECT_LE(pos + 12, data.size());
    const std::string_view len_bytes(data.data() + pos, 8);
    const auto len = load<uint64_t>(len_bytes);
    EXPECT_EQ(load<uint32_t>(std::string_view(data.data() + pos + 8, 4)), mask(crc32c(len_bytes)));
    EXPECT_LE(pos + 12 + len + 4, data.size());
    const std::string_view payload(data.data() + pos + 12, len);
    EXPECT_EQ(load<uint32_t>(std::string_view(data.data() + pos + 12 + len, 4)), mask(crc32c(payload)));
    events.push_back(decode_event(payload));
    pos += 12 + len + 4;
  }
  return events;
}

class TensorboardWriterTest : public testing::SeedingFixture {};

TEST_F(TensorboardWriterTest, Crc32cMatchesKnownVectors) {
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c("a"), 0xC1D04330u);
  // RFC 3720 (iSCSI) B.4 vectors.
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = char(i);
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
}

TEST_F(TensorboardWriterTest, Crc32cContinuesAcrossChunksAndSliceBoundaries) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(char((i * 131 + 7) & 0xFF));
  // Bitwise reference implementation.
  uint32_t ref = ~0u;
  for (unsigned char c : data) {
    ref ^= c;
    for (int k = 0; k < 8; ++k) ref = (ref & 1u) ? (ref >> 1) ^ 0x82F63B78u : ref >> 1;
  }
  ref = ~ref;
  EXPECT_EQ(crc32c(data), ref);
  for (size_t split : {0, 1, 7, 8, 9, 500, 999}) {
    const std::string_view v(data);
    EXPECT_EQ(crc32c(v.substr(split), crc32c(v.substr(0, split))), ref) << split;
  }
  EXPECT_EQ(masked_crc32c("123456789"), mask(0xE3069283u));
}

TEST_F(TensorboardWriterTest, FramingHasLengthPayloadAndCrcs) {
  const std::string record = frame_tfrecord("hello");
  ASSERT_EQ(record.size(), 8u + 4u + 5u + 4u);
  EXPECT_EQ(load<uint64_t>(record), 5u);
  EXPECT_EQ(record.substr(12, 5), "hello");
  EXPECT_EQ(load<uint32_t>(std::string_view(record).substr(17)), mask(crc32c("hello")));
}

TEST_F(TensorboardWriterTest, ScalarsImagesAndTextRoundTrip) {
  std::filesystem::path file;
  cv::Mat rgb(5, 7, CV_8UC3);
  cv::randu(rgb, 0, 256);
  cv::Mat gray(4, 3, CV_8UC1, cv::Scalar(77));
  {
    TensorboardWriter writer(scratch() / "tb");
    file = writer.path();
    EXPECT_THAT(file.filename().string(), HasSubstr("events.out.tfevents."));
    writer.add_scalar("loss/G", 0.5, 3);
    writer.add_scalars({{"loss/D", 1.25}, {"lr", 2e-4}}, 4);
    writer.add_image("samples", rgb, 5);
    writer.add_image("gray", gray, 6);
    writer.add_text("config", "method = \"cut\"", 0);
    writer.add_session_start(7);
    writer.add_scalar("neg/step", -1.0, -2);
    writer.flush();
  }
  const auto events = read_events(file);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_GT(events[0].wall_time, 1.6e9);

  ASSERT_EQ(events[1].values.size(), 1u);
  EXPECT_EQ(events[1].step, 3);
  EXPECT_EQ(events[1].values[0].tag, "loss/G");
  EXPECT_FLOAT_EQ(*events[1].values[0].simple_value, 0.5f);

  ASSERT_EQ(events[2].values.size(), 2u);
  EXPECT_EQ(events[2].step, 4);
  EXPECT_EQ(events[2].values[0].tag, "loss/D");
  EXPECT_FLOAT_EQ(*events[2].values[0].simple_value, 1.25f);
  EXPECT_EQ(events[2].values[1].tag, "lr");
  EXPECT_FLOAT_EQ(*events[2].values[1].simple_value, 2e-4f);

  const auto& img = events[3].values.at(0);
  EXPECT_EQ(events[3].step, 5);
  EXPECT_EQ(img.tag, "samples");
  EXPECT_EQ(img.height, 5);
  EXPECT_EQ(img.width, 7);
  EXPECT_EQ(img.colorspace, 3);
  const cv::Mat decoded = cv::imdecode(std::vector<uchar>(img.png.begin(), img.png.end()), cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(decoded.empty());
  cv::Mat decoded_rgb;
  cv::cvtColor(decoded, decoded_rgb, cv::COLOR_BGR2RGB);  // PNG holds RGB; OpenCV hands back BGR
  EXPECT_EQ(cv::norm(decoded_rgb, rgb, cv::NORM_INF), 0.0);

  const auto& g = events[4].values.at(0);
  EXPECT_EQ(g.colorspace, 1);
  const cv::Mat decoded_gray = cv::imdecode(std::vector<uchar>(g.png.begin(), g.png.end()), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(cv::norm(decoded_gray, gray, cv::NORM_INF), 0.0);

  EXPECT_EQ(events[5].values.at(0).text, "method = \"cut\"");
  EXPECT_EQ(events[5].values.at(0).plugin, "text");
  EXPECT_EQ(events[6].session_status, 1);
  EXPECT_EQ(events[6].step, 7);
  EXPECT_EQ(events[7].step, -2);
}

TEST_F(TensorboardWriterTest, SecondWriterInSameFolderUsesNewFile) {
  TensorboardWriter a(scratch());
  TensorboardWriter b(scratch());
  EXPECT_NE(a.path(), b.path());
  a.add_scalar("x", 1, 1);
  b.add_scalar("x", 2, 2);
  EXPECT_EQ(read_events(a.path()).size(), 2u);
  EXPECT_EQ(read_events(b.path()).size(), 2u);
}

TEST_F(TensorboardWriterTest, RejectsBadImageType) {
  TensorboardWriter writer(scratch());
  cv::Mat f32(4, 4, CV_32FC3, cv::Scalar(0));
  try {
    writer.add_image("bad", f32, 0);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad"));
  }
  EXPECT_THROW(writer.add_image("empty", cv::Mat(), 0), Error);
}

TEST_F(TensorboardWriterTest, UnopenableFileThrowsIoErrorNamingIt) {
  const auto blocker = scratch() / "blocker";
  write_file_atomic(blocker, "x");  // a regular file where the folder should be
  try {
    TensorboardWriter writer(blocker / "tb");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr(blocker.string()));
  }
}

TEST_F(TensorboardWriterTest, DiskFullThrowsIoErrorNamingFile) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  try {
    TensorboardWriter writer("/dev", "full");
    writer.add_scalar("x", 1, 1);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/dev/full"));
  }
}

// Independent cross-check in Python (no tensorboard package here: a bitwise CRC32C and a
// hand-written varint parser that reads the file our writer produced).
TEST_F(TensorboardWriterTest, PythonDecoderAgrees) {
  std::filesystem::path file;
  {
    TensorboardWriter writer(scratch());
    file = writer.path();
    writer.add_scalar("acc", 0.75, 12);
    cv::Mat rgb(3, 9, CV_8UC3, cv::Scalar(10, 20, 30));
    writer.add_image("grid", rgb, 13);
  }
  const std::string code = R"PY(
import struct, sys
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF
mask = lambda c: (((c >> 15) | (c << 17)) + 0xa282ead8) & 0xFFFFFFFF
def varint(b, i):
    v = s = 0
    while True:
        x = b[i]; i += 1; v |= (x & 0x7F) << s; s += 7
        if not x & 0x80: return v, i
def fields(b):
    i, out = 0, []
    while i < len(b):
        k, i = varint(b, i); f, w = k >> 3, k & 7
        if w == 0: v, i = varint(b, i)
        elif w == 1: v = b[i:i+8]; i += 8
        elif w == 5: v = b[i:i+4]; i += 4
        else: n, i = varint(b, i); v = b[i:i+n]; i += n
        out.append((f, v))
    return out
data = open(sys.argv[1], 'rb').read(); i = 0; out = []
while i < len(data):
    n, = struct.unpack('<Q', data[i:i+8])
    assert struct.unpack('<I', data[i+8:i+12])[0] == mask(crc32c(data[i:i+8]))
    p = data[i+12:i+12+n]
    assert struct.unpack('<I', data[i+12+n:i+16+n])[0] == mask(crc32c(p))
    i += 16 + n
    ev = dict(fields(p))
    if 3 in ev: out.append(ev[3].decode()); continue
    for f, v in fields(ev[5]):
        val = dict(fields(v))
        if 2 in val: out.append('%s=%g@%d' % (val[1].decode(), struct.unpack('<f', val[2])[0], ev[2]))
        if 4 in val:
            im = dict(fields(val[4])); png = im[4]
            assert png[:8] == b'\x89PNG\r\n\x1a\n'
            w, h = struct.unpack('>II', png[16:24])
            out.append('%s:%dx%dx%d png %dx%d@%d' % (val[1].decode(), im[2], im[1], im[3], w, h, ev[2]))
print(';'.join(out))
)PY";
  const auto result = testing::run_command(std::string(FASHIONCUT_PYTHON) + " -c " + testing::shell_quote(code) +
                                           " " + testing::shell_quote(file.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("brain.Event:2;acc=0.75@12;grid:9x3x3 png 9x3@13"));
}

}  // namespace
}  // namespace fashioncut::train
