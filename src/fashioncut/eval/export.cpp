#include "fashioncut/eval/export.h"

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/models/state_dict_io.h"

namespace fashioncut::eval {
namespace fs = std::filesystem;

nlohmann::json export_sidecar(const models::ClassifierSpec& spec, const fs::path& weights_file) {
  const int64_t c = spec.in_channels;
  std::vector<double> mean, std;
  for (int64_t i = 0; i < c; ++i) {
    if (spec.normalization == "imagenet") {
      mean.push_back(c == 1 ? 0.449 : std::vector<double>{0.485, 0.456, 0.406}[size_t(i)]);
      std.push_back(c == 1 ? 0.226 : std::vector<double>{0.229, 0.224, 0.225}[size_t(i)]);
    } else {
      mean.push_back(0.5);
      std.push_back(0.5);
    }
  }
  std::vector<std::string> py = {
      "import torch, torchvision",
      "model = torchvision.models." + spec.arch + "(num_classes=" + std::to_string(spec.num_classes()) + ")"};
  if (spec.small_input) {
    py.push_back("model.conv1 = torch.nn.Conv2d(" + std::to_string(c) + ", 64, 3, 1, 1, bias=False)  # small-input stem");
    py.push_back("model.maxpool = torch.nn.Identity()");
  } else if (c != 3) {
    py.push_back("model.conv1 = torch.nn.Conv2d(" + std::to_string(c) + ", 64, 7, 2, 3, bias=False)  # gray input");
  }
  py.push_back("model.load_state_dict(torch.load('" + weights_file.filename().string() + "'))");
  py.push_back("model.eval()");
  py.push_back("# input: float [N," + std::to_string(c) + "," + std::to_string(spec.image_size) + "," +
               std::to_string(spec.image_size) + "], x = (pixels / 255 - mean) / std per channel" +
               (c == 1 ? " (gray = luma of RGB)" : " (RGB order)"));
  nlohmann::json j;
  j["format"] = "torchvision-state_dict";
  j["weights"] = weights_file.filename().string();
  j["arch"] = spec.arch;
  j["classes"] = spec.classes;
  j["num_classes"] = spec.num_classes();
  j["input_size"] = spec.image_size;
  j["channels"] = c;
  j["color_order"] = c == 1 ? "gray" : "RGB";
  j["resize"] = "stretch to input_size x input_size (aspect ratio not kept), as in training";
  j["normalization"] = {{"name", spec.normalization}, {"mean", mean}, {"std", std}, {"scale", "pixels / 255 first"}};
  j["small_input"] = spec.small_input;
  j["small_input_note"] = spec.small_input
                              ? "trained with a 3x3 stride-1 stem and no max-pool; torchvision's resnet has a 7x7 "
                                "stride-2 stem + max-pool, so patch conv1 and maxpool as in 'python' before loading"
                              : "standard torchvision stem";
  j["python"] = py;
  return j;
}

fs::path export_torchvision(const LoadedClassifier& classifier, const fs::path& out) {
  const auto& spec = classifier.spec;
  if (spec.bottleneck != "none")
    throw ConfigError(classifier.file.string() + ": this classifier has a '" + spec.bottleneck +
                      "' bottleneck and a separate head (method '" + classifier.meta.value("method", std::string("?")) +
                      "'), which torchvision's ResNet has no place for; export supports plain ResNet classifiers "
                      "(bottleneck 'none': source-only, CUT methods)");
  if (out.extension() != ".pth" && out.extension() != ".pt")
    throw ConfigError("--out " + out.string() + ": use a .pth (or .pt) file name");
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  models::write_state_dict(out, models::module_state(*classifier.model->backbone));
  fs::path sidecar = out;
  sidecar.replace_extension(".json");
  auto j = export_sidecar(spec, out);
  j["source"] = classifier.file.string();
  write_file_atomic(sidecar, j.dump(2) + "\n");
  return sidecar;
}

}  // namespace fashioncut::eval
