// Median time of one training step on fixed random tensors (compute only, no data loading),
// the counted FLOPs of that step, and the machine's fp32 GEMM peak. Counterpart of
// bench/reference/fashion_cut_step.py and source_only_step.py; bench/run calls it.
//
//   train_step_bench --config configs/fmnist.toml [--method M] [--steps 20] [--warmup 3]
//       [--threads 2] [--interop 1] [--batch-size N] [--num-classes K] [--phase warmup|pseudo]
//       [--channels-last] [--bf16] [--device auto|cpu|cuda:N]
//   train_step_bench --gemm [--threads 2]
//
// Times Method::train_step of the registered method, built by make_method from the TOML config
// exactly as `fashioncut train` builds it (for fashion-cut: with the shared passes of
// CutMethod; bench/reference/fashion_cut_step.py times the CUT reference's formulation, or ours
// with --shared). --channels-last and --bf16 are layout/precision levers applied around the step.
// Prints one JSON object on stdout.
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>
#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fashioncut/core/device.h"
#include "fashioncut/core/threads.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/train_config.h"
#include "fashioncut/models/weight_ema.h"

namespace {
using namespace fashioncut;
using nlohmann::json;
using torch::Tensor;

struct Args {
  std::string config;
  std::string method;
  int steps = 20, warmup = 3, threads = 2, interop = 1;
  int64_t batch_size = 0, num_classes = 10;
  std::string phase = "warmup", device = "cpu";
  bool channels_last = false, bf16 = false, gemm = false;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

json summary_ms(std::vector<double> s) {
  std::sort(s.begin(), s.end());
  const size_t n = s.size();
  const double median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  double sum = 0;
  for (double v : s) sum += v;
  return {{"median_ms", median * 1e3}, {"mean_ms", sum / n * 1e3}, {"min_ms", s.front() * 1e3},
          {"max_ms", s.back() * 1e3}, {"n", n}};
}

// ---------------------------------------------------------------- FLOP counting
// Forward: aten::convolution, addmm, mm, bmm (as models::count_macs). Backward: every
// aten::convolution_backward counts one forward's MACs per computed input/weight gradient;
// linear and bmm backward dispatch aten::mm / bmm and are counted as such. Norms, activations,
// pooling, element-wise ops and the optimiser are not counted (the usual convention).
thread_local int64_t tls_macs = 0;

int64_t conv_forward_macs(const Tensor& out_or_grad, const Tensor& input, const Tensor& w, bool transposed) {
  int64_t kernel = 1;
  for (int64_t d = 2; d < w.dim(); ++d) kernel *= w.size(d);
  return transposed ? input.numel() * w.size(1) * kernel : out_or_grad.numel() * w.size(1) * kernel;
}

std::unique_ptr<at::ObserverContext> count_op(const at::RecordFunction& fn) {
  const char* name = fn.name();
  if (!name) return nullptr;
  const auto in = fn.inputs();
  auto t = [&](size_t i) { return i < in.size() && in[i].isTensor(); };
  if (std::strcmp(name, "aten::convolution") == 0 && in.size() >= 9 && t(0) && t(1)) {
    const Tensor& x = in[0].toTensor();
    const Tensor& w = in[1].toTensor();
    const bool transposed = in[6].toBool();
    if (transposed) {
      tls_macs += conv_forward_macs(x, x, w, true);
    } else {
      const auto stride = in[3].toIntVector(), padding = in[4].toIntVector(), dilation = in[5].toIntVector();
      auto at = [](const std::vector<int64_t>& v, size_t i) { return v.size() == 1 ? v[0] : v[i]; };
      int64_t out = x.size(0) * w.size(0);
      for (int64_t d = 0; d + 2 < w.dim(); ++d) {
        const int64_t size = x.size(2 + d), k = w.size(2 + d);
        out *= (size + 2 * at(padding, d) - at(dilation, d) * (k - 1) - 1) / at(stride, d) + 1;
      }
      int64_t kernel = 1;
      for (int64_t d = 2; d < w.dim(); ++d) kernel *= w.size(d);
      tls_macs += out * w.size(1) * kernel;
    }
  } else if (std::strcmp(name, "aten::convolution_backward") == 0 && in.size() >= 11 && t(0) && t(1) && t(2)) {
    const auto mask = in[10].toBoolList();
    const int64_t per = conv_forward_macs(in[0].toTensor(), in[1].toTensor(), in[2].toTensor(), in[7].toBool());
    tls_macs += per * ((mask.get(0) ? 1 : 0) + (mask.get(1) ? 1 : 0));
  } else if (std::strcmp(name, "aten::addmm") == 0 && t(1) && t(2)) {
    tls_macs += in[1].toTensor().size(0) * in[1].toTensor().size(1) * in[2].toTensor().size(1);
  } else if (std::strcmp(name, "aten::mm") == 0 && t(0) && t(1)) {
    tls_macs += in[0].toTensor().numel() * in[1].toTensor().size(1);
  } else if (std::strcmp(name, "aten::bmm") == 0 && t(0) && t(1)) {
    tls_macs += in[0].toTensor().numel() * in[1].toTensor().size(2);
  }
  return nullptr;
}

/// FLOPs (2 x MACs) of fn(), forward and backward.
int64_t count_step_flops(const std::function<void()>& fn) {
  tls_macs = 0;
  auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(&count_op).needsInputs(true).scopes({at::RecordScope::FUNCTION}));
  fn();
  at::removeCallback(handle);
  return 2 * tls_macs;
}

// ---------------------------------------------------------------- GEMM peak
json gemm_peak(int threads, const torch::Device& device) {
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  };
  json sizes = json::array();
  double best = 0;
  for (int64_t n : {512, 1024, 2048}) {
    const auto a = torch::randn({n, n}, torch::TensorOptions().device(device)), b = torch::randn_like(a);
    auto c = torch::mm(a, b);
    sync();
    const int reps = n >= 2048 ? 4 : 10;
    double fastest = 1e30;
    for (int r = 0; r < reps; ++r) {
      const double t0 = now_s();
      torch::mm_out(c, a, b);
      sync();
      fastest = std::min(fastest, now_s() - t0);
    }
    const double gflops = 2.0 * n * n * n / fastest / 1e9;
    best = std::max(best, gflops);
    sizes.push_back({{"n", n}, {"gflop_per_s", gflops}});
  }
  return {{"bench", "gemm_peak"}, {"threads", threads}, {"device", device.str()}, {"dtype", "float32"}, {"op", "torch::mm square, best of reps"},
          {"sizes", sizes}, {"peak_gflop_per_s", best}};
}

