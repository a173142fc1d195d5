#include "fashioncut/train/train_config.h"

#include <gmock/gmock.h>

#include <fstream>

#include "fashioncut/core/errors.h"
#include "support/test_support.h"

namespace fashioncut::train {
namespace {
using ::testing::HasSubstr;

class TrainConfigTest : public testing::SeedingFixture {
 protected:
  std::filesystem::path write(const std::string& text) {
    const auto path = scratch() / "c.toml";
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(TrainConfigTest, EffectiveConfigRoundTrips) {
  TrainConfig c;
  c.method = "source-only";
  c.epochs = 7;
  c.nce_layers = {0, 4, 8};
  c.nce_idt = false;
  c.lambda_c = 0.25;
  const auto back = load_train_config(write(to_toml(c)));
  EXPECT_EQ(back.method, "source-only");
  EXPECT_EQ(back.epochs, 7);
  EXPECT_EQ(back.nce_layers, (std::vector<int64_t>{0, 4, 8}));
  EXPECT_FALSE(back.nce_idt);
  EXPECT_DOUBLE_EQ(back.lambda_c, 0.25);
}

TEST_F(TrainConfigTest, AcceptsDashesUnderscoresAndTomlArrays) {
  const auto c = load_train_config(write("source_count = 9\nbatch-size = 4\nnce_layers = [0, 4]\nnce_idt = false\n"));
  EXPECT_EQ(c.source_count, 9);
  EXPECT_EQ(c.batch_size, 4);
  EXPECT_EQ(c.nce_layers, (std::vector<int64_t>{0, 4}));
  EXPECT_FALSE(c.nce_idt);
}

TEST_F(TrainConfigTest, UnknownKeyIsAnErrorNamingFileAndKey) {
  const auto path = write("epochz = 3\n");
  try {
    load_train_config(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path.string()));
    EXPECT_THAT(e.what(), HasSubstr("epochz"));
  }
}

TEST_F(TrainConfigTest, WrongTypeAndRangeAreErrors) {
  EXPECT_THROW(load_train_config(write("epochs = \"many\"\n")), ConfigError);
  try {
    load_train_config(write("batch_size = 0\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("batch-size"));
  }
  EXPECT_THROW(load_train_config(write("arch = \"vgg\"\n")), ConfigError);
  EXPECT_THROW(load_train_config(write("select = \"oracle\"\n")), ConfigError);  // needs eval
  EXPECT_THROW(load_train_config(write("nce_layers = [4, 0]\n")), ConfigError);
  EXPECT_THROW(load_train_config(write("classifier_ema = 1.0\n")), ConfigError);
  EXPECT_THROW(load_train_config(write("pseudo_label_teacher = \"mean\"\n")), ConfigError);
  try {  // an EMA teacher needs the average it reads from
    load_train_config(write("pseudo_label_teacher = \"ema\"\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("classifier-ema"));
  }
  EXPECT_EQ(load_train_config(write("pseudo_label_teacher = \"ema\"\nclassifier_ema = 0.995\n")).classifier_ema,
            0.995);
}

}  // namespace
}  // namespace fashioncut::train
