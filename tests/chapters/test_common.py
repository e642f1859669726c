"""sgnlib.chapters.common: results per scale, run captions, formatting, notes on missing results."""
import shlex

import pandas as pd

from sgnlib import reader
from sgnlib.chapters import common


def test_fmt_uses_a_true_minus_and_a_dash_for_missing():
    assert common.fmt(-1.25, 1) == "−1.2" and common.fmt(3, 2, sign=True) == "+3.00"
    assert common.fmt(None) == "–" and common.fmt(float("nan")) == "–"


def test_run_caption_names_device_epochs_repeats(grid):
    g = grid({("Layer 1", 64, 200): 90.0}, repeats=(0, 1, 2),
             device="cpu (x86_64, 2 cores, 2 threads)", epochs=15)
    c = common.run_caption(g, "cpu")
    assert c.startswith("cpu scale; cpu (x86_64, 2 cores, 2 threads); AlexNet trained 15 of the "
                        "paper's 300 epochs")
    assert "3 repeats" in c and "200 minibatches" in c
    assert common.run_caption(None, "gpu-short") == "gpu-short scale: no results"


def test_over_epochs_is_the_mean_over_repeats_per_checkpoint(grid):
    g = grid({("Layer 4", 128, 200): 10.0}, repeats=(0, 1))
    g = pd.concat([g, g.assign(checkpoint_epoch=5, gauss_pct_incl_degenerate=3.0)])
    s = common.over_epochs(g, "alexnet", "Layer 4")
    assert s.to_dict() == {5: 3.0, 30: 10.5}


def test_gaps_are_the_books_notes():
    assert set(common.GAPS) >= {"table2-cpu", "table4", "fig3b", "fig4b", "fig89-gpu-short",
                                "fig9-gpu-short"}
    md = common.GAPS["table4"].markdown()
    assert md.startswith("```{admonition} Missing: Table 4") and ":class: warning" in md
    assert md.endswith("```\n")


def test_gap_commands_parse_with_the_sweep_cli():
    from sgnlib import presets, sweep
    from sgnlib.paths import REPO_ROOT
    for key, gap in common.GAPS.items():
        argv = shlex.split(gap.command)
        lines = gap.command_lines()
        assert " ".join(" ".join(lines).split()) == gap.command and max(map(len, lines)) <= 68
        assert "Missing: " in gap.markdown() and lines[-1] in gap.markdown()
        if argv[:3] == ["python", "-m", "sgnlib.sweep"]:
            a = sweep._parser().parse_args(["run", *argv[3:]])
            yaml_preset = a.preset.endswith(".yaml")
            presets.load(str(REPO_ROOT / a.preset) if yaml_preset else a.preset)  # it exists
            assert yaml_preset or (a.stages and a.models), key


def test_results_reads_every_scale_with_its_own_protocol():
    r = common.results(["gpu-short", "cpu"], tables=("gaussianity", "examples"))
    assert r["gpu-short"]["gaussianity"] is not None and set(r) == {"gpu-short", "cpu"}
    assert r["gpu-short"]["examples"] is None and r["cpu"]["examples"] is not None
    raw = reader.read_table("cpu-300", "gaussianity")
    own = common.results(["cpu-300"])["cpu-300"]["gaussianity"]
    assert len(own) == len(reader.without_options(raw)) <= len(raw)
