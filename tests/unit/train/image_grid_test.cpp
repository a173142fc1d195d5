#include "fashioncut/train/image_grid.h"

#include <gmock/gmock.h>

#include <opencv2/imgcodecs.hpp>

#include "fashioncut/core/errors.h"
#include "support/test_support.h"

namespace fashioncut::train {
namespace {

class ImageGridTest : public testing::SeedingFixture {};

TEST_F(ImageGridTest, TensorToImagesMapsRangeAndChannels) {
  // [-1, 0, 1] -> [0, 128 (127.5 rounded half-even or up), 255]
  auto x = torch::tensor({-1.0f, 0.0f, 1.0f, 2.0f}).view({1, 1, 2, 2});
  const auto gray = tensor_to_u8_images(x);
  ASSERT_EQ(gray.size(), 1u);
  EXPECT_EQ(gray[0].type(), CV_8UC1);
  EXPECT_EQ(gray[0].at<uint8_t>(0, 0), 0);
  EXPECT_NEAR(gray[0].at<uint8_t>(0, 1), 128, 1);
  EXPECT_EQ(gray[0].at<uint8_t>(1, 0), 255);
  EXPECT_EQ(gray[0].at<uint8_t>(1, 1), 255);  // clamped

  // Channels -> RGB order, per image, from a non-contiguous float64 view.
  auto rgb = torch::zeros({2, 3, 5, 4}, torch::kFloat64);  // transposed below: non-contiguous [2,3,4,5]
  rgb.index_put_({1, 0}, 1.0);   // image 1: red channel full
  rgb.index_put_({1, 2}, -1.0);  // blue channel zero
  const auto images = tensor_to_u8_images(rgb.transpose(2, 3));
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[1].type(), CV_8UC3);
  EXPECT_EQ(images[1].rows, 4);
  EXPECT_EQ(images[1].cols, 5);
  const auto px = images[1].at<cv::Vec3b>(3, 4);
  EXPECT_EQ(px[0], 255);
  EXPECT_NEAR(px[1], 128, 1);
  EXPECT_EQ(px[2], 0);

  EXPECT_EQ(tensor_to_u8_images(torch::zeros({3, 2, 2})).size(), 1u);  // [C,H,W]
  EXPECT_THROW(tensor_to_u8_images(torch::zeros({1, 2, 4, 4})), Error);
  EXPECT_THROW(tensor_to_u8_images(torch::zeros({4, 4})), Error);
}

TEST_F(ImageGridTest, MixesGrayAndRgbAndUpscalesTinyImages) {
  cv::Mat gray(28, 28, CV_8UC1, cv::Scalar(200));
  cv::Mat red(28, 28, CV_8UC3, cv::Scalar(255, 0, 0));  // RGB order
  ImageGridOptions options;
  options.pad = 2;
  const cv::Mat grid = image_grid({{gray, red, gray}, {red}}, options);
  ASSERT_EQ(grid.type(), CV_8UC3);
  // 28 px -> x3 (nearest) = 84 px cells.
  EXPECT_EQ(grid.cols, 2 + 3 * (84 + 2));
  EXPECT_EQ(grid.rows, 2 + 2 * (84 + 2));
  EXPECT_EQ(grid.at<cv::Vec3b>(2, 2), cv::Vec3b(200, 200, 200));           // first cell: gray -> RGB
  EXPECT_EQ(grid.at<cv::Vec3b>(2 + 83, 2 + 86 + 83), cv::Vec3b(255, 0, 0));  // second cell, last pixel: red
  EXPECT_EQ(grid.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));           // padding
  EXPECT_EQ(grid.at<cv::Vec3b>(2 + 86 + 10, 2 + 86 + 10), cv::Vec3b(255, 255, 255));  // short row: empty cell
}

TEST_F(ImageGridTest, LargeImagesKeepTheirSizeAndLabelsAddAColumn) {
  cv::Mat a(64, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  const cv::Mat plain = image_grid({{a, a}});
  EXPECT_EQ(plain.cols, 2 + 2 * 66);
  ImageGridOptions options;
  options.row_labels = {"synthetic"};
  const cv::Mat labelled = image_grid({{a, a}}, options);
  EXPECT_GT(labelled.cols, plain.cols);
  EXPECT_EQ(labelled.rows, plain.rows);
  // The label is drawn: some dark pixel appears in the label column.
  const int label_w = labelled.cols - plain.cols;
  cv::Mat label_col;
  cv::cvtColor(labelled(cv::Rect(0, 0, label_w, labelled.rows)), label_col, cv::COLOR_RGB2GRAY);
  double min_v = 0;
  cv::minMaxLoc(label_col, &min_v);
  EXPECT_LT(min_v, 128);
}

TEST_F(ImageGridTest, EmptyInputGivesEmptyMatAndBadTypeThrows) {
  EXPECT_TRUE(image_grid({}).empty());
  EXPECT_TRUE(image_grid({{}, {}}).empty());
  EXPECT_THROW(image_grid({{cv::Mat(4, 4, CV_32FC1)}}), Error);
}

TEST_F(ImageGridTest, WritePngRoundTripsRgb) {
  cv::Mat rgb(6, 5, CV_8UC3, cv::Scalar(10, 20, 30));
  const auto path = scratch() / "samples" / "epoch_001.png";
  write_png(path, rgb);
  const cv::Mat back = cv::imread(path.string(), cv::IMREAD_UNCHANGED);  // BGR
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(back.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));
}

}  // namespace
}  // namespace fashioncut::train
