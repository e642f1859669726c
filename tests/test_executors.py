"""`--executor local|slurm` (sgnlib.executors): jobs of submitit's local executor on the tiny and smoke
presets give the rows of an inline run, each configuration committed once, captures only after their
training; SLURM submission (parameters, arrays, afterok dependencies) through submitit's real SlurmExecutor
against a fake `sbatch` that runs each job here; bad options are one line before anything is written."""
import json
import sys
from collections import Counter

import pytest

from sgnlib import executors, presets, sweep
from sgnlib.data import identify
from sgnlib.paths import REPO_ROOT
from sgnlib.store import ResultStore
from tests.helpers import assert_same_rows, tables

submitit = pytest.importorskip("submitit")

TINY = str(REPO_ROOT / "tests" / "presets" / "tiny.yaml")


def cli(tmp, *args, preset=TINY):
    return ["--preset", preset, "--data-source", "synthetic", "--runner", "inprocess", "--device", "cpu",
            "--results-dir", str(tmp / "res"), "--checkpoints", str(tmp / "ck"), *args]


def ledger_ids(folder):
    return [json.loads(line)["config_id"] for line in (folder / "ledger.jsonl").read_text().splitlines() if line]


def tiny_cfgs():
    return presets.expand(presets.load(TINY), identify("train", "synthetic"))


# ---------------------------------------------------------------- local executor, end to end


@pytest.fixture()
def one_thread(monkeypatch):
    """One torch thread here and in the jobs (their env): jobs at once do not oversubscribe the 2 shared cores,
    and rows compare exactly with an inline run (float reductions, hence a few histogram counts, depend on
    the thread count)."""
    import torch
    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_local_executor_two_jobs_gives_the_inline_rows_once_each_after_training(tmp_path, capsys, one_thread):
    assert sweep.main(cli(tmp_path / "inline")) == 0
    capsys.readouterr()
    logs = tmp_path / "logs"
    assert sweep.main(cli(tmp_path / "local", "--executor", "local", "--jobs", "2", "--log-dir", str(logs))) == 0
    out = capsys.readouterr().out
    assert out.count(", ok (log: ") == 3, out  # the train job and two jobs after it
    folder = tmp_path / "local" / "res" / "tiny"
    ids, cfgs = ledger_ids(folder), tiny_cfgs()
    assert Counter(ids) == Counter(c.config_id for c in cfgs)  # every configuration committed exactly once
    assert ids[0] == cfgs[0].config_id and cfgs[0].stage == "train"  # training first, then what reads it
    assert ResultStore(folder).verify() == 7
    assert_same_rows(tables(folder), tables(tmp_path / "inline" / "res" / "tiny"))
    job_out = "".join(p.read_text() for p in logs.glob("*_log.out"))
    assert job_out.count("7 configurations") == 0 and job_out.count("3 configuration(s)") == 2
    assert "training" not in job_out  # no job found a checkpoint missing (engine: "needs X: training ...")
    assert sweep.main(cli(tmp_path / "local", "--executor", "local", "--log-dir", str(logs))) == 0
    assert "all 7 configurations are committed; nothing to submit" in capsys.readouterr().out


def test_local_executor_on_the_smoke_preset(tmp_path, capsys, one_thread):
    assert sweep.main(cli(tmp_path, "--executor", "local", "--log-dir", str(tmp_path / "logs"), preset="smoke")) == 0
    store = ResultStore(tmp_path / "res" / "smoke")
    cfgs = presets.expand(presets.load("smoke"), identify("train", "synthetic"))
    assert store.done() == {c.config_id for c in cfgs} and store.verify() == len(cfgs)
    assert Counter(ledger_ids(store.folder)).most_common(1)[0][1] == 1
    g = store.read("gaussianity")
    assert len(g) == 2 * g.config_id.nunique()  # two layers per capture, each once
    assert "2 local job(s)" in capsys.readouterr().out


