#include "fashioncut/models/resnet.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"
#include "unit/models/models_test_helpers.h"

namespace fashioncut::models {
namespace {

namespace fs = std::filesystem;

// torchvision resnet18/resnet50 with a fixed seed, BN statistics and affine parameters
// randomised (so eval-mode BN is not the identity), saved as a plain dict together with
// a random input and the eval-mode logits.
constexpr const char* kPythonTorchvision = R"PY(
import sys, torch, torchvision
out = sys.argv[1]
for i, (arch, classes, size) in enumerate([('resnet18', 10, 64), ('resnet50', 7, 64)]):
    torch.manual_seed(100 + i)
    m = getattr(torchvision.models, arch)(num_classes=classes)
    with torch.no_grad():
        for name, mod in m.named_modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
                mod.num_batches_tracked.fill_(7)
    m.eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad(): y = m(x)
    with open(f'{out}/{arch}_keys.txt', 'w') as f:
        for k, v in m.state_dict().items(): f.write(k + ' ' + ','.join(str(d) for d in v.shape) + '\n')
    torch.save({'state': dict(m.state_dict()), 'x': x, 'y': y}, f'{out}/{arch}.pt')
)PY";

class ResNetTest : public testing::SeedingFixture {
 protected:
  // One Python run for the whole suite (importing torchvision costs seconds).
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static void SetUpTestSuite() {
    dir_ = fs::path(FASHIONCUT_SCRATCH) / ("ResNetTorchvisionParity-" + std::to_string(::getpid()));  // ctest -j runs tests as parallel processes
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    python_ = testing::run_command(std::string(FASHIONCUT_PYTHON) + " -c " +
                                   testing::shell_quote(kPythonTorchvision) + " " + testing::shell_quote(dir_.string()));
  }

  void check_parity(const std::string& arch, const ResNetOptions& options) {
    ASSERT_EQ(python_.exit_code, 0) << python_.output;
    ResNet net(options);
    std::ostringstream ours;
    for (const auto& [name, t] : test::ordered_state(*net)) {
      ours << name << ' ';
      for (int64_t d = 0; d < t.dim(); ++d) ours << (d ? "," : "") << t.size(d);
      ours << '\n';
    }
    std::ifstream in(dir_ / (arch + "_keys.txt"));
    std::stringstream theirs;
    theirs << in.rdbuf();
    EXPECT_EQ(ours.str(), theirs.str()) << "state_dict names/order/shapes differ from torchvision " << arch;

    auto file = test::load_pickle((dir_ / (arch + ".pt")).string());
    test::load_state(*net, file.toGenericDict().at("state"));
    net->eval();
    torch::NoGradGuard no_grad;
    auto x = test::dict_tensor(file, "x");
    auto y = net(x);
    auto ref = test::dict_tensor(file, "y");
    ASSERT_EQ(y.sizes(), ref.sizes());
    EXPECT_LT(test::relative_error(y, ref), 1e-4) << y << ref;
  }

  static inline fs::path dir_;
  static inline testing::CommandResult python_;
};

TEST_F(ResNetTest, Resnet18MatchesTorchvisionLogits) {
  check_parity("resnet18", ResNetOptions().depth(18).num_classes(10));
}

TEST_F(ResNetTest, Resnet50MatchesTorchvisionLogits) {
  check_parity("resnet50", ResNetOptions().depth(50).num_classes(7));
}

TEST_F(ResNetTest, FeatureAndLogitShapes) {
  torch::NoGradGuard no_grad;
  for (int64_t depth : {18, 34, 50}) {
    ResNet net(ResNetOptions().depth(depth).num_classes(5).small_input(true).in_channels(1));
    net->eval();
    auto x = torch::rand({2, 1, 28, 28});
    EXPECT_EQ(net->feature_dim(), depth == 50 ? 2048 : 512);
    EXPECT_EQ(net->features(x).sizes(), (std::vector<int64_t>{2, net->feature_dim()}));
    EXPECT_EQ(net(x).sizes(), (std::vector<int64_t>{2, 5}));
  }
}

TEST_F(ResNetTest, SmallInputStemIs3x3WithoutMaxPool) {
  ResNet small(ResNetOptions().num_classes(3).small_input(true));
  ResNet large(ResNetOptions().num_classes(3));
  EXPECT_EQ(small->conv1->weight.sizes(), (std::vector<int64_t>{64, 3, 3, 3}));
  EXPECT_EQ(large->conv1->weight.sizes(), (std::vector<int64_t>{64, 3, 7, 7}));
  EXPECT_EQ(ResNet(ResNetOptions().in_channels(1))->conv1->weight.size(1), 1);
  // Spatial size after layer4: 32 px -> 4x4 with the small stem, 1x1 with torchvision's.
  torch::NoGradGuard no_grad;
  auto trunk = [](ResNet& n, const torch::Tensor& x) {
    auto h = torch::relu(n->bn1(n->conv1(x)));
    if (!n->options.small_input()) h = torch::max_pool2d(h, 3, 2, 1);
    return n->layer4->forward(n->layer3->forward(n->layer2->forward(n->layer1->forward(h))));
  };
  small->eval();
  large->eval();
  auto x = torch::rand({1, 3, 32, 32});
  EXPECT_EQ(trunk(small, x).sizes(), (std::vector<int64_t>{1, 512, 4, 4}));
  EXPECT_EQ(trunk(large, x).sizes(), (std::vector<int64_t>{1, 512, 1, 1}));
  EXPECT_EQ(small(x).sizes(), (std::vector<int64_t>{1, 3}));
}

TEST_F(ResNetTest, TorchvisionInitAndValidation) {
  ResNet net(ResNetOptions().depth(18).num_classes(4));
  // kaiming_normal fan_out relu on conv1: std = sqrt(2 / (64*7*7))
  const double expected = std::sqrt(2.0 / (64 * 49));
  EXPECT_NEAR(net->conv1->weight.std().item<double>(), expected, 0.05 * expected);
  EXPECT_TRUE(torch::equal(net->bn1->weight, torch::ones({64})));
  EXPECT_TRUE(torch::equal(net->bn1->bias, torch::zeros({64})));
  auto named = net->named_parameters();
  EXPECT_TRUE(named.contains("layer2.0.downsample.0.weight"));
  EXPECT_TRUE(named.contains("layer2.0.downsample.1.bias"));
  EXPECT_FALSE(named.contains("layer1.0.downsample.0.weight"));
  EXPECT_FALSE(torch::equal(named["layer1.0.bn2.weight"], torch::zeros({64})));
  ResNet zero(ResNetOptions().depth(18).zero_init_residual(true));
  EXPECT_TRUE(torch::equal(zero->named_parameters()["layer1.0.bn2.weight"], torch::zeros({64})));
  EXPECT_THROW(ResNet(ResNetOptions().depth(101)), c10::Error);
  EXPECT_THROW(ResNet(ResNetOptions().in_channels(2)), c10::Error);
  EXPECT_THROW(net(torch::rand({1, 1, 32, 32})), c10::Error);
}

}  // namespace
}  // namespace fashioncut::models
