#!/usr/bin/env bash
# Smoke run of every TLL baseline on the same data: 1 epoch on 1,000 synthetic Fashion-MNIST-like
# renders (labelled source) -> real Fashion-MNIST train images (unlabelled target), scored on
# Fashion-MNIST test (oracle, never used for selection). Prints each method's wall time, its last
# logged losses and the epoch evaluation; fails if any method fails or logs a non-finite loss.
#
# Usage: bench/baselines_smoke.sh [BUILD_DIR] [extra `fashioncut train` flags...]
#   BUILD_DIR defaults to build; e.g. bench/baselines_smoke.sh build --threads 2
# Env: METHODS (default "source-only dann bsp mdd afn"), ITERS (125), COUNT (1000),
#      RUNS_DIR (/tmp/fc-smoke; emptied first).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true
cli="$build/fashioncut"
[[ -x "$cli" ]] || { echo "no $cli; build it first (ninja -C $build fashioncut)" >&2; exit 2; }
methods="${METHODS:-source-only dann bsp mdd afn}"
iters="${ITERS:-125}"
count="${COUNT:-1000}"
runs="${RUNS_DIR:-/tmp/fc-smoke}"
rm -rf "$runs"
mkdir -p "$runs"
py=/usr/bin/python3
status=0
for m in $methods; do
  log="$runs/smoke-$m.log"
  start=$(date +%s.%N)
  # bsp: its source-only phase would take the whole single epoch, so adapt from epoch 1 on.
  extra=()
  [[ "$m" == bsp ]] && extra=(--bsp-pretrain-epochs 0)
  if "$cli" train --config configs/fmnist.toml --method "$m" --epochs 1 --iters-per-epoch "$iters" \
      --source-count "$count" --name "smoke-$m" --runs-dir "$runs" "${extra[@]}" "$@" >"$log" 2>&1; then
    rc=0
  else
    rc=$?
  fi
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  echo "== $m: exit $rc, wall ${secs} s"
  if [[ $rc -ne 0 ]]; then
    tail -5 "$log"
    status=1
    continue
  fi
  # Last step record's losses (means over the last log interval) and the epoch evaluation.
  "$py" - "$runs/smoke-$m/metrics.jsonl" <<'EOF' || status=1
import json, math, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
steps = [r for r in recs if r.get("kind") == "step"]
epochs = [r for r in recs if r.get("kind") == "epoch"]
last = steps[-1]
bad = [k for k, v in last["losses"].items() if not math.isfinite(v)]
print("   losses (iter %d): %s" % (last["iter"], ", ".join("%s=%.4f" % kv for kv in sorted(last["losses"].items()))))
print("   images/s: %.1f" % last.get("images_per_s", 0))
if epochs:
    print("   eval:", json.dumps(epochs[-1].get("eval", {}), sort_keys=True))
if bad:
    print("   NON-FINITE:", bad)
    sys.exit(1)
EOF
done
exit $status
