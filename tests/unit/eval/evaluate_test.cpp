// eval: hand-checkable metrics on a tiny labelled folder, class matching by name, report files.
#include "fashioncut/eval/evaluate.h"

#include <gmock/gmock.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "eval_test_util.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/data/dataset.h"
#include "fashioncut/data/image_io.h"
#include "support/test_support.h"

namespace fashioncut::eval {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_cli;
using testing::shell_quote;

class EvaluateTest : public testing::SeedingFixture {
 protected:
  /// data/a/{0,1,2}.png, data/b/0.png
  fs::path make_data(const std::vector<std::pair<std::string, int>>& classes) {
    const auto dir = scratch() / "data";
    int seed = 0;
    for (const auto& [name, count] : classes) {
      fs::create_directories(dir / name);
      for (int i = 0; i < count; ++i)
        cv::imwrite((dir / name / (std::to_string(i) + ".png")).string(), test::test_image(24, 20, 3, seed++));
    }
    return dir;
  }
};

TEST_F(EvaluateTest, ConstantModelGivesHandCheckedNumbersAndReportFiles) {
  // Model classes c, b, a (data classes a, b are a reordered subset); it always says "a".
  const auto spec = test::tiny_spec(3, {"c", "b", "a"});
  test::save_model(test::constant_model(spec, 2), scratch() / "run");
  const auto data = make_data({{"a", 3}, {"b", 1}});
  const auto rep = scratch() / "report";
  const auto r = run_cli("eval --device cpu --model " + shell_quote((scratch() / "run").string()) + " --data " +
                         shell_quote(data.string()) + " --out " + shell_quote(rep.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("accuracy 75.00%, macro accuracy 50.00%"));

  std::ifstream in(rep / "metrics.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j.at("count"), 4);
  EXPECT_DOUBLE_EQ(j.at("accuracy").get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j.at("macro_accuracy").get<double>(), 0.5);
  EXPECT_EQ(j.at("classes"), nlohmann::json({"c", "b", "a"}));
  const auto& a = j.at("per_class").at(2);
  EXPECT_EQ(a.at("class"), "a");
  EXPECT_DOUBLE_EQ(a.at("precision").get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(a.at("recall").get<double>(), 1.0);
  EXPECT_NEAR(a.at("f1").get<double>(), 2 * 0.75 / 1.75, 1e-12);
  EXPECT_EQ(a.at("support"), 3);
  EXPECT_DOUBLE_EQ(j.at("per_class").at(1).at("recall").get<double>(), 0.0);
  EXPECT_EQ(j.at("confusion"), nlohmann::json({{0, 0, 0}, {0, 0, 1}, {0, 0, 3}}));

  EXPECT_EQ(test::read_lines(rep / "confusion.csv"),
            (std::vector<std::string>{"true\\predicted,c,b,a", "c,0,0,0", "b,0,0,1", "a,0,0,3"}));
  EXPECT_EQ(test::read_lines(rep / "per_class.csv").at(3), "a,0.750000,1.000000,0.857143,3");
  // Confidence is e^2/(e^2+2) = 0.787 for every image: full coverage up to 0.75, none from 0.80.
  const auto cov = test::read_lines(rep / "coverage.csv");
  ASSERT_EQ(cov.size(), 22u);
  EXPECT_EQ(cov[0], "threshold,accepted,coverage,accuracy");
  EXPECT_EQ(cov[1], "0.00,4,1.000000,0.750000");
  EXPECT_EQ(cov[16], "0.75,4,1.000000,0.750000");
  EXPECT_EQ(cov[17], "0.80,0,0.000000,");
  for (const char* png : {"confusion.png", "coverage.png"}) {
    const auto img = data::decode_image(rep / png);
    EXPECT_GT(img.cols, 100) << png;
    EXPECT_EQ(img.channels(), 3);
  }
}

TEST_F(EvaluateTest, MatchesMetricsOfPerFilePredictions) {
  models::Classifier model(test::tiny_spec(1, {"a", "b"}));
  test::randomise_batchnorm(*model);
  test::save_model(model, scratch() / "run");
  const auto data = make_data({{"a", 4}, {"b", 3}});
  PredictorOptions o;
  o.batch_size = 3;
  Predictor predictor(load_classifier(scratch() / "run"), o);
  const auto result = evaluate(predictor, data.string());
  std::vector<int64_t> preds, labels;
  for (const auto& [name, label] : std::vector<std::pair<std::string, int64_t>>{{"a", 0}, {"b", 1}}) {
    for (const auto& f : data::list_images(data / name)) {
      preds.push_back(predictor.probabilities(predictor.load_image(f).unsqueeze(0)).argmax(1).item<int64_t>());
      labels.push_back(label);
    }
  }
  const auto expected = classification_metrics(torch::tensor(preds), torch::tensor(labels), 2);
  EXPECT_EQ(result.metrics.confusion, expected.confusion);
  EXPECT_DOUBLE_EQ(result.metrics.accuracy, expected.accuracy);
  EXPECT_EQ(result.metrics.count, 7);
  EXPECT_TRUE(result.skipped.empty());
}

TEST_F(EvaluateTest, DataClassUnknownToModelIsAnErrorListingBoth) {
  test::save_model(models::Classifier(test::tiny_spec()), scratch() / "run");
  const auto data = make_data({{"a", 1}, {"zebra", 1}});
  const auto r = run_cli("eval --device cpu --model " + shell_quote((scratch() / "run").string()) + " --data " +
                         shell_quote(data.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("data class 'zebra' is not a class of the model (model classes: a, b, c; data "
                                  "classes: a, zebra)"));
}

TEST_F(EvaluateTest, CoverageCurveCountsAcceptedAndPrecision) {
  const auto conf = torch::tensor({0.9, 0.6, 0.3, 0.95});
  const auto correct = torch::tensor({true, false, true, true});
  const auto c = coverage_curve(conf, correct, {0.0, 0.5, 0.92, 0.99});
  ASSERT_EQ(c.size(), 4u);
  EXPECT_DOUBLE_EQ(c[0].accuracy, 0.75);
  EXPECT_EQ(c[1].accepted, 3);
  EXPECT_NEAR(c[1].accuracy, 2.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(c[2].coverage, 0.25);
  EXPECT_DOUBLE_EQ(c[2].accuracy, 1.0);
  EXPECT_TRUE(std::isnan(c[3].accuracy));
}

}  // namespace
}  // namespace fashioncut::eval
