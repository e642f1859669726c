"""Shared set-up of the stage tests: one 2-epoch AlexNet run on the synthetic data (a few seconds on
the CPU), trained once per session, and a factory for the stage configurations that read it."""
from contextlib import contextmanager

import pytest
import torch

from sgnlib.config import Config
from sgnlib.data import identify
from sgnlib.stages import Context, run_stage

PROVENANCE = ("config_id", "data_source", "data_sha256", "git_commit", "torch_version", "wall_s")
# columns that may differ between two runs of the same configuration: timings, and provenance that
# can change underneath (another process editing the checkout turns git_commit "+dirty")
VOLATILE = ("wall_s", "grad_s", "shapiro_s", "epoch_s", "img_per_s", "date", "git_commit")


@contextmanager
def one_thread():
    """One torch thread: on a shared 2-core machine, two threads that wait for each other spin and
    run several times slower than one (these tests took 10 s with one thread, 10-60 s with two)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with one_thread():  # restored after each module, so tests outside this folder keep their setting
        yield


@pytest.fixture(scope="session")
def data():
    return identify("train", "synthetic")


@pytest.fixture(scope="session")
def ctx(tmp_path_factory):
    return Context("cpu", tmp_path_factory.mktemp("stages") / "ck")


@pytest.fixture(scope="session")
def train_cfg(data):
    return Config("train", "alexnet", 2, 0, 20, data["source"], data["sha256"], checkpoint_epochs=(1, 2))


@pytest.fixture(scope="session")
def trained(train_cfg, ctx):
    """The training table of the first (real) training run."""
    with one_thread():  # session-scoped: set up before the module-scoped `_one_thread`
        return run_stage(train_cfg, ctx)["training"]


@pytest.fixture(scope="session")
def make_cfg(data, trained):
    """make_cfg(stage, **fields): a configuration reading the trained run's final checkpoint."""
    def make(stage, **fields):
        base = dict(model="alexnet", epochs=2, seed=0, subset=20, data_source=data["source"],
                    data_sha256=data["sha256"], checkpoint_epoch=2)
        return Config(stage, **{**base, **fields})
    return make


@pytest.fixture(scope="session")
def check_rows():
    """check_rows(df, cfg): every row carries the configuration id and the provenance columns."""
    def check(df, cfg):
        assert len(df) > 0
        assert df.columns[0] == "config_id"
        for col in PROVENANCE:
            assert col in df.columns, col
            assert df[col].notna().all(), col
        assert (df.config_id == cfg.config_id).all()
        assert (df.data_source == cfg.data_source).all() and (df.data_sha256 == cfg.data_sha256).all()
        assert (df.stage == cfg.stage).all()
        assert (df.wall_s >= 0).all()
    return check


def without_timing(df):
    return df.drop(columns=[c for c in VOLATILE if c in df.columns]).reset_index(drop=True)


@pytest.fixture(scope="session")
def strip_timing():
    """strip_timing(df): df without its VOLATILE columns (for run-to-run comparisons)."""
    return without_timing
