"""The protocol chapter (book/results/protocol.ipynb): how much each capture or training choice
moves Table 1's cells. The analysis is `sgnlib.protocol_study` (effects, distances, ResNet states)
and `sgnlib.architecture_measures`; this module quotes its numbers and shows its tables."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import architecture_measures, counting_rules, protocol_study as ps, reader
from .common import PAPER_EPOCHS
from .html import effect_grid_html, headed_table_html, html_table, show

FULL_CELLS = 24  # Table 1's cells at 200 minibatches: 6 layers x batch sizes 64-512
PLAIN = {"checkpoint epoch=0 (initialization)": "capture at initialization",
         "training lr=0.01": "learning rate 0.01", "training normalize=False": "raw pixels",
         "training augment=False": "no training augmentation"}  # training-side factors in prose


def rows() -> pd.DataFrame:
    """The protocol preset's gaussianity rows (every factor)."""
    return reader.read_table("protocol", "gaussianity")


def _plain(factor: str) -> str:
    if factor.startswith("checkpoint epoch=") and factor not in PLAIN:
        return f"the epoch-{factor.split('=', 1)[1]} checkpoint"
    return PLAIN.get(factor, factor)


def _range(values: pd.Series) -> str:
    return f"{values.min():.1f}–{values.max():.1f}" if len(values) else "not measured"


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'; 'none' for no items."""
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items) or "none"


def _training_side(summ: pd.DataFrame, large: float = 10.0) -> tuple[str, str]:
    """Training-recipe factors (seeds apart) and checkpoint epochs, by |mean Δ|: those of at least
    `large` pp and the rest, each a list of 'plain name (mean Δ pp)'."""
    f = summ.factor
    t = summ[(f.str.startswith("training ") & ~f.str.startswith("training seed"))
             | f.str.startswith("checkpoint epoch=")]
    t = t.loc[t.mean_delta_pp.abs().sort_values(ascending=False).index]
    big = t.mean_delta_pp.abs() >= large
    name = lambda r: f"{_plain(r.factor)} ({r.mean_delta_pp:+.1f} pp)"  # noqa: E731
    return tuple(_and([name(r) for r in d.itertuples()]) for d in (t[big], t[~big]))


def _dist(dist: pd.DataFrame, factor: str) -> str:
    d = dist.set_index("factor").loc[factor]
    return (f"{d.mean_abs_gap_pp:.1f} pp where the baseline's is {d.baseline_same_cells_pp:.1f} pp "
            f"on the same cells")


def _best(dist: pd.DataFrame, full_cells: int) -> dict[str, str]:
    """The baseline's distance to Table 1 and the closest protocol on all of Table 1's cells."""
    base = dist.set_index("factor").loc["baseline"]
    full = dist[dist.cells == full_cells]
    best = full.sort_values("mean_abs_gap_pp").iloc[0]
    return {
        "base-distance": f"{base.mean_abs_gap_pp:.1f}", "base-gap": f"{base.mean_gap_pp:+.1f}",
        "base-cells": f"{int(base.cells)}",
        "best-protocol": str(best.factor), "best-distance": f"{best.mean_abs_gap_pp:.1f}",
        "best-closes": f"{base.mean_abs_gap_pp - best.mean_abs_gap_pp:+.1f}",
        "full-protocols": f"{len(full)}"}


def _best_same_cells(dist: pd.DataFrame) -> dict[str, str]:
    """The protocol that gains most on the cells it covers, against the baseline on the same
    cells."""
    rel = dist.assign(gain=dist.baseline_same_cells_pp - dist.mean_abs_gap_pp)
    best = rel[rel.factor != "baseline"].sort_values("gain", ascending=False).iloc[0]
    return {"best-same-cells": best.factor,
            "best-same-cells-distance": f"{best.mean_abs_gap_pp:.1f}",
            "best-same-cells-baseline": f"{best.baseline_same_cells_pp:.1f}",
            "best-same-cells-n": f"{int(best.cells)}"}


def _top(summ: pd.DataFrame) -> str:
    """The three factors that move the cells most, with their mean |Δ|, mean Δ and cells beyond."""
    return "; ".join(f"{r.factor} (mean |Δ| {r.mean_abs_delta_pp:.1f} pp, mean Δ "
                     f"{r.mean_delta_pp:+.1f} pp, {int(r.beyond_spread)}/{int(r.cells)} cells "
                     f"beyond the spread)" for r in summ.head(3).itertuples())


