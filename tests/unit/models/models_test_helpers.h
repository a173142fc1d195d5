// Helpers shared by the models tests: ordered state_dict keys as PyTorch lists them,
// and loading a plain `dict` of tensors (torch.save(dict(sd))) into a module by name.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fashioncut::models::test {

/// (name, tensor) in PyTorch state_dict order: per module (pre-order), its own
/// parameters then its own buffers.
inline std::vector<std::pair<std::string, torch::Tensor>> ordered_state(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_modules("", /*include_self=*/true)) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false)) out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  }
  return out;
}

/// Reads a file written by torch.save of a plain dict (torch::pickle_load).
inline c10::IValue load_pickle(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes);
}

/// Tensor entry `key` of a pickled dict.
inline torch::Tensor dict_tensor(const c10::IValue& dict, const std::string& key) {
  auto d = dict.toGenericDict();
  EXPECT_TRUE(d.contains(key)) << key;
  return d.at(key).toTensor();
}

/// Copies every entry of `state` (a dict name -> tensor) into the matching parameter or
/// buffer of `module`; fails the test on a missing/extra key or a shape mismatch.
inline void load_state(torch::nn::Module& module, const c10::IValue& state) {
  auto dict = state.toGenericDict();
  torch::NoGradGuard no_grad;
  size_t matched = 0;
  for (auto& [name, tensor] : ordered_state(module)) {
    ASSERT_TRUE(dict.contains(name)) << "missing key " << name;
    auto src = dict.at(name).toTensor();
    ASSERT_EQ(src.sizes(), tensor.sizes()) << name;
    tensor.copy_(src);
    ++matched;
  }
  EXPECT_EQ(matched, dict.size()) << "the file has keys the module lacks";
}

/// max |a-b| / max(|b|) (relative to the reference's scale).
inline double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item<double>();
}

}  // namespace fashioncut::models::test
