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


def setup(args):
    """Applies --threads and --seed. Must run before any parallel torch work."""
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
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
