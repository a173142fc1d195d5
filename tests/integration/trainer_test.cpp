// Whole-pipeline checks of the Trainer on tiny data (CPU): every method runs, writes its
// artefacts, and a run interrupted and resumed equals an uninterrupted one exactly.
#include "fashioncut/train/trainer.h"

#include <gmock/gmock.h>
#include <opencv2/imgcodecs.hpp>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/eval/model_loader.h"
#include "fashioncut/models/checkpoint.h"
#include "fashioncut/models/weight_ema.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/metrics_log.h"
#include "support/test_support.h"

namespace fashioncut::train {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

/// Writes `per_class` 32x32 gray PNGs per class: class 0 bright squares, class 1 bright bars.
void write_tiny_images(const fs::path& root, bool labelled, int per_class) {
  for (int c = 0; c < 2; ++c) {
    const fs::path dir = labelled ? root / (c == 0 ? "square" : "bar") : root;
    fs::create_directories(dir);
    for (int i = 0; i < per_class; ++i) {
      cv::Mat img(32, 32, CV_8UC1, cv::Scalar(10 + 5 * i));
      if (c == 0) cv::rectangle(img, {8 + i % 3, 8, 14, 14}, cv::Scalar(230), cv::FILLED);
      else cv::rectangle(img, {4, 12 + i % 3, 24, 6}, cv::Scalar(200), cv::FILLED);
      cv::imwrite((dir / ("img" + std::to_string(c) + "_" + std::to_string(i) + ".png")).string(), img);
    }
  }
}

class TrainerTest : public testing::SeedingFixture {
 protected:
  TrainConfig tiny(const std::string& method, const std::string& name) {
    write_tiny_images(scratch() / "src", true, 4);
    write_tiny_images(scratch() / "tgt", false, 4);
    TrainConfig c;
    c.method = method;
    c.name = name;
    c.runs_dir = (scratch() / "runs").string();
    c.source = (scratch() / "src").string();
    c.target = (scratch() / "tgt").string();
    c.eval = (scratch() / "src").string();
    c.threads = 1;
    c.device = "cpu";
    c.workers = 1;
    c.image_size = 32;
    c.channels = 1;
    c.epochs = 2;
    c.iters_per_epoch = 2;
    c.batch_size = 2;
    c.checkpoint_every = 1;
    c.log_every = 1;
    c.ngf = 4;
    c.ndf = 4;
    c.n_blocks = 1;
    c.n_layers_d = 2;
    c.nce_layers = {0, 4, 8, 12};
    c.num_patches = 8;
    c.netf_nc = 8;
    c.pseudo_label_start = 1;
    c.bsp_pretrain_epochs = 1;
    c.bottleneck_dim = 8;
    c.heldout_count = 0;
    c.target_eval_count = 8;
    return c;
  }
};

TEST_F(TrainerTest, EveryMethodTrainsTwoStepsAndWritesArtefacts) {
  for (const auto& [name, description] : list_methods()) {
    SCOPED_TRACE(name);
    auto c = tiny(name, "run-" + name);
    c.epochs = 1;
    const auto out = train(c);
    EXPECT_EQ(out.iterations_done, 2);
    const fs::path dir = out.run_dir;
    for (const char* f : {"config.toml", "metrics.jsonl", "report.html", "checkpoints/latest.pt",
                          "checkpoints/best.pt", "checkpoints/epoch_001.pt", "samples/epoch_001.png"})
      EXPECT_TRUE(fs::exists(dir / f)) << f;
    EXPECT_FALSE(fs::is_empty(dir / "tensorboard"));
    const auto records = read_metrics(dir / "metrics.jsonl");
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().at("kind"), "epoch");
    for (const auto& [term, value] : records.front().at("losses").items()) EXPECT_TRUE(std::isfinite(value.get<double>())) << term;
  }
}

/// Final tensors of every module in a checkpoint (the classifier's weight average included when
/// the run keeps one), flattened into one vector.
std::unique_ptr<Method> tiny_method(const TrainConfig& c) {
  register_builtin_methods();
  MethodContext ctx;
  ctx.num_classes = 2;
  ctx.classes = {"bar", "square"};
  ctx.channels = 1;
  ctx.image_size = 32;
  return make_method(c, ctx);
}

std::vector<torch::Tensor> weights(const fs::path& ckpt, const TrainConfig& c) {
  auto method = tiny_method(c);
  models::NamedModules modules = method->modules();
  if (c.classifier_ema > 0) modules.emplace_back("classifier_ema", models::WeightEma(*method->classifier_module()).ptr());
  models::load_checkpoint(ckpt, modules, {}, false);
  std::vector<torch::Tensor> out;
  for (auto& [name, module] : modules) {
    for (auto& p : module->parameters()) out.push_back(p.detach().clone());
    for (auto& b : module->buffers()) out.push_back(b.detach().clone());
  }
  return out;
}

