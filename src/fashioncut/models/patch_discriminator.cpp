#include "fashioncut/models/patch_discriminator.h"

#include "fashioncut/models/blur_pool.h"
#include "fashioncut/models/init.h"

namespace fashioncut::models {

namespace nn = torch::nn;

namespace {
nn::Conv2d conv4(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(stride).padding(1).bias(true));
}
nn::LeakyReLU lrelu() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)); }
}  // namespace

PatchDiscriminatorImpl::PatchDiscriminatorImpl(const PatchDiscriminatorOptions& options_) : options(options_) {
  const auto& o = options;
  TORCH_CHECK(o.input_nc() > 0 && o.ndf() > 0, "PatchDiscriminator: input_nc and ndf must be > 0");
  TORCH_CHECK(o.n_layers() >= 1, "PatchDiscriminator: n_layers must be >= 1, got ", o.n_layers());
  const int64_t ndf = o.ndf();
  const int64_t stride = o.antialias() ? 1 : 2;
  nn::Sequential seq;
  seq->push_back(conv4(o.input_nc(), ndf, stride));
  seq->push_back(lrelu());
  if (o.antialias()) seq->push_back(BlurDownsample(BlurDownsampleOptions(ndf)));
  int64_t mult = 1, mult_prev = 1;
  for (int64_t n = 1; n < o.n_layers(); ++n) {
    mult_prev = mult;
    mult = std::min<int64_t>(int64_t{1} << n, 8);
    seq->push_back(conv4(ndf * mult_prev, ndf * mult, stride));
    seq->push_back(cut_instance_norm(ndf * mult));
    seq->push_back(lrelu());
    if (o.antialias()) seq->push_back(BlurDownsample(BlurDownsampleOptions(ndf * mult)));
  }
  mult_prev = mult;
  mult = std::min<int64_t>(int64_t{1} << std::min<int64_t>(o.n_layers(), 3), 8);
  seq->push_back(conv4(ndf * mult_prev, ndf * mult, 1));
  seq->push_back(cut_instance_norm(ndf * mult));
  seq->push_back(lrelu());
  seq->push_back(conv4(ndf * mult, 1, 1));
  model = register_module("model", seq);
  if (o.init_gain() > 0) init_cut_weights(*this, o.init_gain());
}

int64_t PatchDiscriminatorImpl::output_size(int64_t in) const {
  auto conv = [](int64_t s, int64_t stride) { return s < 2 ? int64_t{0} : (s + 2 - 4) / stride + 1; };
  int64_t s = in;
  for (int64_t n = 0; n < options.n_layers() && s > 0; ++n) {
    if (options.antialias()) {
      s = conv(s, 1);
      if (s < 2) return 0;  // reflect pad 1 needs >= 2
      s = (s + 2 - 3) / 2 + 1;
    } else {
      s = conv(s, 2);
    }
  }
  if (s <= 0) return 0;
  s = conv(s, 1);
  return s > 0 ? conv(s, 1) : 0;
}

torch::Tensor PatchDiscriminatorImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.input_nc(), "PatchDiscriminator expects [N,", options.input_nc(),
              ",H,W], got ", x.sizes());
  TORCH_CHECK(output_size(x.size(2)) > 0 && output_size(x.size(3)) > 0, "PatchDiscriminator: input ", x.sizes(),
              " is too small for n_layers=", options.n_layers(), " (use >= 32 px or fewer layers)");
  return model->forward(x);
}

void PatchDiscriminatorImpl::pretty_print(std::ostream& stream) const {
  stream << "fashioncut::models::PatchDiscriminator(input_nc=" << options.input_nc() << ", ndf=" << options.ndf()
         << ", n_layers=" << options.n_layers() << ", antialias=" << options.antialias() << ")";
}

}  // namespace fashioncut::models
