#include "fashioncut/train/fused_adam.h"

#include <ATen/Parallel.h>
#include <immintrin.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <string>

namespace fashioncut::train {
namespace {

/// Constants of one parameter's update, as float (Adam's tensor ops convert their double
/// scalars to the tensor's dtype the same way).
struct AdamScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, sqrt_bias_correction2, eps, neg_step_size, weight_decay;
};

inline void update_scalar(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end, const AdamScalars& s) {
  for (int64_t i = begin; i < end; ++i) {
    const float grad = s.weight_decay != 0.0f ? g[i] + p[i] * s.weight_decay : g[i];
    m[i] = m[i] * s.beta1 + grad * s.one_minus_beta1;
    v[i] = v[i] * s.beta2 + (grad * grad) * s.one_minus_beta2;
    const float denom = std::sqrt(v[i]) / s.sqrt_bias_correction2 + s.eps;
    p[i] = p[i] + s.neg_step_size * (m[i] / denom);
  }
}

__attribute__((target("avx512f"))) void update_avx512(float* p, const float* g, float* m, float* v, int64_t begin,
                                                       int64_t end, const AdamScalars& s) {
  const __m512 b1 = _mm512_set1_ps(s.beta1), omb1 = _mm512_set1_ps(s.one_minus_beta1);
  const __m512 b2 = _mm512_set1_ps(s.beta2), omb2 = _mm512_set1_ps(s.one_minus_beta2);
  const __m512 sbc2 = _mm512_set1_ps(s.sqrt_bias_correction2), eps = _mm512_set1_ps(s.eps);
  const __m512 nss = _mm512_set1_ps(s.neg_step_size), wd = _mm512_set1_ps(s.weight_decay);
  const bool decay = s.weight_decay != 0.0f;
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    __m512 pi = _mm512_loadu_ps(p + i), gi = _mm512_loadu_ps(g + i);
    if (decay) gi = _mm512_add_ps(gi, _mm512_mul_ps(pi, wd));
    const __m512 mi = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(m + i), b1), _mm512_mul_ps(gi, omb1));
    const __m512 vi = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(v + i), b2), _mm512_mul_ps(_mm512_mul_ps(gi, gi), omb2));
    // The masked form with every lane set is _mm512_sqrt_ps; GCC 12's _mm512_sqrt_ps merges into
    // _mm512_undefined_ps() and warns (-Wmaybe-uninitialized) about that never-read operand.
    const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_mask_sqrt_ps(vi, 0xFFFF, vi), sbc2), eps);
    pi = _mm512_add_ps(pi, _mm512_mul_ps(nss, _mm512_div_ps(mi, denom)));
    _mm512_storeu_ps(m + i, mi);
    _mm512_storeu_ps(v + i, vi);
    _mm512_storeu_ps(p + i, pi);
  }
  update_scalar(p, g, m, v, i, end, s);
}

__attribute__((target("avx2"))) void update_avx2(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
                                                 const AdamScalars& s) {
  const __m256 b1 = _mm256_set1_ps(s.beta1), omb1 = _mm256_set1_ps(s.one_minus_beta1);
  const __m256 b2 = _mm256_set1_ps(s.beta2), omb2 = _mm256_set1_ps(s.one_minus_beta2);
  const __m256 sbc2 = _mm256_set1_ps(s.sqrt_bias_correction2), eps = _mm256_set1_ps(s.eps);
  const __m256 nss = _mm256_set1_ps(s.neg_step_size), wd = _mm256_set1_ps(s.weight_decay);
  const bool decay = s.weight_decay != 0.0f;
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    __m256 pi = _mm256_loadu_ps(p + i), gi = _mm256_loadu_ps(g + i);
    if (decay) gi = _mm256_add_ps(gi, _mm256_mul_ps(pi, wd));
    const __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), b1), _mm256_mul_ps(gi, omb1));
    const __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), b2), _mm256_mul_ps(_mm256_mul_ps(gi, gi), omb2));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), sbc2), eps);
    pi = _mm256_add_ps(pi, _mm256_mul_ps(nss, _mm256_div_ps(mi, denom)));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(p + i, pi);
  }
  update_scalar(p, g, m, v, i, end, s);
}