TEST_F(TrainerTest, InterruptedAndResumedRunEqualsUninterrupted) {
  // The third: pseudo-labels from the classifier's weight average, which is checkpointed too, on
  // augmented student views.
  for (const std::string variant : {"fashion-cut", "source-only", "fashion-cut+ema"}) {
    SCOPED_TRACE(variant);
    const std::string method = variant.substr(0, variant.find('+'));
    auto configure = [&](TrainConfig c) {
      if (variant != method) {
        c.classifier_ema = 0.9;
        c.pseudo_label_teacher = "ema";
        c.pseudo_label_augment = "weak";  // the student's views draw from torch's RNG: restored on resume
      }
      return c;
    };
    auto straight = configure(tiny(method, variant + "-straight"));
    const auto a = train(straight);
    auto broken = configure(tiny(method, variant + "-broken"));
    broken.stop_after_iters = 3;  // mid-epoch 2
    const auto b1 = train(broken);
    EXPECT_TRUE(b1.interrupted);
    EXPECT_EQ(b1.iterations_done, 3);
    const auto b2 = resume(b1.run_dir);
    EXPECT_FALSE(b2.interrupted);
    EXPECT_EQ(b2.iterations_done, a.iterations_done);
    // Same losses at every step, including the first step after the resume.
    const auto ra = read_metrics(a.run_dir / "metrics.jsonl");
    const auto rb = read_metrics(b2.run_dir / "metrics.jsonl");
    ASSERT_EQ(ra.size(), rb.size());
    for (size_t i = 0; i < ra.size(); ++i) {
      if (ra[i].at("kind") != "step") continue;
      for (const auto& [term, value] : ra[i].at("losses").items())
        EXPECT_NEAR(value.get<double>(), rb[i].at("losses").at(term).get<double>(), 1e-6) << "record " << i << " " << term;
    }
    const auto wa = weights(a.run_dir / "checkpoints/latest.pt", straight);
    const auto wb = weights(b2.run_dir / "checkpoints/latest.pt", broken);
    ASSERT_EQ(wa.size(), wb.size());
    for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(torch::equal(wa[i], wb[i])) << "parameter " << i;
    if (variant == method) continue;
    // What ships (model.pt) is the weight average of the selected epoch, not its last weights.
    auto trained = tiny_method(straight), shipped = tiny_method(straight);
    models::WeightEma average(*trained->classifier_module());
    models::load_checkpoint(a.run_dir / "checkpoints/best.pt",
                            {{"C", trained->classifier_module()}, {"classifier_ema", average.ptr()}}, {}, false);
    models::load_checkpoint(a.run_dir / "model.pt", {{"classifier", shipped->classifier_module()}}, {}, false);
    const auto last = trained->classifier_module()->parameters();
    const auto ships = shipped->classifier_module()->parameters();
    EXPECT_FALSE(torch::equal(last.front(), ships.front()));
    models::EmaSwapGuard averaged(average.get(), trained->classifier_module().get());
    for (size_t i = 0; i < ships.size(); ++i) EXPECT_TRUE(torch::equal(last[i], ships[i])) << "parameter " << i;
    // `eval`/`predict` on the training checkpoint load that same average, buffers included.
    const auto loaded = eval::load_classifier(a.run_dir / "checkpoints/best.pt");
    const auto from_ckpt = loaded.model->named_parameters(), shipped_named = shipped->classifier_module()->named_parameters();
    ASSERT_EQ(from_ckpt.size(), shipped_named.size());
    for (const auto& item : shipped_named) EXPECT_TRUE(torch::equal(from_ckpt[item.key()], item.value())) << item.key();
    const auto buffers_ckpt = loaded.model->named_buffers(), buffers_shipped = shipped->classifier_module()->named_buffers();
    for (const auto& item : buffers_shipped) EXPECT_TRUE(torch::equal(buffers_ckpt[item.key()], item.value())) << item.key();
  }
}

TEST_F(TrainerTest, ExistingRunIsNotOverwritten) {
  auto c = tiny("source-only", "dup");
  c.epochs = 1;
  train(c);
  try {
    train(c);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--resume"));
  }
}

TEST_F(TrainerTest, ResumeOfTornCheckpointNamesFile) {
  auto c = tiny("source-only", "torn");
  c.epochs = 1;
  const auto out = train(c);
  const auto latest = out.run_dir / "checkpoints/latest.pt";
  const std::string bytes = read_file(latest);
  write_file_atomic(latest, bytes.substr(0, bytes.size() / 2));
  try {
    resume(out.run_dir, 2);
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("latest.pt"));
  }
}

}  // namespace
}  // namespace fashioncut::train
