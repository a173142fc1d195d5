#include "fashioncut/models/weight_ema.h"

#include <algorithm>

#include "fashioncut/core/errors.h"

namespace fashioncut::models {

std::vector<torch::Tensor> WeightEmaImpl::tensors_of(torch::nn::Module& m) {
  std::vector<torch::Tensor> out = m.parameters(/*recurse=*/true);
  for (auto& b : m.buffers(/*recurse=*/true)) out.push_back(b);
  return out;
}

WeightEmaImpl::WeightEmaImpl(torch::nn::Module& live) {
  torch::NoGradGuard no_grad;
  const auto live_tensors = tensors_of(live);
  avg_.reserve(live_tensors.size());
  for (size_t i = 0; i < live_tensors.size(); ++i)  // names must not contain '.': index them
    avg_.push_back(register_buffer("w" + std::to_string(i), live_tensors[i].detach().clone()));
  count_ = register_buffer("updates", torch::zeros({}, torch::kLong));
}

void WeightEmaImpl::update(torch::nn::Module& live, double momentum) {
  torch::NoGradGuard no_grad;
  const auto live_tensors = tensors_of(live);
  if (live_tensors.size() != avg_.size())
    throw Error("weight average: the module has " + std::to_string(live_tensors.size()) + " tensors, the average " +
                std::to_string(avg_.size()));
  const double t = static_cast<double>(updates());
  const double m = std::min(momentum, (1.0 + t) / (10.0 + t));
  for (size_t i = 0; i < avg_.size(); ++i) {
    if (avg_[i].is_floating_point())
      avg_[i].lerp_(live_tensors[i].detach(), 1.0 - m);  // avg + (1 - m)(w - avg), one pass
    else
      avg_[i].copy_(live_tensors[i]);
  }
  count_.add_(1);
}

void WeightEmaImpl::swap(torch::nn::Module& live) {
  torch::NoGradGuard no_grad;
  auto live_tensors = tensors_of(live);
  if (live_tensors.size() != avg_.size())
    throw Error("weight average: the module has " + std::to_string(live_tensors.size()) + " tensors, the average " +
                std::to_string(avg_.size()));
  // set_data re-points a tensor at other storage; the registered tensors stay the same
  // objects, so the optimiser and the module dictionaries keep seeing them.
  for (size_t i = 0; i < avg_.size(); ++i) {
    const torch::Tensor was_live = live_tensors[i].detach();
    live_tensors[i].set_data(avg_[i].detach());
    avg_[i].set_data(was_live);
  }
}

}  // namespace fashioncut::models
