"""sgnlib.tables: the book's tables on small hand-made results (comparison, provenance, spines, HTML)."""
import shlex

import numpy as np
import pandas as pd
import pytest

from sgnlib import moments_tables, report, tables
from sgnlib.store import ResultStore


def grid(values, model="alexnet", repeats=(0,), device="NVIDIA H200", epochs=30):
    """values[(layer, bs, nb)] -> % Gaussian at the final checkpoint; repeat r adds r."""
    rows = []
    for (layer, bs, nb), v in values.items():
        for r in repeats:
            rows.append({"model": model, "stage": "capture", "epochs": epochs, "checkpoint_epoch": epochs,
                         "layer": layer, "batch_size": bs, "n_batches": nb, "repeat": r,
                         "gauss_pct_incl_degenerate": v + r, "gauss_pct_excl_degenerate": v + r - 1, "degenerate_pct": 1.0,
                         "config_id": f"{model}-{bs}-{nb}-{r}", "device": device,
                         "git_commit": "1028571528b7c4c9ae29eb4c54f0ea2477f0b057", "date": "2026-11-26T15:03:56+00:00",
                         "torch_version": "2.11.0"})
    return pd.DataFrame(rows)


def test_comparison_delta_and_exceeds():
    # paper Layer 1 at 128/200: 94.79 ± 0.21; Layer 4 at 128/200: 15.68 ± 0.09
    g = grid({("Layer 1", 128, 200): 94.7, ("Layer 4", 128, 200): 10.0}, repeats=(0, 1))
    t = tables.comparison(g, "alexnet", 200).set_index("layer")
    assert t.loc["Layer 4", "ours_mean"] == pytest.approx(10.5)
    assert t.loc["Layer 4", "ours_std"] == pytest.approx(np.std([10, 11], ddof=1))
    assert t.loc["Layer 4", "delta_pp"] == pytest.approx(10.5 - 15.68)
    assert bool(t.loc["Layer 4", "exceeds"])           # |-5.18| > 0.09 and > 0.71
    assert not bool(t.loc["Layer 1", "exceeds"])       # |0.41| < ours std 0.71
    assert t.loc["Layer 1", "excl_degenerate"] == pytest.approx(94.2)
    assert list(t.repeats) == [2, 2]


def test_comparison_with_one_repeat_compares_with_the_paper_std_only():
    g = grid({("Layer 1", 128, 200): 95.5})
    t = tables.comparison(g, "alexnet", 200)
    assert np.isnan(t.ours_std.iloc[0]) and bool(t.exceeds.iloc[0])  # |0.71| > paper std 0.21
    g = grid({("Layer 1", 128, 200): 94.9})
    assert not bool(tables.comparison(g, "alexnet", 200).exceeds.iloc[0])


def test_comparison_none_without_rows_and_paper_layers_filter():
    g = grid({("Layer 1", 128, 200): 90.0})
    assert tables.comparison(g, "alexnet", 600) is None
    assert tables.comparison(None, "alexnet", 200) is None
    rs = grid({(layer, 64, 200): 90.0 for layer in ("First Layer", "Block 1 Layer 1", "Block 1 Layer 2",
                                                    "Block 3 Layer 18", "Final Layer")}, model="resnet56")
    t = tables.comparison(rs, "resnet56", 200, layers="paper")
    assert list(t.layer) == ["First Layer", "Block 1 Layer 1", "Block 3 Layer 18", "Final Layer"]
    assert len(tables.comparison(rs, "resnet56", 200)) == 5


def test_comparison_html_colours_delta_by_sign_and_size():
    g = grid({("Layer 1", 128, 200): 96.0, ("Layer 4", 128, 200): 10.0})
    t = tables.comparison(g, "alexnet", 200)
    h = tables.comparison_html(t, "t1", tables.comparison_caption(1, "alexnet", 200, "gpu-short", g))
    assert f"background:{tables.ABOVE};color:white" in h    # +1.2 > 0.21: ours above, beyond the stds
    assert f"background:{tables.BELOW};color:white" in h    # -5.7
    assert "−5.7" in h and "+1.2" in h and 'id="T_t1"' in h
    assert "NVIDIA H200" in h and "30 of the paper&#x27;s 300 epochs" in h and "1 repeat;" in h


