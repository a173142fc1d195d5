#!/usr/bin/python3
"""fp32 matrix-multiply peak of this machine at --threads, through the two GEMM engines LibTorch uses
on the CPU: BLAS (torch.mm, OpenBLAS in Debian's build) and oneDNN (a 1x1 convolution, which is a
GEMM of [C_out, C_in] x [C_in, H*W]; convolutions in the training step run on oneDNN).
Reports the best GFLOP/s over sizes and repeats; `peak_gflop_per_s` = the larger of the two.

  /usr/bin/python3 bench/reference/gemm_peak.py --threads 2
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import common  # noqa: E402


def best(fn, flops, reps):
    fn()
    fastest = 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        fastest = min(fastest, time.perf_counter() - t0)
    return flops / fastest / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_common_args(ap, warmup=1, repeats=5)
    args = ap.parse_args()
    common.setup(args)
    rows = []
    with torch.no_grad():
        for n in (512, 1024, 2048):
            a, b = torch.randn(n, n), torch.randn(n, n)
            rows.append({"engine": "blas torch.mm", "n": n,
                         "gflop_per_s": best(lambda: torch.mm(a, b), 2.0 * n ** 3, args.repeats)})
        for c, hw in ((512, 32), (1024, 32), (1024, 64)):
            x, w = torch.randn(1, c, hw, hw), torch.randn(c, c, 1, 1)
            rows.append({"engine": "onednn conv1x1", "n": c, "hw": hw,
                         "gflop_per_s": best(lambda: F.conv2d(x, w), 2.0 * c * c * hw * hw, args.repeats)})
    blas = max(r["gflop_per_s"] for r in rows if r["engine"].startswith("blas"))
    dnn = max(r["gflop_per_s"] for r in rows if r["engine"].startswith("onednn"))
    common.emit({"bench": "gemm_peak_py", "threads": args.threads, "dtype": "float32", "sizes": rows,
                 "blas_gflop_per_s": blas, "onednn_gflop_per_s": dnn, "peak_gflop_per_s": max(blas, dnn)})


if __name__ == "__main__":
    main()
