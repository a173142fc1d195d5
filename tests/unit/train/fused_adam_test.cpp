// FusedAdam (train/fused_adam.cpp) against torch::optim::Adam: the same parameters after several
// steps (float rounding only), the same state (so checkpoints are interchangeable), the fallback
// for what it does not fuse, and clear_grads.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <sstream>

#include "fashioncut/train/fused_adam.h"

namespace fashioncut::train::fused_adam_test {
namespace {
using torch::Tensor;

/// Parameters of awkward sizes (vector tails of every length, one below the split grain, one
/// above it) and one that gets no gradient.
std::vector<Tensor> make_params(uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<Tensor> out;
  for (int64_t n : {1, 7, 15, 16, 17, 33, 1000, 70001}) out.push_back(torch::randn({n}).requires_grad_(true));
  out.push_back(torch::randn({3, 5, 4, 4}).requires_grad_(true));
  out.push_back(torch::randn({9}).requires_grad_(true));  // never gets a gradient
  return out;
}

/// A different gradient at every step (the last parameter gets none).
void set_grads(std::vector<Tensor>& params, int64_t step) {
  torch::manual_seed(1000 + step);
  for (size_t i = 0; i + 1 < params.size(); ++i) params[i].mutable_grad() = torch::randn_like(params[i]) * (0.1 + i);
}

/// Float rounding: within 1e-5 relative, and near zero within 1e-6 of the tensor's largest value.
/// exp_avg = beta1 * m + (1 - beta1) * g cancels to almost nothing in some elements, where the
/// rounding of the two products (or one fused multiply-add, as LibTorch's own kernels do on some
/// CPUs) is relative to the terms, not to the result.
bool close(const Tensor& a, const Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return torch::allclose(a, b, /*rtol=*/1e-5, /*atol=*/1e-6 * scale);
}

void expect_matches_adam(const torch::optim::AdamOptions& options, int steps) {
  auto mine = make_params(3), ref = make_params(3);
  FusedAdam fused(mine, options);
  torch::optim::Adam adam(ref, options);
  for (int t = 0; t < steps; ++t) {
    set_grads(mine, t);
    set_grads(ref, t);
    fused.step();
    adam.step();
  }
  const auto initial = make_params(3);
  for (size_t i = 0; i < mine.size(); ++i) {
    EXPECT_TRUE(close(mine[i], ref[i])) << "parameter " << i;
    if (i + 1 < mine.size()) {
      EXPECT_FALSE(torch::equal(mine[i], initial[i])) << "parameter " << i << " did not move";
    }
  }
  EXPECT_TRUE(torch::equal(mine.back(), initial.back())) << "a parameter without gradient moved";
  // The same state entries: exp_avg and exp_avg_sq agree, steps counted alike.
  for (size_t i = 0; i + 1 < mine.size(); ++i) {
    const auto key_m = c10::guts::to_string(mine[i].unsafeGetTensorImpl());
    const auto key_r = c10::guts::to_string(ref[i].unsafeGetTensorImpl());
    const auto& sm = static_cast<torch::optim::AdamParamState&>(*fused.state().at(key_m));
    const auto& sr = static_cast<torch::optim::AdamParamState&>(*adam.state().at(key_r));
    EXPECT_EQ(sm.step(), sr.step());
    EXPECT_TRUE(close(sm.exp_avg(), sr.exp_avg()));
    EXPECT_TRUE(close(sm.exp_avg_sq(), sr.exp_avg_sq()));
  }
}

TEST(FusedAdamTest, MatchesAdamWithCutSettings) {
  expect_matches_adam(torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}), 6);
}

TEST(FusedAdamTest, EveryKernelMatchesAdam) {
  // The AVX2 and scalar kernels, which this machine would not pick by itself.
  for (const char* isa : {"avx2", "scalar"}) {
    setenv("FASHIONCUT_FUSED_ADAM", isa, 1);
    expect_matches_adam(torch::optim::AdamOptions(1e-2).betas({0.5, 0.999}).weight_decay(1e-3), 4);
    unsetenv("FASHIONCUT_FUSED_ADAM");
  }
}

TEST(FusedAdamTest, MatchesAdamWithDefaultsAndWeightDecay) {
  expect_matches_adam(torch::optim::AdamOptions(1e-2), 4);
  expect_matches_adam(torch::optim::AdamOptions(1e-3).weight_decay(0.01), 4);
}

TEST(FusedAdamTest, FallsBackToAdamForWhatItDoesNotFuse) {
  // amsgrad and a non-contiguous parameter take Adam::step: identical results, bit for bit.
  for (bool amsgrad : {true, false}) {
    torch::manual_seed(5);
    auto base = torch::randn({6, 4});
    std::vector<Tensor> mine{base.clone().t().requires_grad_(true)}, ref{base.clone().t().requires_grad_(true)};
    ASSERT_FALSE(mine[0].is_contiguous());
    const auto options = torch::optim::AdamOptions(1e-2).amsgrad(amsgrad);
    FusedAdam fused(mine, options);
    torch::optim::Adam adam(ref, options);
    for (int t = 0; t < 3; ++t) {
      torch::manual_seed(t);
      mine[0].mutable_grad() = torch::randn_like(mine[0]);
      torch::manual_seed(t);
      ref[0].mutable_grad() = torch::randn_like(ref[0]);
      fused.step();
      adam.step();
    }
    EXPECT_TRUE(torch::equal(mine[0], ref[0])) << "amsgrad " << amsgrad;
  }
}

TEST(FusedAdamTest, StateSerialisesAsAdams) {
  auto mine = make_params(4), ref = make_params(4);
  const auto options = torch::optim::AdamOptions(1e-3);
  FusedAdam fused(mine, options);
  for (int t = 0; t < 3; ++t) {
    set_grads(mine, t);
    fused.step();
  }
  std::stringstream buffer;
  torch::serialize::OutputArchive out;
  fused.save(out);
  out.save_to(buffer);
  // A plain Adam loads it and continues exactly like the fused one (after the same parameters).
  for (size_t i = 0; i < ref.size(); ++i) ref[i].detach().copy_(mine[i].detach());
  torch::optim::Adam adam(ref, options);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  adam.load(in);
  set_grads(mine, 3);
  set_grads(ref, 3);
  fused.step();
  adam.step();
  for (size_t i = 0; i < mine.size(); ++i) EXPECT_TRUE(close(mine[i], ref[i])) << "parameter " << i;
}

TEST(FusedAdamTest, ClearGradsDropsGradientsAndBackwardWritesFreshOnes) {
  auto w = torch::ones({3}).requires_grad_(true);
  FusedAdam opt({w}, torch::optim::AdamOptions(0.1));
  (w * 2).sum().backward();
  ASSERT_TRUE(w.grad().defined());
  clear_grads(opt);
  EXPECT_FALSE(w.grad().defined());
  (w * 3).sum().backward();  // not 2 + 3: nothing was accumulated into
  EXPECT_TRUE(torch::equal(w.grad(), torch::full({3}, 3.0f)));
}

}  // namespace
}  // namespace fashioncut::train::fused_adam_test
