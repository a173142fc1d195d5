// Device selection: every tensor in fashioncut goes through a torch::Device chosen here.
#pragma once
#include <torch/types.h>

#include <string>

namespace fashioncut {

/// Parses "auto" | "cpu" | "cuda" | "cuda:N". "auto" picks CUDA when LibTorch was built
/// with it and a GPU is present, else CPU. Throws ConfigError on anything else or on a
/// CUDA request without a GPU.
torch::Device resolve_device(const std::string& spec);

/// Human-readable description, e.g. "cpu (2 threads, AVX512_BF16)" or "cuda:0 (NVIDIA H200)".
std::string describe_device(const torch::Device& device);

/// Whether bf16 autocast is worthwhile on `device` (GPU, or a CPU with AVX512_BF16/AMX).
bool bf16_supported(const torch::Device& device);

}  // namespace fashioncut
