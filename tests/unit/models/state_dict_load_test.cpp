// module_state / load_state_dict: names as torchvision, strict errors, head replacement.
#include <gmock/gmock.h>

#include "fashioncut/core/errors.h"
#include "fashioncut/models/state_dict_io.h"
#include "support/test_support.h"

namespace fashioncut::models {
namespace {
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

/// conv1 (no bias) + bn1 + fc with `classes` outputs, named like torchvision's ResNet.
struct HeadNetImpl : torch::nn::Module {
  explicit HeadNetImpl(int64_t classes = 5)
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).bias(false)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(4))),
        fc(register_module("fc", torch::nn::Linear(4, classes))) {}
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Linear fc;
};
TORCH_MODULE(HeadNet);

class StateDictLoadTest : public testing::SeedingFixture {};

std::vector<std::string> keys(const NamedTensors& entries) {
  std::vector<std::string> out;
  for (const auto& [k, t] : entries) out.push_back(k);
  return out;
}

NamedTensors random_like(const NamedTensors& entries) {
  NamedTensors out;
  for (const auto& [k, t] : entries) {
    out.emplace_back(k, t.is_floating_point() ? torch::randn(t.sizes()) : torch::full(t.sizes(), 9, t.options()));
  }
  return out;
}

TEST_F(StateDictLoadTest, ModuleStateUsesTorchvisionNamesAndOrder) {
  HeadNet net;
  // PyTorch order: per module its parameters, then its buffers; conv1 has no bias entry.
  EXPECT_THAT(keys(module_state(*net)),
              ElementsAre("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                          "bn1.num_batches_tracked", "fc.weight", "fc.bias"));
  EXPECT_EQ(module_state(*net)[5].second.scalar_type(), torch::kInt64);
}

TEST_F(StateDictLoadTest, StrictLoadCopiesEveryTensorIncludingBuffers) {
  HeadNet net;
  const auto file = random_like(module_state(*net));
  const auto report = load_state_dict(*net, file, {}, "w.pth");
  EXPECT_EQ(report.loaded.size(), 8u);
  EXPECT_TRUE(report.missing.empty() && report.unexpected.empty() && report.shape_mismatch.empty());
  const auto state = module_state(*net);
  for (std::size_t i = 0; i < state.size(); ++i) EXPECT_TRUE(torch::equal(state[i].second, file[i].second)) << state[i].first;
  EXPECT_EQ(net->bn1->num_batches_tracked.item<int64_t>(), 9);
  EXPECT_FALSE(net->fc->weight.grad().defined());
  EXPECT_TRUE(net->fc->weight.requires_grad());  // copying does not change what trains
}

TEST_F(StateDictLoadTest, ConvertsDtypeToTheModules) {
  HeadNet net;
  NamedTensors file;
  for (const auto& [k, t] : module_state(*net)) file.emplace_back(k, torch::ones(t.sizes(), torch::kFloat64));
  load_state_dict(*net, file);
  EXPECT_EQ(net->fc->weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(net->fc->weight, torch::ones({5, 4})));
  EXPECT_EQ(net->bn1->num_batches_tracked.item<int64_t>(), 1);
}

TEST_F(StateDictLoadTest, StrictErrorListsMissingUnexpectedAndShapesAndChangesNothing) {
  HeadNet net;
  const auto before = net->conv1->weight.clone();
  auto file = random_like(module_state(*net));
  file.erase(file.begin() + 3);                           // bn1.running_mean missing
  file.emplace_back("layer9.weight", torch::ones({1}));   // unexpected
  file[0].second = torch::ones({4, 3, 5, 5});             // conv1.weight wrong shape
  try {
    load_state_dict(*net, file, {}, "/tmp/weights.pth");
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    const std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("/tmp/weights.pth"));
    EXPECT_THAT(msg, HasSubstr("1 missing keys: bn1.running_mean"));
    EXPECT_THAT(msg, HasSubstr("1 unexpected keys: layer9.weight"));
    EXPECT_THAT(msg, HasSubstr("conv1.weight (file [4, 3, 5, 5], model [4, 3, 3, 3])"));
  }
  EXPECT_TRUE(torch::equal(net->conv1->weight, before));
}

TEST_F(StateDictLoadTest, ErrorListsAtMostTenKeysWithCount) {
  HeadNet net;
  NamedTensors file = random_like(module_state(*net));
  for (int i = 0; i < 25; ++i) file.emplace_back("extra." + std::to_string(i), torch::ones({1}));
  try {
    load_state_dict(*net, file, {}, "x.pth");
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("25 unexpected keys: extra.0, extra.1"));
    EXPECT_THAT(e.what(), HasSubstr("extra.9, ... (15 more)"));
    EXPECT_THAT(e.what(), Not(HasSubstr("extra.10")));
  }
}

TEST_F(StateDictLoadTest, IgnorePrefixReplacesHeadWithAnotherClassCount) {
  HeadNet imagenet(1000);
  const auto file = random_like(module_state(*imagenet));
  HeadNet net(10);
  const auto fc_before = net->fc->weight.clone();
  EXPECT_THROW(load_state_dict(*net, file), CheckpointError);

  LoadOptions options;
  options.ignore_prefixes = {"fc."};
  const auto report = load_state_dict(*net, file, options);
  EXPECT_THAT(report.skipped, ElementsAre("fc.weight", "fc.bias"));
  EXPECT_TRUE(report.shape_mismatch.empty());
  EXPECT_EQ(report.loaded.size(), 6u);
  EXPECT_TRUE(torch::equal(net->fc->weight, fc_before));
  EXPECT_TRUE(torch::equal(net->conv1->weight, file[0].second));

  // Same class count: the ignored head is loaded after all.
  HeadNet same(1000);
  EXPECT_EQ(load_state_dict(*same, file, options).loaded.size(), 8u);
  // A file without any head is fine too.
  NamedTensors headless(file.begin(), file.end() - 2);
  EXPECT_THAT(load_state_dict(*net, headless, options).skipped, ElementsAre("fc.weight", "fc.bias"));

  options.allow_shape_mismatch_for_ignored = false;
  EXPECT_THROW(load_state_dict(*net, file, options), CheckpointError);
}

TEST_F(StateDictLoadTest, NonStrictLoadsWhatFitsAndReports) {
  HeadNet net(10);
  const auto file = random_like(module_state(*HeadNet(1000)));
  LoadOptions options;
  options.strict = false;
  const auto report = load_state_dict(*net, file, options);
  EXPECT_THAT(report.shape_mismatch, ElementsAre("fc.weight", "fc.bias"));
  EXPECT_EQ(report.loaded.size(), 6u);
  EXPECT_TRUE(torch::equal(net->bn1->running_var, file[4].second));
}

TEST_F(StateDictLoadTest, FileRoundTripThroughModules) {
  HeadNet a, b;
  const auto path = scratch() / "a.pth";
  write_state_dict(path, module_state(*a));
  const auto report = load_state_dict_file(*b, path);
  EXPECT_EQ(report.loaded.size(), 8u);
  const auto x = torch::randn({2, 3, 8, 8});
  a->eval();
  b->eval();
  EXPECT_TRUE(torch::equal(a->fc(a->bn1(a->conv1(x)).mean({2, 3})), b->fc(b->bn1(b->conv1(x)).mean({2, 3}))));
}

}  // namespace
}  // namespace fashioncut::models
