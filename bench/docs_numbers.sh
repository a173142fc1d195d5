#!/usr/bin/env bash
# Re-measures the numbers quoted in docs/ (BENCHMARKS.md, MODELS.md) and the issue checks, on this
# machine, in one run. Writes every raw output under OUT (default out/numbers) and prints a summary.
#   bench/docs_numbers.sh [BUILD_DIR]      (build it first: scripts/build)
# Steps: Fashion-MNIST export, loader throughput, synth determinism and throughput, contact sheet,
# model parameter/FLOP table, a 1-epoch Fashion CUT run, baseline smoke runs, predict throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
fc="$build/fashioncut"
out=${OUT:-out/numbers}
mkdir -p "$out" out/runs
t() { local s=$(date +%s.%N); "$@"; local e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN{printf "  (%.1f s)\n", b-a}'; }
step() { echo; echo "== $*"; }

step "fashioncut data fmnist --out out/fm"
t "$fc" data fmnist --out out/fm | tee "$out/fmnist_export.txt"

step "loader throughput (FMNIST test folder, 1 and 2 threads)"
FASHIONCUT_FMNIST_TEST=out/fm/test "$build/bench/loader_bench" --benchmark_counters_tabular=true | tee "$out/loader_bench.txt"

step "synth determinism: --threads 2 vs --threads 1 vs shards"
rm -rf out/s1 out/s1t1 out/s1k1 out/s1k2
t "$fc" synth --preset catalog --count 700 --seed 1 --out out/s1 --threads 2
t "$fc" synth --preset catalog --count 700 --seed 1 --out out/s1t1 --threads 1
"$fc" synth --preset catalog --count 700 --seed 1 --out out/s1k1 --shard 1/2 >/dev/null
"$fc" synth --preset catalog --count 700 --seed 1 --out out/s1k2 --shard 2/2 >/dev/null
h() { (cd "$1" && find . -name '*.png' ! -name preview.png -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16); }
hs=$(cd out/s1k1 && find . -name '*.png' ! -name preview.png | sort; cd ../s1k2 && find . -name '*.png' ! -name preview.png | sort)
shard_hash=$( (for f in $(cd out/s1 && find . -name '*.png' ! -name preview.png | sort); do
  if [ -f "out/s1k1/$f" ]; then cat "out/s1k1/$f"; else cat "out/s1k2/$f"; fi; done) | sha256sum | cut -c1-16)
echo "threads 2: $(h out/s1)  threads 1: $(h out/s1t1)  shards 1/2+2/2: $shard_hash" | tee "$out/synth_determinism.txt"

step "synth throughput"
"$build/bench/synth_bench" --benchmark_counters_tabular=true | tee "$out/synth_bench.txt"

step "fmnist preset contact sheet next to real Fashion-MNIST"
rm -rf out/f1
"$fc" synth --preset fmnist --count 1000 --seed 1 --out out/f1 >/dev/null
/usr/bin/python3 bench/synth_vs_real.py out/f1 docs/img/synth_vs_real_fmnist.png
cp out/s1/preview.png docs/img/synth_catalog_preview.png

step "model parameters and forward FLOPs"
"$build/bench/models_bench" --table | tee "$out/models_table.md"

step "fashion-cut, 1 epoch, 2,000 synthetic sources -> real Fashion-MNIST"
rm -rf out/runs/fc1
t "$fc" train --config configs/fmnist.toml --method fashion-cut --epochs 1 --source-count 2000 \
  --runs-dir out/runs --name fc1 | tee "$out/train_fc1.txt"

step "baseline smoke runs (1 epoch, 1,000 synthetic images)"
RUNS_DIR=out/runs/smoke bench/baselines_smoke.sh "$build" | tee "$out/baselines_smoke.txt"

step "predict throughput"
"$build/bench/predict_bench" --benchmark_counters_tabular=true | tee "$out/predict_bench.txt"
