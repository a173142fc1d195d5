// decode_image on every awkward input the issue lists; errors must name the file.
#include <gmock/gmock.h>

#include "data_test_util.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/data/image_io.h"
#include "support/test_support.h"

namespace fashioncut::data {
namespace {
using ::testing::HasSubstr;
using namespace testing_util;

class ImageIoTest : public fashioncut::testing::SeedingFixture {
 protected:
  /// Expects decode_image(path) to throw ImageError whose message names the path and contains `why`.
  void expect_rejected(const fs::path& path, const std::string& why, const DecodeOptions& options = {}) {
    try {
      decode_image(path, options);
      ADD_FAILURE() << "decode_image accepted " << path;
    } catch (const ImageError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path.string()));
      EXPECT_EQ(e.path, path.string());
      EXPECT_THAT(e.reason, HasSubstr(why));
    }
  }
};

TEST_F(ImageIoTest, RgbPngComesBackInRgbOrder) {
  const auto path = write_solid(scratch() / "red.png", 5, 4, {200, 10, 30});
  const cv::Mat img = decode_image(path);
  ASSERT_EQ(img.type(), CV_8UC3);
  EXPECT_EQ(img.cols, 5);
  EXPECT_EQ(img.rows, 4);
  EXPECT_EQ(img.at<cv::Vec3b>(0, 0), cv::Vec3b(200, 10, 30));
}

TEST_F(ImageIoTest, RgbaPngIsCompositedOnBackground) {
  cv::Mat bgra(2, 2, CV_8UC4, cv::Scalar(0, 100, 200, 128));  // B,G,R,A: RGB (200,100,0) at ~50%
  bgra.at<cv::Vec4b>(1, 1) = cv::Vec4b(0, 0, 0, 0);            // fully transparent
  const auto path = write_cv(scratch() / "rgba.png", bgra);
  const cv::Mat white = decode_image(path);
  ASSERT_EQ(white.type(), CV_8UC3);
  const auto px = white.at<cv::Vec3b>(0, 0);
  EXPECT_NEAR(px[0], 200 * 128 / 255.0 + 255 * 127 / 255.0, 1.0);
  EXPECT_NEAR(px[1], 100 * 128 / 255.0 + 255 * 127 / 255.0, 1.0);
  EXPECT_NEAR(px[2], 0 * 128 / 255.0 + 255 * 127 / 255.0, 1.0);
  EXPECT_EQ(white.at<cv::Vec3b>(1, 1), cv::Vec3b(255, 255, 255));
  DecodeOptions on_green;
  on_green.background = {0, 255, 0};
  EXPECT_EQ(decode_image(path, on_green).at<cv::Vec3b>(1, 1), cv::Vec3b(0, 255, 0));
}

TEST_F(ImageIoTest, SixteenBitPngIsScaledTo8Bit) {
  cv::Mat gray16(1, 3, CV_16UC1);
  gray16.at<uint16_t>(0, 0) = 65535;
  gray16.at<uint16_t>(0, 1) = 100 * 257;
  gray16.at<uint16_t>(0, 2) = 0;
  const auto path = write_cv(scratch() / "deep.png", gray16);
  const cv::Mat img = decode_image(path);
  ASSERT_EQ(img.type(), CV_8UC1);
  EXPECT_EQ(img.at<uint8_t>(0, 0), 255);
  EXPECT_EQ(img.at<uint8_t>(0, 1), 100);
  EXPECT_EQ(img.at<uint8_t>(0, 2), 0);

  cv::Mat rgb16(1, 1, CV_16UC3, cv::Scalar(0, 257 * 50, 65535));  // BGR
  EXPECT_EQ(decode_image(write_cv(scratch() / "deep_rgb.png", rgb16)).at<cv::Vec3b>(0, 0), cv::Vec3b(255, 50, 0));
}

TEST_F(ImageIoTest, GrayscaleJpegStaysGray) {
  const auto path = write_cv(scratch() / "gray.jpg", cv::Mat(8, 8, CV_8UC1, cv::Scalar(90)));
  const cv::Mat img = decode_image(path);
  ASSERT_EQ(img.type(), CV_8UC1);
  EXPECT_NEAR(img.at<uint8_t>(4, 4), 90, 2);
}

