"""Sweep: validation before anything runs, resume, shards and merge (smoke preset, synthetic data)."""
import pandas as pd
import pytest

from sgnlib import sweep


def test_invalid_values_fail_before_running(tmp_path):
    bad = [{"stage": "capture", "model": "alexnet", "epochs": 1, "checkpoint_epoch": 1, "batch_size": 0,
            "n_batches": 10, "repeat": 0, "seed": 0}]
    with pytest.raises(ValueError, match="batch_size must be positive"):
        sweep.validate(bad, tmp_path)
    bad[0].update(batch_size=8, n_batches=2)
    with pytest.raises(ValueError, match=r"3\.\.5000"):
        sweep.validate(bad, tmp_path)
    bad[0].update(n_batches=10, model="vgg")
    with pytest.raises(ValueError, match="valid names"):
        sweep.validate(bad, tmp_path)
    bad[0].update(model="alexnet")
    with pytest.raises(ValueError, match="missing checkpoint"):
        sweep.validate(bad, tmp_path)
    assert sweep.main(["--preset", "nope", "--dry-run"]) == 2


def test_shard_parsing():
    assert sweep.parse_shard("1/4") == (1, 4)
    with pytest.raises(ValueError):
        sweep.parse_shard("4/4")


def test_smoke_sweep_resumes_and_merges(tmp_path):
    cfgs = sweep.preset("smoke")
    kw = dict(runner="inprocess", device="cpu", data_source="synthetic", checkpoint_dir=tmp_path / "ck",
              results_dir=tmp_path / "res", progress=False, log=lambda *_: None)
    # two shards; train is configuration 0, so shard 0 owns it; shard 1 needs its checkpoint
    ran0 = sweep.sweep(cfgs, "smoke", (0, 2), **kw)
    ran1 = sweep.sweep(cfgs, "smoke", (1, 2), **kw)
    assert len(ran0) + len(ran1) == len(cfgs)
    assert sweep.sweep(cfgs, "smoke", (0, 2), **kw) == []  # finished configurations are skipped
    merged = sweep.merge("smoke", tmp_path / "res")
    g = pd.read_csv(tmp_path / "res" / "smoke" / "gaussianity.csv")
    assert merged["gaussianity"] == len(g) and g.config_id.nunique() == 4
    for col in ("git_commit", "date", "device", "torch_version", "data_source", "batch_size", "wall_s"):
        assert col in g.columns
    assert (g.data_source == "synthetic").all()
    be = pd.read_csv(tmp_path / "res" / "smoke" / "berry_esseen.csv")
    assert set(be.layer) == {f"Layer {i}" for i in range(1, 7)}
    assert ((be.frac_ks_below_bound >= 0) & (be.frac_ks_below_bound <= 1)).all()
    ex = pd.read_csv(tmp_path / "res" / "smoke" / "examples.csv.gz")
    assert set(ex.layer) <= {"Layer 1", "Layer 4"} and (ex.groupby(["layer", "dim"]).size() == 20).all()
    assert ((ex.kind == "gaussian") == (ex.p >= 0.05)).all()
    # deterministic on CPU: rerunning a capture configuration gives identical numbers
    cap = [c for c in cfgs if c["stage"] == "capture"][0]
    a = sweep.run_config(cap, "cpu", "synthetic", tmp_path / "ck")["gaussianity"]
    b = sweep.run_config(cap, "cpu", "synthetic", tmp_path / "ck")["gaussianity"]
    assert a.gauss_pct_paper.tolist() == b.gauss_pct_paper.tolist()
