#!/usr/bin/python3
"""End-to-end Fashion CUT training throughput in PyTorch, data loading included.

Two torch DataLoaders (shuffled, drop_last): a labelled torchvision ImageFolder (--source
root/<class>/<image>) and an unlabelled folder (--target, every image under it, recursively), both
decoded with PIL, stretch-resized, normalised to [-1,1] (image_data.py), feeding the step of
fashion_cut_step.py (cut_models.FashionCutStep). Measures what Trainer::step_once measures: the time of
next(source) + next(target) + the step; images/s = steps * batch_size / that time (source images), and
data_wait = time blocked in next() / that time.

  /usr/bin/python3 bench/reference/train_e2e.py --source out/fm/train --target out/fm/test \\
      --config fmnist --steps 30 --warmup 3 --workers 2
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import common  # noqa: E402
import image_data  # noqa: E402
from cut_models import CONFIGS, DEFAULTS, FashionCutStep  # noqa: E402


class Forever:
    """Endless batches from a DataLoader (a new shuffled epoch when one ends)."""

    def __init__(self, loader):
        self.loader = loader
        self.it = iter(loader)
        self.epochs = 0

    def next(self):
        try:
            return next(self.it)
        except StopIteration:
            self.epochs += 1
            self.it = iter(self.loader)
            return next(self.it)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", required=True, help="labelled folder root/<class>/<image>")
    ap.add_argument("--target", required=True, help="unlabelled folder (recursive)")
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes per loader (0 = main process)")
    common.add_step_args(ap, CONFIGS)
    common.add_common_args(ap, warmup=3, repeats=30)
    args = common.finish_step_args(ap.parse_args())
    common.setup(args)

    cfg = common.load_config(args, CONFIGS, DEFAULTS)
    n = cfg["batch_size"]
    transform = image_data.Transform(cfg["image_size"], cfg["channels"], "minus-one-one")
    source = image_data.labelled_folder(args.source, transform)
    target = image_data.ImageFiles(args.target, transform)
    cfg["num_classes"] = len(source.classes)

    def loader(ds, seed):
        g = torch.Generator()
        g.manual_seed(seed)
        return torch.utils.data.DataLoader(ds, batch_size=n, shuffle=True, drop_last=True, generator=g,
                                           num_workers=args.workers, persistent_workers=args.workers > 0)

    method = FashionCutStep(cfg)
    method.train()
    pseudo = args.phase == "pseudo"
    t_start = time.perf_counter()
    src = Forever(loader(source, args.seed))
    tgt = Forever(loader(target, args.seed + 1))

    step_times, wait_times = [], []
    first_batch_s = None
    for i in range(args.warmup + args.repeats):
        t0 = time.perf_counter()
        xs, ys = src.next()
        xt = tgt.next()
        t1 = time.perf_counter()
        if first_batch_s is None:
            first_batch_s = t1 - t_start
        with common.autocast(args):
            method.step(xs, ys, xt, pseudo)
        t2 = time.perf_counter()
        if i >= args.warmup:
            step_times.append(t2 - t0)
            wait_times.append(t1 - t0)

    total = sum(step_times)
    main_rss = common.peak_rss_mib()
    del src, tgt  # joins the persistent workers so their peak RSS is counted in RUSAGE_CHILDREN
    s = common.summary(step_times)
    common.emit({
        "bench": "train_e2e",
        "config": args.config,
        "phase": args.phase,
        "source": os.path.abspath(args.source),
        "target": os.path.abspath(args.target),
        "source_images": len(source),
        "target_images": len(target),
        "num_classes": cfg["num_classes"],
        "workers": args.workers,
        "threads": args.threads,
        "warmup": args.warmup,
        "steps": args.repeats,
        "batch_size": n,
        "image_size": cfg["image_size"],
        "channels": cfg["channels"],
        "images_per_s": args.repeats * n / total,
        "images_counted": "source images per step (batch_size), as Trainer's images_per_s",
        "data_wait_fraction": sum(wait_times) / total,
        "ms_per_step_median": s["median_ms"],
        "wait_ms_median": common.summary(wait_times)["median_ms"],
        "first_batch_s": first_batch_s,
        "timing": s,
        "peak_rss_mib": round(main_rss, 1),
        "workers_peak_rss_mib": round(common.children_peak_rss_mib(), 1),
        "note": "peak_rss_mib is the main process only; DataLoader workers are separate processes "
                "(workers_peak_rss_mib: the largest one)",
        "settings": cfg,
    })


if __name__ == "__main__":
    main()
