import importlib.util
from pathlib import Path

import pytest
import torch

spec = importlib.util.spec_from_file_location(
    "resume_checkpoint", Path(__file__).resolve().parent.parent / "scripts" / "resume_checkpoint.py")
rc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rc)


def fake_run(folder: Path, epochs, final):
    folder.mkdir(parents=True)
    for e in epochs:
        torch.save({"epoch": e, "optimizer": None if e == final else {"state": e}},
                   folder / f"alexnet-seed0-epoch{e:03d}.pt")


def test_save_keeps_one_newest_file_and_restore_puts_it_back(tmp_path):
    run = tmp_path / "ck" / "alexnet-e300-run"
    fake_run(run, [10, 20, 100], final=300)
    kept = tmp_path / "resume"
    assert rc.save(run, kept).name == "alexnet-seed0-epoch100.pt"
    torch.save({"epoch": 110, "optimizer": {"state": 110}}, run / "alexnet-seed0-epoch110.pt")
    rc.save(run, kept)
    assert [p.name for p in (kept / run.name).glob("*.pt")] == ["alexnet-seed0-epoch110.pt"]
    new_ck = tmp_path / "new-machine"
    restored = rc.restore(kept, new_ck)
    assert restored == [new_ck / run.name / "alexnet-seed0-epoch110.pt"]
    assert torch.load(restored[0], weights_only=True)["epoch"] == 110
    rc.done(run.name, kept)
    assert not (kept / run.name).exists()


def test_an_empty_run_folder_is_an_error(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(SystemExit, match="holds no checkpoint"):
        rc.save(tmp_path / "run", tmp_path / "resume")
