#include "fashioncut/models/resnet.h"

#include "fashioncut/models/init.h"

namespace fashioncut::models {

namespace nn = torch::nn;

namespace {
nn::Conv2d conv_nb(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}
nn::Sequential make_downsample(int64_t inplanes, int64_t out, int64_t stride) {
  if (stride == 1 && inplanes == out) return nullptr;
  return nn::Sequential(conv_nb(inplanes, out, 1, stride, 0), nn::BatchNorm2d(out));
}
}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride)
    // Registration order = torchvision's state_dict order (conv1, bn1, conv2, bn2).
    : conv1(register_module("conv1", conv_nb(inplanes, planes, 3, stride, 1))),
      bn1(register_module("bn1", nn::BatchNorm2d(planes))),
      conv2(register_module("conv2", conv_nb(planes, planes, 3, 1, 1))),
      bn2(register_module("bn2", nn::BatchNorm2d(planes))) {
  if (auto ds = make_downsample(inplanes, planes * expansion, stride)) downsample = register_module("downsample", ds);
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1(conv1(x)));
  out = bn2(conv2(out));
  out += downsample ? downsample->forward(x) : x;
  return torch::relu(out);
}

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride)
    : conv1(register_module("conv1", conv_nb(inplanes, planes, 1, 1, 0))),
      bn1(register_module("bn1", nn::BatchNorm2d(planes))),
      conv2(register_module("conv2", conv_nb(planes, planes, 3, stride, 1))),
      bn2(register_module("bn2", nn::BatchNorm2d(planes))),
      conv3(register_module("conv3", conv_nb(planes, planes * expansion, 1, 1, 0))),
      bn3(register_module("bn3", nn::BatchNorm2d(planes * expansion))) {
  if (auto ds = make_downsample(inplanes, planes * expansion, stride)) downsample = register_module("downsample", ds);
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1(conv1(x)));
  out = torch::relu(bn2(conv2(out)));
  out = bn3(conv3(out));
  out += downsample ? downsample->forward(x) : x;
  return torch::relu(out);
}

namespace {
std::array<int64_t, 4> blocks_for_depth(int64_t depth) {
  switch (depth) {
    case 18: return {2, 2, 2, 2};
    case 34: return {3, 4, 6, 3};
    case 50: return {3, 4, 6, 3};
    default: TORCH_CHECK(false, "ResNet: depth must be 18, 34 or 50, got ", depth);
  }
}
}  // namespace

ResNetImpl::ResNetImpl(const ResNetOptions& options_) : options(options_) {
  const auto& o = options;
  const auto blocks = blocks_for_depth(o.depth());
  TORCH_CHECK(o.in_channels() == 1 || o.in_channels() == 3, "ResNet: in_channels must be 1 or 3, got ",
              o.in_channels());
  TORCH_CHECK(o.num_classes() > 0, "ResNet: num_classes must be > 0, got ", o.num_classes());
  conv1 = register_module("conv1", o.small_input() ? conv_nb(o.in_channels(), 64, 3, 1, 1)
                                                   : conv_nb(o.in_channels(), 64, 7, 2, 3));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  layer1 = register_module("layer1", make_layer(64, blocks[0], 1));
  layer2 = register_module("layer2", make_layer(128, blocks[1], 2));
  layer3 = register_module("layer3", make_layer(256, blocks[2], 2));
  layer4 = register_module("layer4", make_layer(512, blocks[3], 2));
  fc = register_module("fc", nn::Linear(feature_dim(), o.num_classes()));
  init_torchvision_resnet(*this);
  if (o.zero_init_residual()) {
    torch::NoGradGuard no_grad;
    for (auto& m : modules(false)) {
      if (auto* b = m->as<Bottleneck>()) nn::init::zeros_(b->bn3->weight);
      else if (auto* b = m->as<BasicBlock>()) nn::init::zeros_(b->bn2->weight);
    }
  }
}

nn::Sequential ResNetImpl::make_layer(int64_t planes, int64_t blocks, int64_t stride) {
  nn::Sequential layer;
  const bool bottleneck = options.depth() >= 50;
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t s = i == 0 ? stride : 1;
    if (bottleneck) {
      layer->push_back(Bottleneck(inplanes_, planes, s));
      inplanes_ = planes * BottleneckImpl::expansion;
    } else {
      layer->push_back(BasicBlock(inplanes_, planes, s));
      inplanes_ = planes * BasicBlockImpl::expansion;
    }
  }
  return layer;
}

int64_t ResNetImpl::feature_dim() const { return options.depth() >= 50 ? 2048 : 512; }

torch::Tensor ResNetImpl::features(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.in_channels(), "ResNet expects [N,", options.in_channels(),
              ",H,W], got ", x.sizes());
  auto h = torch::relu(bn1(conv1(x)));
  if (!options.small_input()) h = torch::max_pool2d(h, 3, 2, 1);
  h = layer4->forward(layer3->forward(layer2->forward(layer1->forward(h))));
  return torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& x) { return fc(features(x)); }

void ResNetImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::ResNet(depth=" << options.depth() << ", num_classes=" << options.num_classes()
         << ", in_channels=" << options.in_channels() << ", small_input=" << options.small_input() << ")";
}

}  // namespace fashioncut::models
