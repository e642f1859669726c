"""Provenance columns: commit, date, device, versions, data identity; atomic CSV writes."""
import datetime as dt

import pandas as pd
import torch

from sgnlib import provenance as P


def test_provenance_fields(monkeypatch):
    monkeypatch.setenv("SGN_COMMIT", "abc123")
    p = P.provenance("cpu", {"source": "synthetic", "sha256": "f" * 64})
    assert p["git_commit"] == "abc123" and p["data_source"] == "synthetic" and p["data_sha256"] == "f" * 64
    assert p["torch_version"] == torch.__version__ and p["cuda_version"] is None
    assert p["device"].startswith("cpu (") and dt.datetime.fromisoformat(p["date"]).tzinfo is not None


def test_git_commit_is_the_checkout_head(monkeypatch):
    import subprocess
    monkeypatch.delenv("SGN_COMMIT", raising=False)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=P.REPO_ROOT, capture_output=True, text=True).stdout.strip()
    if not head:
        return  # not a git checkout (e.g. an sdist): 'unknown' is the documented answer
    assert P.git_commit().removesuffix("+dirty") == head


def test_a_runs_own_results_do_not_make_the_commit_dirty(tmp_path, monkeypatch):
    """Rows written while a sweep runs change tracked files under data/results; only changes
    elsewhere mark the commit '+dirty'."""
    import subprocess

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path,
                       check=True, capture_output=True)
    (tmp_path / "data" / "results" / "cpu").mkdir(parents=True)
    (tmp_path / "data" / "results" / "cpu" / "ledger.jsonl").write_text("")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "c")
    monkeypatch.delenv("SGN_COMMIT", raising=False)
    monkeypatch.setattr(P, "REPO_ROOT", tmp_path)
    (tmp_path / "data" / "results" / "cpu" / "ledger.jsonl").write_text("{}\n")
    assert not P.git_commit().endswith("+dirty")
    (tmp_path / "code.py").write_text("x = 2\n")
    assert P.git_commit().endswith("+dirty")


def test_resolve_device():
    assert P.resolve_device("cpu") == torch.device("cpu")
    assert P.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_atomic_write_and_append(tmp_path):
    path = tmp_path / "t.csv.gz"
    P.atomic_write_csv(pd.DataFrame({"a": [1]}), path)
    P.append_rows(pd.DataFrame({"a": [2]}), path)
    assert pd.read_csv(path).a.tolist() == [1, 2] and not list(tmp_path.glob(".*tmp*"))


def test_provenance_names_the_test_split_when_given(monkeypatch):
    monkeypatch.setenv("SGN_COMMIT", "abc123")
    train, test = {"source": "jpeg-mirror", "sha256": "a" * 64}, {"source": "jpeg-mirror", "sha256": "b" * 64}
    p = P.provenance("cpu", train, test)
    assert (p["data_sha256"], p["test_source"], p["test_sha256"]) == ("a" * 64, "jpeg-mirror", "b" * 64)
    assert "test_sha256" not in P.provenance("cpu", train)  # rows that never read the test split
