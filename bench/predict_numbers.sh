#!/usr/bin/env bash
# `fashioncut predict` from image files on disk: images/s and peak RSS (GNU time), fp32 and bf16.
#   bench/predict_numbers.sh [BUILD_DIR] [FMNIST_MODEL]
# (1) the 10,000 Fashion-MNIST test PNGs (out/fm/test, from `fashioncut data fmnist --out out/fm`)
#     with FMNIST_MODEL (default out/runs/fc1, the 1-epoch run of bench/docs_numbers.sh);
# (2) 2,000 synthetic 224 px catalog renders with a ResNet-50 (untrained weights: speed only),
#     made here by a 2-iteration source-only run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
model=${2:-out/runs/fc1}
fc="$build/fashioncut"
out=${OUT:-out/numbers}
mkdir -p "$out" out/runs
measure() {  # name, then the predict arguments
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time_$name.txt" "$fc" predict "$@" --out "$out/pred_$name.csv" 2> "$out/pred_$name.log" || true
  read -r secs rss_kb < "$out/time_$name.txt"
  local rows=$(($(wc -l < "$out/pred_$name.csv") - 1))
  awk -v n="$name" -v r="$rows" -v s="$secs" -v k="$rss_kb" \
    'BEGIN { printf "%-24s %6d images %7.1f s %8.1f images/s  peak RSS %6.0f MiB\n", n, r, s, r / s, k / 1024 }'
  tail -2 "$out/pred_$name.log" | sed 's/^/    /'
}
measure fmnist_fp32 --model "$model" out/fm/test
measure fmnist_bf16 --model "$model" out/fm/test --bf16
if [ ! -f out/syn224/manifest.jsonl ]; then
  "$fc" synth --preset catalog --size 224 --count 2000 --seed 3 --out out/syn224 > /dev/null
fi
if [ ! -f out/runs/r50/model.pt ]; then
  rm -rf out/runs/r50
  "$fc" train --method source-only --source out/syn224 --target out/syn224 --arch resnet50 --small-input false \
    --image-size 224 --channels 3 --epochs 1 --iters-per-epoch 2 --batch-size 4 --heldout-count 0 \
    --target-eval-count 8 --runs-dir out/runs --name r50 > "$out/train_r50.log" 2>&1
fi
measure r50_224_fp32 --model out/runs/r50 out/syn224
measure r50_224_bf16 --model out/runs/r50 out/syn224 --bf16
