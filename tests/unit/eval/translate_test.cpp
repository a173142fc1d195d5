// translate + model loading: CUT state_dict layouts, training checkpoints, input-size outputs.
#include "fashioncut/eval/translate.h"

#include <gmock/gmock.h>

#include "eval_test_util.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/data/image_io.h"
#include "fashioncut/models/state_dict_io.h"
#include "support/test_support.h"

namespace fashioncut::eval {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

models::ResnetGenerator small_generator(bool antialias, int64_t channels = 3) {
  return models::ResnetGenerator(models::ResnetGeneratorOptions()
                                     .input_nc(channels)
                                     .output_nc(channels)
                                     .ngf(4)
                                     .n_blocks(2)
                                     .antialias(antialias)
                                     .antialias_up(antialias));
}

class TranslateTest : public testing::SeedingFixture {};

TEST_F(TranslateTest, InfersCutLayoutFromStateDictKeys) {
  for (bool aa : {true, false}) {
    auto g = small_generator(aa, 1);
    const auto o = infer_generator_options(models::module_state(*g), "G.pth");
    EXPECT_EQ(o.antialias(), aa);
    EXPECT_EQ(o.antialias_up(), aa);
    EXPECT_EQ(o.ngf(), 4);
    EXPECT_EQ(o.n_blocks(), 2);
    EXPECT_EQ(o.input_nc(), 1);
  }
  EXPECT_THROW(infer_generator_options({{"fc.weight", torch::zeros({2, 2})}}, "x.pth"), CheckpointError);
}

TEST_F(TranslateTest, CutReferenceFileKeepsInputSizeAndMatchesGenerator) {
  auto g = small_generator(true);
  g->eval();
  const auto pth = scratch() / "latest_net_G.pth";
  models::write_state_dict(pth, models::module_state(*g));
  fs::create_directories(scratch() / "in" / "sub");
  cv::imwrite((scratch() / "in" / "sub" / "odd.jpg").string(), test::test_image(30, 50, 3, 1));
  cv::imwrite((scratch() / "in" / "gray.png").string(), test::test_image(17, 9, 1, 2));
  const auto out = scratch() / "out";
  const auto r = testing::run_cli("translate --device cpu --grid --model " + testing::shell_quote(pth.string()) + " " +
                                  testing::shell_quote((scratch() / "in").string()) + " --out " +
                                  testing::shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("2 images written"));
  const auto odd = data::decode_image(out / "sub" / "odd.png");
  EXPECT_EQ(odd.cols, 30);
  EXPECT_EQ(odd.rows, 50);
  EXPECT_EQ(odd.channels(), 3);
  const auto gray = data::decode_image(out / "gray.png");
  EXPECT_EQ(gray.cols, 17);
  EXPECT_EQ(gray.rows, 9);
  const auto sheet = data::decode_image(out / "grid" / "sub" / "odd.png");
  EXPECT_EQ(sheet.cols, 64);
  EXPECT_EQ(sheet.rows, 50);
  // Same pixels as the generator applied here (PNG is lossless).
  const auto expected = translate_image(g, data::decode_image(scratch() / "in" / "sub" / "odd.jpg"), torch::kCPU);
  EXPECT_EQ(cv::norm(expected, odd, cv::NORM_INF), 0.0);
}

TEST_F(TranslateTest, TrainingCheckpointGeneratorAndClassifierLoad) {
  auto g = small_generator(false);
  models::Classifier c(test::tiny_spec());
  const auto ckpt = scratch() / "run" / "checkpoints" / "latest.pt";
  fs::create_directories(ckpt.parent_path());
  models::save_checkpoint(ckpt, {{"G", g.ptr()}, {"C", c.ptr()}}, {},
                          {{"kind", "training-checkpoint"},
                           {"method", "cut-joint"},
                           {"classifier", c->spec.to_json()},
                           {"config_toml", "method=\"cut-joint\"\nchannels=3\nngf=4\nn-blocks=2\nantialias=false\n"}});
  auto loaded = load_generator(scratch() / "run");
  const auto x = torch::rand({1, 3, 16, 16}) * 2 - 1;
  torch::NoGradGuard ng;
  g->eval();
  EXPECT_TRUE(torch::allclose(loaded.model->forward(x), g->forward(x)));
  auto lc = load_classifier(scratch() / "run");  // no model.pt: checkpoints/latest.pt module "C"
  EXPECT_EQ(lc.file, ckpt);
  c->eval();
  EXPECT_TRUE(torch::allclose(lc.model->forward(x), c->forward(x)));
  EXPECT_EQ(toml_value("n_blocks = 7\nngf=3", "n-blocks", "9"), "7");
}

TEST_F(TranslateTest, TinyOrMissingImagesAreReportedNotFatal) {
  auto g = small_generator(true);
  const auto pth = scratch() / "G.pth";
  models::write_state_dict(pth, models::module_state(*g));
  cv::imwrite((scratch() / "tiny.png").string(), test::test_image(5, 5, 3, 0));
  cv::imwrite((scratch() / "ok.png").string(), test::test_image(12, 12, 3, 0));
  const auto r = testing::run_cli("translate --device cpu --model " + testing::shell_quote(pth.string()) + " " +
                                  testing::shell_quote((scratch() / "tiny.png").string()) + " " +
                                  testing::shell_quote((scratch() / "ok.png").string()) + " --out " +
                                  testing::shell_quote((scratch() / "out").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("too small for the generator"));
  EXPECT_TRUE(fs::exists(scratch() / "out" / "ok.png"));
}

}  // namespace
}  // namespace fashioncut::eval
