#include "fashioncut/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "fashioncut/core/errors.h"

namespace fashioncut::train {

double lr_factor(LrSchedule schedule, const TrainConfig& c, int64_t epoch, int64_t iteration) {
  switch (schedule) {
    case LrSchedule::kConstant: return 1.0;
    case LrSchedule::kLinearDecay: {  // CUT networks.get_scheduler 'linear', epoch_count = 1
      const int64_t constant_epochs = c.epochs - c.decay_epochs;
      return 1.0 - std::max<int64_t>(0, epoch + 1 - constant_epochs) / static_cast<double>(c.decay_epochs + 1);
    }
    case LrSchedule::kInverseDecay:  // TLL: lr0 * (1 + gamma * i)^(-decay)
      return std::pow(1.0 + c.lr_gamma * static_cast<double>(iteration), -c.lr_decay);
  }
  return 1.0;
}

double& group_lr(torch::optim::OptimizerParamGroup& group) {
  auto& options = group.options();
  if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&options)) return adam->lr();
  if (auto* sgd = dynamic_cast<torch::optim::SGDOptions*>(&options)) return sgd->lr();
  if (auto* adamw = dynamic_cast<torch::optim::AdamWOptions*>(&options)) return adamw->lr();
  throw Error("optimizer type without a learning rate this trainer knows (Adam, AdamW, SGD)");
}

}  // namespace fashioncut::train
