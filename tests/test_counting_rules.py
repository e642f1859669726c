"""`sgnlib.counting_rules`: changes against the baseline and the fixed judgement, on a hand-made
recount table whose answers are known."""
import json

import pandas as pd
import pytest

from sgnlib import counting_rules as cr


def _rows(inputs, variant, values):
    proto = "" if inputs == "train" else json.dumps({"inputs": inputs})
    return [{"model": "alexnet", "n_batches": 200, "epochs": 300, "checkpoint_epoch": 300,
             "protocol": proto, "variant": variant, "layer": layer, "batch_size": b,
             "gauss_pct_incl_degenerate": v}
            for (layer, b), v in values.items()]


PAPER = pd.DataFrame({"model": "alexnet", "n_batches": 200, "layer": ["Layer 1", "Layer 1",
                      "Layer 2", "Layer 2"], "batch_size": [64, 128, 64, 128],
                      "gauss_pct_mean": [90.0, 95.0, 80.0, 85.0], "gauss_pct_std": 1.0,
                      "weight_size": 10, "table": 1})
BASE = {("Layer 1", 64): 10.0, ("Layer 1", 128): 15.0, ("Layer 2", 64): 20.0,
        ("Layer 2", 128): 25.0}


@pytest.fixture
def changes():
    rows = (_rows("train", "as_captured", BASE)
            + _rows("train", "near_constant", {k: v + 40 for k, v in BASE.items()})
            + _rows("train", "float16", {k: v + (3 if k[0] == "Layer 2" else 0)
                                         for k, v in BASE.items()})
            + _rows("test", "as_captured", {k: v + 0.5 for k, v in BASE.items()}))
    return cr.cell_changes(pd.DataFrame(rows), paper=PAPER)


def test_cell_changes_against_hand_computed(changes):
    c = changes.set_index(["inputs", "variant", "layer", "batch_size"])
    assert c.loc[("train", "near_constant", "Layer 1", 64)].change == 40
    assert c.loc[("train", "near_constant", "Layer 1", 64)].gap == 80
    assert c.loc[("test", "as_captured", "Layer 2", 128)].change == 0.5
    assert len(changes) == 16


def test_judgements(changes):
    e = cr.effects(changes).set_index(["inputs", "variant"])
    assert len(e) == 3  # the baseline is not judged
    mean_gap = (80 + 80 + 60 + 60) / 4
    assert e.loc[("train", "near_constant")].mean_gap == mean_gap
    assert e.loc[("train", "near_constant")].share_closed == pytest.approx(40 / mean_gap)
    assert e.loc[("train", "near_constant")].judgement == "explains the gap"
    assert e.loc[("train", "float16")].judgement == "a factor"
    assert e.loc[("train", "float16")].layer == "Layer 2"
    assert e.loc[("train", "float16")].max_layer_change == 3
    assert e.loc[("test", "as_captured")].judgement == "no effect"


def test_judge_boundaries():
    assert cr.judge(35.0, 70.0, 35.0) == "explains the gap"
    assert cr.judge(34.9, 70.0, 2.0) == "no effect"
    assert cr.judge(-5.0, 70.0, -2.1) == "a factor"


def test_protocol_chapter_quotes_the_committed_recount():
    """The glued Layer-1 numbers equal the committed rows read with pandas alone."""
    import gzip
    from pathlib import Path

    from sgnlib.chapters import protocol as chapter
    from sgnlib.paths import RESULTS_DIR
    path = Path(RESULTS_DIR) / "cpu-300" / "recount.csv.gz"
    if not path.exists():
        pytest.skip("no committed recount")
    raw = pd.read_csv(gzip.open(path))
    cell = raw[(raw.layer == "Layer 1") & (raw.batch_size == 128) & (raw.variant == "as_captured")]
    test = cell[cell.protocol.astype(str).str.contains('"test"')].gauss_pct_incl_degenerate
    train = cell[cell.protocol.isna()].gauss_pct_incl_degenerate
    facts = chapter.counting_facts(*chapter.counting())
    assert facts["count-test-l1"] == f"{test.mean():.1f}"
    assert facts["count-train-l1"] == f"{train.mean():.1f}"
    assert facts["count-cells"] == "24"
