// The TLL baselines (methods/dann.cpp, bsp.cpp, mdd.cpp, afn.cpp, tll_common.cpp): one step on a
// fixed tiny batch updates exactly the parameters it should, the adversarial parts get reversed
// gradients, BSP's pre-training leaves the discriminator alone, counters round-trip.
#include <gmock/gmock.h>

#include <map>

#include "fashioncut/core/errors.h"
#include "fashioncut/losses/domain_adaptation.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/methods/dann.h"
#include "fashioncut/train/methods/tll_common.h"
#include "method_fixtures.h"
#include "support/test_support.h"

namespace fashioncut::train {
namespace {
using methods::Dann;

constexpr int64_t kBatch = 4;
constexpr int64_t kSize = 16;

TrainConfig tiny_config(const std::string& method) {
  TrainConfig c;
  c.method = method;
  c.arch = "resnet18";
  c.small_input = true;
  c.channels = 1;
  c.image_size = kSize;
  c.bottleneck_dim = 16;
  return c;
}

MethodContext tiny_context() { return fixtures::tiny_context(kSize); }

/// A fixed batch: source images around +0.5, target around -0.5 (two obviously different domains).
StepInput tiny_batch(int64_t epoch = 0, int64_t iteration = 0) {
  torch::manual_seed(7);
  StepInput in;
  in.source = (0.5 + 0.3 * torch::randn({kBatch, 1, kSize, kSize})).clamp(-1, 1);
  in.target = (-0.5 + 0.3 * torch::randn({kBatch, 1, kSize, kSize})).clamp(-1, 1);
  in.source_labels = torch::tensor({0, 1, 2, 1}, torch::kLong);
  in.epoch = epoch;
  in.iteration = iteration;
  return in;
}

std::unique_ptr<Method> build(const TrainConfig& c, uint64_t seed = 3) {
  register_builtin_methods();
  torch::manual_seed(seed);
  auto m = make_method(c, tiny_context());
  for (auto& [name, module] : m->modules()) module->train();
  return m;
}

/// Every parameter of every module of `m` by "<module>/<name>", cloned.
std::map<std::string, torch::Tensor> snapshot(Method& m) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [module_name, module] : m.modules())
    for (const auto& p : module->named_parameters()) out[module_name + "/" + p.key()] = p.value().detach().clone();
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

/// Expects: every parameter under one of `moved` changed, every other one is untouched.
void expect_updates(const std::map<std::string, torch::Tensor>& before, const std::map<std::string, torch::Tensor>& after,
                    const std::vector<std::string>& moved) {
  for (const auto& [name, t] : before) {
    bool should = false;
    for (const auto& prefix : moved) should = should || starts_with(name, prefix);
    // The unused 1-class fc of a bottleneck classifier is never part of the graph.
    if (starts_with(name, "C/backbone.fc.")) should = false;
    // A Linear bias right before a train-mode BatchNorm has an exactly-zero gradient (BN
    // subtracts the batch mean), so it moves only through weight decay: no claim either way.
    if (name.size() >= 17 && name.compare(name.size() - 17, 17, "bottleneck.0.bias") == 0) continue;
    EXPECT_EQ(!torch::equal(t, after.at(name)), should) << name;
  }
}

class BaselinesTest : public testing::SeedingFixture {};

TEST_F(BaselinesTest, DefaultsComeFromEachTllScriptUnlessTheUserSetsThem) {
  const auto d = methods::resolve_tll_hyper(TrainConfig{}, "dann");
  EXPECT_DOUBLE_EQ(d.lr, 0.01);
  EXPECT_DOUBLE_EQ(d.weight_decay, 1e-3);
  EXPECT_EQ(d.bottleneck_dim, 256);
  const auto m = methods::resolve_tll_hyper(TrainConfig{}, "mdd");
  EXPECT_DOUBLE_EQ(m.lr, 0.004);
  EXPECT_DOUBLE_EQ(m.weight_decay, 5e-4);
  EXPECT_EQ(m.bottleneck_dim, 1024);
  EXPECT_EQ(methods::resolve_tll_hyper(TrainConfig{}, "afn").bottleneck_dim, 1000);
  EXPECT_DOUBLE_EQ(methods::resolve_tll_hyper(TrainConfig{}, "bsp").lr, 0.003);
  EXPECT_DOUBLE_EQ(methods::resolve_tll_hyper(TrainConfig{}, "source-only").lr, 0.001);
  TrainConfig user;
  user.sgd_lr = 0.02;
  user.weight_decay = 0;  // 0 is a real choice, not "auto"
  user.bottleneck_dim = 32;
  const auto u = methods::resolve_tll_hyper(user, "mdd");
  EXPECT_DOUBLE_EQ(u.lr, 0.02);
  EXPECT_DOUBLE_EQ(u.weight_decay, 0.0);
  EXPECT_EQ(u.bottleneck_dim, 32);
  EXPECT_THROW(methods::tll_defaults("cut"), ConfigError);
}

TEST_F(BaselinesTest, SgdGroupsFollowTllLrFactors) {
  auto c = tiny_config("dann");
  c.sgd_lr = 0.1;
  auto m = build(c);
  auto* dann = dynamic_cast<Dann*>(m.get());
  ASSERT_NE(dann, nullptr);
  auto& groups = m->optimizers().at(0).optimizer->param_groups();
  ASSERT_EQ(groups.size(), 3u);  // backbone, bottleneck+head, discriminator
  auto opts = [&](size_t g) { return static_cast<torch::optim::SGDOptions&>(groups[g].options()); };
  EXPECT_DOUBLE_EQ(opts(0).lr(), 0.01);  // backbone x0.1
  EXPECT_DOUBLE_EQ(opts(1).lr(), 0.1);
  EXPECT_DOUBLE_EQ(opts(2).lr(), 0.1);
  for (size_t g = 0; g < 3; ++g) {
    EXPECT_DOUBLE_EQ(opts(g).momentum(), 0.9);
    EXPECT_TRUE(opts(g).nesterov());
    EXPECT_DOUBLE_EQ(opts(g).weight_decay(), 1e-3);
  }
  size_t count = 0;
  for (auto& g : groups) count += g.params().size();
  // Every classifier parameter but the unused backbone.fc, plus the discriminator.
  EXPECT_EQ(count, dann->classifier()->parameters().size() - 2 + dann->discriminator()->parameters().size());
}

TEST_F(BaselinesTest, DannStepUpdatesClassifierAndDiscriminator) {
  auto m = build(tiny_config("dann"));
  const auto before = snapshot(*m);
  const auto stats = m->train_step(tiny_batch());
  expect_updates(before, snapshot(*m), {"C/", "D/"});
  EXPECT_TRUE(stats.losses.count("C/ce") && stats.losses.count("D/domain"));
  EXPECT_DOUBLE_EQ(stats.extras.at("grl/coeff"), 0.0);  // TLL warm start: lo = 0 at i = 0
  EXPECT_EQ(m->state().at("grl_iteration"), 1);
}

TEST_F(BaselinesTest, DannDiscriminatorSeparatesTwoObviousDomainsWithin50Steps) {
  auto c = tiny_config("dann");
  auto m = build(c);
  const auto in = tiny_batch();
  double first = 0, last = 0, accuracy = 0;
  for (int i = 0; i < 50; ++i) {
    const auto stats = m->train_step(in);
    if (i == 0) first = stats.losses.at("D/domain");
    last = stats.losses.at("D/domain");
    accuracy = stats.extras.at("D/accuracy");
  }
  EXPECT_NEAR(first, std::log(2.0), 0.35);
  EXPECT_LT(last, 0.2);
  EXPECT_DOUBLE_EQ(accuracy, 1.0);
}

TEST_F(BaselinesTest, BspPretrainingLeavesDiscriminatorAndGrlAlone) {
  auto c = tiny_config("bsp");
  c.bsp_pretrain_epochs = 1;
  auto m = build(c);
  auto* bsp = dynamic_cast<Dann*>(m.get());
  ASSERT_NE(bsp, nullptr);
  ASSERT_EQ(m->optimizers().size(), 2u);  // adaptation SGD + the pre-training SGD
  const auto d_buffers = bsp->discriminator()->buffers().front().clone();
  auto before = snapshot(*m);
  auto stats = m->train_step(tiny_batch(/*epoch=*/0));
  expect_updates(before, snapshot(*m), {"C/"});
  EXPECT_TRUE(torch::equal(d_buffers, bsp->discriminator()->buffers().front()));  // no D forward at all
  EXPECT_EQ(stats.losses.count("D/domain"), 0u);
  EXPECT_EQ(m->state().at("grl_iteration"), 0);
  // From epoch 1 on: DANN + the spectral penalty.
  before = snapshot(*m);
  stats = m->train_step(tiny_batch(/*epoch=*/1, /*iteration=*/1));
  expect_updates(before, snapshot(*m), {"C/", "D/"});
  ASSERT_TRUE(stats.losses.count("F/bsp"));
  EXPECT_GT(stats.losses.at("F/bsp"), 0.0);
  EXPECT_EQ(m->state().at("grl_iteration"), 1);
}

TEST_F(BaselinesTest, MddAdversarialHeadGetsReversedGradient) {
  // Three identical methods (same seed): A without the adversarial term, B with it and the GRL
  // warmed up to hi = 0.1, and M, whose modules compute the disparity WITHOUT reversal by hand.
  auto c = tiny_config("mdd");
  c.weight_decay = 0;  // updates are then -lr * 1.9 * grad (first Nesterov step, momentum 0.9)
  auto c0 = c;
  c0.trade_off = 0;
  auto a = build(c0), b = build(c), m = build(c);
  for (auto* method : {a.get(), b.get(), m.get()})  // float64, so B - A is exact enough to compare
    for (auto& [name, module] : method->modules()) module->to(torch::kDouble);
  b->load_state({{"grl_iteration", 1000000}});
  auto in = tiny_batch();
  in.source = in.source.to(torch::kDouble);
  in.target = in.target.to(torch::kDouble);
  const auto start = snapshot(*a);
  torch::manual_seed(11);
  a->train_step(in);
  torch::manual_seed(11);
  const auto stats = b->train_step(in);
  EXPECT_NEAR(stats.extras.at("grl/coeff"), 0.1, 1e-9);
  const auto after_a = snapshot(*a), after_b = snapshot(*b);
  expect_updates(start, after_a, {"C/"});  // trade_off 0: the adversarial head stays
  expect_updates(start, after_b, {"C/", "adv/"});

  // d(-disparity)/dθ without any reversal, same dropout masks (same seed, same op order).
  auto& classifier = dynamic_cast<models::ClassifierImpl&>(*m->modules().at(0).second);
  auto adv = m->modules().at(1).second;
  torch::manual_seed(11);
  const auto f = classifier.features(torch::cat({in.source, in.target}));
  const auto y = classifier.logits_from_features(f);
  const auto y_adv = std::dynamic_pointer_cast<models::MddHeadImpl>(adv)->forward(f);
  const auto disparity = losses::mdd_loss(y.slice(0, 0, kBatch), y_adv.slice(0, 0, kBatch), y.slice(0, kBatch),
                                          y_adv.slice(0, kBatch), c.mdd_margin);
  (-disparity).backward();
  const double lr = methods::resolve_tll_hyper(c, "mdd").lr;
  for (const auto& p : classifier.named_parameters()) {
    if (!starts_with(p.key(), "bottleneck.0.weight")) continue;
    // B - A isolates the adversarial term's update on the bottleneck Linear: through the GRL it
    // is -lr*1.9*(-0.1 * g), i.e. ALONG +g (features minimise what the head maximises).
    const auto delta = after_b.at("C/" + p.key()) - after_a.at("C/" + p.key());
    const auto expected = lr * 1.9 * 0.1 * p.value().grad();
    ASSERT_GT(expected.abs().max().item<double>(), 0.0);
    EXPECT_TRUE(torch::allclose(delta, expected, 1e-5, 1e-12)) << (delta - expected).abs().max().item<double>();
  }
  for (const auto& p : adv->named_parameters()) {
    // The adversarial head itself descends -disparity: -lr*1.9*g (no reversal).
    const auto delta = after_b.at("adv/" + p.key()) - start.at("adv/" + p.key());
    EXPECT_TRUE(torch::allclose(delta, -lr * 1.9 * p.value().grad(), 1e-5, 1e-12)) << p.key();
  }
}

TEST_F(BaselinesTest, AfnUsesTllOptimiserAndRaisesFeatureNorms) {
  auto c = tiny_config("afn");
  c.afn_trade_off = 1.0;  // strong norm term so a few steps show it
  c.sgd_lr = 0.01;
  auto m = build(c);
  ASSERT_EQ(m->optimizers().size(), 1u);
  EXPECT_EQ(m->optimizers()[0].schedule, LrSchedule::kConstant);
  auto& groups = m->optimizers()[0].optimizer->param_groups();
  ASSERT_EQ(groups.size(), 2u);
  auto& backbone = static_cast<torch::optim::SGDOptions&>(groups[0].options());
  auto& head = static_cast<torch::optim::SGDOptions&>(groups[1].options());
  EXPECT_DOUBLE_EQ(backbone.lr(), 0.01);  // no x0.1 factor
  EXPECT_DOUBLE_EQ(backbone.momentum(), 0.0);
  EXPECT_DOUBLE_EQ(head.momentum(), 0.9);
  EXPECT_FALSE(head.nesterov());
  const auto in = tiny_batch();
  const auto before = snapshot(*m);
  const auto first = m->train_step(in);
  expect_updates(before, snapshot(*m), {"C/"});
  EXPECT_NEAR(first.losses.at("F/afn"), 2.0, 1e-5);  // delta^2 per domain, 2 domains
  StepStats last;
  for (int i = 0; i < 4; ++i) last = m->train_step(in);
  // The norms the step measures on the bottleneck features it trains (train-mode BN, dropout).
  EXPECT_GT(last.extras.at("afn/norm_source"), first.extras.at("afn/norm_source"));
  EXPECT_GT(last.extras.at("afn/norm_target"), first.extras.at("afn/norm_target"));
}

TEST_F(BaselinesTest, GrlCountersRoundTripThroughState) {
  for (const std::string name : {"dann", "mdd"}) {
    SCOPED_TRACE(name);
    auto a = build(tiny_config(name));
    const auto in = tiny_batch();
    for (int i = 0; i < 3; ++i) a->train_step(in);
    const auto state = a->state();
    EXPECT_EQ(state.at("grl_iteration"), 3);
    auto b = build(tiny_config(name));
    b->load_state(state);
    EXPECT_EQ(b->state(), state);
    // The next step of both uses the same warm-start coefficient.
    EXPECT_DOUBLE_EQ(a->train_step(in).extras.at("grl/coeff"), b->train_step(in).extras.at("grl/coeff"));
    EXPECT_GT(b->train_step(in).extras.at("grl/coeff"), 0.0);
  }
}

TEST_F(BaselinesTest, EveryBaselineIsRegisteredAndClassifies) {
  register_builtin_methods();
  const auto methods = list_methods();
  std::map<std::string, std::string> listed(methods.begin(), methods.end());
  for (const std::string name : {"source-only", "dann", "bsp", "mdd", "afn"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(listed.count(name));
    EXPECT_THAT(listed[name], ::testing::HasSubstr("TLL"));
    auto m = build(tiny_config(name));
    auto module = m->classifier_module();
    module->eval();
    const auto logits = m->classify(tiny_batch().target);
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{kBatch, 3}));
    EXPECT_EQ(models::ClassifierSpec::from_json(m->classifier_spec()).num_classes(), 3);
  }
}

}  // namespace
}  // namespace fashioncut::train
