// Learning-rate schedules of the methods' optimisers (CUT's linear decay, TLL's inverse decay),
// applied by the Trainer every iteration.
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "fashioncut/train/train_config.h"

namespace fashioncut::train {

/// How an optimiser's learning rate evolves (the Trainer applies it every iteration).
enum class LrSchedule {
  kConstant,     ///< lr0
  kLinearDecay,  ///< CUT: constant, then linear to ~0 over the last `decay_epochs` epochs
  kInverseDecay  ///< TLL: lr0 * (1 + gamma * i)^(-decay), i = global iteration
};

/// Factor on lr0 of `schedule` at (0-based epoch, 0-based global iteration), from c.epochs,
/// c.decay_epochs (linear) and c.lr_gamma, c.lr_decay (inverse).
double lr_factor(LrSchedule schedule, const TrainConfig& c, int64_t epoch, int64_t iteration);

/// The lr field of a parameter group of Adam, AdamW or SGD (throws fashioncut::Error otherwise).
double& group_lr(torch::optim::OptimizerParamGroup& group);

}  // namespace fashioncut::train
