import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
REPO = Path(__file__).resolve().parent.parent
MIRROR = REPO.parent / "shared" / "data"


def has_cifar() -> bool:
    from sgnlib.data import DataNotFoundError, resolve_source
    try:
        resolve_source("train")
        return True
    except DataNotFoundError:
        return False


needs_cifar = pytest.mark.skipif(not has_cifar(), reason="no CIFAR-10 copy found (SGN_DATA, data/cifar10, ../shared/data)")


@pytest.fixture()
def keep(monkeypatch):
    """Capture a figure of sgnlib.figures / sgnlib.tail_figures instead of saving it: {name: figure}."""
    from sgnlib import figures
    out = {}
    monkeypatch.setattr(figures, "save", lambda fig, name: out.setdefault(name, fig))  # no file, no close
    return out
