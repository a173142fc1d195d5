#include "fashioncut/eval/model_loader.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "fashioncut/core/errors.h"
#include "fashioncut/models/checkpoint.h"
#include "fashioncut/models/state_dict_io.h"
#include "fashioncut/models/weight_ema.h"

namespace fashioncut::eval {
namespace fs = std::filesystem;
namespace {

/// The first existing file of `candidates` under `dir`, or an empty path.
fs::path first_existing(const fs::path& dir, std::initializer_list<const char*> candidates) {
  for (const char* c : candidates)
    if (fs::is_regular_file(dir / c)) return dir / c;
  return {};
}

/// Torch zip archives and state_dict files are both zips: a fashioncut checkpoint (one with
/// "meta") comes back opened, ready to load from; anything else as nullopt.
std::optional<models::Checkpoint> open_fashioncut_checkpoint(const fs::path& file) {
  try {
    return models::Checkpoint(file);
  } catch (const CheckpointError&) {
    return std::nullopt;
  }
}

}  // namespace

std::string toml_value(const std::string& toml, const std::string& key, const std::string& fallback) {
  std::string alt = key;
  std::replace(alt.begin(), alt.end(), '-', '_');
  std::string alt2 = key;
  std::replace(alt2.begin(), alt2.end(), '_', '-');
  std::istringstream in(toml);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || line.empty() || line[0] == '#') continue;
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t\r");
      const auto e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    const std::string k = trim(line.substr(0, eq));
    if (k != alt && k != alt2) continue;
    std::string v = trim(line.substr(eq + 1));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    return v;
  }
  return fallback;
}

LoadedClassifier load_classifier(const fs::path& model) {
  fs::path file = model;
  if (fs::is_directory(model)) {
    file = first_existing(model, {"model.pt", "checkpoints/best.pt", "checkpoints/latest.pt"});
    if (file.empty())
      throw CheckpointError(model.string() + ": no model.pt or checkpoints/{best,latest}.pt in this folder; pass a "
                                             "training run directory or a model file");
  } else if (!fs::exists(model)) {
    throw CheckpointError(model.string() + ": model not found; pass a run directory, its model.pt or a checkpoint");
  }
  models::Checkpoint checkpoint(file);  // verified and parsed once for the checks and the load
  const nlohmann::json& meta = checkpoint.meta();
  const std::string kind = meta.value("kind", std::string());
  std::string module_name;
  if (kind == "classifier") module_name = "classifier";
  else if (kind == "training-checkpoint") module_name = "C";
  else
    throw CheckpointError(file.string() + ": checkpoint kind '" + kind +
                          "' holds no classifier (expected 'classifier' or 'training-checkpoint')");
  if (!meta.contains("classifier") || meta["classifier"].is_null())
    throw CheckpointError(file.string() + ": has no classifier description (method '" +
                          meta.value("method", std::string("?")) + "' trains no classifier?)");
  LoadedClassifier out;
  try {
    out.spec = models::ClassifierSpec::from_json(meta["classifier"]);
  } catch (const CheckpointError& e) {
    throw CheckpointError(file.string() + ": " + e.what());
  }
  out.model = models::Classifier(out.spec);
  const std::string average = kind == "training-checkpoint" ? meta.value("classifier_average", std::string()) : "";
  if (average.empty()) {
    checkpoint.load({{module_name, out.model.ptr()}}, {}, false);
  } else {  // the run scored and shipped the weight average of C: that is the model
    models::WeightEma averaged(*out.model);
    checkpoint.load({{module_name, out.model.ptr()}, {average, averaged.ptr()}}, {}, false);
    averaged->swap(*out.model);
  }
  out.model->eval();
  out.file = file;
  out.meta = meta;
  return out;
}

data::TransformOptions inference_transform(const models::ClassifierSpec& spec) {
  data::TransformOptions t;
  t.size = static_cast<int>(spec.image_size);
  t.channels = static_cast<int>(spec.in_channels);
  t.resize = data::ResizeMode::kStretch;
  if (spec.normalization == "minus-one-one") t.norm = data::Normalization::kMinusOneOne;
  else if (spec.normalization == "imagenet") t.norm = data::Normalization::kImageNet;
  else
    throw CheckpointError("classifier normalization '" + spec.normalization +
                          "' is unknown (expected minus-one-one or imagenet)");
  data::validate(t);
  return t;
}

