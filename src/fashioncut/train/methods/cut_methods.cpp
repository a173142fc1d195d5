// CUT (Park et al. 2020) and Fashion CUT: translation G with PatchGAN D and PatchNCE
// (netF), optionally with a classifier C trained jointly on G(x_s) whose cross-entropy
// enters G's loss, and pseudo-labelled real images in C's batch after a warm-up.
//
//   L_D = 0.5 * (LSGAN(D(G(x)), 0) + LSGAN(D(y), 1))
//   L_G = λ_GAN·LSGAN(D(G(x)), 1) + λ_NCE·½(NCE(x, G(x)) + NCE(y, G(y))) + λ_C·CE(C(G(x)), y_x)
//   C's batch: G(x) (labelled) and a `pseudo_label_fraction` of real y (from the first step with
//   `target_bn`, so C's batch norm sees both domains; else from `pseudo_label_start`); from epoch
//   `pseudo_label_start` the real rows are trained on their pseudo-labels argmax C(y), or with
//   `pseudo_label_align` on argmax of C(y)'s softmax divided by its running mean (confidence >
//   threshold), chosen by C itself or (`pseudo_label_teacher = ema`) by the trainer's moving
//   average of C's weights; with `pseudo_label_augment` C trains on the real rows shifted and
//   flipped (weak; strong adds contrast and cutout) while the teacher labels them plain. One backward updates G, F and C.
//   Because one backward serves both, C's supervised gradient carries the factor λ_C too
//   (with Adam this rescaling barely changes C's steps; λ_C = 1 by default).
#include <torch/torch.h>

#include "fashioncut/data/transforms.h"
#include "fashioncut/losses/classification.h"
#include "fashioncut/losses/gan_loss.h"
#include "fashioncut/losses/patch_nce.h"
#include "fashioncut/models/patch_discriminator.h"
#include "fashioncut/models/patch_sample_mlp.h"
#include "fashioncut/models/resnet_generator.h"
#include "fashioncut/train/fused_adam.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/methods/methods.h"

namespace fashioncut::train::methods {
namespace {
using models::Classifier;
using models::PatchSamples;
using torch::Tensor;

enum class Variant { kCut, kFastCut, kFashionCut, kCutThenClassify };

void set_requires_grad(torch::nn::Module& module, bool on) {
  for (auto& p : module.parameters()) p.set_requires_grad(on);
}

class CutMethod : public Method {
 public:
  CutMethod(const TrainConfig& c, const MethodContext& ctx, Variant variant)
      : c_(c), variant_(variant), name_(name_of(variant)), spec_(classifier_spec_for(c, ctx)) {
    nce_idt_ = variant == Variant::kFastCut ? false : c.nce_idt;
    lambda_nce_ = variant == Variant::kFastCut && c.lambda_nce == 1.0 ? 10.0 : c.lambda_nce;  // FastCUT default
    G_ = models::ResnetGenerator(models::ResnetGeneratorOptions()
                                     .input_nc(ctx.channels)
                                     .output_nc(ctx.channels)
                                     .ngf(c.ngf)
                                     .n_blocks(c.n_blocks)
                                     .antialias(c.antialias)
                                     .antialias_up(c.antialias)
                                     .residual(c.g_residual));
    D_ = models::PatchDiscriminator(
        models::PatchDiscriminatorOptions().input_nc(ctx.channels).ndf(c.ndf).n_layers(c.n_layers_d).antialias(c.antialias));
    F_ = models::PatchSampleMlp(models::PatchSampleMlpOptions(G_->nce_channels(c.nce_layers)).nc(c.netf_nc));
    C_ = Classifier(spec_);
    const auto adam = torch::optim::AdamOptions(c.lr).betas({c.beta1, c.beta2});
    opt_g_ = std::make_unique<FusedAdam>(G_->parameters(), adam);
    opt_d_ = std::make_unique<FusedAdam>(D_->parameters(), adam);
    opt_f_ = std::make_unique<FusedAdam>(F_->parameters(), adam);
    opt_c_ = std::make_unique<FusedAdam>(C_->parameters(), torch::optim::AdamOptions(c.classifier_lr));
    class_prior_.assign(static_cast<size_t>(ctx.num_classes), 1.0 / static_cast<double>(ctx.num_classes));
  }

