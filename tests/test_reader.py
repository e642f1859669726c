"""sgnlib.reader: committed rows only, the final grid aggregated once, ours beside the paper's cells."""
import numpy as np
import pandas as pd
import pytest

from sgnlib import reader
from sgnlib.store import IntegrityError, ResultStore


def commit(folder, table, df):
    """Commit a hand-made table through the results store, one configuration per config_id."""
    store = ResultStore(folder)
    for cid, part in df.groupby("config_id", sort=False):
        store.commit({"config_id": cid}, {table: part}, cid)


def grid(values, n_batches=(200, 600)):
    """values[(layer, bs, nb)] -> % Gaussian; AlexNet at its final checkpoint."""
    rows = []
    for (layer, bs, nb), v in values.items():
        rows.append({"model": "alexnet", "stage": "capture", "epochs": 10, "checkpoint_epoch": 10, "layer": layer,
                     "batch_size": bs, "n_batches": nb, "repeat": 0, "gauss_pct_incl_degenerate": v,
                     "gauss_pct_excl_degenerate": v,
                     "degenerate_pct": 0.0, "config_id": f"{bs}-{nb}"})
    return pd.DataFrame(rows)


def test_ours_vs_paper_joins_paper_table():
    vals = {("Layer 1", 128, 200): 93.0}
    t = reader.ours_vs_paper(grid(vals), "alexnet", 200)
    assert t.paper_mean.iloc[0] == pytest.approx(94.79) and t.ours_mean.iloc[0] == 93.0


def test_final_grid_mean_std_and_repeats_per_cell():
    g = pd.concat([grid({("Layer 1", 128, 200): v}).assign(repeat=i) for i, v in enumerate((90.0, 92.0, 97.0))])
    g = pd.concat([g, grid({("Layer 1", 128, 200): 10.0}).assign(checkpoint_epoch=5)])  # not final
    f = reader.final_grid(g, "alexnet")
    assert len(f) == 1 and f.repeats.iloc[0] == 3
    assert f.value.iloc[0] == pytest.approx(93.0) and f["std"].iloc[0] == pytest.approx(np.std([90, 92, 97], ddof=1))
    assert reader.final_grid(None, "alexnet").empty and list(reader.final_grid(None, "x").columns) == reader.GRID_COLUMNS


def test_layer_order_is_network_order():
    names = ["Final Layer", "Block 2 Layer 1", "Layer 10", "Block 1 Layer 3", "First Layer", "Layer 2"]
    assert reader.layer_order(names) == ["First Layer", "Layer 2", "Layer 10", "Block 1 Layer 3",
                                         "Block 2 Layer 1", "Final Layer"]


def test_read_table_shows_committed_rows_and_refuses_edited_tables(tmp_path):
    ex = pd.DataFrame({"config_id": ["a"] * 4, "layer": ["L"] * 4, "dim": [1, 1, 2, 2], "sample": [0, 1, 0, 1],
                       "noise": [0.1, 0.2, 0.3, 0.4]})
    commit(tmp_path / "s", "examples", ex)
    path = ResultStore(tmp_path / "s").path("examples")
    leftover = pd.concat([pd.read_csv(path), ex.assign(config_id="killed")])  # rows of a commit that never finished
    leftover.to_csv(path, index=False)
    assert reader.read_table("s", "examples", tmp_path).noise.tolist() == [0.1, 0.2, 0.3, 0.4]
    leftover.assign(noise=leftover.noise * 2).to_csv(path, index=False)  # edited by hand
    with pytest.raises(IntegrityError, match="examples.csv.gz: 1 configuration"):
        reader.read_table("s", "examples", tmp_path)


def test_final_grid_leaves_out_configurations_with_capture_or_training_options():
    plain = grid({("Layer 1", 128, 200): 10.0})
    augmented = plain.assign(protocol='{"augment": true}', gauss_pct_incl_degenerate=90.0, config_id="aug")
    lr = plain.assign(recipe='{"lr": 0.01}', gauss_pct_incl_degenerate=70.0, config_id="lr")
    g = pd.concat([plain.assign(protocol=None, recipe=""), augmented, lr], ignore_index=True)
    assert reader.final_grid(g, "alexnet").value.tolist() == [10.0]
    assert len(reader.final_rows(g, "alexnet")) == 1 and len(reader.without_options(g)) == 1
