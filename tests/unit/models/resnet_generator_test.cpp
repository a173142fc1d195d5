#include "fashioncut/models/resnet_generator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"
#include "unit/models/models_test_helpers.h"

namespace fashioncut::models {
namespace {

namespace fs = std::filesystem;
using testing::SeedingFixture;

class ResnetGeneratorTest : public SeedingFixture {};

TEST_F(ResnetGeneratorTest, OutputShapeEqualsInputShapeForAllSizes) {
  torch::NoGradGuard no_grad;
  ResnetGenerator g(ResnetGeneratorOptions().ngf(4).n_blocks(2));
  for (int64_t s : {28, 32, 64, 128, 256}) {
    auto x = torch::rand({1, 3, s, s}) * 2 - 1;
    auto y = g(x);
    EXPECT_EQ(y.sizes(), x.sizes()) << "size " << s;
    EXPECT_LE(y.abs().max().item<float>(), 1.0f);
  }
  // Non-multiples of 4 and non-square inputs are padded internally and cropped back.
  for (auto shape : std::vector<std::vector<int64_t>>{{2, 3, 30, 30}, {1, 3, 33, 46}, {1, 3, 9, 8}}) {
    auto x = torch::rand(shape);
    EXPECT_EQ(g(x).sizes(), x.sizes());
  }
  ResnetGenerator plain(ResnetGeneratorOptions().ngf(4).n_blocks(1).antialias(false).antialias_up(false));
  auto x = torch::rand({1, 3, 30, 28});
  EXPECT_EQ(plain(x).sizes(), x.sizes());
}

TEST_F(ResnetGeneratorTest, ForwardWithFeaturesEqualsForwardAndEncode) {
  torch::NoGradGuard no_grad;
  for (bool antialias : {true, false}) {
    ResnetGenerator g(ResnetGeneratorOptions().ngf(4).n_blocks(2).antialias(antialias).antialias_up(antialias));
    g->eval();
    const auto x = torch::rand({2, 3, 32, 32}) * 2 - 1;
    const std::vector<int64_t> ids{0, 4, 8, 12};
    const auto both = g->forward_with_features(x, ids);
    EXPECT_TRUE(torch::allclose(both.out, g(x), 1e-6, 1e-6)) << "antialias " << antialias;
    const auto feats = g->encode(x, ids);
    ASSERT_EQ(both.feats.size(), feats.size());
    for (size_t i = 0; i < feats.size(); ++i)
      EXPECT_TRUE(torch::allclose(both.feats[i], feats[i], 1e-6, 1e-6)) << "layer " << ids[i] << " antialias " << antialias;
  }
}

TEST_F(ResnetGeneratorTest, ResidualStartsAsIdentityAndLearns) {
  ResnetGenerator g(ResnetGeneratorOptions().input_nc(1).output_nc(1).ngf(4).n_blocks(2).residual(true));
  const auto x = torch::rand({2, 1, 30, 30}) * 2 - 1;  // a size that is padded and cropped back
  EXPECT_TRUE(torch::equal(g(x), x));
  const auto y = g->forward_with_features(x.narrow(2, 0, 28).narrow(3, 0, 28));
  EXPECT_TRUE(torch::equal(y.out, x.narrow(2, 0, 28).narrow(3, 0, 28)));
  // One gradient step on a loss that wants a brighter image moves the output off the identity
  // (the zero-initialised last conv still receives gradient), and the output stays in [-1, 1].
  torch::optim::SGD opt(g->parameters(), 0.1);
  const auto loss = -g(x).mean();
  loss.backward();
  opt.step();
  torch::NoGradGuard no_grad;
  const auto after = g(x);
  EXPECT_GT((after - x).abs().max().item<float>(), 1e-4f);
  EXPECT_LE(after.abs().max().item<float>(), 1.0f);
  EXPECT_THROW(ResnetGenerator(ResnetGeneratorOptions().input_nc(1).output_nc(3).residual(true)), c10::Error);
}

TEST_F(ResnetGeneratorTest, EncodeReturnsDocumentedChannelsAtNgf64) {
  torch::NoGradGuard no_grad;
  ResnetGenerator g{ResnetGeneratorOptions()};  // CUT default: ngf 64, 9 blocks, anti-aliased
  EXPECT_EQ(g->default_nce_layers(), (std::vector<int64_t>{0, 4, 8, 12, 16}));
  EXPECT_EQ(g->nce_channels(), (std::vector<int64_t>{3, 128, 256, 256, 256}));
  auto x = torch::rand({1, 3, 32, 32});
  auto feats = g->encode(x);
  ASSERT_EQ(feats.size(), 5u);
  const std::vector<std::vector<int64_t>> expected{
      {1, 3, 38, 38}, {1, 128, 32, 32}, {1, 256, 16, 16}, {1, 256, 8, 8}, {1, 256, 8, 8}};
  for (size_t i = 0; i < feats.size(); ++i) EXPECT_EQ(feats[i].sizes(), torch::IntArrayRef(expected[i])) << i;
  EXPECT_TRUE(torch::equal(feats[0].index({0, 0, 0, 3}), x.index({0, 0, 3, 0})));  // reflect pad
  EXPECT_EQ(static_cast<int64_t>(g->model->size()), 32);
}

TEST_F(ResnetGeneratorTest, DefaultNceLayersStayInEncoderForFewBlocks) {
  EXPECT_EQ(ResnetGenerator(ResnetGeneratorOptions().ngf(4).n_blocks(1))->default_nce_layers(),
            (std::vector<int64_t>{0, 4, 8, 12}));
  EXPECT_EQ(ResnetGenerator(ResnetGeneratorOptions().ngf(4).n_blocks(3))->default_nce_layers(),
            (std::vector<int64_t>{0, 4, 8, 12, 14}));
  EXPECT_EQ(ResnetGenerator(ResnetGeneratorOptions().ngf(4).n_blocks(6))->default_nce_layers(),
            (std::vector<int64_t>{0, 4, 8, 12, 16}));
  // Without antialias CUT's indices are kept as-is (blocks start at 10).
  ResnetGenerator plain(ResnetGeneratorOptions().ngf(4).n_blocks(9).antialias(false));
  EXPECT_EQ(plain->first_block_index(), 10);
  EXPECT_EQ(plain->default_nce_layers(), (std::vector<int64_t>{0, 4, 8, 12, 16}));
}

TEST_F(ResnetGeneratorTest, EncodeStopsAtLastLayerAndRejectsBadIds) {
  torch::NoGradGuard no_grad;
  ResnetGenerator g(ResnetGeneratorOptions().ngf(4).n_blocks(2));
  auto x = torch::rand({2, 3, 16, 16});
  auto feats = g->encode(x, {1, 3});
  ASSERT_EQ(feats.size(), 2u);
  EXPECT_EQ(feats[1].sizes(), (std::vector<int64_t>{2, 4, 16, 16}));
  EXPECT_GE(feats[1].min().item<float>(), 0.0f);  // after ReLU
  EXPECT_LT(feats[0].min().item<float>(), 0.0f);  // conv output, before ReLU
  EXPECT_THROW(g->encode(x, {4, 2}), c10::Error);
  EXPECT_THROW(g->encode(x, {0, 99}), c10::Error);
  EXPECT_THROW(g(torch::rand({1, 1, 16, 16})), c10::Error);
  EXPECT_THROW(g(torch::rand({3, 16, 16})), c10::Error);
}

TEST_F(ResnetGeneratorTest, InitIsXavierGain002WithZeroBias) {
  ResnetGenerator g(ResnetGeneratorOptions().ngf(16).n_blocks(1));
  auto params = g->named_parameters();
  auto w = params["model.12.conv_block.1.weight"];  // 64x64x3x3: fan_in = fan_out = 576
  const double expected_std = 0.02 * std::sqrt(2.0 / (576 + 576));
  EXPECT_NEAR(w.std().item<double>(), expected_std, 0.1 * expected_std);
  EXPECT_EQ(params["model.1.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(g->named_buffers().size(), 4u);  // 2 blur-down + 2 blur-up filters
}

// A compact Python version of CUT's ResnetGenerator layout (written from method.md 1.2);
// it saves, per config, the ordered state_dict keys/shapes and a plain-dict checkpoint
// with an input and the reference outputs.
constexpr const char* kPythonGenerator = R"PY(
import sys, torch, torch.nn as nn, torch.nn.functional as F
out = sys.argv[1]
def binom(k):
    row = [1.0]
    for _ in range(k - 1): row = [a + b for a, b in zip(row + [0.0], [0.0] + row)]
    a = torch.tensor(row); f = a[:, None] * a[None, :]; return f / f.sum()
class Down(nn.Module):
    def __init__(s, c):
        super().__init__(); s.pad = nn.ReflectionPad2d(1)
        s.register_buffer('filt', binom(3)[None, None].repeat(c, 1, 1, 1))
    def forward(s, x): return F.conv2d(s.pad(x), s.filt, stride=2, groups=x.shape[1])
class Up(nn.Module):
    def __init__(s, c):
        super().__init__(); s.pad = nn.ReplicationPad2d(1)
        s.register_buffer('filt', (binom(4) * 4)[None, None].repeat(c, 1, 1, 1))
    def forward(s, x):
        return F.conv_transpose2d(s.pad(x), s.filt, stride=2, padding=2, groups=x.shape[1])[:, :, 1:, 1:][:, :, :-1, :-1]
IN = lambda c: nn.InstanceNorm2d(c, affine=False)
class Block(nn.Module):
    def __init__(s, d):
        super().__init__()
        s.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(d, d, 3), IN(d), nn.ReLU(True),
                                     nn.ReflectionPad2d(1), nn.Conv2d(d, d, 3), IN(d))
    def forward(s, x): return x + s.conv_block(x)
class G(nn.Module):
    def __init__(s, inc, outc, ngf, nb, aa, aa_up):
        super().__init__()
        m = [nn.ReflectionPad2d(3), nn.Conv2d(inc, ngf, 7), IN(ngf), nn.ReLU(True)]
        for i in range(2):
            a, b = ngf * 2 ** i, ngf * 2 ** (i + 1)
            m += [nn.Conv2d(a, b, 3, 1, 1), IN(b), nn.ReLU(True), Down(b)] if aa else [nn.Conv2d(a, b, 3, 2, 1), IN(b), nn.ReLU(True)]
        m += [Block(ngf * 4) for _ in range(nb)]
        for i in range(2):
            a = ngf * 4 // 2 ** i; b = a // 2
            m += [Up(a), nn.Conv2d(a, b, 3, 1, 1), IN(b), nn.ReLU(True)] if aa_up else [nn.ConvTranspose2d(a, b, 3, 2, 1, output_padding=1), IN(b), nn.ReLU(True)]
        m += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, outc, 7), nn.Tanh()]
        s.model = nn.Sequential(*m)
configs = [(3, 3, 8, 2, True, True), (3, 3, 8, 1, False, False), (1, 3, 4, 9, True, False)]
for i, cfg in enumerate(configs):
    torch.manual_seed(i)
    g = G(*cfg).eval()
    with open(f'{out}/keys_{i}.txt', 'w') as f:
        for k, v in g.state_dict().items(): f.write(k + ' ' + ','.join(str(d) for d in v.shape) + '\n')
    x = torch.rand(2, cfg[0], 32, 32) * 2 - 1
    ids = [0, 4, 8, 12]
    feats, h = [], x
    with torch.no_grad():
        y = g.model(x)
        for j, layer in enumerate(g.model):
            h = layer(h)
            if j in ids: feats.append(h.clone())
            if j == ids[-1]: break
    torch.save({'state': dict(g.state_dict()), 'x': x, 'y': y, 'feats': feats}, f'{out}/g_{i}.pt')
)PY";

