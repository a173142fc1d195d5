// An exponential moving average of a module's weights (parameters and buffers), kept as the
// buffers of a module of its own so that checkpoints save and restore it with the rest.
//
//   ema ← m_t·ema + (1 − m_t)·w after every step, m_t = min(m, (1 + t)/(10 + t))
//
// (the warm-up keeps the first steps from being dominated by the initial weights; t counts
// updates). Integer buffers (batch-norm step counters) are copied. `swap` exchanges the live
// and the averaged tensors in O(1) (no copies), so the averaged weights can be evaluated,
// saved or used as a teacher through the live module's own forward.
#pragma once
#include <torch/torch.h>

namespace fashioncut::models {

class WeightEmaImpl : public torch::nn::Module {
 public:
  /// Starts as a copy of `live`'s weights; `live` must not change its set of tensors later.
  explicit WeightEmaImpl(torch::nn::Module& live);

  /// One averaging step towards `live`'s current weights with momentum `momentum` in [0,1).
  void update(torch::nn::Module& live, double momentum);

  /// Exchanges the live module's tensors with the averaged ones (call again to undo). Only
  /// between steps: a graph built before the swap would see the other weights in backward.
  void swap(torch::nn::Module& live);

  /// Updates done so far (drives the warm-up; saved with the buffers).
  int64_t updates() const { return count_.item<int64_t>(); }

 private:
  static std::vector<torch::Tensor> tensors_of(torch::nn::Module& m);
  std::vector<torch::Tensor> avg_;
  torch::Tensor count_;
};
TORCH_MODULE(WeightEma);

/// Puts the averaged weights into `live` for the guard's lifetime (exception-safe); does
/// nothing when `ema` is null (a run without an average).
class EmaSwapGuard {
 public:
  EmaSwapGuard(WeightEmaImpl* ema, torch::nn::Module* live) : ema_(live ? ema : nullptr), live_(live) {
    if (ema_) ema_->swap(*live_);
  }
  ~EmaSwapGuard() {
    if (ema_) ema_->swap(*live_);
  }
  EmaSwapGuard(const EmaSwapGuard&) = delete;
  EmaSwapGuard& operator=(const EmaSwapGuard&) = delete;

 private:
  WeightEmaImpl* ema_;
  torch::nn::Module* live_;
};

}  // namespace fashioncut::models
