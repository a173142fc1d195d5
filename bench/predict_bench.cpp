// Classifier inference cost through eval::Predictor: BN folded or not, oneDNN blocked layout or
// not, fp32 or bf16.
//   build-*/bench/predict_bench [gbench flags]
// Arguments: {depth (18|50), side (32|224), batch, fold (0|1), blocked (0|1), bf16 (0|1)};
// 2 intra-op threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "fashioncut/core/device.h"
#include "fashioncut/eval/predictor.h"

namespace {
using namespace fashioncut;

void BM_PredictorLogits(benchmark::State& state) {
  torch::set_num_threads(2);
  const int64_t depth = state.range(0), side = state.range(1), batch = state.range(2);
  const bool fold = state.range(3) != 0, blocked = state.range(4) != 0, bf16 = state.range(5) != 0;
  if (bf16 && !bf16_supported(torch::kCPU)) {
    state.SkipWithError("no bf16 on this CPU");
    return;
  }
  models::ClassifierSpec spec;
  spec.arch = depth == 50 ? "resnet50" : "resnet18";
  spec.small_input = side <= 64;
  spec.image_size = side;
  spec.classes = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  eval::LoadedClassifier loaded;
  loaded.spec = spec;
  loaded.model = models::Classifier(spec);
  loaded.model->eval();
  eval::PredictorOptions o;
  o.fold_bn = fold;
  o.blocked_layout = blocked;
  o.bf16 = bf16;
  eval::Predictor predictor(loaded, o);
  const auto x = torch::randn({batch, 3, side, side});
  predictor.logits(x);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(predictor.logits(x));
  state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PredictorLogits)
    ->ArgNames({"depth", "side", "batch", "fold", "blocked", "bf16"})
    ->Args({18, 32, 64, 0, 0, 0})
    ->Args({18, 32, 64, 1, 0, 0})
    ->Args({18, 32, 64, 1, 1, 0})
    ->Args({18, 32, 64, 1, 0, 1})
    ->Args({50, 224, 8, 0, 0, 0})
    ->Args({50, 224, 8, 1, 0, 0})
    ->Args({50, 224, 8, 1, 1, 0})
    ->Args({50, 224, 8, 1, 0, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
