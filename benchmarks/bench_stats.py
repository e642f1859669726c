"""Shapiro-Wilk speed: scipy.stats.shapiro(X, axis=0) vs sgnlib.stats.shapiro_wilk, same run.

    python benchmarks/bench_stats.py [--d 100000] [--json out.json]

CPU: n in {200, 600}, d columns, seconds and speed-up ratio. CUDA (when present): all 2,471,104
AlexNet weight dimensions at n = 200 and 600 (best of 3, after one warm-up).
"""
import argparse
import json
import time

import numpy as np
import torch
from scipy import stats

from sgnlib.provenance import device_name, provenance
from sgnlib.stats import shapiro_wilk

ALEXNET_DIMS = 2_471_104


def timed(fn, repeats=1):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=100_000)
    ap.add_argument("--json")
    ap.add_argument("--skip-cpu", action="store_true")
    a = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    out = {**provenance(dev, {"source": "random normal columns (numpy seed 0 / torch)"}), "d": a.d,
           "cpu": [], "cuda": [], "cpu_device": device_name("cpu")}
    rng = np.random.default_rng(0)
    if not a.skip_cpu:
        for n in (200, 600):
            x = rng.normal(size=(n, a.d)).astype(np.float32)
            t_scipy = timed(lambda: stats.shapiro(x, axis=0))
            xt = torch.from_numpy(x)
            t_ours = timed(lambda: shapiro_wilk(xt), repeats=2)
            row = {"n": n, "d": a.d, "scipy_s": t_scipy, "sgnlib_s": t_ours, "speedup": t_scipy / t_ours}
            out["cpu"].append(row)
            print(f"CPU n={n} d={a.d}: scipy {t_scipy:.2f} s, sgnlib {t_ours:.2f} s, ratio {t_scipy / t_ours:.1f}x")
    if torch.cuda.is_available():
        out["cuda_device"] = device_name("cuda")
        for n in (200, 600):
            x = torch.randn(n, ALEXNET_DIMS, device="cuda")
            shapiro_wilk(x)
            torch.cuda.synchronize()

            def run():
                shapiro_wilk(x)
                torch.cuda.synchronize()
            t = timed(run, repeats=3)
            # reference point: scipy on 20,000 of these columns, scaled to all of them
            sub = x[:, :20000].cpu().numpy()
            t_sc = timed(lambda: stats.shapiro(sub, axis=0)) * ALEXNET_DIMS / 20000
            out["cuda"].append({"n": n, "d": ALEXNET_DIMS, "sgnlib_s": t, "scipy_cpu_s_extrapolated": t_sc,
                                "speedup": t_sc / t})
            print(f"CUDA {out['cuda_device']} n={n} d={ALEXNET_DIMS}: {t:.3f} s "
                  f"(scipy on this host's CPU, extrapolated from 20k columns: {t_sc:.1f} s, ratio {t_sc / t:.0f}x)")
            del x
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