def _seed_facts(summ: pd.DataFrame) -> tuple[dict[str, str], float]:
    """The largest mean |Δ| of a retraining with another seed and the factors that move more."""
    seeds = summ[summ.factor.str.startswith("training seed")]
    spread = float(seeds.mean_abs_delta_pp.max()) if len(seeds) else np.nan
    beyond = "; ".join(f"{r.factor} ({r.mean_abs_delta_pp:.1f})" for r in summ.itertuples()
                       if not r.factor.startswith("training seed")
                       and r.mean_abs_delta_pp > spread)
    return {"seed-spread": f"{spread:.1f}" if spread == spread else "not measured",
            "beyond-seed": beyond or "none"}, spread


def _architecture(summ: pd.DataFrame, dist: pd.DataFrame) -> str:
    return "; ".join(
        f"{r.factor.split('=', 1)[1]}: mean Δ {r.mean_delta_pp:+.1f} pp (mean |Δ| "
        f"{r.mean_abs_delta_pp:.1f} pp, {int(r.beyond_spread)}/{int(r.cells)} cells beyond the "
        f"spread), distance {_dist(dist, r.factor)}" for r in summ.itertuples()
        if r.factor.startswith("architecture=")) or "not measured"


def facts(eff: pd.DataFrame, dist: pd.DataFrame, full_cells: int = FULL_CELLS) -> dict[str, str]:
    """The numbers the chapter's verdict quotes (glued): baseline distance, the best protocol
    measured on all Table 1 cells and its distance, the factors that move most, and those whose
    mean change has the gap's sign and at least half its size (`explains`: candidates for the gap);
    the largest mean |Δ| of a retraining with another seed (`seed-spread`) and the factors that
    move the cells more (`beyond-seed`); the range of mean |Δ| over capture choices and over seeds
    (`capture-range`, `seed-range`); the training-side and checkpoint factors with their mean Δ,
    those of |mean Δ| >= 10 pp (`training-large`) and the rest (`training-small`); the
    architecture variants' effect and distance (`architecture`)."""
    base = dist.set_index("factor").loc["baseline"]
    summ = ps.factor_summary(eff)
    seed, _ = _seed_facts(summ)
    seeds = summ[summ.factor.str.startswith("training seed")]
    explains = "; ".join(f"{r.factor} ({r.mean_delta_pp:+.1f} pp)" for r in summ.itertuples()
                         if r.mean_delta_pp >= -0.5 * base.mean_gap_pp > 0)
    return {**_best(dist, full_cells), "factors": f"{len(summ)}", **_best_same_cells(dist),
            "top-factors": _top(summ), "n-beyond": f"{int((summ.beyond_spread > 0).sum())}",
            **seed, "explains": explains or "none", "architecture": _architecture(summ, dist),
            "capture-range": _range(summ[summ.factor.str.startswith("capture ")].mean_abs_delta_pp),
            "seed-range": _range(seeds.mean_abs_delta_pp),
            **dict(zip(("training-large", "training-small"), _training_side(summ)))}


def resnet_facts(rs: pd.DataFrame) -> dict[str, str]:
    """Glue keys for `protocol_study.resnet_states` rows: 'resnet56-b64-e0' -> the paper's Table 3
    layers at the threshold and their mean, then the mean over all layers ('10/11 of the paper's
    Table 3 layers at ≥ 85 %, mean 91.8 % over them (93.8 % over all 56 layers)'; ResNet-20, which
    has no table: 'mean 92.0 % over all 20 layers'); a capture protocol other than the default adds
    it to the key ('resnet56-b64-e1-bn-running')."""
    out = {}
    for r in rs.itertuples():
        every = f"{r.mean_all_pct:.1f} % over all {r.layers} layers"
        text = f"mean {every}" if r.paper_layers_at_threshold == "–" else (
            f"{r.paper_layers_at_threshold} of the paper's Table 3 layers at ≥ 85 %, mean "
            f"{r.mean_paper_layers_pct:.1f} % over them ({every})")
        proto = "" if r.protocol == "default" else \
            "-" + "-".join(r.protocol.replace("=", "-").split(","))
        out[f"{r.model}-b{r.batch_size}-e{r.trained_epochs}{proto}"] = text
    return out


