// Shared helpers of the eval/ tests: tiny saved classifiers and test images.
#pragma once
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fashioncut/models/checkpoint.h"
#include "fashioncut/models/classifier.h"

namespace fashioncut::eval::test {

inline models::ClassifierSpec tiny_spec(int64_t channels = 3, std::vector<std::string> classes = {"a", "b", "c"}) {
  models::ClassifierSpec s;
  s.arch = "resnet18";
  s.in_channels = channels;
  s.small_input = true;
  s.classes = std::move(classes);
  s.image_size = 16;
  return s;
}

/// Random BatchNorm statistics/affines so BN folding and export are tested on non-trivial values.
inline void randomise_batchnorm(torch::nn::Module& m) {
  torch::NoGradGuard g;
  for (auto& item : m.named_buffers()) {
    const auto& k = item.key();
    if (k.find("running_mean") != std::string::npos) item.value().normal_(0, 0.1);
    if (k.find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
  }
  for (auto& item : m.named_parameters()) {
    const auto& k = item.key();
    if (k.find("bn") != std::string::npos || k.find("downsample.1") != std::string::npos) {
      if (k.size() > 7 && k.compare(k.size() - 7, 7, ".weight") == 0) item.value().uniform_(0.5, 1.5);
      else item.value().normal_(0, 0.1);
    }
  }
}

/// Saves `model` as a run's model.pt in `dir`; returns the file.
inline std::filesystem::path save_model(const models::Classifier& model, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto file = dir / "model.pt";
  models::save_checkpoint(file, {{"classifier", model.ptr()}}, {},
                          {{"kind", "classifier"}, {"classifier", model->spec.to_json()}, {"method", "source-only"},
                           {"epoch", 1}, {"selection", 0.5}});
  return file;
}

/// A classifier that predicts class `winner` for every image with confidence
/// e^2 / (e^2 + K - 1): fc weights 0, bias 2 for `winner`.
inline models::Classifier constant_model(const models::ClassifierSpec& spec, int64_t winner) {
  models::Classifier c(spec);
  torch::NoGradGuard g;
  c->backbone->fc->weight.zero_();
  c->backbone->fc->bias.zero_();
  c->backbone->fc->bias[winner] = 2.0;
  c->eval();
  return c;
}

inline double constant_confidence(int64_t k) { return std::exp(2.0) / (std::exp(2.0) + double(k - 1)); }

/// A smooth colour test image (BGR for cv::imwrite).
inline cv::Mat test_image(int w, int h, int channels, int seed) {
  cv::Mat m(h, w, CV_8UC(channels));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        m.ptr<uint8_t>(y)[x * channels + c] = static_cast<uint8_t>((x * 7 + y * 3 + c * 50 + seed * 31) % 256);
  return m;
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

/// Lines of a text file.
inline std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

/// Comma-split (no quotes in our test paths).
inline std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const auto pos = line.find(',', start);
    out.push_back(line.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

}  // namespace fashioncut::eval::test
