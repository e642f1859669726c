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
