// Weight initialisation schemes of the reference implementations.
#pragma once

#include <torch/torch.h>

namespace fashioncut::models {

/// CUT `init_weights(init_type='xavier', init_gain=gain)`, applied to `module` and all
/// its descendants: every Conv1d/2d/3d, ConvTranspose1d/2d/3d and Linear weight gets
/// xavier_normal_(gain) and its bias 0; BatchNorm1d/2d weights N(1, gain), biases 0.
/// Buffers (e.g. blur filters) are untouched. requires gain > 0.
void init_cut_weights(torch::nn::Module& module, double gain = 0.02);

/// torchvision ResNet init: Conv2d weights kaiming_normal_(fan_out, relu), no bias change;
/// BatchNorm2d/GroupNorm weight 1, bias 0; Linear keeps LibTorch's (= PyTorch's) default.
void init_torchvision_resnet(torch::nn::Module& module);

}  // namespace fashioncut::models
