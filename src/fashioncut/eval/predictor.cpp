#include "fashioncut/eval/predictor.h"

#include <ATen/autocast_mode.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>

#include "fashioncut/core/device.h"
#include "fashioncut/core/errors.h"
#include "fashioncut/core/threads.h"
#include "fashioncut/data/image_io.h"

namespace fashioncut::eval {
namespace {

std::vector<StreamItem> load_batch(size_t first, size_t count, int workers,
                                   const std::function<torch::Tensor(size_t)>& load) {
  std::vector<StreamItem> items(count);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < count; i = next++) {
      try {
        items[i].image = load(first + i);
      } catch (const ImageError& e) {
        items[i].error = e.reason;
        items[i].error_path = e.path;
      } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        items[i].error = what.substr(0, what.find('\n'));
      } catch (const std::exception& e) {
        items[i].error = e.what();
      }
      if (items[i].error.empty() && !items[i].image.defined()) items[i].error = "no image";
    }
  };
  const int threads = static_cast<int>(std::min<size_t>(std::max(1, workers), count));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return items;
}

}  // namespace

void stream_batches(size_t n, int64_t batch_size, int workers, const std::function<torch::Tensor(size_t)>& load,
                    const std::function<void(size_t, std::vector<StreamItem>&)>& consume) {
  TORCH_CHECK(batch_size > 0, "stream_batches: batch_size must be > 0");
  if (workers <= 0) workers = hardware_threads();
  const size_t b = static_cast<size_t>(batch_size);
  std::future<std::vector<StreamItem>> pending;
  if (n > 0) pending = std::async(std::launch::async, load_batch, 0, std::min(b, n), workers, std::cref(load));
  for (size_t first = 0; first < n; first += b) {
    auto items = pending.get();
    const size_t next = first + b;
    if (next < n) pending = std::async(std::launch::async, load_batch, next, std::min(b, n - next), workers, std::cref(load));
    try {
      consume(first, items);
    } catch (...) {
      if (pending.valid()) pending.wait();
      throw;
    }
  }
}

Predictor::Predictor(LoadedClassifier classifier, PredictorOptions options)
    : loaded_(std::move(classifier)), options_(std::move(options)), device_(resolve_device(options_.device)) {
  if (options_.batch_size < 1) throw ConfigError("batch size must be >= 1");
  if (options_.bf16 && !bf16_supported(device_))
    throw ConfigError("--bf16: " + describe_device(device_) + " has no native bf16 (needs AVX512_BF16/AMX or a GPU)");
  transform_ = inference_transform(loaded_.spec);
  loaded_.model->eval();
  loaded_.model->to(device_);
  if (options_.fold_bn) {
    folded_.emplace(loaded_.model->backbone);
    folded_->to(device_, options_.bf16 ? torch::kBFloat16 : torch::kFloat32, options_.blocked_layout);
  }
}

torch::Tensor Predictor::logits(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == loaded_.spec.in_channels, "Predictor expects [N,", loaded_.spec.in_channels,
              ",H,W], got ", x.sizes());
  c10::InferenceMode guard;
  const auto input = x.to(device_, torch::kFloat32);
  torch::Tensor out;
  auto& m = *loaded_.model;
  if (folded_) {
    if (!m.bottleneck) out = folded_->forward(input);
    else out = m.logits_from_features(m.bottleneck->forward(folded_->features(input)));
  } else if (options_.bf16) {
    at::autocast::set_cpu_enabled(!device_.is_cuda());
    at::autocast::set_enabled(device_.is_cuda());
    at::autocast::set_autocast_cpu_dtype(torch::kBFloat16);
    at::autocast::set_autocast_gpu_dtype(torch::kBFloat16);
    try {
      out = m.forward(input);
    } catch (...) {
      at::autocast::set_cpu_enabled(false);
      at::autocast::set_enabled(false);
      at::autocast::clear_cache();
      throw;
    }
    at::autocast::set_cpu_enabled(false);
    at::autocast::set_enabled(false);
    at::autocast::clear_cache();
  } else {
    out = m.forward(input);
  }
  return out.to(torch::kCPU, torch::kFloat32);
}

torch::Tensor Predictor::probabilities(const torch::Tensor& x) { return torch::softmax(logits(x), 1); }

torch::Tensor Predictor::load_image(const std::filesystem::path& path) const {
  std::mt19937_64 rng(0);  // stretch, no crop, no flip: the transform draws but does not use randomness
  return data::apply_transform(data::decode_image(path), transform_, rng);
}

void Predictor::predict_files(
    const std::vector<std::filesystem::path>& files,
    const std::function<void(size_t, const torch::Tensor&, const std::vector<std::string>&)>& on_batch) {
  const int64_t k = loaded_.spec.num_classes();
  stream_batches(
      files.size(), options_.batch_size, options_.workers, [&](size_t i) { return load_image(files[i]); },
      [&](size_t first, std::vector<StreamItem>& items) {
        std::vector<std::string> errors(items.size());
        std::vector<torch::Tensor> ok;
        std::vector<int64_t> rows;
        for (size_t i = 0; i < items.size(); ++i) {
          errors[i] = items[i].error;
          if (errors[i].empty()) {
            ok.push_back(std::move(items[i].image));
            rows.push_back(static_cast<int64_t>(i));
          }
        }
        auto probs = torch::zeros({static_cast<int64_t>(items.size()), k});
        if (!ok.empty()) probs.index_copy_(0, torch::tensor(rows), probabilities(torch::stack(ok)));
        on_batch(first, probs, errors);
      });
}

}  // namespace fashioncut::eval
