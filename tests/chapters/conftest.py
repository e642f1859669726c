"""The `grid` fixture: hand-made results rows (`rows.make_grid`)."""
import pytest

from .rows import make_grid


@pytest.fixture()
def grid():
    """`make_grid`: rows of a hand-made batch-size grid."""
    return make_grid
