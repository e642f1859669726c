"""Where things live: the decode cache honours $SGN_CACHE and is created on demand."""
from sgnlib import paths


def test_cache_dir_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SGN_CACHE", str(tmp_path / "c"))
    assert paths.cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()


def test_repo_layout():
    assert (paths.REPO_ROOT / "sgnlib").is_dir() and paths.PAPER_TABLES.is_file()
    assert paths.RESULTS_DIR == paths.REPO_ROOT / "data" / "results"
