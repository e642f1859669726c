"""scripts/gpu_reproduce.py end to end at a tiny scale (smoke preset, synthetic data, CPU), as the lease runs it."""
import hashlib
import json
import subprocess
import sys
import tarfile

from sgnlib.paths import REPO_ROOT
from sgnlib.store import ResultStore


def call(tmp_path, *extra):
    return subprocess.run([sys.executable, "scripts/gpu_reproduce.py", str(tmp_path / "out"), "--preset", "smoke",
                           "--skip-bench", "--data-source", "synthetic", "--device", "cpu", "--budget", "300",
                           "--work", str(tmp_path / "work"), *extra],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


def test_gpu_script_rehearsal(tmp_path):
    r = call(tmp_path, "--final-models", "alexnet")
    assert r.returncode == 0, r.stderr[-2000:]
    out = tmp_path / "out"
    m = json.loads((out / "manifest.json").read_text())
    assert m["stages"][0]["configs_run"] > 0
    final = m["final_checkpoints"]["alexnet"]
    assert hashlib.sha256((out / final["file"]).read_bytes()).hexdigest() == final["sha256"]
    assert final["bytes"] < 16 * 2 ** 20
    # few files come back (the device tool returns at most 8): the results store is one tarball
    assert sorted(p.name for p in out.iterdir()) == ["alexnet-final.pt", "manifest.json",
                                                     "results-paper-recipe.tar.gz", "run.log"]
    with tarfile.open(out / "results-paper-recipe.tar.gz") as tar:
        tar.extractall(tmp_path / "home", filter="data")
    store = ResultStore(tmp_path / "home" / "paper-recipe")
    assert store.verify() == m["stages"][0]["configs_run"]
    assert not any(n.endswith(".lock") for n in tarfile.open(out / "results-paper-recipe.tar.gz").getnames())
    # a second call finds everything done and runs nothing
    r2 = call(tmp_path)
    assert r2.returncode == 0 and json.loads((out / "manifest.json").read_text())["stages"][0]["configs_run"] == 0
