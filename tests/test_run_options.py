"""The run options: one `RunOptions` value from the command line to the planner, executors and jobs;
the in-process runner by default (papermill one flag away); only the project's own errors are
one-line user errors, any other exception keeps its traceback."""
import dataclasses

import pytest

from sgnlib import executors, sweep
from sgnlib.config import ConfigError
from sgnlib.paths import REPO_ROOT
from sgnlib.run_options import RunOptions
from sgnlib.train import CheckpointMissingError
from tests.helpers import assert_same_rows, tables

TINY = str(REPO_ROOT / "tests" / "presets" / "tiny.yaml")


def cli(tmp_path, *args):
    return ["--preset", TINY, "--data-source", "synthetic", "--device", "cpu",
            "--results-dir", str(tmp_path / "res"), "--checkpoints", str(tmp_path / "ck"), *args]


def test_the_command_line_defaults_are_the_options_defaults_and_inprocess():
    ns = sweep._parser().parse_args(["run"])
    opts = RunOptions.from_namespace(ns)
    assert opts.runner == "inprocess" and RunOptions().runner == "inprocess"
    assert opts.replace(notebooks=None) == RunOptions()  # the notebook folder is the CLI's
    assert opts.notebooks == str(REPO_ROOT / "book" / "experiments")
    ns = sweep._parser().parse_args(["run", "--runner", "papermill", "--dry-run"])
    assert RunOptions.from_namespace(ns).runner == "papermill"


def test_executors_take_the_options():
    opts = RunOptions(executor="slurm", slurm_time=90, slurm_partition="gpu")
    p = executors.parameters(opts, "sgn-x")
    assert p["timeout_min"] == 90 and p["slurm_partition"] == "gpu" and p["gpus_per_node"] == 1
    assert executors.log_dir(dataclasses.replace(opts, log_dir="/tmp/logs")).as_posix() == "/tmp/logs"
    with pytest.raises(ConfigError, match="--jobs needs --executor local or slurm"):
        executors.check_options(RunOptions(jobs=2))


@pytest.mark.parametrize("bug", [ValueError("a bug"), FileNotFoundError("a bug"), KeyError("bug")])
def test_an_exception_that_is_not_the_projects_keeps_its_traceback(tmp_path, monkeypatch, bug):
    def planner(opts):
        raise bug
    monkeypatch.setattr(sweep, "plan", planner)
    with pytest.raises(type(bug)):
        sweep.main(cli(tmp_path, "--dry-run"))


def test_a_project_error_is_one_line(tmp_path, monkeypatch, capsys):
    def planner(opts):
        raise CheckpointMissingError("checkpoint X does not exist; train the model first")
    monkeypatch.setattr(sweep, "plan", planner)
    assert sweep.main(cli(tmp_path, "--dry-run")) == 2
    assert capsys.readouterr().err == "error: checkpoint X does not exist; train the model first\n"


def test_papermill_without_its_notebooks_is_one_line_before_anything(tmp_path, capsys):
    assert sweep.main(cli(tmp_path, "--runner", "papermill", "--notebooks", str(tmp_path))) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: notebook folder {tmp_path} lacks noise_capture.ipynb, train.ipynb")
    assert not (tmp_path / "res").exists()


def test_papermill_one_flag_away_gives_the_inprocess_rows(tmp_path, monkeypatch):
    pytest.importorskip("papermill")
    monkeypatch.setattr(sweep, "RUNS_DIR", tmp_path / "runs")
    assert sweep.main(cli(tmp_path / "a", "--stages", "train")) == 0
    assert not (tmp_path / "runs").exists()  # in-process: no notebook
    assert sweep.main(cli(tmp_path / "b", "--stages", "train", "--runner", "papermill")) == 0
    assert len(list((tmp_path / "runs" / "tiny").glob("*.ipynb"))) == 1
    assert_same_rows(tables(tmp_path / "a" / "res" / "tiny"), tables(tmp_path / "b" / "res" / "tiny"))
