#!/usr/bin/python3
"""Median time of one Fashion CUT training step in PyTorch (compute only: random tensors, no data).

Mirrors CutMethod::train_step (variant fashion-cut) of src/fashioncut/train/methods/cut_methods.cpp
at the settings of configs/fmnist.toml or configs/catalog-small.toml.

  /usr/bin/python3 bench/reference/fashion_cut_step.py --config fmnist --steps 20 --warmup 3
  /usr/bin/python3 bench/reference/fashion_cut_step.py --config fmnist --check-params
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import common  # noqa: E402
from cut_models import CONFIGS, DEFAULTS, FashionCutStep, count_params  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-params", action="store_true", help="print parameter counts per network and exit")
    ap.add_argument("--shared", action="store_true",
                    help="CutMethod's formulation (PatchNCE keys from G's forward, one encode and one D pass "
                         "for both halves) instead of the CUT reference's (keys encoded again)")
    common.add_step_args(ap, CONFIGS)
    common.add_common_args(ap, warmup=3, repeats=20)
    args = common.finish_step_args(ap.parse_args())
    common.setup(args)

    cfg = common.load_config(args, CONFIGS, DEFAULTS)
    method = FashionCutStep(cfg)

    if args.check_params:
        counts = {name: count_params(m) for name, m in method.modules().items()}
        common.emit({
            "bench": "fashion_cut_params",
            "config": args.config,
            "params": counts,
            "params_total": sum(counts.values()),
            "nce_channels": method.G.nce_channels(cfg["nce_layers"]),
            "settings": cfg,
        })
        return

    n, ch, side = cfg["batch_size"], cfg["channels"], cfg["image_size"]
    xs = torch.rand(n, ch, side, side) * 2 - 1
    xt = torch.rand(n, ch, side, side) * 2 - 1
    ys = torch.randint(0, cfg["num_classes"], (n,))
    method.train()  # Trainer::step_once puts every module in train mode before the step
    common.channels_last(args, *method.modules().values())
    if args.channels_last:
        xs, xt = xs.contiguous(memory_format=torch.channels_last), xt.contiguous(memory_format=torch.channels_last)

    pseudo = args.phase == "pseudo"

    def step():
        with common.autocast(args):
            return method.step(xs, ys, xt, pseudo, args.shared)

    times, stats = common.median_step_times(step, args.warmup, args.repeats)

    s = common.summary(times)
    common.emit({
        "bench": "fashion_cut_step",
        "config": args.config,
        "phase": args.phase,
        "levers": {"channels_last": args.channels_last, "bf16": args.bf16, "shared": args.shared},
        "threads": args.threads,
        "warmup": args.warmup,
        "steps": args.repeats,
        "batch_size": n,
        "image_size": side,
        "channels": ch,
        "ms_per_step": s["median_ms"],
        "images_per_s": n / (s["median_ms"] / 1e3),
        "images_counted": "source images per step (batch_size), as Trainer's images_per_s; "
                          "each step also uses batch_size target images",
        "timing": s,
        "last_losses": stats,
        "settings": cfg,
    })


if __name__ == "__main__":
    main()
