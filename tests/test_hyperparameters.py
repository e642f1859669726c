"""The recipe's and the capture's defaults live in `sgnlib.hyperparameters` and nowhere else."""
import dataclasses
import inspect
import re

from sgnlib import capture, data, fast_step, hyperparameters as hp, train
from sgnlib.config import Config
from sgnlib.engine import validate
from sgnlib.paths import REPO_ROOT
from sgnlib.stats.gaussianity import benjamini_hochberg
from sgnlib.stats.tail_index import composition_control, matched_null_alpha


def test_the_paper_recipe_and_the_capture_defaults():
    r = hp.Recipe()
    assert (r.epochs, r.batch_size, r.lr, r.momentum, r.weight_decay, r.milestones, r.lr_decay) == \
        (300, 128, 0.1, 0.9, 5e-4, (150, 225), 0.1)
    assert train.Recipe is hp.Recipe and hp.SIGNIFICANCE_LEVEL == 0.05
    sig = inspect.signature(capture.minibatch_gradients).parameters
    assert {k: sig[k].default for k in ("sampling", "augment", "bn")} == \
        {k: hp.CAPTURE_PROTOCOL[k] for k in ("sampling", "augment", "bn")}
    for fn in (capture.probe, capture.gaussianity_of_noise, benjamini_hochberg, matched_null_alpha,
               composition_control):
        assert inspect.signature(fn).parameters["level"].default == hp.SIGNIFICANCE_LEVEL
    assert capture.SAMPLINGS == hp.PROTOCOL_CHOICES["sampling"]


def test_the_significance_level_is_written_once():
    """No `level = 0.05` default and no `p < 0.05` comparison outside sgnlib/hyperparameters.py."""
    pattern = re.compile(r"level: float = 0\.05|p\s*[<>]=?\s*0\.05|\bp\s*<\s*0\.05")
    names = ("capture.py", "stats", "stages", "tail_histogram.py")
    files = [p for n in names for p in ([REPO_ROOT / "sgnlib" / n] if n.endswith(".py")
                                        else (REPO_ROOT / "sgnlib" / n).glob("*.py"))]
    assert [str(p) for p in files if pattern.search(p.read_text())] == []


def test_crop_and_flip_are_implemented_once():
    assert fast_step.apply_augment is data.apply_augment
    assert "padded.gather" not in (REPO_ROOT / "sgnlib" / "fast_step.py").read_text()


def test_validate_checks_checkpoints_with_the_configurations_expectations(tmp_path, monkeypatch):
    """The engine's check before compute and the stage's load use one `expect`
    (`Config.checkpoint_expect`)."""
    cfg = Config("capture", "alexnet", 2, data_source="synthetic", data_sha256="0" * 64,
                 checkpoint_epoch=2, batch_size=8, n_batches=20, repeat=0)
    seen = []

    class Ctx:
        def checkpoint_file(self, c):
            path = tmp_path / "ck.pt"
            path.write_bytes(b"")
            return path
    monkeypatch.setattr("sgnlib.engine.load_checkpoint", lambda path, dev, expect: seen.append(expect))
    validate([cfg], Ctx())
    assert seen == [cfg.checkpoint_expect()]
    assert dataclasses.asdict(seen[0]["recipe"]) == dataclasses.asdict(cfg.full_recipe())


def test_the_gpu_script_plans_with_the_sweeps_planner():
    text = (REPO_ROOT / "scripts" / "gpu_reproduce.py").read_text()
    assert "planner.plan(" in text and "presets.expand" not in text and "validate(" not in text