def test_gaps_are_the_books_notes(tmp_path):
    assert set(tables.GAPS) >= {"table2-cpu", "table4", "fig3b", "fig4b", "fig89-gpu-short", "fig9-gpu-short"}
    md = report.GAPS["table4"].markdown()
    assert md.startswith("```{admonition} Missing: Table 4") and ":class: warning" in md and md.endswith("```\n")


def test_html_table_escapes_and_spans_repeated_index():
    df = pd.DataFrame({"a": ["<b>", "x"]}, index=pd.MultiIndex.from_tuples([("L1", 1), ("L1", 2)], names=["l", "b"]))
    h = tables.html_table(df, "u", "cap & more", index=True)
    assert "&lt;b&gt;" in h and "cap &amp; more" in h
    assert h.count(">L1<") == 1  # the repeated outer level is printed once


def test_run_caption_names_device_epochs_repeats():
    g = grid({("Layer 1", 64, 200): 90.0}, repeats=(0, 1, 2), device="cpu (x86_64, 2 cores, 2 threads)", epochs=15)
    c = tables.run_caption(g, "cpu")
    assert c.startswith("cpu scale; cpu (x86_64, 2 cores, 2 threads); AlexNet trained 15 of the paper's 300 epochs")
    assert "3 repeats" in c and "200 minibatches" in c
    assert tables.run_caption(None, "gpu-short") == "gpu-short scale: no results"


def test_provenance_is_generated_from_the_rows(tmp_path):
    g = grid({("Layer 1", 64, 200): 90.0, ("Layer 1", 128, 200): 91.0}, repeats=(0, 1))
    store = ResultStore(tmp_path / "s")
    for cid, part in g.groupby("config_id", sort=False):
        store.commit({"config_id": cid}, {"gaussianity": part}, cid)
    p = tables.provenance(["s", "missing"], tmp_path)
    assert len(p) == 1
    row = p.iloc[0]
    assert (row.scale, row.tables, row.model, row.epochs) == ("s", "gaussianity", "AlexNet", "30")
    assert row.device == "NVIDIA H200, torch 2.11.0"
    assert row.repeats == "2" and row.configs == 4 and row.commit == "10285715" and row.date == "2026-11-26"
    for cid, part in g.groupby("config_id", sort=False):     # a second table of the same configurations
        store.commit({"config_id": cid + "-t"}, {"tail_index": part.assign(config_id=cid + "-t")}, cid + "-t")
    p = tables.provenance(["s"], tmp_path)
    assert list(p.tables) == ["gaussianity", "tail_index"]      # different configurations: two rows
    assert "T_prov" in tables.provenance_html(p, "prov")


def test_fig5_spines_read_the_quantile_at_the_gaussian_fraction():
    m = pd.DataFrame({"model": "alexnet", "layer": "Layer 4", "bin_lo": [1.0, 2.0, 4.0, 8.0],
                      "bin_hi": [2.0, 4.0, 8.0, 16.0], "count": [10, 20, 30, 40]})   # cdf 0.1 0.3 0.6 1.0
    g = grid({("Layer 4", 64, 200): 5.0, ("Layer 4", 2048, 200): 50.0})
    s = moments_tables.fig5_spines(m, g, "alexnet", "Layer 4")
    assert list(s.batch_size) == [64, 2048]
    assert list(s.ratio) == [2.0, 8.0]                     # 5 % -> first bin, 50 % -> third
    assert s.paper_frac.tolist() == pytest.approx([0.0537, 0.7372])
    assert list(s.paper_ratio) == [2.0, 16.0]