  static std::string name_of(Variant v) {
    switch (v) {
      case Variant::kCut: return "cut";
      case Variant::kFastCut: return "fastcut";
      case Variant::kFashionCut: return "fashion-cut";
      case Variant::kCutThenClassify: return "cut-then-classify";
    }
    return "";
  }

  std::string name() const override { return name_; }
  bool has_classifier() const override { return variant_ == Variant::kFashionCut || variant_ == Variant::kCutThenClassify; }

  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> modules() override {
    std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> m{
        {"G", G_.ptr()}, {"D", D_.ptr()}, {"F", F_.ptr()}};
    if (has_classifier()) m.emplace_back("C", C_.ptr());
    return m;
  }

  std::vector<OptimizerSlot> optimizers() override {
    std::vector<OptimizerSlot> s{{"G", opt_g_.get(), LrSchedule::kLinearDecay},
                                 {"D", opt_d_.get(), LrSchedule::kLinearDecay},
                                 {"F", opt_f_.get(), LrSchedule::kLinearDecay}};
    if (has_classifier()) s.push_back({"C", opt_c_.get(), LrSchedule::kConstant});
    return s;
  }

  /// Layer-averaged PatchNCE of queries (features of a translation) against keys (features of
  /// the images it translates), for n images; the same patch locations for both.
  Tensor nce(const std::vector<Tensor>& keys, const std::vector<Tensor>& queries, int64_t n) {
    PatchSamples k;
    {
      torch::NoGradGuard no_grad;  // PatchNCE detaches the keys: no graph needed for them
      k = F_->forward(keys, c_.num_patches);
    }
    const auto q = F_->forward(queries, c_.num_patches, k.patch_ids);
    return losses::patch_nce_multi(q.feats, k.feats, losses::PatchNceOptions(n).tau(c_.nce_t));
  }

  static std::vector<Tensor> rows(const std::vector<Tensor>& feats, int64_t start, int64_t n) {
    std::vector<Tensor> out;
    out.reserve(feats.size());
    for (const auto& f : feats) out.push_back(f.narrow(0, start, n));
    return out;
  }

