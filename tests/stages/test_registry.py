"""The stage registry: each stage module declares its fields, version, tables, notebook and cost, and
`sgnlib.config` and `sgnlib.engine` read them from there with the values results were computed by."""
import ast

from sgnlib import config, engine, presets
from sgnlib.paths import REPO_ROOT
from sgnlib.stages import STAGES
from sgnlib.store_io import TABLES

# the declarations every committed result was computed under (a change here changes ids)
FIELDS = {"train": ("checkpoint_epochs",),
          "capture": ("checkpoint_epoch", "batch_size", "n_batches", "repeat", "layers", "protocol"),
          "moments": ("checkpoint_epoch", "n_samples"),
          "berry_esseen": ("checkpoint_epoch", "batch_size", "n_batches", "n_samples"),
          "examples": ("checkpoint_epoch", "batch_size", "n_batches", "layers"),
          "recount": ("checkpoint_epoch", "batch_size", "n_batches", "repeat", "layers", "protocol"),
          "assumption1": ("checkpoint_epoch", "n_samples")}
VERSION = {"train": 1, "capture": 2, "moments": 1, "berry_esseen": 1, "examples": 2,
           "recount": 1, "assumption1": 1}


def test_config_reads_fields_versions_and_test_split_from_the_stage_modules():
    assert list(STAGES) == list(FIELDS)
    assert config.STAGE_FIELDS == FIELDS and config.STAGE_VERSION == VERSION
    assert config.TEST_SPLIT_STAGES == ("train",)
    for name, stage in STAGES.items():
        assert stage.NAME == name and callable(stage.run) and callable(stage.cost)


def test_stage_tables_are_the_store_tables_and_notebooks_exist():
    assert sorted(t for s in STAGES.values() for t in s.TABLES) == sorted(TABLES)
    for stage in STAGES.values():
        assert (REPO_ROOT / "book" / "experiments" / stage.NOTEBOOK).is_file()


def _old_estimate(cfgs, device_kind):
    """The engine's estimate as it was written before the stages declared their cost."""
    ips = engine.THROUGHPUT[device_kind]
    total = 0.0
    for c in cfgs:
        n_train = 50000 if not c.subset else 10 * c.subset
        if c.stage == "train":
            total += c.epochs * n_train * 1.1 / ips[c.model]
        elif c.stage in ("capture", "berry_esseen", "examples"):
            total += c.batch_size * c.n_batches / ips[c.model] + 5
        else:
            total += c.n_samples * (20 if device_kind == "cpu" else 1) / ips[c.model] * 10
    return total


def test_estimate_is_the_sum_of_the_stage_costs():
    data = {"source": "jpeg-mirror", "sha256": "0" * 64}  # the grids of the real data set
    for name in ("smoke", "protocol", "paper-recipe"):
        cfgs = presets.expand(presets.load(name), data)
        for kind in ("cpu", "cuda"):
            assert engine.estimate_seconds(cfgs, kind) == _old_estimate(cfgs, kind)


def test_stage_modules_import_neither_config_nor_the_book():
    """Stages get configurations as arguments (sgnlib.config imports the registry), and the engine
    names no notebook path: the caller passes the notebook folder."""
    for path in (REPO_ROOT / "sgnlib" / "stages").glob("*.py"):
        tree = ast.parse(path.read_text())
        mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "config" not in mods and "sgnlib.config" not in mods, path
    text = (REPO_ROOT / "sgnlib" / "engine.py").read_text()
    assert '"book"' not in text and "book/experiments/" not in text
