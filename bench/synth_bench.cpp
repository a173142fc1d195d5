// Synthetic data generator throughput: images/s at 32, 64, 128 and 256 px, render only and
// render + PNG encode, on 1 thread and on 2 threads (each thread renders its own indices,
// as write_dataset does).
//   build-*/bench/synth_bench --benchmark_counters_tabular=true
// The "img/s" counter is the wall-clock rate over all threads (items_per_second is per CPU second).
#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>

#include <atomic>
#include <thread>

#include "fashioncut/synth/dataset_writer.h"
#include "fashioncut/synth/renderer.h"

namespace {
using fashioncut::synth::Renderer;
using fashioncut::synth::SynthOptions;

const Renderer& renderer_for(int size, const std::string& preset = "catalog") {
  static std::map<std::pair<int, std::string>, std::unique_ptr<Renderer>> cache;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto& r = cache[{size, preset}];
  if (!r) {
    SynthOptions o = SynthOptions::preset_options(preset);
    o.size = size;
    o.seed = 1;
    r = std::make_unique<Renderer>(o);
  }
  return *r;
}

/// state.range(0): size; state.range(1): threads; state.range(2): 1 = also encode PNG.
void BM_Synth(benchmark::State& state) {
  cv::setNumThreads(1);
  const int size = int(state.range(0)), threads = int(state.range(1));
  const bool encode = state.range(2) != 0;
  const Renderer& r = renderer_for(size);
  const int per_iteration = 8 * threads;  // images per benchmark iteration
  uint64_t next = 0;
  int64_t images = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    std::atomic<size_t> png_bytes{0};
    auto work = [&](int t) {
      for (int i = t; i < per_iteration; i += threads) {
        auto s = r.render(next + uint64_t(i));
        if (encode) png_bytes += fashioncut::synth::encode_png(s.image).size();
        benchmark::DoNotOptimize(s.image.data);
      }
    };
    if (threads == 1) {
      work(0);
    } else {
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
      for (auto& th : pool) th.join();
    }
    next += uint64_t(per_iteration);
    images += per_iteration;
    bytes += png_bytes;
  }
  state.SetItemsProcessed(images);
  state.counters["img/s"] = benchmark::Counter(double(images), benchmark::Counter::kIsRate);
  if (encode) state.counters["png_kB"] = double(bytes) / double(std::max<int64_t>(1, images)) / 1024.0;
}

void BM_SynthFmnist(benchmark::State& state) {
  cv::setNumThreads(1);
  const Renderer& r = renderer_for(28, "fmnist");
  uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(r.render(i++).image.data);
  state.SetItemsProcessed(int64_t(i));
  state.counters["img/s"] = benchmark::Counter(double(i), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_Synth)
    ->ArgNames({"px", "threads", "png"})
    ->ArgsProduct({{32, 64, 128, 256}, {1, 2}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.5);
BENCHMARK(BM_SynthFmnist)->UseRealTime()->Unit(benchmark::kMicrosecond)->MinTime(0.5);

BENCHMARK_MAIN();
