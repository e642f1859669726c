"""The command line: every bad value is one line on stderr, exit status 2, before any compute, and
nothing is written (in-process calls of `sgnlib.sweep.main`, tiny preset, synthetic data)."""
import gzip

import pytest

from sgnlib import sweep
from sgnlib.paths import REPO_ROOT
from tests.conftest import needs_cifar

TINY = str(REPO_ROOT / "tests" / "presets" / "tiny.yaml")


def cli(tmp_path, *args, data="synthetic"):
    return ["--preset", TINY, "--data-source", data, "--runner", "inprocess", "--device", "cpu",
            "--results-dir", str(tmp_path / "res"), "--checkpoints", str(tmp_path / "ck"), *args]


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "--epochs: must be a positive integer, got 0"),
    (["--repeats", "0"], "--repeats: must be a positive integer, got 0"),
    (["--repeats", "-1"], "--repeats: must be a positive integer, got -1"),
    (["--epochs", "2.5"], "--epochs: must be a positive integer, got '2.5'"),
    (["--models", "alexnet-bn"], "--models 'alexnet-bn' matches nothing; this preset has alexnet"),
    (["--stages", "captur"], "--stages 'captur' matches nothing; this preset has capture, examples, moments, train"),
    (["--device", "gpu"], "unknown device 'gpu': use cuda, cuda:N, cpu or auto"),
    (["--shard", "4/4"], "--shard i/k needs 0 <= i < k"),
    (["--shard", "one"], "--shard must look like i/k"),
    (["--data-source", "imagenet"], "invalid choice: 'imagenet'"),
])
def test_bad_values_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
    code = None
    try:
        code = sweep.main(cli(tmp_path, *args))
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert len([line for line in err.splitlines() if line.startswith("error") or ": error:" in line]) == 1
    assert not (tmp_path / "res").exists() and not (tmp_path / "ck").exists()


def test_cuda_requested_where_there_is_none(tmp_path, capsys):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert sweep.main(cli(tmp_path, "--device", "cuda")) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_results_path_that_is_a_file(tmp_path, capsys):
    (tmp_path / "res").write_text("not a folder")
    assert sweep.main(cli(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and len(err.strip().splitlines()) == 1


def test_results_path_not_writable(tmp_path, capsys):
    import os
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    (tmp_path / "ro").mkdir(mode=0o500)
    assert sweep.main(cli(tmp_path, "--results-dir", str(tmp_path / "ro" / "res"))) == 2
    assert "not writable" in capsys.readouterr().err


def test_missing_sgn_data_is_said_not_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SGN_DATA", str(tmp_path / "nowhere"))
    assert sweep.main(cli(tmp_path, data="auto")) == 2
    err = capsys.readouterr().err
    assert "SGN_DATA" in err and "does not exist" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "res").exists()


def test_unknown_preset_lists_the_presets(tmp_path, capsys):
    assert sweep.main(cli(tmp_path, "--preset", "nope")[2:] + ["--preset", "nope"]) == 2
    names = sweep.presets.names()
    assert {"cpu", "cpu-300", "paper-recipe", "protocol", "smoke"} <= set(names)
    assert f"choose one of {', '.join(names)} or give" in capsys.readouterr().err


def test_dry_run_checks_checkpoints_and_lists_work(tmp_path, capsys):
    assert sweep.main(cli(tmp_path, "--dry-run")) == 0
    out = capsys.readouterr().out
    assert out.count("todo ") == 7 and "data: synthetic sha256" in out
    assert not (tmp_path / "res").exists()  # a dry run writes nothing
    assert sweep.main(cli(tmp_path, "--stages", "train")) == 0
    capsys.readouterr()
    assert sweep.main(cli(tmp_path, "--dry-run")) == 0
    assert capsys.readouterr().out.count("done ") == 1
    ck = next((tmp_path / "ck").rglob("*epoch001.pt"))
    ck.write_bytes(ck.read_bytes()[:500])  # a truncated checkpoint is found by the dry run
    assert sweep.main(cli(tmp_path, "--dry-run")) == 2
    err = capsys.readouterr().err
    assert "is unreadable" in err and str(ck) in err and len(err.strip().splitlines()) == 1


@needs_cifar
def test_other_data_source_is_not_already_done(tmp_path, capsys):
    assert sweep.main(cli(tmp_path, "--stages", "train")) == 0
    capsys.readouterr()
    assert sweep.main(cli(tmp_path, "--dry-run", data="auto")) == 0
    out = capsys.readouterr().out
    assert "done " not in out and out.count("todo ") == 7


def test_verify_merge_forget_commands(tmp_path, capsys):
    assert sweep.main(cli(tmp_path, "--stages", "train")) == 0
    folder = tmp_path / "res" / "tiny"
    assert sweep.main(["verify", str(folder)]) == 0
    assert "1 committed configurations" in capsys.readouterr().out
    assert sweep.main(["merge", str(folder), str(tmp_path / "copy")]) == 0
    assert "1 configuration(s) merged" in capsys.readouterr().out
    cid = next(iter(__import__("sgnlib.store").store.ResultStore(folder).done()))
    assert sweep.main(["forget", str(tmp_path / "copy"), cid]) == 0
    assert "1 configuration(s) removed" in capsys.readouterr().out
    table = folder / "training.csv.gz"
    table.write_bytes(gzip.compress(gzip.decompress(table.read_bytes()).replace(b"alexnet",
                                                                                b"alexnet_bn")))
    assert sweep.main(["verify", str(folder)]) == 2
    assert "differ from the ledger" in capsys.readouterr().err


def test_shard_parsing():
    assert sweep.parse_shard("1/4") == (1, 4) and sweep.parse_shard("") is None


def test_a_folder_with_orphan_rows_is_refused_before_any_compute(tmp_path, capsys):
    """A computed configuration would be refused at its commit (the store never deletes orphans)."""
    folder = tmp_path / "res" / "tiny"
    folder.mkdir(parents=True)
    (folder / "ledger.jsonl").write_text("")
    rows = gzip.compress(b"config_id,x\nlost,1\n")  # rows whose ledger line was cut
    (folder / "training.csv.gz").write_bytes(rows)
    assert sweep.main(cli(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "1 configuration(s) (1 rows in training; e.g. lost) have rows but no ledger line" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "ck").exists()
    assert (folder / "training.csv.gz").read_bytes() == rows


def test_a_table_under_another_file_name_is_named_not_ignored(tmp_path, capsys):
    """A plain training.csv (written by code that compressed fewer tables) is not silently unseen."""
    assert sweep.main(cli(tmp_path, "--stages", "train")) == 0
    folder = tmp_path / "res" / "tiny"
    (folder / "training.csv").write_bytes(gzip.decompress((folder / "training.csv.gz").read_bytes()))
    capsys.readouterr()
    assert sweep.main(["verify", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "gzip -n" in err and "training.csv is not read" in err
