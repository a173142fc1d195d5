// libFuzzer target: the Fashion-MNIST IDX reader (gzip or raw) on arbitrary bytes, as images
// (IDX3) and as labels (IDX1). Expected: a tensor whose size matches the header, or DataError.
#include <torch/torch.h>

#include "fashioncut/data/fmnist.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = fashioncut::fuzz::write_input(data, size, ".idx");
  fashioncut::fuzz::expect_clean("idx_images", [&] {
    const auto images = fashioncut::data::read_idx_images(path);
    if (images.dim() != 3 || images.scalar_type() != torch::kUInt8) std::abort();
  });
  fashioncut::fuzz::expect_clean("idx_labels", [&] {
    const auto labels = fashioncut::data::read_idx_labels(path);
    if (labels.dim() != 1 || labels.scalar_type() != torch::kInt64) std::abort();
  });
  return 0;
}
