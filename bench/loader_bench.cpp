// Loader throughput on the Fashion-MNIST test folder written by `fashioncut data fmnist`.
//   fashioncut data fmnist --out out/fm
//   build/loader_bench [--benchmark_filter=...]    (FASHIONCUT_FMNIST_TEST=DIR overrides out/fm/test)
// Reports images/s (items_per_second) for one full epoch (10,000 PNGs: decode, resize to 32x32
// RGB, normalise, batch 64), for 1 and 2 worker threads.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "fashioncut/data/labelled_folder.h"
#include "fashioncut/data/loader.h"

namespace {
namespace fs = std::filesystem;
using namespace fashioncut::data;

fs::path test_folder() {
  if (const char* env = std::getenv("FASHIONCUT_FMNIST_TEST")) return env;
  for (const char* candidate : {"out/fm/test", "/tmp/fm/test"})
    if (fs::is_directory(candidate)) return candidate;
  return "out/fm/test";
}

void BM_LoaderEpoch(benchmark::State& state) {
  const fs::path folder = test_folder();
  if (!fs::is_directory(folder)) {
    state.SkipWithError(("no folder " + folder.string() +
                         "; run `fashioncut data fmnist --out out/fm` first or set FASHIONCUT_FMNIST_TEST")
                            .c_str());
    return;
  }
  LabelledFolderOptions folder_options;
  folder_options.transform.size = 32;
  folder_options.transform.channels = 3;
  auto dataset = std::make_shared<LabelledFolder>(folder, folder_options);
  LoaderOptions options;
  options.batch_size = 64;
  options.drop_last = false;
  options.workers = static_cast<int>(state.range(0));
  options.prefetch_batches = 8;
  Loader loader(dataset, options);
  int64_t images = 0;
  int64_t epoch = 0;
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    while (auto batch = loader.next()) {
      images += batch->images.size(0);
      benchmark::DoNotOptimize(batch->images.data_ptr());
    }
  }
  state.SetItemsProcessed(images);
  state.counters["wait_s"] = loader.wait_seconds();
}
BENCHMARK(BM_LoaderEpoch)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