void to_channels_last(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  for (auto& b : m.buffers())
    if (b.dim() == 4) b.set_data(b.contiguous(torch::MemoryFormat::ChannelsLast));
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + k);
      return argv[++i];
    };
    if (k == "--config") a.config = val();
    else if (k == "--method") a.method = val();
    else if (k == "--steps" || k == "--repeats") a.steps = std::stoi(val());
    else if (k == "--warmup") a.warmup = std::stoi(val());
    else if (k == "--threads") a.threads = std::stoi(val());
    else if (k == "--interop") a.interop = std::stoi(val());
    else if (k == "--batch-size") a.batch_size = std::stoll(val());
    else if (k == "--num-classes") a.num_classes = std::stoll(val());
    else if (k == "--phase") a.phase = val();
    else if (k == "--device") a.device = val();
    else if (k == "--channels-last") a.channels_last = true;
    else if (k == "--bf16") a.bf16 = true;
    else if (k == "--gemm") a.gemm = true;
    else throw std::runtime_error("unknown argument " + k + " (see the comment at the top of bench/train_step_bench.cpp)");
  }
  if (!a.gemm && a.config.empty()) throw std::runtime_error("--config FILE.toml is required (or --gemm)");
  if (a.phase != "warmup" && a.phase != "pseudo") throw std::runtime_error("--phase is warmup or pseudo");
  if (a.steps < 1 || a.warmup < 0) throw std::runtime_error("--steps >= 1, --warmup >= 0");
  return a;
}