def bad_preset(tmp_path):
    """Training that fails at run time (a learning rate that makes the loss infinite), and a job after it."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: 1\nsubset: 20\nblocks:\n"
                   "  - {stage: train, model: alexnet, checkpoint_epochs: [1], recipe: {lr: 1.0e+30}}\n"
                   "  - {stage: moments, model: alexnet, checkpoint_epoch: 1, n_samples: 8, recipe: {lr: 1.0e+30}}\n")
    return str(bad)


@pytest.mark.parametrize("kind", ["local", "slurm"])
def test_failed_job_reports_its_error_line_and_log_and_its_dependents_do_not_run(tmp_path, capsys, kind, request):
    if kind == "slurm":
        request.getfixturevalue("fake_slurm")
    assert sweep.main(cli(tmp_path, "--executor", kind, "--log-dir", str(tmp_path / "logs"),
                          preset=bad_preset(tmp_path))) == 1
    cap = capsys.readouterr()
    lines = cap.out.splitlines()
    failed = next(ln for ln in lines if ln.startswith("job 0 "))
    assert "0/1 committed, FAILED: NonFiniteLossError: alexnet: loss became NaN/inf" in failed
    log = failed.rsplit("(log: ", 1)[1].rstrip(")")
    assert log.endswith("_log.err") and "NonFiniteLossError" in open(log).read()
    assert any(ln.startswith("job 1 ") and "not run: needs job 0, which did not succeed" in ln for ln in lines)
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: 2 of 2 job(s) did not succeed")
    assert ResultStore(tmp_path / "res" / "bad").done() == set()


# ---------------------------------------------------------------- SLURM without a cluster

FAKE_SBATCH = r'''#!{python}
"""sbatch for tests: records the script and starts its tasks here in the background, once the jobs named by
--dependency=afterok are COMPLETED (cancelled if one is not, with --kill-on-invalid-dep=yes); states in files."""
import os, re, subprocess, sys, time
from pathlib import Path
root = Path(os.environ["FAKE_SLURM"])
(root / "state").mkdir(exist_ok=True)
def state(j, value=None):
    p = root / "state" / j
    if value is None:
        return p.read_text() if p.exists() else None
    (root / "state" / f".{{j}}").write_text(value)
    os.replace(root / "state" / f".{{j}}", p)  # atomic: a reader never sees an empty state
    with open(root / "events", "a") as f:
        f.write(f"{{j}} {{value}} {{time.time()}}\n")
if sys.argv[1] != "--run":  # submission: record, mark pending, start the runner, answer as sbatch does
    if "#SBATCH --partition=nope" in Path(sys.argv[-1]).read_text():
        sys.exit("sbatch: error: invalid partition specified: nope")
    n = 100 + len(list(root.glob("sbatch-*.sh")))
    (root / f"sbatch-{{n}}.sh").write_text(Path(sys.argv[-1]).read_text())
    m = re.search(r"^#SBATCH --array=0-(\d+)", Path(sys.argv[-1]).read_text(), re.M)
    for t in (range(int(m.group(1)) + 1) if m else [None]):
        state(str(n) if t is None else f"{{n}}_{{t}}", "PENDING")
    subprocess.Popen([sys.executable, __file__, "--run", str(n)], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=open(root / f"runner-{{n}}.err", "w"))
    print(f"Submitted batch job {{n}}")
    sys.exit(0)
n = int(sys.argv[2])
script = (root / f"sbatch-{{n}}.sh").read_text()
opts = dict(re.findall(r"^#SBATCH --([\w-]+)=?(.*)$", script, re.M))
m = re.match(r"0-(\d+)", opts.get("array", ""))
tasks = list(range(int(m.group(1)) + 1)) if m else [None]
needs = opts["dependency"].split(":")[1:] if "dependency" in opts else []
while any(state(d) in ("PENDING", "RUNNING") for d in needs):
    time.sleep(0.2)
cancel = any(state(d) != "COMPLETED" for d in needs)
srun = script.strip().splitlines()[-1].split()
assert srun[:2] == ["srun", "--unbuffered"] and srun[2] == "--output" and srun[4] == "--error", srun
procs = {{}}
for t in tasks:
    jid = str(n) if t is None else f"{{n}}_{{t}}"
    if cancel:
        state(jid, "CANCELLED")
        continue
    sub = lambda p: p.replace("%A", str(n)).replace("%a", str(t)).replace("%j", str(n)).replace("%t", "0")
    env = {{**os.environ, "SUBMITIT_EXECUTOR": "slurm", "SLURM_JOB_ID": str(n if t is None else 1000 * n + t),
           "SLURM_NTASKS": "1", "SLURM_JOB_NUM_NODES": "1", "SLURM_NODEID": "0", "SLURM_PROCID": "0",
           "SLURM_LOCALID": "0", "SLURM_JOB_NODELIST": "fakenode"}}
    if t is not None:
        env.update(SLURM_ARRAY_JOB_ID=str(n), SLURM_ARRAY_TASK_ID=str(t))
    state(jid, "RUNNING")
    procs[jid] = subprocess.Popen(srun[6:], env=env, stdout=open(sub(srun[3]), "a"), stderr=open(sub(srun[5]), "a"))
for jid, p in procs.items():
    state(jid, "COMPLETED" if p.wait() == 0 else "FAILED")
'''
FAKE_SACCT = r'''#!{python}
import os
from pathlib import Path
print("JobID|State|NodeList")
for p in sorted((Path(os.environ["FAKE_SLURM"]) / "state").glob("[!.]*")):
    print(f"{{p.name}}|{{p.read_text()}}|fakenode")
'''


def slurm_events(root):
    """{(job id, state): time} of the fake SLURM's jobs."""
    return {(j, st): float(t) for j, st, t in (ln.split() for ln in (root / "events").read_text().splitlines())}