def coverage(g: pd.DataFrame) -> pd.DataFrame:
    """Per factor of the protocol preset's capture configurations: planned and committed (the
    preset's expansion imports the configuration and its stages)."""
    from .. import presets
    data = {"source": g.data_source.iloc[0], "sha256": g.data_sha256.iloc[0]}
    return ps.coverage(presets.expand(presets.load("protocol"), data), set(g.config_id))


def coverage_facts(cov: pd.DataFrame) -> dict[str, str]:
    """Configurations planned and committed, and the factors still missing some (with how many)."""
    todo = cov[cov.committed < cov.planned]
    missing = "; ".join(f"{r.factor} ({r.planned - r.committed})" for r in todo.itertuples())
    return {"n-planned": f"{cov.planned.sum()}", "n-committed": f"{cov.committed.sum()}",
            "not-committed": missing or "none"}


def show_coverage(cov: pd.DataFrame) -> None:
    show(headed_table_html(cov, "protocol_coverage", "Protocol study: capture configurations "
                           "planned by the preset and committed, per factor."))


def show_effects(eff: pd.DataFrame) -> None:
    show(headed_table_html(ps.factor_summary(eff), "protocol_effects",
                           "Effect of each factor on AlexNet's % Gaussian (point masses counted "
                           "Gaussian, 200 minibatches), against the baseline; sorted by mean |Δ|."))


def show_bn_effects(g: pd.DataFrame) -> None:
    """AlexNet-BN's factors against its own baseline, or a line saying none is committed."""
    if "alexnet_bn" not in set(g.model):
        print("no AlexNet-BN capture committed yet")
        return
    show(headed_table_html(ps.factor_summary(ps.effects(g, "alexnet_bn")), "protocol_effects_bn",
                           "AlexNet-BN: effect of BatchNorm running statistics during capture "
                           "against AlexNet-BN's baseline (batch statistics)."))


def show_effect_grid(eff: pd.DataFrame) -> None:
    show(effect_grid_html(*ps.effect_grid(eff), "protocol_grid",
                          "Δ pp ± 95 % half-width per factor, layer and batch size "
                          "(AlexNet, 200 minibatches)."))


def show_distances(dist: pd.DataFrame) -> None:
    show(headed_table_html(dist, "protocol_distance",
                           "Mean |ours − paper| (pp) over Table 1's cells per protocol, and the "
                           "baseline's on the same cells."))


def architectures(g: pd.DataFrame) -> tuple[dict[str, str], pd.DataFrame]:
    """Both pre-declared measures per AlexNet architecture (`architecture_measures`) and the glued
    facts: the variants without rows, the baseline's seed spread and its number of seeds."""
    arch = architecture_measures.architectures(g)
    missing = [v for v in ps.VARIANTS["alexnet"] if v not in set(arch.architecture)]
    return {"arch-missing": ", ".join(missing) or "none",
            "arch-seed-spread": f"{arch.attrs['seed_spread']:.2f}",
            "arch-seeds": str(arch.attrs["seeds"])}, arch


def show_architectures(arch: pd.DataFrame) -> None:
    show(html_table(arch.round(2), "architectures",
                    "Both pre-declared measures per architecture (15 epochs, 200 minibatches, "
                    "batch 64-512): distance (pp) and slope error (pp per doubling) on its "
                    "corresponding layers, and the judgement against the baseline.",
                    text_columns=("architecture", "judgement")))


def show_resnet_states(rs: pd.DataFrame) -> None:
    """The ResNets by batch size, training state and capture protocol, or a line saying none."""
    if not len(rs):
        print("no ResNet capture committed yet")
        return
    show(headed_table_html(rs, "protocol_resnets", "ResNets by batch size, training state and "
                           "capture protocol (point masses counted Gaussian)."))


def cpu_epoch_seconds() -> pd.Series:
    """Seconds per training epoch of the cpu preset's AlexNets (2 cores), from its training rows."""
    tr = reader.read_table("cpu", "training")
    run = tr.groupby("model").agg(wall_s=("wall_s", "first"), epochs=("epochs", "first"))
    return (run.wall_s / run.epochs).loc[["alexnet", "alexnet_bn"]]


