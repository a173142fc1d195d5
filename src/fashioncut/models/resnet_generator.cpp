#include "fashioncut/models/resnet_generator.h"

#include "fashioncut/models/blur_pool.h"
#include "fashioncut/models/init.h"

namespace fashioncut::models {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {
nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(true));
}
}  // namespace

ResnetBlockImpl::ResnetBlockImpl(int64_t dim_) : dim(dim_) {
  TORCH_CHECK(dim > 0, "ResnetBlock: dim must be > 0, got ", dim);
  conv_block = register_module(
      "conv_block", nn::Sequential(nn::ReflectionPad2d(1), conv(dim, dim, 3, 1, 0), cut_instance_norm(dim),
                                   nn::ReLU(nn::ReLUOptions(true)), nn::ReflectionPad2d(1), conv(dim, dim, 3, 1, 0),
                                   cut_instance_norm(dim)));
}

torch::Tensor ResnetBlockImpl::forward(const torch::Tensor& x) { return x + conv_block->forward(x); }

void ResnetBlockImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::ResnetBlock(dim=" << dim << ")";
}

ResnetGeneratorImpl::ResnetGeneratorImpl(const ResnetGeneratorOptions& options_) : options(options_) {
  const auto& o = options;
  TORCH_CHECK(o.input_nc() > 0 && o.output_nc() > 0, "ResnetGenerator: input_nc and output_nc must be > 0");
  TORCH_CHECK(o.ngf() > 0, "ResnetGenerator: ngf must be > 0, got ", o.ngf());
  TORCH_CHECK(o.n_blocks() >= 1, "ResnetGenerator: n_blocks must be >= 1, got ", o.n_blocks());
  nn::Sequential seq;
  auto add = [&](auto module, int64_t out_c) {
    seq->push_back(module);
    out_channels_.push_back(out_c);
  };
  const int64_t ngf = o.ngf();
  add(nn::ReflectionPad2d(3), o.input_nc());
  add(conv(o.input_nc(), ngf, 7, 1, 0), ngf);
  add(cut_instance_norm(ngf), ngf);
  add(nn::ReLU(nn::ReLUOptions(true)), ngf);
  for (int64_t i = 0; i < 2; ++i) {  // two downsampling stages
    const int64_t in = ngf << i, out = ngf << (i + 1);
    add(conv(in, out, 3, o.antialias() ? 1 : 2, 1), out);
    add(cut_instance_norm(out), out);
    add(nn::ReLU(nn::ReLUOptions(true)), out);
    if (o.antialias()) add(BlurDownsample(BlurDownsampleOptions(out)), out);
  }
  const int64_t dim = ngf * 4;
  for (int64_t b = 0; b < o.n_blocks(); ++b) add(ResnetBlock(dim), dim);
  for (int64_t i = 0; i < 2; ++i) {  // two upsampling stages
    const int64_t in = dim >> i, out = dim >> (i + 1);
    if (o.antialias_up()) {
      add(BlurUpsample(BlurUpsampleOptions(in)), in);
      add(conv(in, out, 3, 1, 1), out);
    } else {
      add(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(in, out, 3).stride(2).padding(1).output_padding(1).bias(true)),
          out);
    }
    add(cut_instance_norm(out), out);
    add(nn::ReLU(nn::ReLUOptions(true)), out);
  }
  add(nn::ReflectionPad2d(3), ngf);
  add(conv(ngf, o.output_nc(), 7, 1, 0), o.output_nc());
  add(nn::Tanh(), o.output_nc());
  model = register_module("model", seq);
  if (o.init_gain() > 0) init_cut_weights(*this, o.init_gain());
  if (o.residual()) {
    TORCH_CHECK(o.input_nc() == o.output_nc(), "ResnetGenerator: residual needs input_nc == output_nc, got ",
                o.input_nc(), " and ", o.output_nc());
    torch::NoGradGuard no_grad;
    auto* last = (*model)[model->size() - 2]->as<nn::Conv2d>();
    TORCH_CHECK(last != nullptr, "ResnetGenerator: expected the output conv before Tanh");
    last->weight.zero_();
    if (last->bias.defined()) last->bias.zero_();
  }
}

torch::Tensor ResnetGeneratorImpl::residual_output(const torch::Tensor& x, const torch::Tensor& y) const {
  return options.residual() ? (x + y).clamp(-1.0, 1.0) : y;
}

int64_t ResnetGeneratorImpl::first_block_index() const { return 4 + 2 * (options.antialias() ? 4 : 3); }
int64_t ResnetGeneratorImpl::last_block_index() const { return first_block_index() + options.n_blocks() - 1; }

std::vector<int64_t> ResnetGeneratorImpl::default_nce_layers() const {
  std::vector<int64_t> ids;
  for (int64_t id : {0, 4, 8, 12, 16}) {
    const int64_t clamped = std::min<int64_t>(id, last_block_index());
    if (ids.empty() || ids.back() != clamped) ids.push_back(clamped);
  }
  return ids;
}