  StepStats train_step(const StepInput& in) override {
    if (variant_ == Variant::kCutThenClassify && in.epoch >= translate_epochs()) return classify_stage(in);
    StepStats stats;
    const int64_t n = in.source.size(0);
    // With `pseudo_label_teacher = ema` the labels come from the classifier's weight average,
    // evaluated on the real rows before this step builds any graph (StepInput::teacher).
    const bool pl = variant_ == Variant::kFashionCut && c_.pseudo_labels && in.epoch >= c_.pseudo_label_start;
    const int64_t n_real =
        variant_ == Variant::kFashionCut && (pl || c_.target_bn)
            ? std::max<int64_t>(1, static_cast<int64_t>(n * c_.pseudo_label_fraction))
            : 0;
    Tensor teacher_logits;
    if (pl && c_.pseudo_label_teacher == "ema") {
      TORCH_CHECK(static_cast<bool>(in.teacher), "pseudo-label-teacher 'ema' needs the trainer's classifier-ema");
      teacher_logits = in.teacher(in.target.narrow(0, 0, n_real));
    }
    // Work done once where the reference does it twice (all exact; docs/BENCHMARKS.md):
    // - G runs once on cat(x, y) (as the reference; InstanceNorm keeps the halves independent);
    // - the PatchNCE keys are G's encoder features from that same pass (the reference encodes
    //   x and y again; keys are detached in PatchNCE, so values and gradients are unchanged);
    //   at sizes that G pads (not multiples of 4) the keys are encoded separately as before;
    // - the queries of both NCE terms come from one encode(G(x), G(y)) call and D's loss from
    //   one D pass over cat(G(x), y) (InstanceNorm is per image; the halves are split after).
    const Tensor real = nce_idt_ ? torch::cat({in.source, in.target}) : in.source;
    const bool reuse_keys = real.size(2) % 4 == 0 && real.size(3) % 4 == 0;
    Tensor fake;
    std::vector<Tensor> keys;
    if (reuse_keys) {
      auto pass = G_->forward_with_features(real, c_.nce_layers);
      fake = pass.out;
      for (auto& f : pass.feats) keys.push_back(f.detach());
    } else {
      fake = G_->forward(real);
    }
    const Tensor fake_b = fake.narrow(0, 0, n);

    set_requires_grad(*D_, true);
    clear_grads(*opt_d_);  // every parameter of G, D, F and C gets a gradient in each step
    const Tensor d_out = D_->forward(torch::cat({fake_b.detach(), in.target}));
    const Tensor loss_d = 0.5 * (losses::lsgan_loss(d_out.narrow(0, 0, n), false) +
                                 losses::lsgan_loss(d_out.narrow(0, n, in.target.size(0)), true));
    loss_d.backward();
    opt_d_->step();
    set_requires_grad(*D_, false);

    clear_grads(*opt_g_);
    clear_grads(*opt_f_);
    clear_grads(*opt_c_);
    const Tensor loss_gan = c_.lambda_gan * losses::lsgan_loss(D_->forward(fake_b), true);
    if (!reuse_keys) {
      torch::NoGradGuard no_grad;
      keys = G_->encode(real, c_.nce_layers);
    }
    const auto queries = G_->encode(fake, c_.nce_layers);
    Tensor loss_nce = nce(rows(keys, 0, n), rows(queries, 0, n), n);
    if (nce_idt_) loss_nce = 0.5 * (loss_nce + nce(rows(keys, n, n), rows(queries, n, n), n));
    Tensor total = loss_gan + lambda_nce_ * loss_nce;
    stats.losses["D/gan"] = loss_d.item<double>();
    stats.losses["G/gan"] = loss_gan.item<double>();
    stats.losses["G/nce"] = loss_nce.item<double>();
    if (variant_ == Variant::kFashionCut) {
      // Real images share C's batch (and so its batch-norm statistics) from the start when
      // `target_bn` is on; their pseudo-label loss only counts from `pseudo_label_start`.
      const int64_t n_syn = n - n_real;
      Tensor batch = fake_b.narrow(0, 0, n_syn);
      if (n_real > 0) {
        Tensor real_rows = in.target.narrow(0, 0, n_real);
        const int64_t shift = std::max<int64_t>(1, real_rows.size(3) / 8);
        if (pl && c_.pseudo_label_augment == "weak") real_rows = data::random_shift_flip(real_rows, shift);
        if (pl && c_.pseudo_label_augment == "strong") real_rows = data::random_strong_view(real_rows, shift, 0.5, 0.5);
        batch = torch::cat({batch, real_rows});
      }
      const Tensor logits = C_->forward(batch);
      const Tensor ce = losses::cross_entropy(logits.narrow(0, 0, n_syn), in.source_labels.narrow(0, 0, n_syn));
      total = total + c_.lambda_c * ce;
      stats.losses["C/ce"] = ce.item<double>();
      if (pl) {
        const Tensor real_logits = logits.narrow(0, n_syn, n_real);
        const auto plc = pseudo_labels(real_logits, teacher_logits.defined() ? teacher_logits : real_logits);
        total = total + plc.loss;
        stats.losses["C/pseudo"] = plc.loss.item<double>();
        stats.extras["pl/acceptance"] = plc.acceptance_rate.item<double>();
      }
    }
    total.backward();
    opt_g_->step();
    opt_f_->step();
    if (variant_ == Variant::kFashionCut) opt_c_->step();
    return stats;
  }