using UpdateFn = void (*)(float*, const float*, float*, float*, int64_t, int64_t, const AdamScalars&);

/// FASHIONCUT_FUSED_ADAM=off: FusedAdam::step is Adam::step (the bench's baseline).
bool fused_off() {
  const char* v = std::getenv("FASHIONCUT_FUSED_ADAM");
  return v != nullptr && std::string(v) == "off";
}

/// The widest kernel this CPU runs; FASHIONCUT_FUSED_ADAM=avx2|scalar caps it (tests, debugging).
UpdateFn pick_update() {
  __builtin_cpu_init();
  const char* cap = std::getenv("FASHIONCUT_FUSED_ADAM");
  const std::string limit = cap != nullptr ? cap : "";
  if (limit.empty() && __builtin_cpu_supports("avx512f")) return &update_avx512;
  if (limit != "scalar" && __builtin_cpu_supports("avx2")) return &update_avx2;
  return &update_scalar;
}

bool fusable(const torch::Tensor& p, const torch::optim::AdamOptions& options) {
  const auto& g = p.grad();
  return !options.amsgrad() && p.device().is_cpu() && p.scalar_type() == torch::kFloat && p.is_contiguous() &&
         !g.is_sparse() && g.scalar_type() == torch::kFloat && g.is_contiguous() && g.device().is_cpu();
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  if (fused_off()) return torch::optim::Adam::step(std::move(closure));
  for (const auto& group : param_groups_)
    for (const auto& p : group.params())
      if (p.grad().defined() && !fusable(p, static_cast<const torch::optim::AdamOptions&>(group.options())))
        return torch::optim::Adam::step(std::move(closure));

  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  const UpdateFn update = pick_update();
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto it = state_.find(key);
      if (it == state_.end()) {  // as Adam::step creates it
        auto state = std::make_unique<torch::optim::AdamParamState>();
        state->step(0);
        state->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        state->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(state)).first;
      }
      auto& state = static_cast<torch::optim::AdamParamState&>(*it->second);
      TORCH_CHECK(state.exp_avg().is_contiguous() && state.exp_avg_sq().is_contiguous() &&
                      state.exp_avg().scalar_type() == torch::kFloat && state.exp_avg_sq().scalar_type() == torch::kFloat,
                  "FusedAdam: optimizer state of a parameter is not contiguous float32");
      state.step(state.step() + 1);
      const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
      const double bias_correction1 = 1 - std::pow(beta1, state.step());
      const double bias_correction2 = 1 - std::pow(beta2, state.step());
      const AdamScalars s{static_cast<float>(beta1),
                          static_cast<float>(1 - beta1),
                          static_cast<float>(beta2),
                          static_cast<float>(1 - beta2),
                          static_cast<float>(std::sqrt(bias_correction2)),
                          static_cast<float>(options.eps()),
                          static_cast<float>(-(options.lr() / bias_correction1)),
                          static_cast<float>(options.weight_decay())};
      float* pd = p.data_ptr<float>();
      const float* gd = p.grad().data_ptr<float>();
      float* md = state.exp_avg().data_ptr<float>();
      float* vd = state.exp_avg_sq().data_ptr<float>();
      at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) { update(pd, gd, md, vd, begin, end, s); });
      // In-place writes through raw pointers: bump the version counters as the tensor ops
      // would, so autograd still notices a parameter changed under a saved graph.
      torch::autograd::impl::bump_version(p);
      torch::autograd::impl::bump_version(state.exp_avg());
      torch::autograd::impl::bump_version(state.exp_avg_sq());
    }
  }
  return loss;
}

void clear_grads(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
}

}  // namespace fashioncut::train
