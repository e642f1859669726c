"""sgn-probe, the console command: a report whose numbers are probe()'s, and one line
`error: ...` with exit status 2 for every bad input, before any gradient and before any file."""
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pandas as pd
import pytest
import torch.nn.functional as F

from sgnlib import probe_cli
from sgnlib.capture import probe

REPO = Path(__file__).resolve().parents[1]
MODULE = textwrap.dedent('''
    import torch, torch.nn as nn, torch.nn.functional as F
    SEEN = [0]  # the largest batch any model saw: 2 = only the loss check ran

    def _watch(net):
        net.register_forward_pre_hook(
            lambda _m, a: SEEN.__setitem__(0, max(SEEN[0], len(a[0]))))
        return net

    def _data():
        g = torch.Generator().manual_seed(1)
        return torch.randn(64, 5, generator=g), torch.randint(0, 3, (64,), generator=g)

    def net():
        torch.manual_seed(0)
        return _watch(nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3)))

    def make():
        return (net(), F.cross_entropy, *_data())

    def as_dataset():
        return net(), F.cross_entropy, torch.utils.data.TensorDataset(*_data())

    def as_pairs():
        x, y = _data()
        return net(), F.cross_entropy, [(x[i], int(y[i])) for i in range(64)]

    def per_example_loss():
        return (net(), lambda o, y: F.cross_entropy(o, y, reduction="none"), *_data())

    def no_weights():
        return (_watch(nn.Sequential(nn.Flatten(), nn.Softplus())),
                lambda o, y: o.sum() * 0 + o.mean(), *_data())

    def broken():
        raise OSError("weights.bin not found")

    def three():
        return net(), F.cross_entropy

    NOT_A_FUNCTION = 3
''')
ARGS = ["--batch-sizes", "4", "16", "--n-batches", "20", "--n-samples", "24", "--quiet"]


@pytest.fixture
def usermod(tmp_path, monkeypatch):
    """An importable module `usermod_probe` in tmp_path; the test runs from tmp_path."""
    (tmp_path / "usermod_probe.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    sys.modules.pop("usermod_probe", None)
    yield tmp_path
    sys.modules.pop("usermod_probe", None)


def test_report_numbers_are_probes(usermod, capsys):
    assert probe_cli.main(["usermod_probe:make", "--out", "rep", *ARGS]) == 0
    out = capsys.readouterr().out
    assert "wrote rep/report.html" in out and "% Gaussian dimensions" in out
    g = pd.read_csv(usermod / "rep" / "gaussianity.csv")
    import usermod_probe
    for bs in (4, 16):
        ref = probe(usermod_probe.net(), F.cross_entropy, *usermod_probe._data(), batch_size=bs,
                    n_batches=20, seed=0)
        ours = g[g.batch_size == bs].reset_index(drop=True)
        assert list(ours.layer.astype(str)) == ["0", "2"]
        for col in ("gauss_pct_incl_degenerate", "gauss_pct_excl_degenerate", "gauss_pct_fdr",
                    "degenerate_pct", "d"):
            assert ours[col].tolist() == pytest.approx(ref[col].tolist(), abs=1e-12)
    prov = (usermod / "rep" / "provenance.json").read_text()
    assert "sgn-probe usermod_probe:make --out rep" in prov and '"torch_version"' in prov


@pytest.mark.parametrize("spec", ["usermod_probe:as_dataset", "usermod_probe:as_pairs",
                                  "usermod_probe.py:make"])
def test_datasets_and_file_paths(usermod, spec, capsys):
    assert probe_cli.main([spec, "--out", "rep", "--n-samples", "0", *ARGS[:-3]]) == 0
    g = pd.read_csv(usermod / "rep" / "gaussianity.csv")
    assert len(g) == 4 and not (usermod / "rep" / "beta_sigma3.csv").exists()


BAD = [
    (["usermod_probe:make", "--layers", "fc"], r"unknown layers \['fc'\]; this model has "
                                               r"\['0', '2'\]"),
    (["usermod_probe:make", "--batch-sizes", "8", "128"],
     r"batch_size 128 exceeds the 64 training images"),
    (["usermod_probe:per_example_loss"], r"loss_fn must return a scalar .* got \(2,\)"),
    (["usermod_probe:no_weights"], r"Sequential has no weight layer to capture"),
    (["usermod_probe"], r"expected MODULE:FUNCTION, got 'usermod_probe'"),
    (["no_such_module_xyz:make"], r"cannot import 'no_such_module_xyz'"),
    (["usermod_probe:nope"], r"module 'usermod_probe' has no 'nope'"),
    (["usermod_probe:NOT_A_FUNCTION"], r"is a int, not a function"),
    (["usermod_probe:broken"], r"usermod_probe:broken\(\) failed: OSError: weights.bin"),
    (["usermod_probe:three"], r"must return \(model, loss_fn, images, labels\).* of length 2"),
    (["missing.py:make"], r"file missing.py does not exist"),
    (["--model", "alexnet", "--checkpoint", "gone.pt"], r"checkpoint gone.pt does not exist"),
    (["usermod_probe:make", "--checkpoint", "x.pt"], r"--checkpoint and --subset go with --model"),
    (["usermod_probe:make", "--model", "alexnet"], r"name either MODULE:FUNCTION or --model"),
    ([], r"name either MODULE:FUNCTION or --model"),
    (["--model", "vgg"], r"argument --model: invalid choice: 'vgg'"),
    (["usermod_probe:make", "--n-batches", "many"], r"--n-batches: invalid int value"),
    (["usermod_probe:make", "--device", "tpu"], r"unknown device 'tpu'; use auto, cpu or cuda"),
    (["usermod_probe:make", "--level", "2"], r"level must be a significance level"),
    (["usermod_probe:make", "--n-samples", "1"], r"n_samples must be 0 .* or 2\.\.64"),
    (["usermod_probe:make", "--out", "exists"], r"exists exists; choose another output folder"),
]


@pytest.mark.parametrize("argv, match", BAD, ids=[" ".join(a) or "nothing" for a, _ in BAD])
def test_bad_input_is_one_line_before_any_compute(usermod, capsys, argv, match):
    (usermod / "exists").mkdir()
    before = {p.name for p in usermod.iterdir()}
    code = probe_cli.main(ARGS + (["--out", "rep"] if "--out" not in argv else []) + argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(match, lines[0]), lines[0]
    assert {p.name for p in usermod.iterdir()} == before  # no folder, not even a temporary one
    mod = sys.modules.get("usermod_probe")
    assert mod is None or mod.SEEN[0] <= 2  # nothing beyond the 2-example loss check ran


def test_console_script_is_installed_and_speaks_one_line(tmp_path):
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"sgn-probe": "sgnlib.probe_cli:main"}
    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "sgn-probe"]
    assert ep.value == "sgnlib.probe_cli:main"
    exe = Path(sys.executable).parent / "sgn-probe"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sgnlib.probe_cli"]
    r = subprocess.run(cmd + ["nope:nope", "--out", str(tmp_path / "r")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and r.stderr.strip() == \
        "error: cannot import 'nope' (No module named 'nope'); run from the folder that holds " \
        "it or install it"
