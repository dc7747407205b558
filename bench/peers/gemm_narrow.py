"""float32 GEMM throughput of torch.mm at the 10-wide shapes of a 784-1024-10 MLP's backward pass, batch 128, measured
exactly as ../shared/bench/gemm_ceiling.py measures its shapes (that script does not have these two):
  dW2     h.T(1024x128) @ g2(128x10)        (the 10-class layer's weight gradient; transposed operand)
  dH2     g2(128x10) @ W2.T(10x1024)        (the gradient into the hidden layer; W2 stored 1024x10 as Dense keeps it)
Run from ../shared/bench (for its common.py), as bench/Dendrite.Bench's Peer.Run does.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.getcwd())
import common  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--min-time", type=float, default=0.5, help="seconds of timed calls per shape")
ap.add_argument("--shapes", default="dW2,dH2")
args = ap.parse_args()

common.set_threads(args.threads)
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(args.threads)
rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape, dtype=np.float32)


SHAPES = {
    "dW2": (1024, 128, 10, lambda: (arr(128, 1024).T, arr(128, 10))),
    "dH2": (128, 10, 1024, lambda: (arr(128, 10), arr(1024, 10).T)),
}

info = common.blas_info()
for name in args.shapes.split(","):
    m, k, n, build = SHAPES[name]
    a, b = (torch.from_numpy(v) for v in build())   # keeps the transposed strides
    out = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=out)
    times = []
    t_end = time.perf_counter() + args.min_time
    while time.perf_counter() < t_end or len(times) < 5:
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - t0)
    flop = 2.0 * m * k * n
    common.emit(kind="gemm", lib="torch", threads=args.threads, shape=name, mkn=[m, k, n], calls=len(times),
                best_us=round(min(times) * 1e6, 1), median_us=round(common.median(times) * 1e6, 1),
                gflops_best=round(flop / min(times) / 1e9, 1), gflops_median=round(flop / common.median(times) / 1e9, 1),
                openblas_core=info.get("openblas_core"), tag="narrow")
