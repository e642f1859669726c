"""Results rows for the chapter modules' tests: hand-made, or committed and read with pandas."""
import pandas as pd

from sgnlib.paths import RESULTS_DIR


def csv(scale: str, table: str) -> pd.DataFrame:
    """A committed results table read with pandas directly (the reference the chapters are checked
    against)."""
    folder = RESULTS_DIR / scale
    path = next(p for p in (folder / f"{table}.csv", folder / f"{table}.csv.gz") if p.exists())
    return pd.read_csv(path)


def make_grid(values, model="alexnet", repeats=(0,), device="NVIDIA H200", epochs=30):
    """values[(layer, bs, nb)] -> % Gaussian at the final checkpoint; repeat r adds r."""
    rows = []
    for (layer, bs, nb), v in values.items():
        for r in repeats:
            rows.append({"model": model, "stage": "capture", "epochs": epochs,
                         "checkpoint_epoch": epochs, "layer": layer, "batch_size": bs,
                         "n_batches": nb, "repeat": r, "gauss_pct_incl_degenerate": v + r,
                         "gauss_pct_excl_degenerate": v + r - 1, "degenerate_pct": 1.0,
                         "config_id": f"{model}-{bs}-{nb}-{r}", "device": device,
                         "git_commit": "1028571528b7c4c9ae29eb4c54f0ea2477f0b057",
                         "date": "2026-11-26T15:03:56+00:00", "torch_version": "2.11.0"})
    return pd.DataFrame(rows)
