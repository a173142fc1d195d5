#!/usr/bin/python3
"""Median time of one source-only (TLL ERM) training step: torchvision ResNet forward + CE + backward
+ SGD (momentum 0.9, Nesterov, weight decay 5e-4; backbone lr x0.1, fc lr x1), random tensors.

Mirrors SourceOnly::train_step (src/fashioncut/train/methods/source_only.cpp) with make_tll_sgd
(tll_common.cpp). Defaults: the fmnist config's classifier (resnet18, 1 channel, 32 px,
small_input false = torchvision 7x7/2 stem + max-pool), batch 32.

  /usr/bin/python3 bench/reference/source_only_step.py --steps 20 --warmup 3
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import common  # noqa: E402
from cut_models import count_params, make_classifier  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["resnet18", "resnet34", "resnet50"], default="resnet18")
    ap.add_argument("--size", type=int, default=32, help="input side in px")
    ap.add_argument("--channels", type=int, choices=[1, 3], default=1)
    ap.add_argument("--small-input", type=int, choices=[0, 1], default=0,
                    help="1 = 3x3 stride-1 stem without max-pool (ours for <= 64 px when small_input = true); "
                         "0 = torchvision stem (configs/fmnist.toml: small_input = false)")
    ap.add_argument("--num-classes", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.001, help="TLL erm.py base lr (source-only default)")
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    common.add_step_args(ap, batch_size=32)
    common.add_common_args(ap, warmup=3, repeats=20)
    args = common.finish_step_args(ap.parse_args())
    common.setup(args)

    net = make_classifier(args.arch, args.num_classes, args.channels, bool(args.small_input))
    backbone = [p for name, p in net.named_parameters() if not name.startswith("fc.")]
    head = list(net.fc.parameters())
    opt = torch.optim.SGD([{"params": backbone, "lr": 0.1 * args.lr}, {"params": head, "lr": args.lr}],
                          lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    net.train()
    x = torch.rand(args.batch_size, args.channels, args.size, args.size) * 2 - 1
    y = torch.randint(0, args.num_classes, (args.batch_size,))

    common.channels_last(args, net)
    if args.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        opt.zero_grad()
        with common.autocast(args):
            loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    times, _ = common.median_step_times(step, args.warmup, args.repeats)
    s = common.summary(times)
    common.emit({
        "bench": "source_only_step",
        "arch": args.arch,
        "batch_size": args.batch_size,
        "size": args.size,
        "channels": args.channels,
        "small_input": bool(args.small_input),
        "num_classes": args.num_classes,
        "params": count_params(net),
        "optimizer": "SGD momentum 0.9 nesterov wd %g, lr %g (backbone x0.1)" % (args.weight_decay, args.lr),
        "levers": {"channels_last": args.channels_last, "bf16": args.bf16},
        "threads": args.threads,
        "warmup": args.warmup,
        "steps": args.repeats,
        "ms_per_step": s["median_ms"],
        "images_per_s": args.batch_size / (s["median_ms"] / 1e3),
        "timing": s,
    })


if __name__ == "__main__":
    main()
