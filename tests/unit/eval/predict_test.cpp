// predict: the CLI end to end (bad files, thresholds, top-k, list files, JSONL) and the
// streaming/predictor library underneath.
#include "fashioncut/eval/predict_job.h"

#include <gmock/gmock.h>

#include <nlohmann/json.hpp>
#include <set>

#include "eval_test_util.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/eval/predictor.h"
#include "support/test_support.h"

namespace fashioncut::eval {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_cli;
using testing::shell_quote;

class PredictTest : public testing::SeedingFixture {
 protected:
  /// images/: corrupt.png, empty.png, gray.png, rgba.png, wide.jpg (sorted order).
  fs::path make_images() {
    const auto dir = scratch() / "images";
    fs::create_directories(dir / "sub");
    std::vector<uchar> png;
    cv::imencode(".png", test::test_image(20, 20, 3, 1), png);
    test::write_bytes(dir / "corrupt.png", std::string(png.begin(), png.begin() + 40) + std::string(60, '\x5a'));
    test::write_bytes(dir / "empty.png", "");
    cv::imwrite((dir / "gray.png").string(), test::test_image(28, 28, 1, 2));
    cv::imwrite((dir / "sub" / "rgba.png").string(), test::test_image(40, 30, 4, 3));
    cv::imwrite((dir / "wide.jpg").string(), test::test_image(1000, 200, 3, 4));
    return dir;
  }
  fs::path run_dir() const { return scratch() / "run"; }
};

TEST_F(PredictTest, FolderWithBadFilesGivesOneRowEachAndExitCode1) {
  test::save_model(models::Classifier(test::tiny_spec()), run_dir());
  const auto images = make_images();
  const auto out = scratch() / "out.csv";
  const auto r = run_cli("predict --device cpu --threads 1 --model " + shell_quote(run_dir().string()) + " " +
                         shell_quote(images.string()) + " --out " + shell_quote(out.string()));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("5 images"));
  EXPECT_THAT(r.output, HasSubstr("2 errors (40.0%)"));
  const auto lines = test::read_lines(out);
  ASSERT_EQ(lines.size(), 6u) << r.output;
  EXPECT_EQ(lines[0], "path,label,confidence,top2,top2_conf,status,error");
  const std::vector<std::string> names = {"corrupt.png", "empty.png", "gray.png", "sub/rgba.png", "wide.jpg"};
  const std::vector<std::string> status = {"error", "error", "accepted", "accepted", "accepted"};
  for (size_t i = 0; i < names.size(); ++i) {
    const auto f = test::split_csv(lines[i + 1]);
    ASSERT_EQ(f.size(), 7u) << lines[i + 1];
    EXPECT_EQ(f[0], (images / names[i]).string());
    EXPECT_EQ(f[5], status[i]) << lines[i + 1];
    if (status[i] == "accepted") {
      EXPECT_THAT((std::vector<std::string>{"a", "b", "c"}), ::testing::Contains(f[1]));
      const double c1 = std::stod(f[2]), c2 = std::stod(f[4]);
      EXPECT_GE(c1, c2);
      EXPECT_GT(c1, 1.0 / 3 - 1e-6);
      EXPECT_TRUE(f[6].empty());
    } else {
      EXPECT_TRUE(f[1].empty());
      EXPECT_FALSE(f[6].empty());
    }
  }
  EXPECT_THAT(lines[2], HasSubstr("empty file (0 bytes)"));
  EXPECT_THAT(lines[1], HasSubstr("PNG"));
}

