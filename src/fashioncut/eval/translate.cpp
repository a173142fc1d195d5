#include "fashioncut/eval/translate.h"

#include <opencv2/imgproc.hpp>

#include <chrono>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/core/device.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/data/dataset.h"
#include "fashioncut/data/image_io.h"
#include "fashioncut/data/transforms.h"
#include "fashioncut/eval/predict_job.h"

namespace fashioncut::eval {
namespace fs = std::filesystem;

cv::Mat translate_image(models::ResnetGenerator& generator, const cv::Mat& image, torch::Device device) {
  const int in_c = static_cast<int>(generator->options.input_nc());
  cv::Mat img = image;
  if (img.channels() != in_c) {
    cv::Mat converted;
    cv::cvtColor(img, converted, in_c == 1 ? cv::COLOR_RGB2GRAY : cv::COLOR_GRAY2RGB);
    img = converted;
  }
  if (img.rows < 8 || img.cols < 8)
    throw ImageError("", "too small for the generator (" + std::to_string(img.cols) + "x" + std::to_string(img.rows) +
                             "; needs at least 8x8)");
  c10::InferenceMode guard;
  const auto x = data::image_to_tensor(img, data::Normalization::kMinusOneOne).unsqueeze(0).to(device);
  const auto y = generator->forward(x);
  return data::tensor_to_image(y[0].to(torch::kCPU), data::Normalization::kMinusOneOne);
}

TranslateSummary translate_images(LoadedGenerator& generator, const TranslateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const torch::Device device = resolve_device(options.device);
  generator.model->to(device);
  generator.model->eval();
  ensure_writable_dir(options.out_dir);
  // (source, output name relative to out_dir)
  std::vector<std::pair<InputFile, fs::path>> jobs;
  for (const auto& input : options.inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      for (const auto& f : data::list_images(input)) jobs.push_back({{f, ""}, fs::relative(f, input)});
    } else {
      for (auto& f : expand_inputs({input})) jobs.push_back({f, f.path.filename()});
    }
  }
  if (jobs.empty()) throw DataError("translate: no images found in the given inputs");
  TranslateSummary summary;
  for (const auto& [file, rel] : jobs) {
    const std::string name = file.path.string();
    if (!file.error.empty()) {
      summary.failed.push_back(name + ": " + file.error);
      continue;
    }
    try {
      const cv::Mat in = data::decode_image(file.path);
      const cv::Mat out = translate_image(generator.model, in, device);
      fs::path target = options.out_dir / rel;
      target.replace_extension(".png");
      fs::create_directories(target.parent_path());
      data::write_image(target, out);
      if (options.grid) {
        cv::Mat left = in;
        if (left.channels() != out.channels())
          cv::cvtColor(in, left, out.channels() == 1 ? cv::COLOR_RGB2GRAY : cv::COLOR_GRAY2RGB);
        cv::Mat sheet(out.rows, left.cols + 4 + out.cols, out.type(), cv::Scalar::all(255));
        left.copyTo(sheet(cv::Rect(0, 0, left.cols, left.rows)));
        out.copyTo(sheet(cv::Rect(left.cols + 4, 0, out.cols, out.rows)));
        fs::path g = options.out_dir / "grid" / rel;
        g.replace_extension(".png");
        fs::create_directories(g.parent_path());
        data::write_image(g, sheet);
      }
      ++summary.written;
    } catch (const ImageError& e) {
      summary.failed.push_back(name + ": " + e.reason);
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      summary.failed.push_back(name + ": " + what.substr(0, what.find('\n')));
    }
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace fashioncut::eval
