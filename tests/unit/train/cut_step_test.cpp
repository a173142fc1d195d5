// The Fashion CUT step (methods/cut_methods.cpp) does work once where the CUT reference does it
// twice: PatchNCE keys taken from G's forward pass, one encode for both query sets, one D pass
// over cat(G(x), y). These tests run the step next to a reference step written the way the CUT
// reference code does it (keys re-encoded, each term on its own batch), on two copies of the same
// method, and expect the same losses and the same parameters after every step.
#include <gtest/gtest.h>

#include <map>

#include "fashioncut/losses/classification.h"
#include "fashioncut/losses/gan_loss.h"
#include "fashioncut/losses/patch_nce.h"
#include "fashioncut/models/classifier.h"
#include "fashioncut/models/patch_discriminator.h"
#include "fashioncut/models/patch_sample_mlp.h"
#include "fashioncut/models/resnet_generator.h"
#include "fashioncut/train/method.h"
#include "method_fixtures.h"

namespace fashioncut::train::cut_step_test {
namespace {
using torch::Tensor;
using fixtures::tiny_context;

constexpr int64_t kBatch = 4;

TrainConfig tiny_config(int64_t size) {
  TrainConfig c;
  c.method = "fashion-cut";
  c.arch = "resnet18";
  c.small_input = true;
  c.channels = 1;
  c.image_size = size;
  c.ngf = 8;
  c.n_blocks = 2;
  c.ndf = 8;
  c.n_layers_d = 2;
  c.netf_nc = 16;
  c.num_patches = 16;
  c.g_residual = true;
  c.target_bn = true;
  c.pseudo_label_start = 1;
  c.pseudo_label_align = false;  // the reference below uses the plain pseudo-label loss
  c.pseudo_label_threshold = 0.0;
  return c;
}

template <typename T>
T& module_as(Method& m, const std::string& name) {
  for (auto& [n, module] : m.modules())
    if (n == name) return *std::dynamic_pointer_cast<T>(module);
  throw std::runtime_error("no module " + name);
}

torch::optim::Optimizer& optimizer(Method& m, const std::string& name) {
  for (auto& slot : m.optimizers())
    if (slot.name == name) return *slot.optimizer;
  throw std::runtime_error("no optimizer " + name);
}

/// The step as the CUT reference code computes it: D on each half separately, keys encoded again
/// from the real images, one encode per query set.
std::map<std::string, double> reference_step(Method& m, const TrainConfig& c, const StepInput& in) {
  auto& G = module_as<models::ResnetGeneratorImpl>(m, "G");
  auto& D = module_as<models::PatchDiscriminatorImpl>(m, "D");
  auto& F = module_as<models::PatchSampleMlpImpl>(m, "F");
  auto& C = module_as<models::ClassifierImpl>(m, "C");
  const int64_t n = in.source.size(0);
  const Tensor fake = G.forward(torch::cat({in.source, in.target}));
  const Tensor fake_b = fake.narrow(0, 0, n);
  for (auto& p : D.parameters()) p.set_requires_grad(true);
  optimizer(m, "D").zero_grad();
  const Tensor loss_d =
      0.5 * (losses::lsgan_loss(D.forward(fake_b.detach()), false) + losses::lsgan_loss(D.forward(in.target), true));
  loss_d.backward();
  optimizer(m, "D").step();
  for (auto& p : D.parameters()) p.set_requires_grad(false);
  for (const char* name : {"G", "F", "C"}) optimizer(m, name).zero_grad();
  const Tensor loss_gan = c.lambda_gan * losses::lsgan_loss(D.forward(fake_b), true);
  auto nce = [&](const Tensor& src, const Tensor& tgt) {
    const auto feat_q = G.encode(tgt, c.nce_layers);
    const auto feat_k = G.encode(src, c.nce_layers);
    const auto k = F.forward(feat_k, c.num_patches);
    const auto q = F.forward(feat_q, c.num_patches, k.patch_ids);
    return losses::patch_nce_multi(q.feats, k.feats, losses::PatchNceOptions(n).tau(c.nce_t));
  };
  const Tensor nce_x = nce(in.source, fake_b);  // x first: the patch ids are drawn in this order
  const Tensor loss_nce = 0.5 * (nce_x + nce(in.target, fake.narrow(0, n, n)));
  const int64_t n_real = static_cast<int64_t>(n * c.pseudo_label_fraction), n_syn = n - n_real;
  const Tensor logits = C.forward(torch::cat({fake_b.narrow(0, 0, n_syn), in.target.narrow(0, 0, n_real)}));
  const Tensor ce = losses::cross_entropy(logits.narrow(0, 0, n_syn), in.source_labels.narrow(0, 0, n_syn));
  Tensor total = loss_gan + c.lambda_nce * loss_nce + c.lambda_c * ce;
  std::map<std::string, double> out{{"D/gan", loss_d.item<double>()}, {"G/gan", loss_gan.item<double>()},
                                    {"G/nce", loss_nce.item<double>()}, {"C/ce", ce.item<double>()}};
  if (in.epoch >= c.pseudo_label_start) {
    const auto pl = losses::pseudo_label_cross_entropy(logits.narrow(0, n_syn, n_real), c.pseudo_label_threshold);
    total = total + pl.loss;
    out["C/pseudo"] = pl.loss.item<double>();
  }
  total.backward();
  for (const char* name : {"G", "F", "C"}) optimizer(m, name).step();
  return out;
}

/// Every parameter of `a` equals `b`'s (exactly: same seed), or every gradient left by the last
/// step agrees to float rounding. Parameters after the step are not compared: a bias right before
/// an InstanceNorm has an exactly-zero gradient in exact arithmetic, so both sides hold rounding
/// noise there that Adam's first step (g / |g|) turns into ±lr.
void expect_same(Method& a, Method& b, bool grads) {
  auto ma = a.modules(), mb = b.modules();
  ASSERT_EQ(ma.size(), mb.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    const auto pa = ma[i].second->named_parameters(), pb = mb[i].second->named_parameters();
    ASSERT_EQ(pa.size(), pb.size());
    for (size_t j = 0; j < pa.size(); ++j) {
      const auto& ta = pa[j].value();
      const auto& tb = pb[j].value();
      const std::string name = ma[i].first + "/" + pa[j].key();
      if (!grads) {
        EXPECT_TRUE(torch::equal(ta, tb)) << name;
        continue;
      }
      ASSERT_EQ(ta.grad().defined(), tb.grad().defined()) << name;
      if (!ta.grad().defined()) continue;
      const double scale = tb.grad().abs().max().item<double>();
      const double diff = (ta.grad() - tb.grad()).abs().max().item<double>();
      // Batched convolutions may take other kernel blockings than per-half ones: rounding only.
      EXPECT_LE(diff, 1e-4 * scale + 1e-6) << name << " (largest gradient " << scale << ")";
    }
  }
}

/// One step of the shipped method and of the reference on two copies built from the same seed.
void run_against_reference(int64_t size, int64_t epoch) {
  register_builtin_methods();
  const TrainConfig c = tiny_config(size);
  torch::manual_seed(11);
  auto shipped = make_method(c, tiny_context(size));
  torch::manual_seed(11);
  auto reference = make_method(c, tiny_context(size));
  for (auto* m : {shipped.get(), reference.get()})
    for (auto& [name, module] : m->modules()) module->train();
  expect_same(*shipped, *reference, /*grads=*/false);

  torch::manual_seed(100);
  StepInput in;
  in.source = torch::rand({kBatch, 1, size, size}) * 2 - 1;
  in.target = (torch::rand({kBatch, 1, size, size}) * 2 - 1) * 0.5;
  in.source_labels = torch::tensor({0, 1, 2, 1}, torch::kLong);
  in.epoch = epoch;  // 0: warm-up (real rows only for batch norm); 1: pseudo-labels
  torch::manual_seed(200);  // the same patch ids on both sides
  const auto got = shipped->train_step(in).losses;
  torch::manual_seed(200);
  const auto want = reference_step(*reference, c, in);
  for (const auto& [term, value] : want) {
    ASSERT_TRUE(got.count(term)) << term;
    EXPECT_NEAR(got.at(term), value, 1e-5 * (1.0 + std::abs(value))) << term;
  }
  EXPECT_EQ(got.count("C/pseudo"), epoch >= c.pseudo_label_start ? 1u : 0u);
  expect_same(*shipped, *reference, /*grads=*/true);
}

TEST(CutStepTest, SharedPassesMatchTheReferenceStep) {
  run_against_reference(16, 0);
  run_against_reference(16, 1);
}

// 18 px is not a multiple of 4: G pads, so the keys are encoded separately (no reuse).
TEST(CutStepTest, SharedPassesMatchTheReferenceStepAtPaddedSizes) { run_against_reference(18, 1); }

}  // namespace
}  // namespace fashioncut::train::cut_step_test
