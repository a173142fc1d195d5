// libFuzzer target: train::load_train_config (CLI11's TOML reader, strict keys, validate())
// on arbitrary bytes. Expected: a valid TrainConfig, or ConfigError naming the file; and a
// config that loads must survive to_toml -> load again unchanged (the run folder's
// config.toml is what --resume reads).
#include "fashioncut/train/train_config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = fashioncut::fuzz::write_input(data, size, ".toml");
  fashioncut::fuzz::expect_clean("config_loader", [&] {
    const auto config = fashioncut::train::load_train_config(path);
    const std::string toml = fashioncut::train::to_toml(config);
    const auto& again = fashioncut::fuzz::write_input(reinterpret_cast<const uint8_t*>(toml.data()), toml.size(),
                                                      ".toml");
    const std::string round = fashioncut::train::to_toml(fashioncut::train::load_train_config(again));
    if (round != toml) {
      std::fprintf(stderr, "config_loader: to_toml does not round-trip:\n%s\n---\n%s\n", toml.c_str(), round.c_str());
      std::abort();
    }
  });
  return 0;
}
