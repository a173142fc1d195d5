// Least-squares GAN loss (CUT's networks.GANLoss with gan_mode 'lsgan').
#pragma once
#include <torch/torch.h>

namespace fashioncut::losses {

/// LSGAN loss: mean over every element of (pred - target)^2 with target = 1 for "real"
/// and 0 for "fake" (CUT networks.GANLoss, gan_mode='lsgan', nn.MSELoss with mean reduction).
///
/// pred: discriminator output of any shape, e.g. the PatchGAN map [N,1,30,30]; unbounded reals.
/// requires: pred.numel() > 0 and pred is floating point.
/// ensures: returns a 0-dim tensor >= 0 on pred's device and dtype; 0 iff pred equals the target
///          everywhere; gradient 2 (pred - target) / numel.
///
/// The discriminator step of CUT is 0.5 * (lsgan_loss(D(fake), false) + lsgan_loss(D(real), true));
/// the generator term is lambda_GAN * lsgan_loss(D(fake), true).
torch::Tensor lsgan_loss(const torch::Tensor& pred, bool target_is_real);

}  // namespace fashioncut::losses
