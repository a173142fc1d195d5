// Median time of one training step on fixed random tensors (compute only, no data loading),
// the counted FLOPs of that step, and the machine's fp32 GEMM peak. Counterpart of
// bench/reference/fashion_cut_step.py and source_only_step.py; bench/run calls it.
//
//   train_step_bench --config configs/fmnist.toml [--method M] [--steps 20] [--warmup 3]
//       [--threads 2] [--interop 1] [--batch-size N] [--num-classes K] [--phase warmup|pseudo]
//       [--impl registry|local] [--reuse-features] [--batch-queries] [--channels-last] [--bf16]
//       [--device auto|cpu|cuda:N]
//   train_step_bench --gemm [--threads 2]
//
// --impl registry (default) times Method::train_step of the registered method, built by
// make_method from the TOML config exactly as `fashioncut train` builds it. --impl local times a
// copy of CutMethod's fashion-cut step (train/methods/cut_methods.cpp) here, so the levers below
// can be measured without touching the method: --reuse-features takes the PatchNCE keys of the
// real images from G's forward pass (ResnetGenerator::forward_with_features) instead of a second
// G->encode; --batch-queries encodes G(x_s) and G(x_t) in one encode call. Both are exact (same
// losses and gradients: keys are detached in PatchNCE, InstanceNorm is per image).
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
#include "fashioncut/losses/classification.h"
#include "fashioncut/losses/gan_loss.h"
#include "fashioncut/losses/patch_nce.h"
#include "fashioncut/models/patch_discriminator.h"
#include "fashioncut/models/patch_sample_mlp.h"
#include "fashioncut/models/resnet_generator.h"
#include "fashioncut/train/method.h"
#include "fashioncut/train/train_config.h"

namespace {
using namespace fashioncut;
using nlohmann::json;
using torch::Tensor;

struct Args {
  std::string config;
  std::string method;
  int steps = 20, warmup = 3, threads = 2, interop = 1;
  int64_t batch_size = 0, num_classes = 10;
  std::string phase = "warmup", impl = "registry", device = "cpu";
  bool reuse_features = false, batch_queries = false, channels_last = false, bf16 = false, gemm = false;
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

// ---------------------------------------------------------------- local copy of the fashion-cut step
void set_requires_grad(torch::nn::Module& m, bool on) {
  for (auto& p : m.parameters()) p.set_requires_grad(on);
}

/// CutMethod (variant fashion-cut) of train/methods/cut_methods.cpp, with the two levers as flags.
class LocalFashionCut {
 public:
  LocalFashionCut(const train::TrainConfig& c, const train::MethodContext& ctx, bool reuse, bool batch_queries)
      : c_(c), reuse_(reuse), batch_queries_(batch_queries) {
    G_ = models::ResnetGenerator(models::ResnetGeneratorOptions()
                                     .input_nc(ctx.channels)
                                     .output_nc(ctx.channels)
                                     .ngf(c.ngf)
                                     .n_blocks(c.n_blocks)
                                     .antialias(c.antialias)
                                     .antialias_up(c.antialias));
    D_ = models::PatchDiscriminator(models::PatchDiscriminatorOptions()
                                        .input_nc(ctx.channels)
                                        .ndf(c.ndf)
                                        .n_layers(c.n_layers_d)
                                        .antialias(c.antialias));
    F_ = models::PatchSampleMlp(models::PatchSampleMlpOptions(G_->nce_channels(c.nce_layers)).nc(c.netf_nc));
    C_ = models::Classifier(train::classifier_spec_for(c, ctx));
    const auto adam = torch::optim::AdamOptions(c.lr).betas({c.beta1, c.beta2});
    opt_g_ = std::make_unique<torch::optim::Adam>(G_->parameters(), adam);
    opt_d_ = std::make_unique<torch::optim::Adam>(D_->parameters(), adam);
    opt_f_ = std::make_unique<torch::optim::Adam>(F_->parameters(), adam);
    opt_c_ = std::make_unique<torch::optim::Adam>(C_->parameters(), torch::optim::AdamOptions(c.classifier_lr));
  }

  std::vector<std::shared_ptr<torch::nn::Module>> modules() { return {G_.ptr(), D_.ptr(), F_.ptr(), C_.ptr()}; }

  /// PatchNCE of queries q_feats (from the translation) against keys k_feats (from the real images).
  Tensor nce(const std::vector<Tensor>& k_feats, const std::vector<Tensor>& q_feats, int64_t n) {
    const auto k = F_->forward(k_feats, c_.num_patches);
    const auto q = F_->forward(q_feats, c_.num_patches, k.patch_ids);
    return losses::patch_nce_multi(q.feats, k.feats, losses::PatchNceOptions(n).tau(c_.nce_t));
  }

  static std::vector<Tensor> narrow_all(const std::vector<Tensor>& v, int64_t start, int64_t n) {
    std::vector<Tensor> out;
    for (const auto& t : v) out.push_back(t.narrow(0, start, n));
    return out;
  }

