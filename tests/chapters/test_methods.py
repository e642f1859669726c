"""sgnlib.chapters.methods: provenance and schedules generated from the rows."""
from sgnlib.chapters import methods as chapter
from sgnlib.chapters.html import provenance_html
from sgnlib.store import ResultStore

from .rows import csv


def test_provenance_is_generated_from_the_rows(tmp_path, grid):
    g = grid({("Layer 1", 64, 200): 90.0, ("Layer 1", 128, 200): 91.0}, repeats=(0, 1))
    store = ResultStore(tmp_path / "s")
    for cid, part in g.groupby("config_id", sort=False):
        store.commit({"config_id": cid}, {"gaussianity": part}, cid)
    p = chapter.provenance(["s", "missing"], tmp_path)
    assert len(p) == 1
    row = p.iloc[0]
    assert (row.scale, row.tables, row.model, row.epochs) == ("s", "gaussianity", "AlexNet", "30")
    assert row.device == "NVIDIA H200, torch 2.11.0"
    assert (row.repeats, row.configs, row.commit, row.date) == ("2", 4, "10285715", "2026-11-26")
    for cid, part in g.groupby("config_id", sort=False):     # a second table, other configurations
        store.commit({"config_id": cid + "-t"}, {"tail_index": part.assign(config_id=cid + "-t")},
                     cid + "-t")
    p = chapter.provenance(["s"], tmp_path)
    assert list(p.tables) == ["gaussianity", "tail_index"]
    assert "T_prov" in provenance_html(p, "prov")


def test_schedules_list_the_epochs_where_the_committed_lr_fell():
    s = chapter.schedules(["cpu-300"]).set_index(["scale", "model"])
    tr = csv("cpu-300", "training")
    d = tr[tr.model == "alexnet"].sort_values("epoch")
    falls = [int(e) for e, a, b in zip(d.epoch.iloc[1:], d.lr.iloc[:-1], d.lr.iloc[1:]) if b < a]
    assert s.loc[("cpu-300", "AlexNet"), "lr falls in epoch"] == ", ".join(map(str, falls))
    assert s.loc[("the paper", "all"), "lr falls in epoch"] == "151, 226"
