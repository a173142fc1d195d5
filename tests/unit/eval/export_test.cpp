// export: torchvision's resnet loads the exported state_dict strictly and computes the same logits.
#include "fashioncut/eval/export.h"

#include <gmock/gmock.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "eval_test_util.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/models/state_dict_io.h"
#include "support/test_support.h"

namespace fashioncut::eval {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ExportTest : public testing::SeedingFixture {
 protected:
  /// Exports `model` via the CLI, then runs the sidecar's Python lines on the C++ input and
  /// compares with the C++ logits.
  void check_roundtrip(models::Classifier model) {
    test::randomise_batchnorm(*model);
    model->eval();
    test::save_model(model, scratch() / "run");
    const auto pth = scratch() / "out" / "model.pth";
    const auto r = testing::run_cli("export --model " + testing::shell_quote((scratch() / "run").string()) +
                                    " --out " + testing::shell_quote(pth.string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream in(scratch() / "out" / "model.json");
    const auto sidecar = nlohmann::json::parse(in);
    EXPECT_EQ(sidecar.at("classes"), nlohmann::json(model->spec.classes));
    EXPECT_EQ(sidecar.at("input_size"), model->spec.image_size);
    EXPECT_EQ(sidecar.at("channels"), model->spec.in_channels);

    const int64_t s = model->spec.image_size;
    const auto x = torch::randn({2, model->spec.in_channels, s, s});
    torch::Tensor logits;
    {
      torch::NoGradGuard g;
      logits = model->forward(x);
    }
    models::write_state_dict(scratch() / "out" / "io.pth", {{"x", x}, {"logits", logits}});
    std::string code = "import os\nos.chdir('" + (scratch() / "out").string() + "')\n";
    for (const auto& line : sidecar.at("python")) code += line.get<std::string>() + "\n";
    code +=
        "io = torch.load('io.pth')\n"
        "with torch.no_grad():\n"
        "    y = model(io['x'])\n"
        "d = (y - io['logits']).abs().max().item()\n"
        "print('maxdiff', d)\n"
        "assert d < 1e-4, d\n"
        "print('SAME')\n";
    const auto py = testing::run_python(code);
    EXPECT_EQ(py.exit_code, 0) << code << "\n" << py.output;
    EXPECT_THAT(py.output, HasSubstr("SAME"));
  }
};

TEST_F(ExportTest, SmallInputGrayModelLoadsInTorchvisionWithSameLogits) {
  check_roundtrip(models::Classifier(test::tiny_spec(1)));
}

TEST_F(ExportTest, StandardStemRgbModelLoadsInTorchvisionWithSameLogits) {
  auto spec = test::tiny_spec(3, {"x", "y", "z", "w"});
  spec.small_input = false;
  spec.image_size = 32;
  spec.normalization = "imagenet";
  check_roundtrip(models::Classifier(spec));
}

TEST_F(ExportTest, BottleneckClassifierIsAClearError) {
  auto spec = test::tiny_spec();
  spec.bottleneck = "bn-relu";
  spec.bottleneck_dim = 16;
  test::save_model(models::Classifier(spec), scratch() / "run");
  try {
    export_torchvision(load_classifier(scratch() / "run"), scratch() / "m.pth");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'bn-relu' bottleneck"));
  }
  EXPECT_FALSE(fs::exists(scratch() / "m.pth"));
}

TEST_F(ExportTest, SidecarDescribesNormalisationAndStemPatch) {
  auto spec = test::tiny_spec(3);
  spec.normalization = "imagenet";
  const auto j = export_sidecar(spec, "m.pth");
  EXPECT_EQ(j.at("normalization").at("mean"), nlohmann::json({0.485, 0.456, 0.406}));
  EXPECT_THAT(j.at("python").dump(), HasSubstr("model.maxpool = torch.nn.Identity()"));
  EXPECT_THAT(j.at("python").dump(), HasSubstr("torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)"));
}

}  // namespace
}  // namespace fashioncut::eval
