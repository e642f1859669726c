"""Maximum-likelihood alpha-stable fits of the example noise columns (Fig 7, the MLE side).

    python scripts/fit_alpha_stable.py --scale cpu [--kind non-gaussian]

Reads data/results/<scale>/examples.csv.gz, fits every selected column with
sgnlib.stats.fit_alpha_stable (pylevy when installed, else scipy.stats.levy_stable: tens of seconds
per column), and writes data/results/<scale>/alpha_stable.csv with provenance. Resumable: columns
already in the output are skipped.
"""
import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sgnlib.paths import RESULTS_DIR  # noqa: E402
from sgnlib.provenance import append_rows, provenance  # noqa: E402
from sgnlib.report import read_table  # noqa: E402
from sgnlib.stats import fit_alpha_stable  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="cpu")
    ap.add_argument("--kind", default="non-gaussian", choices=["non-gaussian", "gaussian", "all"])
    a = ap.parse_args()
    ex = read_table(a.scale, "examples")
    if ex is None:
        print(f"no examples table for scale {a.scale!r}; run the sweep's examples stage first", file=sys.stderr)
        return 2
    if a.kind != "all":
        ex = ex[ex.kind == a.kind]
    out = RESULTS_DIR / a.scale / "alpha_stable.csv"
    done = set()
    if out.exists():
        done = set(map(tuple, pd.read_csv(out)[["config_id", "layer", "dim"]].values.tolist()))
    for (cid, layer, dim), col in ex.groupby(["config_id", "layer", "dim"], sort=False):
        if (cid, layer, dim) in done:
            continue
        t0 = time.perf_counter()
        fit = fit_alpha_stable(col.sort_values("sample").noise.values)
        first = col.iloc[0]
        row = {"config_id": cid, "layer": layer, "dim": dim, "kind": first.kind, "batch_size": first.batch_size,
               "n_batches": first.n_batches, "model": first.model, "p": first.p,
               "alpha_mohammadi": first.alpha_mohammadi, **{f"mle_{k}": v for k, v in fit.items()},
               "scipy_version": scipy.__version__,
               **provenance("cpu", {"source": first.data_source, "sha256": first.data_sha256}),
               "source_table": f"data/results/{a.scale}/examples.csv.gz", "source_commit": first.git_commit,
               "wall_s": time.perf_counter() - t0}
        append_rows(pd.DataFrame([row]), out)
        print(f"{layer} dim {dim} bs {first.batch_size}: alpha MLE {fit['alpha']:.2f} ({fit['backend']}), "
              f"Mohammadi {first.alpha_mohammadi:.2f}, {row['wall_s']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