models::ResnetGeneratorOptions infer_generator_options(const models::NamedTensors& entries, const std::string& source) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [k, v] : entries) shapes[k] = v.sizes().vec();
  const auto first = shapes.find("model.1.weight");
  if (first == shapes.end() || first->second.size() != 4)
    throw CheckpointError(source + ": not a CUT ResnetGenerator state_dict (no 4-d 'model.1.weight'; keys like "
                                   "model.<i>.* expected)");
  std::set<int> blocks;
  int last_index = 0;
  for (const auto& [k, v] : shapes) {
    if (k.rfind("model.", 0) != 0) continue;
    const int idx = std::atoi(k.c_str() + 6);
    last_index = std::max(last_index, idx);
    if (k.find(".conv_block.1.weight") != std::string::npos) blocks.insert(idx);
  }
  if (blocks.empty()) throw CheckpointError(source + ": no residual blocks (model.<i>.conv_block.*) in the state_dict");
  int64_t output_nc = 3;
  for (int i = last_index; i >= 0; --i) {
    auto it = shapes.find("model." + std::to_string(i) + ".weight");
    if (it != shapes.end() && it->second.size() == 4) {
      output_nc = it->second[0];
      break;
    }
  }
  const int64_t ngf = first->second[0], input_nc = first->second[1];
  for (bool aa : {true, false}) {
    for (bool aa_up : {true, false}) {
      auto options = models::ResnetGeneratorOptions()
                         .input_nc(input_nc)
                         .output_nc(output_nc)
                         .ngf(ngf)
                         .n_blocks(static_cast<int64_t>(blocks.size()))
                         .antialias(aa)
                         .antialias_up(aa_up)
                         .init_gain(0);
      models::ResnetGenerator g(options);
      const auto state = models::module_state(*g);
      if (state.size() != shapes.size()) continue;
      bool ok = true;
      for (const auto& [k, v] : state) {
        auto it = shapes.find(k);
        if (it == shapes.end() || it->second != v.sizes().vec()) {
          ok = false;
          break;
        }
      }
      if (ok) return options;
    }
  }
  throw CheckpointError(source + ": its keys/shapes match no CUT ResnetGenerator layout (input " +
                        std::to_string(input_nc) + " ch, ngf " + std::to_string(ngf) + ", " +
                        std::to_string(blocks.size()) + " blocks, with or without anti-aliasing)");
}

LoadedGenerator load_generator(const fs::path& model) {
  fs::path file = model;
  if (fs::is_directory(model)) {
    file = first_existing(model, {"checkpoints/best.pt", "checkpoints/latest.pt", "latest_net_G.pth"});
    if (file.empty())
      throw CheckpointError(model.string() + ": no checkpoints/best.pt, checkpoints/latest.pt or latest_net_G.pth "
                                             "in this folder; pass a CUT run directory or a generator file");
  } else if (!fs::exists(model)) {
    throw CheckpointError(model.string() + ": generator not found");
  }
  LoadedGenerator out;
  out.file = file;
  if (auto checkpoint = open_fashioncut_checkpoint(file)) {
    const nlohmann::json& meta = checkpoint->meta();
    const std::string toml = meta.value("config_toml", std::string());
    if (meta.value("kind", std::string()) != "training-checkpoint")
      throw CheckpointError(file.string() + ": is a '" + meta.value("kind", std::string("?")) +
                            "' file, not a training checkpoint with a generator; pass the run directory of a CUT run");
    const int64_t channels = std::stoll(toml_value(toml, "channels", "3"));
    const std::string aa = toml_value(toml, "antialias", "true");
    auto options = models::ResnetGeneratorOptions()
                       .input_nc(channels)
                       .output_nc(channels)
                       .ngf(std::stoll(toml_value(toml, "ngf", "64")))
                       .n_blocks(std::stoll(toml_value(toml, "n-blocks", "9")))
                       .antialias(aa == "true" || aa == "1")
                       .antialias_up(aa == "true" || aa == "1")
                       .residual(toml_value(toml, "g-residual", "false") == "true")
                       .init_gain(0);
    out.model = models::ResnetGenerator(options);
    checkpoint->load({{"G", out.model.ptr()}}, {}, false);
    out.description = "generator of " + meta.value("method", std::string("?")) + " checkpoint " + file.string();
  } else {
    auto entries = models::read_state_dict(file);
    for (auto& [k, v] : entries)
      if (k.rfind("module.", 0) == 0) k = k.substr(7);  // saved from DataParallel
    const auto options = infer_generator_options(entries, file.string());
    out.model = models::ResnetGenerator(options);
    models::load_state_dict(*out.model, entries, {}, file.string());
    out.description = "CUT state_dict " + file.string() + " (ngf " + std::to_string(options.ngf()) + ", " +
                      std::to_string(options.n_blocks()) + " blocks" + (options.antialias() ? ", antialias" : "") +
                      ")";
  }
  out.model->eval();
  return out;
}

}  // namespace fashioncut::eval
