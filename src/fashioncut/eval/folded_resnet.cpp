#include "fashioncut/eval/folded_resnet.h"

namespace fashioncut::eval {
namespace nn = torch::nn;

torch::Tensor FoldedConv::forward(const torch::Tensor& x) const {
  if (packed.defined()) return at::mkldnn_convolution(x, packed, bias, {padding, padding}, {stride, stride}, {1, 1}, 1);
  return torch::conv2d(x, weight, bias, {stride, stride}, {padding, padding});
}

FoldedConv fold_conv_bn(const nn::Conv2d& conv, const nn::BatchNorm2d& bn) {
  torch::NoGradGuard no_grad;
  const auto& o = conv->options;
  TORCH_CHECK(o.groups() == 1 && (*o.dilation())[0] == 1, "fold_conv_bn: grouped/dilated convs are not supported");
  const auto& pad = c10::get<torch::ExpandingArray<2>>(o.padding());
  FoldedConv f;
  f.stride = (*o.stride())[0];
  f.padding = (*pad)[0];
  const auto w = conv->weight.detach().to(torch::kFloat64);
  const double eps = bn->options.eps();
  const auto gamma = bn->options.affine() ? bn->weight.detach().to(torch::kFloat64) : torch::ones({w.size(0)}, torch::kFloat64);
  const auto beta = bn->options.affine() ? bn->bias.detach().to(torch::kFloat64) : torch::zeros({w.size(0)}, torch::kFloat64);
  const auto scale = gamma / (bn->running_var.detach().to(torch::kFloat64) + eps).sqrt();
  auto bias = beta - bn->running_mean.detach().to(torch::kFloat64) * scale;
  if (conv->bias.defined()) bias = bias + conv->bias.detach().to(torch::kFloat64) * scale;
  f.weight = (w * scale.view({-1, 1, 1, 1})).to(torch::kFloat32).contiguous();
  f.bias = bias.to(torch::kFloat32).contiguous();
  return f;
}

namespace {
nn::Conv2d conv_at(const nn::Sequential& seq, size_t i) {
  return nn::Conv2d(std::dynamic_pointer_cast<nn::Conv2dImpl>(seq->ptr(i)));
}
nn::BatchNorm2d bn_at(const nn::Sequential& seq, size_t i) {
  return nn::BatchNorm2d(std::dynamic_pointer_cast<nn::BatchNorm2dImpl>(seq->ptr(i)));
}
}  // namespace

FoldedResNet::FoldedResNet(const models::ResNet& r) {
  stem_ = fold_conv_bn(r->conv1, r->bn1);
  small_input_ = r->options.small_input();
  for (const auto* layer : {&r->layer1, &r->layer2, &r->layer3, &r->layer4}) {
    for (size_t i = 0; i < (*layer)->size(); ++i) {
      Block b;
      const auto module = (*layer)->ptr(i);
      nn::Sequential ds{nullptr};
      if (auto* basic = module->as<models::BasicBlockImpl>()) {
        b.convs = {fold_conv_bn(basic->conv1, basic->bn1), fold_conv_bn(basic->conv2, basic->bn2)};
        ds = basic->downsample;
      } else if (auto* bottle = module->as<models::BottleneckImpl>()) {
        b.convs = {fold_conv_bn(bottle->conv1, bottle->bn1), fold_conv_bn(bottle->conv2, bottle->bn2),
                   fold_conv_bn(bottle->conv3, bottle->bn3)};
        ds = bottle->downsample;
      } else {
        TORCH_CHECK(false, "FoldedResNet: unexpected block type ", module->name());
      }
      if (ds) {
        b.has_downsample = true;
        b.downsample = fold_conv_bn(conv_at(ds, 0), bn_at(ds, 1));
      }
      blocks_.push_back(std::move(b));
    }
  }
  fc_weight_ = r->fc->weight.detach().clone();
  fc_bias_ = r->fc->bias.detach().clone();
}

void FoldedResNet::to(torch::Device device, torch::ScalarType dtype, bool blocked_layout) {
  torch::NoGradGuard no_grad;
  blocked_ = blocked_layout && device.is_cpu() && dtype == torch::kFloat32 && at::hasMKLDNN();
  auto move = [&](FoldedConv& c) {
    c.weight = c.weight.to(device, dtype);
    c.bias = c.bias.to(device, dtype);
    c.packed = blocked_ ? at::mkldnn_reorder_conv2d_weight(c.weight.to_mkldnn(), {c.padding, c.padding},
                                                           {c.stride, c.stride}, {1, 1}, 1)
                        : torch::Tensor();
  };
  move(stem_);
  for (auto& b : blocks_) {
    for (auto& c : b.convs) move(c);
    if (b.has_downsample) move(b.downsample);
  }
  fc_weight_ = fc_weight_.to(device, torch::kFloat32);
  fc_bias_ = fc_bias_.to(device, torch::kFloat32);
}

torch::Tensor FoldedResNet::features(const torch::Tensor& input) const {
  // In the blocked layout relu_, max_pool2d, += and adaptive_avg_pool2d dispatch to their
  // oneDNN kernels; the pooled features come back as a dense tensor.
  const auto x = input.to(stem_.weight.scalar_type());
  auto h = stem_.forward(blocked_ ? x.contiguous().to_mkldnn() : x).relu_();
  if (!small_input_) h = torch::max_pool2d(h, 3, 2, 1);
  for (const auto& b : blocks_) {
    auto out = b.convs[0].forward(h).relu_();
    for (size_t i = 1; i + 1 < b.convs.size(); ++i) out = b.convs[i].forward(out).relu_();
    out = b.convs.back().forward(out);
    out += b.has_downsample ? b.downsample.forward(h) : h;
    h = out.relu_();
  }
  auto pooled = torch::adaptive_avg_pool2d(h, {1, 1});
  if (blocked_) pooled = pooled.to_dense();
  return pooled.flatten(1).to(torch::kFloat32);
}

torch::Tensor FoldedResNet::forward(const torch::Tensor& x) const {
  return torch::linear(features(x), fc_weight_, fc_bias_);
}

}  // namespace fashioncut::eval