TEST_F(PredictTest, ThresholdMarksLowConfidenceUnknownAndAllGoodExitsZero) {
  test::save_model(test::constant_model(test::tiny_spec(), 1), run_dir());
  const auto img = scratch() / "x.png";
  cv::imwrite(img.string(), test::test_image(50, 20, 3, 0));
  const double conf = test::constant_confidence(3);  // ~0.711
  const std::string base = "predict --device cpu --model " + shell_quote(run_dir().string()) + " " +
                           shell_quote(img.string());
  auto r = run_cli(base + " --threshold 0.8");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(",b,0.7"));
  EXPECT_THAT(r.output, HasSubstr(",unknown,"));
  r = run_cli(base + " --threshold 0.7");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(",accepted,"));
  char expected[32];
  std::snprintf(expected, sizeof expected, ",b,%.6f,", conf);
  EXPECT_THAT(r.output, HasSubstr(expected));

  // Per-class thresholds: b needs 0.9 -> unknown; unknown class names are a clear error.
  const auto thr = scratch() / "thr.csv";
  test::write_bytes(thr, "class,threshold\nb,0.9\na,0.1\n");
  r = run_cli(base + " --thresholds " + shell_quote(thr.string()));
  EXPECT_THAT(r.output, HasSubstr(",unknown,"));
  test::write_bytes(thr, "shoe,0.9\n");
  r = run_cli(base + " --thresholds " + shell_quote(thr.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("class 'shoe' is not a model class (model classes: a, b, c)"));
}