@pytest.fixture()
def fake_slurm(tmp_path, monkeypatch):
    """sbatch/srun/sacct on PATH that run SLURM jobs on this machine, synchronously, in submission order."""
    bin_, root = tmp_path / "bin", tmp_path / "slurm"
    bin_.mkdir()
    root.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("sacct", FAKE_SACCT), ("srun", "#!/bin/sh\nexit 1\n"),
                       ("scancel", "#!/bin/sh\necho \"$@\" >> $FAKE_SLURM/scancel\n")):
        (bin_ / name).write_text(text.format(python=sys.executable))
        (bin_ / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM", str(root))
    monkeypatch.setattr(executors, "SLURM_POLL_S", 0.5)
    return root


def test_slurm_executor_submits_arrays_with_afterok_dependencies(tmp_path, fake_slurm, capsys, one_thread):
    """Real SlurmExecutor: the sbatch scripts carry the CLI's resources; jobs reading a checkpoint wait on
    the train job (afterok) and are cancelled if it fails; each configuration committed once."""
    logs = tmp_path / "logs"
    args = cli(tmp_path, "--stages", "train,moments,examples", "--executor", "slurm", "--jobs", "2",
               "--slurm-partition", "gpu", "--slurm-gpus-per-node", "0", "--slurm-cpus-per-task", "2",
               "--slurm-time", "1:30:00", "--slurm-mem-gb", "4", "--slurm-array-parallelism", "3",
               "--log-dir", str(logs))
    args[args.index("--device") + 1] = "auto"  # resolved on the node
    assert sweep.main(args) == 0
    out = capsys.readouterr().out
    assert "submitted job 0 (train alexnet seed 0) as slurm job 100" in out
    assert "submitted job 1 (after job 0) as slurm job 101_0" in out and "as slurm job 101_1" in out
    assert out.count(", ok (log: ") == 3, out
    train, after = (fake_slurm / "sbatch-100.sh").read_text(), (fake_slurm / "sbatch-101.sh").read_text()
    for line in ("--partition=gpu", "--cpus-per-task=2", "--time=90", "--mem=4GB", "--job-name=sgn-tiny",
                 "--nodes=1", "--ntasks-per-node=1", f"--output={logs}/"):
        assert f"#SBATCH {line}" in train and f"#SBATCH {line}" in after, line
    assert "--gpus-per-node" not in train  # 0 GPUs asked: none requested
    assert "--dependency" not in train and "--array" not in train
    assert "#SBATCH --dependency=afterok:100\n" in after and "#SBATCH --kill-on-invalid-dep=yes" in after
    assert "#SBATCH --array=0-1%2" in after
    ev = slurm_events(fake_slurm)  # the jobs after training started once it had ended (afterok)
    assert ev["100", "COMPLETED"] and not {st for _, st in ev} - {"PENDING", "RUNNING", "COMPLETED"}
    assert ev["101_0", "RUNNING"] >= ev["100", "COMPLETED"] and ev["101_1", "RUNNING"] >= ev["100", "COMPLETED"]
    store = ResultStore(tmp_path / "res" / "tiny")
    ids = ledger_ids(store.folder)
    assert len(ids) == len(set(ids)) == 3 and ids[0].startswith("train-") and store.verify() == 3


def test_sbatch_refusal_is_one_line(tmp_path, fake_slurm, capsys):
    assert sweep.main(cli(tmp_path, "--executor", "slurm", "--slurm-partition", "nope",
                          "--log-dir", str(tmp_path / "logs"))) == 2
    ours = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error")]  # + sbatch's own line
    assert len(ours) == 1 and ours[0].startswith("error: submitting job(s) 0 failed: ")
    assert "invalid partition specified: nope" in ours[0] and ResultStore(tmp_path / "res" / "tiny").done() == set()


def test_slurm_dry_run_prints_the_job_plan_and_submits_nothing(tmp_path, fake_slurm, capsys):
    assert sweep.main(cli(tmp_path, "--executor", "slurm", "--jobs", "3", "--slurm-partition", "a100",
                          "--log-dir", str(tmp_path / "logs"), "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "job 0 (train alexnet seed 0): 1 configuration(s)" in out
    for i in (1, 2, 3):
        assert f"job {i} (after job 0): 2 configuration(s)" in out
    assert out.count("    capture-") == 4 and "4 slurm job(s) (3 after training jobs)" in out
    params = {"name": "sgn-tiny", "timeout_min": 1440, "cpus_per_task": 8, "nodes": 1, "tasks_per_node": 1,
              "gpus_per_node": 1, "slurm_partition": "a100"}
    assert f"submitit parameters: {params}" in out and "dry run: nothing submitted" in out
    assert not list(fake_slurm.glob("sbatch-*")) and not (tmp_path / "logs").exists()
    assert not (tmp_path / "res").exists()


def test_slurm_parameters_are_accepted_by_submitit(tmp_path, fake_slurm):
    a = sweep._parser().parse_args(["run", "--executor", "slurm", "--slurm-mem-gb", "64", "--slurm-time", "2-00:00",
                                    "--slurm-array-parallelism", "4"])
    p = executors.parameters(a, "sgn-paper")
    assert p == {"name": "sgn-paper", "timeout_min": 2880, "cpus_per_task": 8, "nodes": 1, "tasks_per_node": 1,
                 "gpus_per_node": 1, "mem_gb": 64, "slurm_array_parallelism": 4}
    ex = executors.make_executor("slurm", tmp_path / "logs", p)  # submitit checks every name and value
    assert ex.cluster == "slurm"
    assert ex._executor.parameters["time"] == 2880 and ex._executor.parameters["mem"] == "64GB"


# ---------------------------------------------------------------- the plan


def test_job_plan_on_the_paper_recipe_preset():
    cfgs = presets.expand(presets.load("paper-recipe"), {"source": "jpeg-mirror", "sha256": "0" * 64})
    trains = [c for c in cfgs if c.stage == "train"]
    for k in (None, 2, 9):
        jobs = executors.plan_jobs(cfgs, cfgs, k, "cuda")
        assert Counter(c.config_id for j in jobs for c in j.configs) == Counter(c.config_id for c in cfgs)
        assert [j.configs for j in jobs[:4]] == [[t] for t in trains] and not any(j.needs for j in jobs[:4])
        rest = jobs[4:]
        assert len(rest) == (k or 4)
        for j in rest:  # each job waits exactly for the training runs whose checkpoints it reads
            assert set(j.needs) == {next(i for i, t in enumerate(trains) if t.checkpoint_key() == c.checkpoint_key())
                                    for c in j.configs}
            assert [cfgs.index(c) for c in j.configs] == sorted(cfgs.index(c) for c in j.configs)
        if k != 2:
            assert all(len(j.needs) == 1 for j in rest)
    done = {c.config_id for c in cfgs if c.stage == "train"}  # checkpoints written: nothing to wait for
    jobs = executors.plan_jobs([c for c in cfgs if c.config_id not in done], cfgs, 3, "cuda")
    assert len(jobs) == 3 and not any(j.needs for j in jobs)


def test_slurm_minutes_and_error_line():
    assert [executors.slurm_minutes(t) for t in ("90", "1-00:00:00", "02:30", "0:00:30", "1-2:00")] == \
        [90, 1440, 150, 1, 1560]
    trace = ("Job (task=0) failed during processing with trace:\n----------------------\nTraceback (most recent "
             "call last):\n  File \"x.py\", line 1\nsgnlib.engine.EngineError: waited 5 s for x\n"
             "----------------------\nYou can check full logs with ...")
    assert executors.error_line(RuntimeError(trace)) == "EngineError: waited 5 s for x"
    assert executors.error_line(RuntimeError("Job 12 has not produced any output (state: CANCELLED)\nmore")) == \
        "Job 12 has not produced any output (state: CANCELLED) more"


# ---------------------------------------------------------------- bad options: one line, nothing written


@pytest.mark.parametrize("args, message", [
    (["--executor", "slurm", "--slurm-time", "0"], "--slurm-time: must be a positive time, got '0'"),
    (["--executor", "slurm", "--slurm-time", "1h"], "--slurm-time: must be minutes (e.g. 1440) or [D-]HH:MM[:SS]"),
    (["--executor", "slurm", "--slurm-time", "1:75"], "--slurm-time: must be minutes"),
    (["--executor", "slurm", "--slurm-gpus-per-node", "-1"], "--slurm-gpus-per-node: must be a non-negative integer"),
    (["--executor", "slurm", "--slurm-cpus-per-task", "0"], "--slurm-cpus-per-task: must be a positive integer, got 0"),
    (["--executor", "slurm", "--slurm-mem-gb", "lots"], "--slurm-mem-gb: must be a positive integer, got 'lots'"),
    (["--executor", "slurm", "--slurm-array-parallelism", "0"], "--slurm-array-parallelism: must be a positive"),
    (["--executor", "local", "--jobs", "0"], "--jobs: must be a positive integer, got 0"),
    (["--executor", "pbs"], "invalid choice: 'pbs'"),
    (["--slurm-partition", "gpu"], "--slurm-partition needs --executor local or slurm"),
    (["--jobs", "2"], "--jobs needs --executor local or slurm"),
    (["--executor", "local", "--slurm-time", "60"], "--slurm-time applies to --executor slurm only"),
    (["--executor", "local", "--shard", "0/2"], "--shard and --executor local are alternatives"),
    (["--executor", "slurm", "--slurm-partition", "gpu a100"], "--slurm-partition must be a partition name"),
    (["--executor", "slurm", "--device", "gpu"], "unknown device 'gpu'"),
])
def test_bad_executor_options_are_one_line_and_write_nothing(tmp_path, capsys, fake_slurm, args, message):
    code = None
    try:
        code = sweep.main(cli(tmp_path, "--log-dir", str(tmp_path / "logs"), *args))
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert len([ln for ln in err.splitlines() if ln.startswith("error") or ": error:" in ln]) == 1
    assert not (tmp_path / "res").exists() and not (tmp_path / "ck").exists() and not (tmp_path / "logs").exists()


def test_slurm_without_sbatch_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    assert sweep.main(cli(tmp_path, "--executor", "slurm")) == 2
    err = capsys.readouterr().err.strip()
    assert "sbatch and srun are not on PATH" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "res").exists()


def test_without_submitit_the_executor_says_how_and_the_shard_path_still_works(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "submitit", None)  # `import submitit` raises ImportError
    for kind in ("slurm", "local"):
        assert sweep.main(cli(tmp_path, "--executor", kind)) == 2
        err = capsys.readouterr().err.strip()
        assert f"--executor {kind} needs submitit: pip install submitit" in err and "scripts/slurm_sweep.sh" in err
        assert len(err.splitlines()) == 1
    assert sweep.main(cli(tmp_path, "--shard", "0/2", "--stages", "train,moments")) == 0  # no submitit needed
    assert len(ResultStore(tmp_path / "res" / "tiny").done()) == 1