TEST_F(ResnetGeneratorTest, MatchesPythonCutLayoutKeysShapesAndOutputs) {
  const fs::path dir = scratch();
  const auto py = testing::run_command(std::string(FASHIONCUT_PYTHON) + " -c " + testing::shell_quote(kPythonGenerator) +
                                       " " + testing::shell_quote(dir.string()));
  ASSERT_EQ(py.exit_code, 0) << py.output;
  const std::vector<ResnetGeneratorOptions> configs{
      ResnetGeneratorOptions().input_nc(3).ngf(8).n_blocks(2),
      ResnetGeneratorOptions().input_nc(3).ngf(8).n_blocks(1).antialias(false).antialias_up(false),
      ResnetGeneratorOptions().input_nc(1).ngf(4).n_blocks(9).antialias_up(false)};
  for (size_t i = 0; i < configs.size(); ++i) {
    SCOPED_TRACE("config " + std::to_string(i));
    ResnetGenerator g(configs[i]);
    g->eval();
    std::ostringstream ours;
    for (const auto& [name, t] : test::ordered_state(*g)) {
      ours << name << ' ';
      for (int64_t d = 0; d < t.dim(); ++d) ours << (d ? "," : "") << t.size(d);
      ours << '\n';
    }
    std::ifstream in(dir / ("keys_" + std::to_string(i) + ".txt"));
    std::stringstream theirs;
    theirs << in.rdbuf();
    EXPECT_EQ(ours.str(), theirs.str());

    auto file = test::load_pickle((dir / ("g_" + std::to_string(i) + ".pt")).string());
    test::load_state(*g, file.toGenericDict().at("state"));
    auto x = test::dict_tensor(file, "x");
    torch::NoGradGuard no_grad;
    auto y = g(x);
    EXPECT_LT(test::relative_error(y, test::dict_tensor(file, "y")), 1e-4);
    std::vector<torch::Tensor> ref_feats;  // unpickled as a generic list
    for (const auto& v : file.toGenericDict().at("feats").toList()) ref_feats.push_back(v.get().toTensor());
    auto feats = g->encode(x, {0, 4, 8, 12});
    ASSERT_EQ(feats.size(), ref_feats.size());
    for (size_t l = 0; l < feats.size(); ++l) EXPECT_LT(test::relative_error(feats[l], ref_feats[l]), 1e-4) << l;
  }
}

TEST_F(ResnetGeneratorTest, NamesFollowCutReference) {
  ResnetGenerator g{ResnetGeneratorOptions()};
  auto state = test::ordered_state(*g);
  std::vector<std::string> names;
  for (auto& kv : state) names.push_back(kv.first);
  for (const char* key : {"model.1.weight", "model.1.bias", "model.4.weight", "model.7.filt", "model.11.filt",
                          "model.12.conv_block.1.weight", "model.20.conv_block.5.bias", "model.21.filt",
                          "model.22.weight", "model.25.filt", "model.30.weight", "model.30.bias"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), key), names.end()) << key;
  }
  EXPECT_EQ(count_if(names.begin(), names.end(), [](const std::string& n) { return n.find("running") != n.npos; }), 0);
}

}  // namespace
}  // namespace fashioncut::models