  train::StepStats step(const train::StepInput& in) {
    train::StepStats stats;
    const int64_t n = in.source.size(0);
    const Tensor real = torch::cat({in.source, in.target});  // nce_idt = true (the config default)
    Tensor fake;
    std::vector<Tensor> real_feats;
    if (reuse_) {
      auto r = G_->forward_with_features(real, c_.nce_layers);
      fake = r.out;
      real_feats = std::move(r.feats);
    } else {
      fake = G_->forward(real);
    }
    const Tensor fake_b = fake.narrow(0, 0, n);

    set_requires_grad(*D_, true);
    opt_d_->zero_grad();
    const Tensor loss_d = 0.5 * (losses::lsgan_loss(D_->forward(fake_b.detach()), false) +
                                 losses::lsgan_loss(D_->forward(in.target), true));
    loss_d.backward();
    opt_d_->step();
    set_requires_grad(*D_, false);

    opt_g_->zero_grad();
    opt_f_->zero_grad();
    opt_c_->zero_grad();
    const Tensor loss_gan = c_.lambda_gan * losses::lsgan_loss(D_->forward(fake_b), true);
    std::vector<Tensor> k_s, k_t, q_s, q_t;
    if (reuse_) {
      k_s = narrow_all(real_feats, 0, n);
      k_t = narrow_all(real_feats, n, n);
    } else {
      k_s = G_->encode(in.source, c_.nce_layers);
      k_t = G_->encode(in.target, c_.nce_layers);
    }
    if (batch_queries_) {
      const auto q = G_->encode(fake, c_.nce_layers);
      q_s = narrow_all(q, 0, n);
      q_t = narrow_all(q, n, n);
    } else {
      q_s = G_->encode(fake_b, c_.nce_layers);
      q_t = G_->encode(fake.narrow(0, n, n), c_.nce_layers);
    }
    Tensor loss_nce = nce(k_s, q_s, n);
    loss_nce = 0.5 * (loss_nce + nce(k_t, q_t, n));
    Tensor total = loss_gan + c_.lambda_nce * loss_nce;
    stats.losses["D/gan"] = loss_d.item<double>();
    stats.losses["G/gan"] = loss_gan.item<double>();
    stats.losses["G/nce"] = loss_nce.item<double>();
    const bool pl = c_.pseudo_labels && in.epoch >= c_.pseudo_label_start;
    const int64_t n_real = pl ? std::max<int64_t>(1, static_cast<int64_t>(n * c_.pseudo_label_fraction)) : 0;
    const int64_t n_syn = n - n_real;
    Tensor batch = fake_b.narrow(0, 0, n_syn);
    if (n_real > 0) batch = torch::cat({batch, in.target.narrow(0, 0, n_real)});
    const Tensor logits = C_->forward(batch);
    const Tensor ce = losses::cross_entropy(logits.narrow(0, 0, n_syn), in.source_labels.narrow(0, 0, n_syn));
    total = total + c_.lambda_c * ce;
    stats.losses["C/ce"] = ce.item<double>();
    if (n_real > 0) {
      const auto plc = losses::pseudo_label_cross_entropy(logits.narrow(0, n_syn, n_real), c_.pseudo_label_threshold);
      total = total + plc.loss;
      stats.losses["C/pseudo"] = plc.loss.item<double>();
    }
    total.backward();
    opt_g_->step();
    opt_f_->step();
    opt_c_->step();
    return stats;
  }

 private:
  train::TrainConfig c_;
  bool reuse_, batch_queries_;
  models::ResnetGenerator G_{nullptr};
  models::PatchDiscriminator D_{nullptr};
  models::PatchSampleMlp F_{nullptr};
  models::Classifier C_{nullptr};
  std::unique_ptr<torch::optim::Adam> opt_g_, opt_d_, opt_f_, opt_c_;
};

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
    else if (k == "--impl") a.impl = val();
    else if (k == "--device") a.device = val();
    else if (k == "--reuse-features") a.reuse_features = true;
    else if (k == "--batch-queries") a.batch_queries = true;
    else if (k == "--channels-last") a.channels_last = true;
    else if (k == "--bf16") a.bf16 = true;
    else if (k == "--gemm") a.gemm = true;
    else throw std::runtime_error("unknown argument " + k + " (see the comment at the top of bench/train_step_bench.cpp)");
  }
  if (!a.gemm && a.config.empty()) throw std::runtime_error("--config FILE.toml is required (or --gemm)");
  if (a.phase != "warmup" && a.phase != "pseudo") throw std::runtime_error("--phase is warmup or pseudo");
  if (a.impl != "registry" && a.impl != "local") throw std::runtime_error("--impl is registry or local");
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

  std::function<train::StepStats(const train::StepInput&)> step;
  std::vector<std::shared_ptr<torch::nn::Module>> modules;
  std::unique_ptr<train::Method> method;
  std::unique_ptr<LocalFashionCut> local;
  if (a.impl == "registry") {
    method = train::make_method(c, ctx);
    for (auto& [name, m] : method->modules()) modules.push_back(m);
    step = [&](const train::StepInput& in) { return method->train_step(in); };
  } else {
    if (c.method != "fashion-cut" || !c.nce_idt)
      throw std::runtime_error("--impl local copies the fashion-cut step with nce_idt = true only");
    local = std::make_unique<LocalFashionCut>(c, ctx, a.reuse_features, a.batch_queries);
    modules = local->modules();
    step = [&](const train::StepInput& in) { return local->step(in); };
  }
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
            {"impl", a.impl},
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
            {"levers", {{"reuse_features", a.reuse_features}, {"batch_queries", a.batch_queries},
                        {"channels_last", a.channels_last}, {"bf16", a.bf16}}},
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
