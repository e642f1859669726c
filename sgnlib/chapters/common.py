"""What the results chapters share: the results read per scale (the scale's own protocol), a run in
one sentence for captions, numbers formatted for prose, a layer's series over training and the notes
on the paper's elements without results (data/gaps.yaml)."""
from __future__ import annotations

import pandas as pd
import yaml

from .. import reader
from ..paths import DATA_DIR

# our results folders (data/results/<scale>), the paper's recipe first
SCALES = ("cpu-300", "gpu-short", "cpu")
MODEL_NAMES = {"alexnet": "AlexNet", "alexnet_bn": "AlexNet-BN", "resnet20": "ResNet-20",
               "resnet56": "ResNet-56"}
PAPER_EPOCHS = 300


def fmt(v, digits: int = 1, sign: bool = False) -> str:
    """A number for the book: '–' when undefined, a true minus sign."""
    if v is None or pd.isna(v):
        return "–"
    return (f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}").replace("-", "−")


def join(values) -> str:
    """Values as 'a, b, c'."""
    return ", ".join(str(v) for v in values)


def results(scales=SCALES, tables=("gaussianity",), results_dir=None) -> dict:
    """{scale: {table: DataFrame or None}} through reader.read_table: the scale's own protocol
    only (configurations with a capture or training option are left out, as the paper's tables
    compare)."""
    read = {s: {t: reader.read_table(s, t, results_dir) for t in tables} for s in scales}
    return {s: {t: v if v is None else reader.without_options(v) for t, v in r.items()}
            for s, r in read.items()}


def runs(df: pd.DataFrame | None) -> dict:
    """The run behind a results table's rows: distinct devices, epochs, ... short commits;
    repeats."""
    if df is None or not len(df):
        return {}
    out = {k: sorted(df[k].dropna().unique().tolist())
           for k in ("device", "epochs", "n_batches", "model") if k in df}
    out["repeats"] = int(df["repeat"].nunique()) if "repeat" in df else None
    if "git_commit" in df:
        out["commit"] = sorted({str(c)[:8] + ("+dirty" if str(c).endswith("+dirty") else "")
                                for c in df.git_commit.dropna()})
    return out


def run_caption(df: pd.DataFrame | None, scale: str) -> str:
    """The run in one sentence: scale, device, models and epochs trained, repeats, minibatches."""
    r = runs(df)
    if not r:
        return f"{scale} scale: no results"
    parts = [f"{scale} scale", join(r.get("device", [])) or "device not recorded"]
    if r.get("epochs"):
        models = join(MODEL_NAMES.get(m, m) for m in r.get("model", []))
        parts.append(f"{models} trained {join(r['epochs'])} of the paper's {PAPER_EPOCHS} epochs"
                     .strip())
    if r.get("repeats"):
        parts.append(f"{r['repeats']} repeat{'s' if r['repeats'] > 1 else ''}")
    if r.get("n_batches"):
        parts.append(f"{join(r['n_batches'])} minibatches per capture")
    return "; ".join(parts)


def over_epochs(g: pd.DataFrame, model: str, layer: str, batch_size: int = 128,
                n_batches: int = 200) -> pd.Series:
    """% Gaussian (point masses counted, the paper's rule; mean over repeats) of one layer at each
    checkpoint."""
    s = reader.without_options(g)
    s = s[(s.model == model) & (s.layer == layer) & (s.batch_size == batch_size)
          & (s.n_batches == n_batches)]
    return s.groupby("checkpoint_epoch").gauss_pct_incl_degenerate.mean()


class Gap:
    """A numbered element of the paper not computed yet: what, why, and the command that fills
    it."""

    def __init__(self, what: str, why: str, command: str):
        self.what, self.why, self.command = what, why, command

    def command_lines(self, width: int = 64) -> list[str]:
        """The command broken at spaces into shell lines of at most `width` characters."""
        lines, cur = [], ""
        for word in self.command.split():
            if cur and len(cur) + 1 + len(word) > width:
                lines, cur = lines + [cur], "    " + word
            else:
                cur = f"{cur} {word}" if cur else word
        return lines + [cur]

    def markdown(self) -> str:
        """The note as a MyST warning admonition with the command as a code block."""
        cmd = " \\\n    ".join(self.command_lines())
        return (f"```{{admonition}} Missing: {self.what}\n:class: warning\n{self.why}\n\n"
                f"Fill it with:\n\n    {cmd}\n```\n")


# data/gaps.yaml: the paper's elements without results, why, and the command that fills each
GAPS = {k: Gap(**v) for k, v in yaml.safe_load((DATA_DIR / "gaps.yaml").read_text()).items()}


def gap(key: str) -> None:
    """Display the note GAPS[key] as MyST markdown (rendered by myst-nb) in a notebook."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
        if get_ipython() is not None:
            display(Markdown(GAPS[key].markdown()))
    except ImportError:
        pass
