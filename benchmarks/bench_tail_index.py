"""Tail-index estimators head to head on symmetric alpha-stable columns (paper, Figs 7-9 and footnote 2).

    python benchmarks/bench_tail_index.py [--columns 2000] [--pylevy-columns 5] [--scipy-columns 1]
                                          [--scipy-max-n 200] [--json out.json]

For alpha in {1.1, 1.5, 1.8, 1.95, 2.0} and n in {200, 600, 5000}: columns drawn with
scipy.stats.levy_stable.rvs(alpha, 0) (numpy seed per cell), then per estimator the bias of the mean
and of the median, the sd, the 5-95 % range and seconds per column:
- mohammadi: `sgnlib.stats.mohammadi_alpha`, unclipped, K1 = largest divisor of n <= sqrt n, on the
  columns centred by their mean (as the capture stage does); mohammadi_clipped: the same, clipped at 2;
- mcculloch: `sgnlib.stats.mcculloch_alpha` (quantiles; in [0.6, 2] by construction);
- pylevy: `fit_alpha_stable(backend="pylevy", symmetric=True)` (levy-stable 2.x MLE, alpha <= 2);
- scipy: `fit_alpha_stable(backend="scipy", symmetric=True)`, on the first --scipy-columns columns of
  the cells with n <= --scipy-max-n only (tens of seconds per column).
The MLEs run on the first columns of the same draws, so pylevy and scipy are also compared pairwise.
The vectorized estimators' seconds per column are one call's time over all columns / columns.
"""
import argparse
import json
import time
from importlib.metadata import version

import numpy as np
import scipy
import torch
from scipy.stats import levy_stable

from sgnlib.provenance import provenance
from sgnlib.stats import fit_alpha_stable, mcculloch_alpha, mohammadi_alpha
from sgnlib.stats.tail_index import default_block_size, mcculloch_table

ALPHAS = (1.1, 1.5, 1.8, 1.95, 2.0)
NS = (200, 600, 5000)


def summary(est: np.ndarray, alpha: float, seconds: float, columns: int) -> dict:
    ok = est[np.isfinite(est)]
    return {"columns": columns, "failed": int(columns - ok.size), "mean": float(ok.mean()),
            "bias_mean": float(ok.mean() - alpha), "bias_median": float(np.median(ok) - alpha),
            "sd": float(ok.std(ddof=1)) if ok.size > 1 else None,
            "q05": float(np.quantile(ok, 0.05)), "q95": float(np.quantile(ok, 0.95)),
            "s_per_column": seconds / columns}


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def mle(x: np.ndarray, backend: str) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    est = np.array([fit_alpha_stable(x[:, j], backend=backend, symmetric=True)["tail_index"] for j in range(x.shape[1])])
    return est, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--columns", type=int, default=2000)
    ap.add_argument("--pylevy-columns", type=int, default=5)
    ap.add_argument("--scipy-columns", type=int, default=1)
    ap.add_argument("--scipy-max-n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    a = ap.parse_args()
    t_all = time.perf_counter()
    torch.set_num_threads(1)
    mcculloch_table()  # built once from scipy's ppf, outside the timings
    fit_alpha_stable(np.random.default_rng(0).standard_normal(50), backend="pylevy")  # loads pylevy's tables
    rows, pairs = [], []
    for i, n in enumerate(NS):
        for j, alpha in enumerate(ALPHAS):
            seed = a.seed + 100 * i + j
            x = levy_stable.rvs(alpha, 0.0, size=(n, a.columns), random_state=seed)
            xt = torch.from_numpy(x)
            cell = {"alpha": alpha, "n": n, "k1": default_block_size(n), "seed": seed}
            start = len(rows)
            est, s = timed(lambda: mohammadi_alpha(xt - xt.mean(0)).numpy())
            rows.append({**cell, "estimator": "mohammadi", **summary(est, alpha, s, a.columns)})
            clipped = 1.0 / np.maximum(1.0 / est, 0.5)  # = mohammadi_alpha(..., clip=True)
            rows.append({**cell, "estimator": "mohammadi_clipped", **summary(clipped, alpha, s, a.columns)})
            est, s = timed(lambda: mcculloch_alpha(xt).numpy())
            rows.append({**cell, "estimator": "mcculloch", **summary(est, alpha, s, a.columns)})
            py, s = mle(x[:, :a.pylevy_columns], "pylevy")
            rows.append({**cell, "estimator": "pylevy", **summary(py, alpha, s, a.pylevy_columns)})
            if n <= a.scipy_max_n and a.scipy_columns:
                sc, s = mle(x[:, :a.scipy_columns], "scipy")
                rows.append({**cell, "estimator": "scipy", **summary(sc, alpha, s, a.scipy_columns)})
                pairs.append({**cell, "columns": a.scipy_columns, "max_abs_diff_pylevy_scipy":
                              float(np.nanmax(np.abs(py[:a.scipy_columns] - sc)))})
            for r in rows[start:]:
                sd = "   -  " if r["sd"] is None else f"{r['sd']:6.3f}"
                print(f"alpha {alpha:4} n {n:5} {r['estimator']:17} cols {r['columns']:5} bias(mean) "
                      f"{r['bias_mean']:+7.3f} bias(median) {r['bias_median']:+7.3f} sd {sd} "
                      f"{r['s_per_column'] * 1e3:10.3f} ms/col", flush=True)
    out = {**provenance("cpu", {"source": "scipy.stats.levy_stable.rvs(alpha, 0), numpy seed per cell"}),
           "script": "benchmarks/bench_tail_index.py", "alphas": list(ALPHAS), "ns": list(NS),
           "columns": {"mohammadi": a.columns, "mohammadi_clipped": a.columns, "mcculloch": a.columns,
                       "pylevy": a.pylevy_columns, "scipy": a.scipy_columns},
           "scipy_max_n": a.scipy_max_n, "seed": a.seed, "torch_threads": 1,
           "versions": {"scipy": scipy.__version__, "levy-stable": version("levy-stable")},
           "rows": rows, "pylevy_vs_scipy": pairs, "total_s": time.perf_counter() - t_all}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    print(f"total {out['total_s']:.0f} s")


if __name__ == "__main__":
    main()