std::vector<int64_t> ResnetGeneratorImpl::resolve_layers(std::vector<int64_t> layer_ids) const {
  if (layer_ids.empty()) return default_nce_layers();
  const auto n = static_cast<int64_t>(out_channels_.size());
  for (size_t i = 0; i < layer_ids.size(); ++i) {
    TORCH_CHECK(layer_ids[i] >= 0 && layer_ids[i] < n, "ResnetGenerator: layer id ", layer_ids[i],
                " out of range [0,", n, ") (nce_layers must index the generator's ", n, " modules)");
    TORCH_CHECK(i == 0 || layer_ids[i] > layer_ids[i - 1],
                "ResnetGenerator: layer ids must be strictly increasing, got ", layer_ids[i - 1], " then ",
                layer_ids[i]);
  }
  return layer_ids;
}

std::vector<int64_t> ResnetGeneratorImpl::nce_channels(std::vector<int64_t> layer_ids) const {
  std::vector<int64_t> channels;
  for (int64_t id : resolve_layers(std::move(layer_ids))) channels.push_back(out_channels_[id]);
  return channels;
}

torch::Tensor ResnetGeneratorImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.input_nc(), "ResnetGenerator expects [N,", options.input_nc(),
              ",H,W], got ", x.sizes());
  const int64_t h = x.size(2), w = x.size(3);
  TORCH_CHECK(h >= 8 && w >= 8, "ResnetGenerator needs H,W >= 8, got ", x.sizes());
  const int64_t ph = (4 - h % 4) % 4, pw = (4 - w % 4) % 4;
  auto input = (ph || pw) ? F::pad(x, F::PadFuncOptions({0, pw, 0, ph}).mode(torch::kReflect)) : x;
  auto y = model->forward(input);
  if (ph || pw) {
    using torch::indexing::Slice;
    y = y.index({Slice(), Slice(), Slice(0, h), Slice(0, w)});
  }
  return residual_output(x, y);
}

namespace {

/// Runs `model` on `feat`, appending the outputs of the layers `ids` (strictly increasing) to
/// `feats`; stops after the last of them when `stop_after_last`. An in-place ReLU right after a
/// captured layer would overwrite the captured feature (e.g. layer 8 = InstanceNorm without
/// anti-aliasing), so it runs out of place there. Returns the last output computed.
torch::Tensor run_capturing(nn::Sequential& model, torch::Tensor feat, const std::vector<int64_t>& ids,
                            std::vector<torch::Tensor>& feats, bool stop_after_last) {
  size_t next = 0;
  int64_t index = 0;
  bool just_captured = false;
  for (auto& layer : *model) {
    const auto* relu = layer.ptr()->as<nn::ReLU>();
    feat = (just_captured && relu != nullptr && relu->options.inplace()) ? torch::relu(feat) : layer.forward(feat);
    just_captured = next < ids.size() && index == ids[next];
    if (just_captured) {
      feats.push_back(feat);
      if (++next == ids.size() && stop_after_last) break;
    }
    ++index;
  }
  return feat;
}

}  // namespace

std::vector<torch::Tensor> ResnetGeneratorImpl::encode(const torch::Tensor& x, std::vector<int64_t> layer_ids) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.input_nc(), "ResnetGenerator::encode expects [N,",
              options.input_nc(), ",H,W], got ", x.sizes());
  const auto ids = resolve_layers(std::move(layer_ids));
  std::vector<torch::Tensor> feats;
  feats.reserve(ids.size());
  run_capturing(model, x, ids, feats, /*stop_after_last=*/true);
  return feats;
}

ResnetGeneratorImpl::Output ResnetGeneratorImpl::forward_with_features(const torch::Tensor& x,
                                                                      std::vector<int64_t> layer_ids) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.input_nc(), "ResnetGenerator::forward_with_features expects [N,",
              options.input_nc(), ",H,W], got ", x.sizes());
  const int64_t h = x.size(2), w = x.size(3);
  TORCH_CHECK(h >= 8 && w >= 8, "ResnetGenerator needs H,W >= 8, got ", x.sizes());
  const auto ids = resolve_layers(std::move(layer_ids));
  const int64_t ph = (4 - h % 4) % 4, pw = (4 - w % 4) % 4;
  Output result;
  result.feats.reserve(ids.size());
  const torch::Tensor input = (ph || pw) ? F::pad(x, F::PadFuncOptions({0, pw, 0, ph}).mode(torch::kReflect)) : x;
  torch::Tensor y = run_capturing(model, input, ids, result.feats, /*stop_after_last=*/false);
  if (ph || pw) {
    using torch::indexing::Slice;
    y = y.index({Slice(), Slice(), Slice(0, h), Slice(0, w)});
  }
  result.out = residual_output(x, y);
  return result;
}

void ResnetGeneratorImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::ResnetGenerator(input_nc=" << options.input_nc()
         << ", output_nc=" << options.output_nc() << ", ngf=" << options.ngf() << ", n_blocks=" << options.n_blocks()
         << ", antialias=" << options.antialias() << ", antialias_up=" << options.antialias_up() << ")";
}

}  // namespace fashioncut::models
