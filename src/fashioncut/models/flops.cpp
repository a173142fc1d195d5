#include "fashioncut/models/flops.h"

#include <ATen/record_function.h>

#include <cstring>

namespace fashioncut::models {

namespace {

thread_local int64_t tls_macs = 0;

int64_t numel_of(const c10::IValue& v) { return v.isTensor() ? v.toTensor().numel() : 0; }

int64_t conv_macs(c10::ArrayRef<const c10::IValue> in) {
  // convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
  if (in.size() < 9 || !in[0].isTensor() || !in[1].isTensor()) return 0;
  const auto& x = in[0].toTensor();
  const auto& w = in[1].toTensor();
  const auto stride = in[3].toIntVector();
  const auto padding = in[4].toIntVector();
  const auto dilation = in[5].toIntVector();
  const bool transposed = in[6].toBool();
  const int64_t spatial = w.dim() - 2;
  int64_t kernel = 1;
  for (int64_t d = 0; d < spatial; ++d) kernel *= w.size(2 + d);
  const bool batched = x.dim() == w.dim();
  const int64_t n = batched ? x.size(0) : 1;
  const int64_t first_spatial = batched ? 2 : 1;
  if (transposed) {  // weight [C_in, C_out/groups, k...]; every input element scatters a full kernel
    return x.numel() * w.size(1) * kernel;
  }
  // weight [C_out, C_in/groups, k...]
  int64_t out = n * w.size(0);
  for (int64_t d = 0; d < spatial; ++d) {
    auto at = [](const std::vector<int64_t>& v, int64_t i) { return v.size() == 1 ? v[0] : v[i]; };
    const int64_t size = x.size(first_spatial + d);
    const int64_t o = (size + 2 * at(padding, d) - at(dilation, d) * (w.size(2 + d) - 1) - 1) / at(stride, d) + 1;
    out *= o;
  }
  return out * w.size(1) * kernel;
}

std::unique_ptr<at::ObserverContext> on_op_start(const at::RecordFunction& fn) {
  const char* name = fn.name();
  if (!name) return nullptr;
  const auto in = fn.inputs();
  if (std::strcmp(name, "aten::convolution") == 0) {
    tls_macs += conv_macs(in);
  } else if (std::strcmp(name, "aten::addmm") == 0 && in.size() >= 3 && in[1].isTensor() && in[2].isTensor()) {
    const auto& a = in[1].toTensor();
    tls_macs += a.size(0) * a.size(1) * in[2].toTensor().size(1);
  } else if (std::strcmp(name, "aten::mm") == 0 && in.size() >= 2 && in[0].isTensor() && in[1].isTensor()) {
    tls_macs += numel_of(in[0]) * in[1].toTensor().size(1);
  } else if (std::strcmp(name, "aten::bmm") == 0 && in.size() >= 2 && in[0].isTensor() && in[1].isTensor()) {
    tls_macs += numel_of(in[0]) * in[1].toTensor().size(2);
  }
  return nullptr;
}

}  // namespace

int64_t count_macs(const std::function<void()>& fn) {
  const int64_t before = tls_macs;
  auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(&on_op_start).needsInputs(true).scopes({at::RecordScope::FUNCTION}));
  try {
    fn();
  } catch (...) {
    at::removeCallback(handle);
    tls_macs = before;
    throw;
  }
  at::removeCallback(handle);
  const int64_t macs = tls_macs - before;
  tls_macs = before;
  return macs;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace fashioncut::models
