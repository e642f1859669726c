"""Alpha-stable fits of the example noise columns (Figs 7-8): pylevy's and scipy's maximum likelihood
and the Mohammadi block-sum estimate, one row per (column, backend).

    python scripts/fit_alpha_stable.py --scale cpu [--kind non-gaussian] [--backends pylevy,scipy,mohammadi]
                                       [--symmetric] [--limit N] [--out PATH]

Reads data/results/<scale>/examples.csv.gz and writes data/results/<scale>/alpha_stable.csv (or --out)
with provenance. pylevy (PyPI levy-stable, GPL-3.0-or-later; the paper's tool, footnote 2) takes about
a second per column, scipy.stats.levy_stable tens of seconds; mohammadi is
`sgnlib.stats.mohammadi_alpha` (unclipped, K1 = largest divisor of n <= sqrt n) on the same samples.
The MLEs fit all four parameters, as pylevy's `fit_levy` does by default; --symmetric pins beta = 0.
Columns tail_index and skewness hold the law's alpha and beta (`alpha` names no column: it is also
the significance level and the paper's step size).
--limit N fits the first N columns only (a quick run). Resumable: (column, backend) pairs already in
the output are skipped.
"""
import argparse
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import scipy
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sgnlib.paths import RESULTS_DIR  # noqa: E402
from sgnlib.provenance import append_rows, provenance  # noqa: E402
from sgnlib.reader import read_table  # noqa: E402
from sgnlib.stats import fit_alpha_stable, mohammadi_alpha  # noqa: E402

BACKENDS = ("pylevy", "scipy", "mohammadi")
KEY = ["config_id", "layer", "dim", "backend"]


def fit(samples, backend: str, symmetric: bool) -> dict:
    if backend == "mohammadi":
        a = float(mohammadi_alpha(torch.as_tensor(samples - samples.mean()))[0])
        return {"tail_index": a, "skewness": float("nan"), "loc": float("nan"), "scale": float("nan"),
                "parametrization": "", "error": ""}
    out = fit_alpha_stable(samples, backend=backend, symmetric=symmetric)
    out.pop("backend")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="cpu")
    ap.add_argument("--kind", default="non-gaussian", choices=["non-gaussian", "gaussian", "all"])
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--symmetric", action="store_true", help="pin beta = 0 in the MLEs")
    ap.add_argument("--limit", type=int, help="fit only the first N columns")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    backends = a.backends.split(",")
    if not set(backends) <= set(BACKENDS):
        ap.error(f"--backends must be among {', '.join(BACKENDS)}")
    ex = read_table(a.scale, "examples")
    if ex is None:
        print(f"no examples table for scale {a.scale!r}; run the sweep's examples stage first", file=sys.stderr)
        return 2
    if a.kind != "all":
        ex = ex[ex.kind == a.kind]
    out = a.out or RESULTS_DIR / a.scale / "alpha_stable.csv"
    done = set()
    if out.exists():
        old = pd.read_csv(out)
        if "backend" not in old.columns:
            print(f"{out} has the one-row-per-column layout of before; move it aside first", file=sys.stderr)
            return 2
        done = set(map(tuple, old[KEY].values.tolist()))
    versions = {"scipy_version": scipy.__version__, "levy_stable_version": version("levy-stable")}
    for i, ((cid, layer, dim), col) in enumerate(ex.groupby(["config_id", "layer", "dim"], sort=False)):
        if a.limit is not None and i >= a.limit:
            break
        samples = col.sort_values("sample").noise.values
        first = col.iloc[0]
        for backend in backends:
            if (cid, layer, dim, backend) in done:
                continue
            t0 = time.perf_counter()
            res = fit(samples, backend, a.symmetric)
            row = {"config_id": cid, "layer": layer, "dim": dim, "kind": first.kind, "batch_size": first.batch_size,
                   "n_batches": first.n_batches, "model": first.model, "p": first.p, "n": len(samples),
                   "backend": backend, "symmetric": a.symmetric, **res, "fit_s": time.perf_counter() - t0,
                   **versions, **provenance("cpu", {"source": first.data_source, "sha256": first.data_sha256}),
                   "source_table": f"data/results/{a.scale}/examples.csv.gz", "source_commit": first.git_commit}
            append_rows(pd.DataFrame([row]), out)
            print(f"{layer} dim {dim} bs {first.batch_size}: tail index {res['tail_index']:.3f} ({backend}, "
                  f"{row['fit_s']:.1f} s){' ' + res['error'] if res['error'] else ''}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