def test_berry_esseen_table_pairs_distance_and_bound():
    be = pd.DataFrame({"layer": ["Layer 2", "Layer 1", "Layer 1"], "batch_size": [64, 128, 64],
                       "ks_q50": [0.1, 0.04, 0.05], "bound_q50": [0.7, 0.15, 0.2]})
    t = moments_tables.berry_esseen_table(be)
    assert list(t.index) == [("Layer 1", "distance"), ("Layer 1", "bound"), ("Layer 2", "distance"),
                             ("Layer 2", "bound")]
    assert t.loc[("Layer 1", "bound"), "batch 128"] == "0.150"


def test_notebook_parameters_read_every_parameter_and_its_comment():
    from sgnlib.paths import REPO_ROOT
    for nb in ("train", "noise_capture"):
        p = tables.notebook_parameters(REPO_ROOT / "book" / "experiments" / f"{nb}.ipynb").set_index("parameter")
        assert {"model", "epochs", "seed", "subset", "device", "config", "output_dir"} <= set(p.index)
        assert (p.meaning != "").all(), p[p.meaning == ""]


def test_gap_commands_parse_with_the_sweep_cli():
    from sgnlib import sweep
    for key, gap in tables.GAPS.items():
        argv = shlex.split(gap.command)
        lines = gap.command_lines()
        assert " ".join(" ".join(lines).split()) == gap.command and max(map(len, lines)) <= 68
        assert "Missing: " in gap.markdown() and lines[-1] in gap.markdown()
        if argv[:3] == ["python", "-m", "sgnlib.sweep"]:
            a = sweep._parser().parse_args(["run", *argv[3:]])
            from sgnlib import presets
            from sgnlib.paths import REPO_ROOT
            presets.load(str(REPO_ROOT / a.preset) if a.preset.endswith(".yaml") else a.preset)  # it exists
            assert a.preset.endswith(".yaml") or (a.stages and a.models), key


def test_results_reads_every_scale():
    r = tables.results(["gpu-short", "cpu"], tables=("gaussianity", "examples"))
    assert r["gpu-short"]["gaussianity"] is not None and set(r) == {"gpu-short", "cpu"}
    assert r["gpu-short"]["examples"] is None and r["cpu"]["examples"] is not None   # the gaps the book marks


def test_facts_quoted_by_the_chapters():
    g = grid({(l, bs, nb): v + bs / 64 for (l, v) in (("Layer 1", 90.0), ("Layer 4", 5.0))
              for bs in (64, 128, 2048) for nb in (200, 600)})
    g = pd.concat([g, g[g.batch_size == 128].assign(checkpoint_epoch=1, gauss_pct_incl_degenerate=30.0)])
    t1, t2 = tables.comparison(g, "alexnet", 200), tables.comparison(g, "alexnet", 600)
    f = report.alexnet_facts(g, t1, t2, t1)
    assert f["t1-l4-64"] == "6.0" and f["t1-l4-2048-paper"] == "73.72" and f["l4-128-paper"] == "15.68"
    assert (f["l4-first-epoch"], f["l4-first"], f["l4-last-epoch"], f["l4-last"]) == ("1", "30.0", "30", "7.0")
    assert f["lower-600"] == "0" and f["lower-600-n"] == "6" and f["t1-cells"] == "6"
    assert int(f["t1-below"]) + int(f["t1-above"]) + int(f["t1-within"]) == 6
    fx = report.alexnet_facts(g, t1, t2, t1, t1x=t1)
    assert fx["t1x-l4-2048"] == "37.0" and fx["t1x-l1-64"] == "91.0" and fx["t1x-cells"] == "6"
    assert "t1x-cells" not in f


def test_discrepancies_html_has_one_row_per_finding():
    assert len(report.paper_discrepancies()) == tables.discrepancies_html(report.paper_discrepancies()).count("<tr>") - 1
