"""The engine as a user runs it: real `python -m sgnlib.sweep` subprocesses on a seconds-long
preset, SIGKILLed at chosen points, run twice at once, split into shards started together (their
merge calls the same command in this process); every outcome is compared row by row with one
uninterrupted run (values, not timing or date columns).

Every subprocess runs with one torch thread (`ENV`): rows compare exactly only between runs with the
same thread count (float reductions, hence a few histogram counts, depend on it), and two sweeps
started together on a 2-core machine would otherwise run four threads that wait on each other."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from sgnlib import presets, sweep
from sgnlib.config import Config
from sgnlib.data import identify
from sgnlib.engine import EngineError, Sweep, producer, validate
from sgnlib.paths import REPO_ROOT
from sgnlib.stages import Context
from sgnlib.store import ResultStore
from sgnlib.train import CheckpointError, checkpoint_path
from tests.helpers import assert_same_rows, tables

TINY = REPO_ROOT / "tests" / "presets" / "tiny.yaml"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def sweep_cmd(tmp, *extra):
    return [sys.executable, "-m", "sgnlib.sweep", "--preset", str(TINY), "--data-source", "synthetic",
            "--runner", "inprocess", "--device", "cpu", "--results-dir", str(tmp / "res"),
            "--checkpoints", str(tmp / "ck"), *extra]


def run(tmp, *extra, env=None, check=True):
    r = subprocess.run(sweep_cmd(tmp, *extra), cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                       env={**ENV, **(env or {})})
    if check:
        assert r.returncode == 0, r.stderr[-3000:]
    return r


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reference")
    run(tmp)
    return tables(tmp / "res" / "tiny")


def test_reference_run_is_complete(reference):
    assert set(reference) == {"training", "gaussianity", "tail_index", "moments", "examples"}
    assert reference["gaussianity"].config_id.nunique() == 4
    assert set(reference["gaussianity"].layer) == {"Layer 1", "Layer 6"}


@pytest.mark.parametrize("point", ["before-commit", "between-tables:1", "between-tables:2", "before-ledger:3",
                                   "mid-ledger:2", "after-ledger:4"])
def test_sigkill_at_any_commit_point_then_rerun_gives_the_same_rows(tmp_path, reference, point):
    killed = run(tmp_path, env={"SGN_FAULT": point}, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    ResultStore(tmp_path / "res" / "tiny").verify()  # what is committed is consistent right after the kill
    run(tmp_path)
    assert_same_rows(tables(tmp_path / "res" / "tiny"), reference)


def kill_when(tmp, ready, timeout: float = 300) -> int:
    """Start the sweep and SIGKILL it once `ready()` holds (polled every 20 ms): its exit status."""
    p = subprocess.Popen(sweep_cmd(tmp), cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=ENV)
    end = time.monotonic() + timeout
    while p.poll() is None and not ready() and time.monotonic() < end:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    return p.wait()


def ledger_lines(folder) -> int:
    path = folder / "ledger.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def test_sigkill_at_arbitrary_times_then_rerun(tmp_path, reference):
    """Killed wherever the work has got to, not at a commit point: once training has written its
    first checkpoint (mid-training), then, rerun, once three configurations are committed."""
    folder = tmp_path / "res" / "tiny"
    for ready in (lambda: any((tmp_path / "ck").rglob("*.pt")), lambda: ledger_lines(folder) >= 3):
        assert kill_when(tmp_path, ready) == -signal.SIGKILL  # killed before it finished
        ResultStore(folder).verify()
    run(tmp_path)
    assert_same_rows(tables(folder), reference)


def test_same_sweep_twice_at_once_neither_loses_nor_duplicates(tmp_path, reference):
    procs = [subprocess.Popen(sweep_cmd(tmp_path), cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=ENV) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    assert_same_rows(tables(tmp_path / "res" / "tiny"), reference)


def test_two_shards_started_at_once_share_one_folder(tmp_path, reference):
    """Shard 1 needs checkpoints that shard 0's train configuration writes: it waits or trains them itself."""
    procs = [subprocess.Popen(sweep_cmd(tmp_path, "--shard", f"{i}/2"), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=ENV) for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    assert_same_rows(tables(tmp_path / "res" / "tiny"), reference)
    again = run(tmp_path, "--shard", "1/2")  # rerun: nothing left to do
    assert "0 to run" in again.stdout + again.stderr


def test_shards_in_separate_folders_merge_idempotently(tmp_path, reference):
    for i in range(2):
        run(tmp_path, "--shard", f"{i}/2", "--results-dir", str(tmp_path / f"node{i}"))
    dest = tmp_path / "merged" / "tiny"
    for i in range(2):  # the merge command in this process: it computes nothing
        assert sweep.main(["merge", str(tmp_path / f"node{i}" / "tiny"), str(dest)]) == 0
    first = tables(dest)
    assert sweep.main(["merge", str(tmp_path / "node0" / "tiny"), str(dest)]) == 0
    assert_same_rows(tables(dest), first)  # merging again adds nothing
    assert_same_rows(first, reference)
    again = run(tmp_path, "--shard", "0/2", "--results-dir", str(tmp_path / "merged"))
    assert "0 to run" in again.stdout + again.stderr  # a shard rerun after merge skips what the merged table holds


# ---------------------------------------------------------------- in-process: checkpoints as identity


@pytest.fixture()
def tiny(tmp_path):
    cfgs = presets.expand(presets.load(str(TINY)), identify("train", "synthetic"))
    return cfgs, Context("cpu", tmp_path / "ck"), ResultStore(tmp_path / "res")


def test_other_data_source_is_a_different_configuration(tiny):
    cfgs, _, _ = tiny
    other = presets.expand(presets.load(str(TINY)), {"source": "jpeg-mirror", "sha256": "0" * 64})
    assert not {c.config_id for c in cfgs} & {c.config_id for c in other}
    assert cfgs[0].checkpoint_key() != other[0].checkpoint_key()


def test_checkpoint_of_another_model_is_refused_before_compute(tiny):
    cfgs, ctx, store = tiny
    Sweep(cfgs[:1], store, ctx, log=lambda *_: None).run()  # train alexnet
    cap = next(c for c in cfgs if c.stage == "capture")
    bn = Config.from_dict({**cap.to_dict(), "model": "alexnet_bn"})
    bn_train = Config.from_dict({**cfgs[0].to_dict(), "model": "alexnet_bn", "checkpoint_epochs": [1]})
    # an AlexNet-BN checkpoint copied to the AlexNet path
    from sgnlib.train import save_checkpoint
    good = torch.load(ctx.checkpoint_file(cap), weights_only=True)
    save_checkpoint(ctx.checkpoint_file(cap), {**good, "model": "alexnet_bn"})
    with pytest.raises(CheckpointError, match="model='alexnet_bn' but this run expects 'alexnet'"):
        validate([cap], ctx)
    assert producer(bn, [bn_train]) is bn_train and producer(cap, [bn_train]) is None


def test_truncated_checkpoint_is_one_line_error(tiny):
    cfgs, ctx, store = tiny
    Sweep(cfgs[:1], store, ctx, log=lambda *_: None).run()
    cap = next(c for c in cfgs if c.stage == "capture")
    path = ctx.checkpoint_file(cap)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="unreadable.*delete it and rerun") as e:
        validate([cap], ctx)
    assert "\n" not in str(e.value)