def epoch_facts(per_epoch: pd.Series) -> dict[str, str]:
    """Seconds per epoch and hours for the paper's 300 epochs, AlexNet and AlexNet-BN."""
    return {"cpu-epoch-s": " and ".join(f"{v:.1f}" for v in per_epoch),
            "cpu-300-h": " and ".join(f"{PAPER_EPOCHS * v / 3600:.1f}" for v in per_epoch)}


# ------------------------------------------------------- counting, precision and inputs (recount)

RULE_NAMES = {"as_captured": "the paper's rule", "near_constant": "≥ 95 % one value = point mass",
              "float16": "float16 gradients", "bfloat16": "bfloat16 gradients",
              "p_nan_accepted": "non-finite p accepted"}
INPUT_NAMES = {"train": "training images", "test": "test images",
               "train_common_std": "training images, common std"}


def counting(scale: str = "cpu-300") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cell changes, effects) of the scale's recount (`sgnlib.counting_rules`)."""
    changes = counting_rules.cell_changes(reader.read_table(scale, "recount"))
    return changes, counting_rules.effects(changes)


def counting_facts(changes: pd.DataFrame, eff: pd.DataFrame) -> dict[str, str]:
    """Glued numbers of the recount section."""
    e = eff.set_index(["inputs", "variant"])
    test = e.loc[("test", "as_captured")]
    train = changes[(changes.inputs == "train") & (changes.variant == "as_captured")]
    on_test = changes[(changes.inputs == "test") & (changes.variant == "as_captured")]
    rules = e.loc["train"]
    l1 = on_test[(on_test.layer == "Layer 1") & (on_test.batch_size == 128)].iloc[0]
    common_std = e.loc[("train_common_std", "as_captured")]
    return {"count-gap": f"{test.mean_gap:.1f}", "count-cells": f"{int(test.cells)}",
            "count-rule-max": f"{rules.max_layer_change.abs().max():.1f}",
            "count-rule-closed": f"{100 * rules.share_closed.max():.0f}",
            "count-std-closed": f"{100 * common_std.share_closed:.0f}",
            "count-test-closed": f"{100 * test.share_closed:.0f}",
            "count-test-distance": f"{(on_test.value - on_test.paper).abs().mean():.1f}",
            "count-train-distance": f"{(train.value - train.paper).abs().mean():.1f}",
            "count-test-l1": f"{l1.value:.1f}", "count-train-l1": f"{l1.baseline:.1f}",
            "count-paper-l1": f"{l1.paper:.2f}"}


def show_counting(eff: pd.DataFrame) -> None:
    t = eff.assign(inputs=eff.inputs.map(INPUT_NAMES), rule=eff.variant.map(RULE_NAMES),
                   closed=(100 * eff.share_closed).round(0))
    t = t[["inputs", "rule", "cells", "mean_change", "closed", "max_layer_change", "layer",
           "judgement"]].rename(columns={"mean_change": "mean Δ (pp)", "closed": "% of gap closed",
                                         "max_layer_change": "largest layer Δ (pp)"})
    show(html_table(t.round(2), "counting", "Each counting rule and input against the paper's "
                    "rule on the training images (AlexNet, epoch 300 of the paper's recipe, batch "
                    "64–512, 200 minibatches); judgement as fixed before the results",
                    text_columns=("inputs", "rule", "layer", "judgement")))


def show_inputs_cells(changes: pd.DataFrame) -> None:
    c = changes[changes.variant == "as_captured"]
    base = c[c.inputs == "train"].assign(inputs="paper", value=lambda d: d.paper)
    t = pd.concat([c, base]).assign(inputs=lambda d: d.inputs.map({**INPUT_NAMES,
                                                                   "paper": "paper"}))
    t = t.pivot_table(index=["inputs", "batch_size"], columns="layer", values="value")
    t = t.reindex(["paper", *INPUT_NAMES.values()], level=0)
    show(html_table(t.round(1), "counting_inputs", "% Gaussian (the paper's rule) by inputs: "
                    "Table 1 beside our epoch-300 AlexNet captured from each set of images",
                    index=True))
