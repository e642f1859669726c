"""scripts/gpu_reproduce.py end to end at a tiny scale (smoke preset, synthetic data, CPU)."""
import hashlib
import json
import subprocess
import sys

from sgnlib.paths import REPO_ROOT


def test_gpu_script_rehearsal(tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "scripts/gpu_reproduce.py", str(out), "--preset", "smoke", "--skip-bench",
                        "--data-source", "synthetic", "--device", "cpu", "--budget", "300",
                        "--final-models", "alexnet", "--checkpoints", str(tmp_path / "ck")],
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((out / "manifest.json").read_text())
    assert m["stages"][0]["configs_run"] > 0
    final = m["final_checkpoints"]["alexnet"]
    assert hashlib.sha256((out / final["file"]).read_bytes()).hexdigest() == final["sha256"]
    assert final["bytes"] < 16 * 2 ** 20
    for t in ("training.csv", "gaussianity.csv", "moments.csv", "berry_esseen.csv"):
        assert (out / "results" / "paper" / t).exists(), t
    # a second call finds everything done and runs nothing
    r2 = subprocess.run([sys.executable, "scripts/gpu_reproduce.py", str(out), "--preset", "smoke", "--skip-bench",
                         "--data-source", "synthetic", "--device", "cpu", "--final-models", "alexnet",
                         "--checkpoints", str(tmp_path / "ck")], cwd=REPO_ROOT, capture_output=True, text=True,
                        timeout=600)
    assert r2.returncode == 0 and json.loads((out / "manifest.json").read_text())["stages"][0]["configs_run"] == 0
