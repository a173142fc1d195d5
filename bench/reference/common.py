"""Helpers shared by the Python reference benchmarks (bench/reference/*.py).

Run every script with Debian's interpreter, /usr/bin/python3 (it has torch and torchvision).
"""
import json
import os
import platform
import resource
import statistics
import sys
import time

import torch


def add_common_args(parser, warmup=2, repeats=10):
    """--threads, --warmup, --repeats, --seed (the same flags in every script)."""
    parser.add_argument("--threads", type=int, default=2,
                        help="torch.set_num_threads (intra-op); inter-op threads are set to 1")
    parser.add_argument("--warmup", type=int, default=warmup, help="untimed iterations first")
    parser.add_argument("--repeats", type=int, default=repeats, help="timed iterations (the median is reported)")
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed")
    parser.add_argument("--interop", type=int, default=1, help="torch.set_num_interop_threads")


def median_step_times(step, warmup, repeats):
    """Runs step() warmup times untimed, then repeats times timed; returns (seconds list, last result)."""
    for _ in range(warmup):
        step()
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = step()
        times.append(time.perf_counter() - t0)
    return times, out


def add_step_args(parser, configs=None, batch_size=None):
    """Flags of the step scripts: --steps (alias of --repeats), --batch-size, and, given `configs`
    (cut_models.CONFIGS), --config NAME|FILE.toml and --phase; plus the levers --channels-last, --bf16."""
    if configs is not None:
        parser.add_argument("--config", default="fmnist",
                            help="%s, or a fashioncut TOML file (keys override TrainConfig defaults)"
                                 % " | ".join(sorted(configs)))
        parser.add_argument("--phase", choices=["warmup", "pseudo"], default="warmup",
                            help="warmup: epochs < pseudo_label_start (C sees G(x_s) only); "
                                 "pseudo: later epochs (half of C's batch = pseudo-labelled x_t)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (alias of --repeats)")
    parser.add_argument("--batch-size", type=int, default=batch_size,
                        help="override the config's batch_size" if batch_size is None else "images per step")
    parser.add_argument("--channels-last", action="store_true", help="modules and inputs in channels-last layout")
    parser.add_argument("--bf16", action="store_true", help="torch.autocast('cpu', bfloat16) around the step")


def finish_step_args(args):
    """Applies the --steps alias after parse_args."""
    if getattr(args, "steps", None) is not None:
        args.repeats = args.steps
    return args


def load_config(args, configs, defaults):
    """The settings dict of --config: a name of `configs`, or a TOML file whose keys (fashioncut
    TrainConfig names, '-' or '_') override `defaults`; then --batch-size."""
    name = args.config
    if name in configs:
        cfg = dict(configs[name])
    else:
        import tomllib
        with open(name, "rb") as f:
            raw = tomllib.load(f)
        stem = os.path.splitext(os.path.basename(name))[0]
        cfg = dict(configs.get(stem, defaults))
        for key, value in raw.items():
            key = key.replace("-", "_")
            if key in defaults or key in ("image_size", "channels", "num_classes"):
                cfg[key] = value
    if getattr(args, "batch_size", None):
        cfg["batch_size"] = args.batch_size
    return cfg


def autocast(args):
    """The bf16 autocast context of --bf16 (a no-op context otherwise)."""
    import contextlib
    if getattr(args, "bf16", False):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def channels_last(args, *modules):
    """Moves modules to channels-last when --channels-last."""
    if getattr(args, "channels_last", False):
        for m in modules:
            m.to(memory_format=torch.channels_last)


def setup(args):
    """Applies --threads and --seed. Must run before any parallel torch work."""
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(getattr(args, "interop", 1))
    except RuntimeError:  # already fixed once inter-op work ran; harmless for these scripts
        pass
    torch.manual_seed(args.seed)


def peak_rss_mib():
    """Peak resident set size of this process (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def children_peak_rss_mib():
    """Largest peak RSS among waited-for child processes (DataLoader workers once joined)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def summary(times_s):
    """Median / mean / min / max of a list of seconds, in milliseconds."""
    ms = [t * 1e3 for t in times_s]
    return {
        "median_ms": statistics.median(ms),
        "mean_ms": statistics.fmean(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
        "n": len(ms),
    }


def environment():
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "loadavg": list(os.getloadavg()),
    }


def emit(record):
    """Prints ONE JSON object on stdout (the only stdout output of a script)."""
    record.setdefault("peak_rss_mib", round(peak_rss_mib(), 1))
    record["env"] = environment()
    print(json.dumps(record, sort_keys=False))
    sys.stdout.flush()


class Timer:
    """with Timer() as t: ...; t.seconds"""

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        return False
