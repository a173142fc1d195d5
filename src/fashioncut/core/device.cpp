#include "fashioncut/core/device.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <fstream>
#include <sstream>

#include "fashioncut/core/errors.h"

namespace fashioncut {
namespace {
bool cpu_has_flag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) return line.find(" " + flag) != std::string::npos;
  }
  return false;
}
}  // namespace

torch::Device resolve_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(spec);
  } catch (const std::exception&) {
    throw ConfigError("device '" + spec + "' is not valid; use auto, cpu, cuda or cuda:N");
  }
  if (device.is_cuda()) {
    if (!torch::cuda::is_available())
      throw ConfigError("device '" + spec + "' requested but this LibTorch has no usable CUDA GPU; use --device cpu");
    if (device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
      throw ConfigError("device '" + spec + "' does not exist (" + std::to_string(torch::cuda::device_count()) + " GPUs)");
  } else if (!device.is_cpu()) {
    throw ConfigError("device '" + spec + "' is not supported; use auto, cpu, cuda or cuda:N");
  }
  return device;
}

std::string describe_device(const torch::Device& device) {
  std::ostringstream out;
  out << device;
  if (device.is_cpu()) {
    out << " (" << torch::get_num_threads() << " threads" << (bf16_supported(device) ? ", bf16" : "") << ")";
  }
  return out.str();
}

bool bf16_supported(const torch::Device& device) {
  if (device.is_cuda()) return true;
  static const bool cpu_bf16 = cpu_has_flag("avx512_bf16") || cpu_has_flag("amx_bf16");
  return cpu_bf16;
}

}  // namespace fashioncut
