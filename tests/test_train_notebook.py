"""book/experiments/train.ipynb as committed: its demonstration stays cheap enough for `make test`
(nbval executes it), and the run it describes is the run its outputs hold (the describing cell is
left out of nbval's comparison, its numbers depend on the CPU)."""
import ast
import json
import re

from sgnlib.paths import REPO_ROOT
from sgnlib.tables import notebook_parameters

NOTEBOOK = REPO_ROOT / "book" / "experiments" / "train.ipynb"
# images x epochs of the demonstration: 40,000 are about 11 s of training at the cpu preset's
# AlexNet throughput on 2 idle cores (3,579 img/s); all 50,000 images for 2 epochs took 256 s in a
# `make test` run
DEMO_BUDGET = 40_000


def defaults() -> dict:
    table = notebook_parameters(NOTEBOOK)
    return {r.parameter: ast.literal_eval(r.default) for r in table.itertuples()}


def glued(name: str) -> str:
    """The committed text of `glue(name, ...)`."""
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("scrapbook", {}).get("name") == name:
                text = out["data"]["application/papermill.record/text/plain"]
                return ast.literal_eval("".join(text))
    raise KeyError(name)


def history_lr() -> dict[int, float]:
    """{epoch: learning rate} of the committed per-epoch table."""
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        for out in cell.get("outputs", []):
            html = "".join(out.get("data", {}).get("text/html", ""))
            if "T_train_hist" in html:
                rows = re.findall(r"<tr><td>([\d.]+)</td><td>([\d.]+)</td>", html)
                return {int(float(e)): float(lr) for e, lr in rows}
    raise KeyError("T_train_hist")


def test_demo_defaults_are_cheap():
    p = defaults()
    images = 10 * p["subset"] if p["subset"] else 50_000
    assert p["epochs"] * images <= DEMO_BUDGET, p


def test_committed_run_states_the_learning_rates_that_ran():
    lr = history_lr()
    p = defaults()
    assert sorted(lr) == list(range(1, p["epochs"] + 1))
    stated = {}
    spans = re.findall(r"([\d.]+) \(epochs? (\d+)(?:-(\d+))?\)", glued("train-run"))
    for value, first, last in spans:
        for e in range(int(first), int(last or first) + 1):
            stated[e] = float(value)
    assert stated == lr, glued("train-run")
    images = f"{10 * p['subset']:,} images" if p["subset"] else "all 50,000 images"
    assert glued("train-run").startswith(f"AlexNet, {p['epochs']} epochs on {images}")