int run(const Args& a) {
  at::set_num_threads(a.threads);
  if (a.interop > 0) at::set_num_interop_threads(a.interop);
  if (a.gemm) {
    json r = gemm_peak(a.threads, resolve_device(a.device));
    r["peak_rss_mib"] = peak_rss_mib();
    std::cout << r.dump() << std::endl;
    return 0;
  }
  train::register_builtin_methods();
  train::TrainConfig c = train::load_train_config(a.config);
  if (!a.method.empty()) c.method = a.method;
  if (a.batch_size > 0) c.batch_size = a.batch_size;
  torch::manual_seed(c.seed);
  const torch::Device device = resolve_device(a.device);
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  };
  train::MethodContext ctx;
  ctx.device = device;
  ctx.channels = c.channels;
  ctx.image_size = c.image_size;
  ctx.num_classes = a.num_classes;
  for (int64_t k = 0; k < a.num_classes; ++k) ctx.classes.push_back("class" + std::to_string(k));
  ctx.iters_per_epoch = c.iters_per_epoch;

  std::unique_ptr<train::Method> method = train::make_method(c, ctx);
  std::vector<std::shared_ptr<torch::nn::Module>> modules;
  for (auto& [name, m] : method->modules()) modules.push_back(m);
  // The trainer's weight average (classifier_ema): its update, and its use as the pseudo-label
  // teacher, are part of a step's cost.
  std::shared_ptr<models::WeightEmaImpl> ema;
  if (c.classifier_ema > 0 && method->has_classifier()) {
    method->classifier_module()->to(device);
    ema = std::make_shared<models::WeightEmaImpl>(*method->classifier_module());
  }
  auto step = [&](const train::StepInput& in) {
    train::StepStats s = method->train_step(in);
    if (ema) ema->update(*method->classifier_module(), c.classifier_ema);
    return s;
  };
  if (a.bf16 && !bf16_supported(device)) throw std::runtime_error("--bf16: this CPU has no AVX512_BF16/AMX");
  for (auto& m : modules) {
    m->to(device);
    m->train();
    if (a.channels_last) to_channels_last(*m);
  }
  const int64_t n = c.batch_size, ch = c.channels, side = c.image_size;
  train::StepInput in;
  const auto opts = torch::TensorOptions().device(device);
  in.source = torch::rand({n, ch, side, side}, opts) * 2 - 1;
  in.target = torch::rand({n, ch, side, side}, opts) * 2 - 1;
  in.source_labels = torch::randint(0, a.num_classes, {n}, opts.dtype(torch::kLong));
  if (a.channels_last) {
    in.source = in.source.contiguous(torch::MemoryFormat::ChannelsLast);
    in.target = in.target.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  in.epoch = a.phase == "pseudo" ? c.pseudo_label_start : 0;
  if (ema) in.teacher = train::averaged_classifier(*method, *ema);

  auto one = [&]() {
    if (a.bf16) {  // bf16 autocast on the CPU; fp16/bf16 on a GPU goes through the CUDA autocast
      if (device.is_cuda()) {
        at::autocast::set_enabled(true);
        at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      } else {
        at::autocast::set_cpu_enabled(true);
        at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      }
      at::autocast::increment_nesting();
    }
    auto s = step(in);
    if (a.bf16) {
      if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
      at::autocast::set_cpu_enabled(false);
      at::autocast::set_enabled(false);
    }
    sync();
    ++in.iteration;
    return s;
  };
  for (int i = 0; i < a.warmup; ++i) one();
  train::StepStats stats;
  const int64_t flops = count_step_flops([&] { stats = one(); });
  std::vector<double> times;
  for (int i = 0; i < a.steps; ++i) {
    const double t0 = now_s();
    stats = one();
    times.push_back(now_s() - t0);
  }
  const json s = summary_ms(times);
  const double ms = s["median_ms"].get<double>();
  json losses = json::object();
  for (const auto& [k, v] : stats.losses) losses[k] = v;
  json r = {{"bench", "train_step"},
            {"method", c.method},
            {"config", a.config},
            {"device", device.str()},
            {"phase", a.phase},
            {"threads", a.threads},
            {"interop_threads", at::get_num_interop_threads()},
            {"warmup", a.warmup},
            {"steps", a.steps},
            {"batch_size", n},
            {"image_size", side},
            {"channels", ch},
            {"num_classes", a.num_classes},
            {"levers", {{"channels_last", a.channels_last}, {"bf16", a.bf16}}},
            {"ms_per_step", ms},
            {"images_per_s", static_cast<double>(n) / (ms / 1e3)},
            {"flops_per_step", flops},
            {"gflop_per_s", static_cast<double>(flops) / (ms / 1e3) / 1e9},
            {"timing", s},
            {"last_losses", losses},
            {"peak_rss_mib", peak_rss_mib()}};
  std::cout << r.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "train_step_bench: error: " << e.what() << '\n';
    return 1;
  }
}