def test_missing_checkpoint_without_producer_fails_validation(tiny):
    cfgs, ctx, _ = tiny
    cap = next(c for c in cfgs if c.stage == "capture")
    with pytest.raises(EngineError, match="no train configuration in this sweep writes it"):
        validate([cap], ctx)
    assert checkpoint_path(ctx.checkpoint_folder(cap), "alexnet", 0, 1) == ctx.checkpoint_file(cap)


def test_papermill_error_is_the_original_line_plus_notebook_path(tiny, tmp_path):
    pytest.importorskip("papermill")
    cfgs, ctx, store = tiny
    bad = Config.from_dict({**cfgs[0].to_dict(), "data_sha256": "f" * 64})  # data that is not what we have
    with pytest.raises(EngineError, match=r"DataChangedError: .* \(executed notebook: .*\.ipynb\)") as e:
        Sweep([bad], store, ctx, runner="papermill", runs_dir=tmp_path / "runs", log=lambda *_: None,
              notebooks=REPO_ROOT / "book" / "experiments").run()
    assert "\n" not in str(e.value)
    assert store.done() == set()


def test_slurm_array_script_two_tasks_at_once_on_the_smoke_preset(tmp_path):
    """scripts/slurm_sweep.sh as the README shows it, as SLURM would start two array tasks together."""
    env = {**ENV, "PYTHON": sys.executable, "PRESET": "smoke", "SLURM_ARRAY_TASK_COUNT": "2",
           "SLURM_SUBMIT_DIR": str(REPO_ROOT)}
    extra = ["--data-source", "synthetic", "--device", "cpu", "--results-dir", str(tmp_path / "res"),
             "--checkpoints", str(tmp_path / "ck")]
    procs = [subprocess.Popen(["bash", "scripts/slurm_sweep.sh", *extra], cwd=REPO_ROOT, text=True,
                              env={**env, "SLURM_ARRAY_TASK_ID": str(i)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    store = ResultStore(tmp_path / "res" / "smoke")
    cfgs = presets.expand(presets.load("smoke"), identify("train", "synthetic"))
    assert store.done() == {c.config_id for c in cfgs} and store.verify() == len(cfgs)
    g = store.read("gaussianity")
    assert len(g) == 2 * g.config_id.nunique()  # two layers per capture, each once
