// libFuzzer target: data::decode_image_bytes on arbitrary bytes. Expected: a decoded 8-bit
// gray or RGB image within the pixel limit, or ImageError; never a crash, hang or leak.
#include <opencv2/core.hpp>

#include "fashioncut/data/image_io.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fashioncut::data::DecodeOptions options;
  options.max_pixels = 1 << 22;  // 4 MP: keeps a "valid" huge image from exhausting the fuzzer's RSS limit
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fashioncut::fuzz::expect_clean("image_decode", [&] {
    const cv::Mat image = fashioncut::data::decode_image_bytes(bytes, "fuzz-input", options);
    const bool ok = !image.empty() && image.depth() == CV_8U && (image.channels() == 1 || image.channels() == 3) &&
                    int64_t(image.rows) * image.cols <= options.max_pixels;
    if (!ok) {
      std::fprintf(stderr, "image_decode: bad result %dx%d depth %d channels %d\n", image.cols, image.rows,
                   image.depth(), image.channels());
      std::abort();
    }
  });
  return 0;
}