TEST_F(PredictTest, TopKColumnsListFileInputAndJsonl) {
  test::save_model(models::Classifier(test::tiny_spec(1)), run_dir());
  fs::create_directories(scratch() / "p");
  cv::imwrite((scratch() / "p" / "one.png").string(), test::test_image(10, 10, 3, 1));
  cv::imwrite((scratch() / "two.jpg").string(), test::test_image(64, 32, 3, 2));
  const auto list = scratch() / "list.csv";
  test::write_bytes(list, "path,label\n# comment\np/one.png,a\n" + (scratch() / "two.jpg").string() +
                              ",b\nmissing.png,c\n");
  const auto out = scratch() / "o.csv";
  auto r = run_cli("predict --device cpu --top-k 3 --model " + shell_quote(run_dir().string()) + " " +
                   shell_quote(list.string()) + " --out " + shell_quote(out.string()));
  EXPECT_EQ(r.exit_code, 1) << r.output;  // missing.png
  const auto lines = test::read_lines(out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "path,label,confidence,top2,top2_conf,top3,top3_conf,status,error");
  for (int i = 1; i <= 2; ++i) {
    const auto f = test::split_csv(lines[size_t(i)]);
    ASSERT_EQ(f.size(), 9u);
    EXPECT_NEAR(std::stod(f[2]) + std::stod(f[4]) + std::stod(f[6]), 1.0, 1e-4);
    EXPECT_EQ(std::set<std::string>({f[1], f[3], f[5]}), std::set<std::string>({"a", "b", "c"}));
  }
  EXPECT_EQ(test::split_csv(lines[1])[0], (scratch() / "p" / "one.png").string());
  EXPECT_THAT(lines[3], HasSubstr("missing.png,,,,,,,error,file not found"));

  r = run_cli("predict --device cpu --format jsonl --top-k 2 --model " + shell_quote(run_dir().string()) + " " +
              shell_quote((scratch() / "two.jpg").string()) + " --out " + shell_quote(out.string()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(test::read_lines(out).at(0));
  EXPECT_EQ(j.at("status"), "accepted");
  EXPECT_EQ(j.at("top").size(), 2u);
  EXPECT_EQ(j.at("top")[0].at("label"), j.at("label"));
}

TEST_F(PredictTest, StreamBatchesKeepsOrderAndTurnsThrowsIntoErrors) {
  std::vector<size_t> firsts;
  std::vector<std::string> errors;
  std::vector<float> values;
  stream_batches(
      10, 3, 4,
      [](size_t i) -> torch::Tensor {
        if (i == 4) throw ImageError("f4.png", "broken");
        return torch::full({1}, float(i));
      },
      [&](size_t first, std::vector<StreamItem>& items) {
        firsts.push_back(first);
        for (auto& it : items) {
          errors.push_back(it.error);
          values.push_back(it.error.empty() ? it.image.item<float>() : -1.0f);
        }
      });
  EXPECT_EQ(firsts, (std::vector<size_t>{0, 3, 6, 9}));
  ASSERT_EQ(values.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(values[i], i == 4 ? -1.0f : float(i));
  EXPECT_EQ(errors[4], "broken");
}

TEST_F(PredictTest, PredictorMatchesModelForwardWithAndWithoutFolding) {
  models::Classifier model(test::tiny_spec());
  test::randomise_batchnorm(*model);
  model->eval();
  const auto file = test::save_model(model, run_dir());
  const auto x = torch::randn({4, 3, 16, 16});
  torch::Tensor expected;
  {
    torch::NoGradGuard g;
    expected = model->forward(x);
  }
  PredictorOptions o;
  Predictor folded(load_classifier(run_dir()), o);
  EXPECT_LT((folded.logits(x) - expected).abs().max().item<float>(), 1e-4);
  EXPECT_EQ(folded.blocked_layout(), at::hasMKLDNN());  // the default on a CPU
  o.blocked_layout = false;
  Predictor dense(load_classifier(run_dir()), o);
  EXPECT_FALSE(dense.blocked_layout());
  EXPECT_LT((dense.logits(x) - expected).abs().max().item<float>(), 1e-4);
  o.fold_bn = false;
  Predictor plain(load_classifier(file), o);
  EXPECT_LT((plain.logits(x) - expected).abs().max().item<float>(), 1e-5);
  EXPECT_EQ(folded.transform().size, 16);
  EXPECT_EQ(folded.transform().resize, data::ResizeMode::kStretch);
}

// The blocked oneDNN layout on the other ResNet shapes: Bottleneck blocks with the max-pool stem
// (resnet50), and a BasicBlock backbone under a DANN-style bottleneck head (features() path).
TEST_F(PredictTest, BlockedLayoutMatchesModelForwardOnEveryBackbone) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "LibTorch built without oneDNN";
  for (const std::string arch : {"resnet50", "resnet18"}) {
    auto spec = test::tiny_spec();
    spec.arch = arch;
    spec.small_input = false;
    spec.image_size = 32;
    if (arch == "resnet18") {
      spec.bottleneck_dim = 8;
      spec.bottleneck = "bn-relu";
    }
    models::Classifier model(spec);
    test::randomise_batchnorm(*model);
    model->eval();
    const auto dir = run_dir() / arch;
    test::save_model(model, dir);
    const auto x = torch::randn({3, 3, 32, 32});
    torch::Tensor expected;
    {
      torch::NoGradGuard g;
      expected = model->forward(x);
    }
    Predictor blocked(load_classifier(dir), PredictorOptions{});
    ASSERT_TRUE(blocked.blocked_layout()) << arch;
    // Float rounding only: oneDNN sums the convolutions in another order (and with FMA where the
    // CPU has it), so the error scales with the logits (a resnet50 with random BatchNorm statistics
    // reaches ~10) and differs between CPUs: within 1e-5 of the largest logit.
    const float scale = std::max(1.0f, expected.abs().max().item<float>());
    const float error = (blocked.logits(x) - expected).abs().max().item<float>();
    EXPECT_LT(error, 1e-5f * scale) << arch << ": largest logit " << scale;
  }
}

TEST_F(PredictTest, ExpandInputsHandlesFoldersListsAndMissingPaths) {
  const auto images = make_images();
  const auto in = expand_inputs({images.string(), (scratch() / "nope.png").string()});
  ASSERT_EQ(in.size(), 6u);
  EXPECT_EQ(in[3].path, images / "sub" / "rgba.png");
  EXPECT_TRUE(in[0].error.empty());
  EXPECT_EQ(in[5].error, "file not found");
}

}  // namespace
}  // namespace fashioncut::eval