  /// cut-then-classify, stage 2: G frozen, C trained on G(x).
  StepStats classify_stage(const StepInput& in) {
    G_->eval();
    Tensor translated;
    {
      torch::NoGradGuard no_grad;
      translated = G_->forward(in.source);
    }
    opt_c_->zero_grad();
    const Tensor ce = losses::cross_entropy(C_->forward(translated), in.source_labels);
    ce.backward();
    opt_c_->step();
    return {{{"C/ce", ce.item<double>()}}, {}};
  }

  /// Pseudo-label loss on real-image logits, labels chosen by `label_logits` (the same logits,
  /// or the teacher's); with alignment, labels come from p / prior where prior is the running
  /// mean of the label-choosing predictions (updated here).
  losses::PseudoLabelLoss pseudo_labels(const Tensor& real_logits, const Tensor& label_logits) {
    if (!c_.pseudo_label_align)
      return losses::pseudo_label_cross_entropy(real_logits, label_logits, c_.pseudo_label_threshold);
    const Tensor prior = torch::tensor(class_prior_, torch::kDouble);
    auto out = losses::aligned_pseudo_label_cross_entropy(real_logits, label_logits, prior, c_.pseudo_label_threshold);
    const Tensor batch_mean = torch::softmax(label_logits.detach(), 1).mean(0).to(torch::kCPU, torch::kDouble);
    const double m = c_.pseudo_label_momentum;
    for (size_t k = 0; k < class_prior_.size(); ++k)
      class_prior_[k] = m * class_prior_[k] + (1.0 - m) * batch_mean[static_cast<int64_t>(k)].item<double>();
    return out;
  }

  nlohmann::json state() const override { return {{"pl_class_prior", class_prior_}}; }
  void load_state(const nlohmann::json& state) override {
    if (state.contains("pl_class_prior")) {
      auto prior = state.at("pl_class_prior").get<std::vector<double>>();
      if (prior.size() == class_prior_.size()) class_prior_ = std::move(prior);
    }
  }

  int64_t translate_epochs() const { return c_.translate_epochs > 0 ? c_.translate_epochs : std::max<int64_t>(1, c_.epochs / 2); }

  Tensor classify(const Tensor& x) override { return C_->forward(x); }
  Tensor classify_source(const Tensor& x) override { return C_->forward(G_->forward(x)); }
  Tensor translate(const Tensor& x) override { return G_->forward(x); }
  std::shared_ptr<torch::nn::Module> classifier_module() override { return C_.ptr(); }
  nlohmann::json classifier_spec() const override { return spec_.to_json(); }

 private:
  TrainConfig c_;
  Variant variant_;
  std::string name_;
  models::ClassifierSpec spec_;
  bool nce_idt_ = true;
  double lambda_nce_ = 1.0;
  models::ResnetGenerator G_{nullptr};
  models::PatchDiscriminator D_{nullptr};
  models::PatchSampleMlp F_{nullptr};
  Classifier C_{nullptr};
  std::unique_ptr<FusedAdam> opt_g_, opt_d_, opt_f_, opt_c_;
  std::vector<double> class_prior_;  ///< running mean of softmax(C(target)), for distribution alignment
};

MethodFactory factory(Variant v) {
  return [v](const TrainConfig& c, const MethodContext& ctx) { return std::make_unique<CutMethod>(c, ctx, v); };
}

}  // namespace

void register_cut_methods() {
  register_method("cut", "CUT translation only (G, PatchGAN D, PatchNCE); no classifier", factory(Variant::kCut));
  register_method("fastcut", "FastCUT: CUT without identity NCE, lambda-nce 10", factory(Variant::kFastCut));
  register_method("fashion-cut",
                  "Fashion CUT: CUT + classifier on G(x) in G's loss, pseudo-labelled real images after warm-up",
                  factory(Variant::kFashionCut));
  register_method("cut-then-classify", "two stages: CUT for translate-epochs, then a classifier on frozen G(x)",
                  factory(Variant::kCutThenClassify));
}

}  // namespace fashioncut::train::methods