TEST_F(ImageIoTest, WideImageKeepsItsAspect) {
  const auto path = write_solid(scratch() / "wide.jpg", 1000, 200, {10, 20, 30});
  const cv::Mat img = decode_image(path);
  EXPECT_EQ(img.cols, 1000);
  EXPECT_EQ(img.rows, 200);
  const auto size = peek_image_size(read_bytes(path));
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ((*size)[0], 1000);
  EXPECT_EQ((*size)[1], 200);
}

TEST_F(ImageIoTest, HeaderSizesForPngAndBmp) {
  const auto png = write_solid(scratch() / "a.png", 7, 3, {1, 2, 3});
  const auto bmp = write_solid(scratch() / "a.bmp", 9, 5, {1, 2, 3});
  EXPECT_EQ(peek_image_size(read_bytes(png)), (std::array<int64_t, 2>{7, 3}));
  EXPECT_EQ(peek_image_size(read_bytes(bmp)), (std::array<int64_t, 2>{9, 5}));
  EXPECT_EQ(decode_image(bmp).at<cv::Vec3b>(0, 0), cv::Vec3b(1, 2, 3));
}

TEST_F(ImageIoTest, ZeroByteFileIsRejected) {
  const auto path = scratch() / "empty.png";
  write_bytes(path, "");
  expect_rejected(path, "0 bytes");
}

TEST_F(ImageIoTest, CorruptPngIsRejected) {
  const auto good = read_bytes(write_solid(scratch() / "good.png", 16, 16, {9, 9, 9}));
  std::string bad = good.substr(0, 33);  // signature + IHDR intact, then garbage
  bad += std::string(200, '\x5a');
  const auto path = scratch() / "corrupt.png";
  write_bytes(path, bad);
  expect_rejected(path, "PNG");
  const auto cut = scratch() / "cut.png";
  write_bytes(cut, good.substr(0, good.size() / 2));
  expect_rejected(cut, "PNG");
}

TEST_F(ImageIoTest, TruncatedJpegIsRejected) {
  cv::Mat noise(64, 64, CV_8UC3);
  cv::randu(noise, 0, 255);
  const auto good = read_bytes(write_cv(scratch() / "good.jpg", noise));
  ASSERT_NO_THROW(decode_image(scratch() / "good.jpg"));
  const auto path = scratch() / "truncated.jpg";
  write_bytes(path, good.substr(0, good.size() * 2 / 3));
  expect_rejected(path, "truncated JPEG");
  const auto header_only = scratch() / "header_only.jpg";
  write_bytes(header_only, good.substr(0, 10));
  expect_rejected(header_only, "JPEG");
}

TEST_F(ImageIoTest, NotAnImageIsRejected) {
  const auto path = scratch() / "notes.png";
  write_bytes(path, "hello, I am text pretending to be a PNG\n");
  expect_rejected(path, "not an image");
}

TEST_F(ImageIoTest, MissingFileAndFolderAreRejected) {
  expect_rejected(scratch() / "nope.png", "not found");
  fs::create_directories(scratch() / "dir.png");
  expect_rejected(scratch() / "dir.png", "folder");
}

TEST_F(ImageIoTest, TooManyPixelsIsRejectedFromTheHeader) {
  const auto path = write_solid(scratch() / "big.png", 1000, 200, {0, 0, 0});
  DecodeOptions small;
  small.max_pixels = 100'000;
  expect_rejected(path, "too large", small);
  // A header claiming 60000x60000 is refused before any decoding.
  std::string bytes = read_bytes(path);
  for (int i : {16, 20}) {
    bytes[i] = 0, bytes[i + 1] = 0, bytes[i + 2] = char(0xEA), bytes[i + 3] = 0x60;
  }
  const auto bomb = scratch() / "bomb.png";
  write_bytes(bomb, bytes);
  expect_rejected(bomb, "too large");
}

TEST_F(ImageIoTest, ExtensionsAreCaseInsensitive) {
  for (const char* name : {"a.png", "b.JPG", "c.jpeg", "d.Bmp", "e.tif", "f.TIFF", "g.webp"})
    EXPECT_TRUE(has_image_extension(name)) << name;
  for (const char* name : {"a.txt", "b.png.bak", "c", "d.gif", ".png"}) EXPECT_FALSE(has_image_extension(name)) << name;
}

}  // namespace
}  // namespace fashioncut::data
