#!/usr/bin/python3
"""Classifier inference over image files in PyTorch: DataLoader (PIL decode, stretch-resize, to tensor,
normalise) -> torchvision ResNet in eval mode under torch.inference_mode -> softmax, top-1 label and
confidence per image. Reports images/s per pass over the folder (median of --repeats passes, each with
fresh loader workers, as one `fashioncut predict` run), the time blocked on the loader, and peak RSS.

Random weights: speed does not depend on them. The classifier is built as ours
(models/classifier.cpp + models/resnet.cpp, eval/model_loader.cpp inference_transform): torchvision
layout, conv1 with --channels inputs; --small-input 1 = 3x3 stride-1 stem without max-pool.

  /usr/bin/python3 bench/reference/predict_loop.py --folder out/fm/test --arch resnet18 --size 32 --channels 1
  /usr/bin/python3 bench/reference/predict_loop.py --folder photos/ --arch resnet50 --size 224 --channels 3
  /usr/bin/python3 bench/reference/predict_loop.py --synthetic --arch resnet18 --size 32 --channels 3 \\
      --small-input 1        # model only, random batch: compare with predict_bench
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import common  # noqa: E402
import image_data  # noqa: E402
from cut_models import count_params, make_classifier  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["resnet18", "resnet34", "resnet50"], default="resnet18")
    ap.add_argument("--size", type=int, default=None, help="input side (default 32 for resnet18/34, 224 for resnet50)")
    ap.add_argument("--channels", type=int, choices=[1, 3], default=None,
                    help="model input channels (default 1 for resnet18/34 = fmnist config, 3 for resnet50)")
    ap.add_argument("--small-input", type=int, choices=[0, 1], default=0,
                    help="1 = 3x3 stride-1 stem, no max-pool; 0 = torchvision stem (configs/fmnist.toml)")
    ap.add_argument("--num-classes", type=int, default=10)
    ap.add_argument("--norm", choices=["minus-one-one", "imagenet"], default="minus-one-one",
                    help="ClassifierSpec.normalization (ours: minus-one-one)")
    ap.add_argument("--folder", default=None, help="images under it, recursively (.png .jpg .jpeg .bmp .tif .tiff .webp)")
    ap.add_argument("--max-images", type=int, default=0, help="use only the first N files (sorted); 0 = all")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (0 = main process)")
    ap.add_argument("--fold-bn", action="store_true",
                    help="fold BatchNorm into the convs (torch.fx fuse), like `fashioncut predict` by default")
    ap.add_argument("--synthetic", action="store_true",
                    help="no files: time the model on one random batch per repeat (images/s of logits only)")
    common.add_common_args(ap, warmup=1, repeats=3)
    args = ap.parse_args()
    big = args.arch == "resnet50"
    size = args.size or (224 if big else 32)
    channels = args.channels or (3 if big else 1)
    common.setup(args)

    model = make_classifier(args.arch, args.num_classes, channels, bool(args.small_input))
    params = count_params(model)
    model.eval()
    if args.fold_bn:
        from torch.fx.experimental.optimization import fuse
        model = fuse(model)

    record = {
        "bench": "predict_loop",
        "arch": args.arch,
        "size": size,
        "channels": channels,
        "small_input": bool(args.small_input),
        "num_classes": args.num_classes,
        "params": params,
        "norm": args.norm,
        "fold_bn": args.fold_bn,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "warmup": args.warmup,
        "repeats": args.repeats,
    }

    if args.synthetic:
        x = torch.randn(args.batch_size, channels, size, size)
        with torch.inference_mode():
            for _ in range(args.warmup):
                model(x)
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - t0)
        s = common.summary(times)
        record.update({"mode": "synthetic", "ms_per_batch": s["median_ms"],
                       "images_per_s": args.batch_size / (s["median_ms"] / 1e3), "timing": s})
        common.emit(record)
        return

    if not args.folder:
        ap.error("--folder is required unless --synthetic")
    transform = image_data.Transform(size, channels, args.norm)
    ds = image_data.ImageFiles(args.folder, transform)
    if args.max_images > 0:
        ds.paths = ds.paths[:args.max_images]

    def one_pass():
        loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=False,
                                             num_workers=args.workers)
        labels, wait = [], 0.0
        t0 = time.perf_counter()
        it = iter(loader)
        with torch.inference_mode():
            while True:
                tw = time.perf_counter()
                try:
                    batch = next(it)
                except StopIteration:
                    break
                wait += time.perf_counter() - tw
                conf, label = torch.softmax(model(batch), 1).max(1)
                labels += label.tolist()
        total = time.perf_counter() - t0
        del it, loader
        assert len(labels) == len(ds)
        return total, wait

    for _ in range(args.warmup):
        one_pass()
    totals, waits = [], []
    for _ in range(args.repeats):
        t, w = one_pass()
        totals.append(t)
        waits.append(w)
    order = sorted(range(len(totals)), key=totals.__getitem__)
    mid = order[len(order) // 2]
    record.update({
        "mode": "files",
        "folder": os.path.abspath(args.folder),
        "images": len(ds),
        "workers": args.workers,
        "seconds_per_pass": common.summary(totals)["median_ms"] / 1e3,
        "images_per_s": len(ds) / common.summary(totals)["median_ms"] * 1e3,
        "data_wait_fraction": waits[mid] / totals[mid],
        "pass_timing": common.summary(totals),
        "peak_rss_mib": round(common.peak_rss_mib(), 1),
        "workers_peak_rss_mib": round(common.children_peak_rss_mib(), 1),
    })
    common.emit(record)


if __name__ == "__main__":
    main()
