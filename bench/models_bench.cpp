// Forward cost of the fashioncut networks.
//   build-*/bench/models_bench --table          markdown table: parameters and forward FLOPs
//   build-*/bench/models_bench [gbench flags]   forward times (2 intra-op threads, eval, no grad)
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "fashioncut/models/flops.h"
#include "fashioncut/models/patch_discriminator.h"
#include "fashioncut/models/resnet.h"
#include "fashioncut/models/resnet_generator.h"

namespace {

using namespace fashioncut::models;

/// One network of the table: a name and a factory of (params, MACs) at a given side.
struct Network {
  std::string name;
  std::function<ModelCost(int64_t side)> cost;
  std::function<std::function<void(const torch::Tensor&)>()> make_forward;
  int64_t in_channels = 3;
};

template <typename Factory>
Network network(std::string name, Factory factory, int64_t in_channels = 3) {
  Network n;
  n.name = std::move(name);
  n.in_channels = in_channels;
  n.cost = [factory, in_channels](int64_t side) {
    auto m = factory();
    return measure_cost(m, {1, in_channels, side, side});
  };
  n.make_forward = [factory]() -> std::function<void(const torch::Tensor&)> {
    auto m = factory();
    m->eval();
    return [m](const torch::Tensor& x) mutable { m->forward(x); };
  };
  return n;
}

std::vector<Network> networks() {
  return {
      // configs/fmnist.toml: ngf 16, 4 blocks, ndf 16, 1 channel.
      network("G ngf16 4blk 1ch (configs/fmnist.toml)",
              [] { return ResnetGenerator(ResnetGeneratorOptions().input_nc(1).output_nc(1).ngf(16).n_blocks(4)); }, 1),
      network("D ndf16 1ch (configs/fmnist.toml)",
              [] { return PatchDiscriminator(PatchDiscriminatorOptions().input_nc(1).ndf(16)); }, 1),
      network("G ngf32 6blk (train defaults)",
              [] { return ResnetGenerator(ResnetGeneratorOptions().ngf(32).n_blocks(6)); }),
      network("G ngf64 9blk (CUT paper)", [] { return ResnetGenerator(ResnetGeneratorOptions()); }),
      network("D ndf64 n_layers3 (CUT paper)", [] { return PatchDiscriminator(PatchDiscriminatorOptions()); }),
      network("resnet18 small-input",
              [] { return ResNet(ResNetOptions().depth(18).num_classes(10).small_input(true)); }),
      network("resnet18 1ch (configs/fmnist.toml)",
              [] { return ResNet(ResNetOptions().depth(18).num_classes(10).in_channels(1)); }, 1),
      network("resnet18", [] { return ResNet(ResNetOptions().depth(18).num_classes(10)); }),
      network("resnet50", [] { return ResNet(ResNetOptions().depth(50).num_classes(10)); }),
  };
}

const std::vector<int64_t> kSides{32, 64, 128, 256};

std::string human(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
  return buf;
}

int print_table() {
  std::printf("| network | params |");
  for (auto s : kSides) std::printf(" FLOPs @%lld px |", static_cast<long long>(s));
  std::printf("\n|---|---:|");
  for (size_t i = 0; i < kSides.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const auto& n : networks()) {
    std::vector<ModelCost> costs;
    for (auto s : kSides) costs.push_back(n.cost(s));
    std::printf("| %s | %s |", n.name.c_str(), human(static_cast<double>(costs[0].params)).c_str());
    for (const auto& c : costs) std::printf(" %s |", human(static_cast<double>(c.flops())).c_str());
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}

void bm_forward(benchmark::State& state, const Network& n) {
  torch::NoGradGuard no_grad;
  const int64_t side = state.range(0), batch = state.range(1);
  auto forward = n.make_forward();
  auto x = torch::rand({batch, n.in_channels, side, side});
  forward(x);  // warm-up (oneDNN primitive creation)
  for (auto _ : state) forward(x);
  const auto cost = n.cost(side);
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(cost.flops()) * static_cast<double>(batch) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(2);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--table") == 0) return print_table();
  }
  static const auto nets = networks();
  for (const auto& n : nets) {
    auto* b = benchmark::RegisterBenchmark(("forward/" + n.name).c_str(), bm_forward, n);
    b->Unit(benchmark::kMillisecond)->UseRealTime();
    for (auto side : {32, 64, 128, 256}) b->Args({side, 1});
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
