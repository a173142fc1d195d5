#include "fashioncut/synth/synth_options.h"

#include <gmock/gmock.h>

#include "fashioncut/core/errors.h"
#include "fashioncut/synth/garment.h"
#include "fashioncut/synth/material.h"
#include "support/test_support.h"

namespace fashioncut::synth {
namespace {
using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

TEST(SynthOptionsTest, PresetsValidateAndDiffer) {
  const auto catalog = SynthOptions::preset_options("catalog");
  const auto fmnist = SynthOptions::preset_options("fmnist");
  EXPECT_NO_THROW(catalog.validate());
  EXPECT_NO_THROW(fmnist.validate());
  EXPECT_EQ(catalog.size, 128);
  EXPECT_EQ(catalog.channels, 3);
  EXPECT_EQ(fmnist.size, 28);
  EXPECT_EQ(fmnist.channels, 1);
  EXPECT_EQ(fmnist.label, "garment");
  EXPECT_EQ(fmnist.background_kinds, std::vector<std::string>{"black"});
  EXPECT_THAT(error_of([] { SynthOptions::preset_options("blender"); }), HasSubstr("blender"));
}

TEST(SynthOptionsTest, BadValuesNameTheKey) {
  auto with = [](auto edit) {
    SynthOptions o;
    edit(o);
    return error_of([&] { o.validate(); });
  };
  EXPECT_THAT(with([](SynthOptions& o) { o.size = 15; }), HasSubstr("'size'"));
  EXPECT_THAT(with([](SynthOptions& o) { o.size = 2049; }), HasSubstr("'size'"));
  EXPECT_THAT(with([](SynthOptions& o) { o.channels = 2; }), HasSubstr("'channels'"));
  EXPECT_THAT(with([](SynthOptions& o) { o.label = "colour"; }), HasSubstr("'label'"));
  EXPECT_THAT(with([](SynthOptions& o) { o.classes = {"plaid"}; }), HasSubstr("plaid"));
  EXPECT_THAT(with([](SynthOptions& o) { o.classes = {"plain", "plain"}; }), HasSubstr("twice"));
  EXPECT_THAT(with([](SynthOptions& o) { o.garments = {"hat"}; }), HasSubstr("hat"));
  EXPECT_THAT(with([](SynthOptions& o) { o.scale_min = 0.9, o.scale_max = 0.5; }), HasSubstr("scale_min"));
  EXPECT_THAT(with([](SynthOptions& o) { o.background_kinds = {"photo"}; }), HasSubstr("backgrounds_dir"));
  // garment classes are valid when label = garment, not when label = pattern
  EXPECT_THAT(with([](SynthOptions& o) { o.classes = {"sneaker"}; }), HasSubstr("sneaker"));
  SynthOptions g;
  g.label = "garment";
  g.classes = {"sneaker", "bag"};
  EXPECT_NO_THROW(g.validate());
}

TEST(SynthOptionsTest, JsonAndTomlRoundTrip) {
  SynthOptions o = SynthOptions::preset_options("fmnist");
  o.seed = 12345678901234ULL;
  o.classes = {"bag", "sneaker"};
  o.blur_prob = 0.125;
  const auto j = o.to_json();
  EXPECT_EQ(SynthOptions::from_json(j).to_json(), j);
  const std::string toml = o.to_toml();
  EXPECT_THAT(toml, HasSubstr("preset = \"fmnist\""));
  EXPECT_THAT(toml, HasSubstr("classes = [\"bag\", \"sneaker\"]"));
  EXPECT_EQ(SynthOptions::from_toml(toml).to_json(), j);
  // every field appears as a key
  for (const auto& item : j.items()) EXPECT_THAT(toml, HasSubstr("\n" + item.key() + " = "));
}

TEST(SynthOptionsTest, PresetThenOverridesAndUnknownKeys) {
  const auto o = SynthOptions::from_toml("preset = 'fmnist'\nsize = 32 # bigger\nclasses = []\n");
  EXPECT_EQ(o.size, 32);
  EXPECT_EQ(o.channels, 1);  // from the preset
  EXPECT_THAT(error_of([] { SynthOptions::from_toml("colour = 3\n", "my.toml"); }), HasSubstr("my.toml"));
  EXPECT_THAT(error_of([] { SynthOptions::from_toml("colour = 3\n", "my.toml"); }), HasSubstr("colour"));
  EXPECT_THAT(error_of([] { SynthOptions::from_json({{"size", "big"}}); }), HasSubstr("'size'"));
  EXPECT_THAT(error_of([] { SynthOptions::from_json({{"seed", -1}}); }), HasSubstr("'seed'"));
  EXPECT_THAT(error_of([] { SynthOptions::from_toml("[scene]\nx = 1\n"); }), HasSubstr("flat"));
  // keys the caller handles elsewhere (e.g. CLI-only keys) can be skipped
  EXPECT_EQ(SynthOptions::from_toml("count = 5\nsize = 64\n", "c", {"count"}).size, 64);
}

TEST(SynthOptionsTest, RegistriesListEveryClass) {
  const auto materials = MaterialRegistry::global().names();
  EXPECT_EQ(materials, (std::vector<std::string>{"plain", "floral", "striped", "dotted", "camouflage", "gradient",
                                                 "herringbone"}));
  EXPECT_EQ(fmnist_garments().size(), 10u);
  EXPECT_EQ(apparel_garments().size(), 8u);
  Rng rng(1);
  for (const auto& g : garment_names()) {
    const auto geo = build_garment(g, rng);
    EXPECT_FALSE(geo.pieces.empty()) << g;
    for (const auto& p : geo.pieces) EXPECT_GE(p.points.size(), 2u) << g;
  }
  EXPECT_THAT(error_of([&] { build_garment("hat", rng); }), HasSubstr("hat"));
}

}  // namespace
}  // namespace fashioncut::synth
