"""sgnlib.probe_report: the report's numbers are probe()'s, layers keep their module names,
beta/sigma^3 uses the model's own loss, the folder is written whole or not at all, and the page
passes the book's headless-Chromium check at 800 px (scripts/check_site.py)."""
import functools
import http.server
import re
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from sgnlib import probe_report
from sgnlib.capture import per_sample_moments, probe
from sgnlib.probe import CaptureArgumentError
from sgnlib.stages.moments import ratio_histogram
from sgnlib.stats import moments

REPO = Path(__file__).resolve().parents[1]
KW = {"batch_sizes": (4, 16), "n_batches": 20, "n_samples": 24}
SAME = ["d", "gauss_pct_incl_degenerate", "gauss_pct_excl_degenerate", "gauss_pct_fdr",
        "degenerate_pct", "null_ceiling_pct", "significance_level"]


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3))


def _data(n=64):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 5, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_numbers_equal_probe_for_the_same_seed():
    x, y = _data()
    res = probe_report.compute(_net(), F.cross_entropy, x, y, seed=3, **KW)
    for bs in (4, 16):
        ref = probe(_net(), F.cross_entropy, x, y, batch_size=bs, n_batches=20, seed=3)
        ours = res.gaussianity[res.gaussianity.batch_size == bs].reset_index(drop=True)
        pd.testing.assert_frame_equal(ours[SAME], ref[SAME])
        assert list(ref.layer) == ["Layer 1", "Layer 2"]  # probe() keeps its own names
        assert list(ours.layer) == ["0", "2"]               # the report: the module names
    assert set(res.tail_index.layer) == {"0", "2"} and set(res.tail_index.batch_size) == {4, 16}


def test_module_names_select_layers_and_are_removed_afterwards():
    x, y = _data()
    net = _net()
    res = probe_report.compute(net, F.cross_entropy, x, y, layers=["2"], **KW)
    assert list(res.gaussianity.layer.unique()) == ["2"] and list(res.beta_sigma3.layer.unique()) \
        == ["2"]
    assert not hasattr(net, "paper_layers")
    with pytest.raises(CaptureArgumentError, match=r"unknown layers \['fc'\]; this model has "
                                                   r"\['0', '2'\]"):
        probe_report.compute(net, F.cross_entropy, x, y, layers=["fc"], **KW)
    assert not hasattr(net, "paper_layers")


def test_book_network_keeps_the_paper_names():
    from sgnlib.models import build, weight_layers
    net = build("alexnet")
    with probe_report.module_names(net):
        assert [n for n, _ in weight_layers(net)][:2] == ["Layer 1", "Layer 2"]


def _squared_error(out, y):
    return ((out[:, 0] - y) ** 2).mean()


def test_beta_sigma3_uses_the_models_loss():
    """Per-sample gradients of a regression loss, by a plain loop, give the report's quantiles
    (cross-entropy, once hard-coded in per_sample_moments, cannot even take float targets)."""
    x, _ = _data()
    y = x[:, 0] * 2.0 + 0.1
    net = _net()
    res = probe_report.compute(net, _squared_error, x, y, **KW)
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:24]
    rows = []
    for name, w in (("0", net[0].weight), ("2", net[2].weight)):
        g = torch.stack([torch.autograd.grad(_squared_error(net(x[i:i + 1]), y[i:i + 1]), w)[0]
                         .flatten() for i in pick])
        rows += ratio_histogram(name, moments(g))
    ref = pd.DataFrame(rows)
    got = res.beta_sigma3
    qs = ["q05", "q25", "q50", "q75", "q95", "n_point_mass", "count"]
    pd.testing.assert_frame_equal(got[qs].reset_index(drop=True), ref[qs], rtol=1e-4)
    direct = per_sample_moments(net, x, y, 24, 8, None, 0, loss_fn=_squared_error)
    assert len(direct) == 2


def test_written_tables_and_no_half_folder(tmp_path, monkeypatch):
    x, y = _data()
    out = tmp_path / "rep"
    res = probe_report.report(_net(), F.cross_entropy, x, y, out, **KW)
    for name in ("gaussianity", "tail_index", "beta_sigma3"):
        csv = pd.read_csv(out / f"{name}.csv")
        table = getattr(res, name)
        assert len(csv) == len(table)
        pd.testing.assert_frame_equal(csv[table.columns[1:]], table[table.columns[1:]],
                                      check_dtype=False)
    assert {p.name for p in tmp_path.iterdir()} == {"rep"}  # no temporary folder left
    with pytest.raises(CaptureArgumentError, match=r"rep exists; choose another output folder"):
        probe_report.report(_net(), F.cross_entropy, x, y, out, **KW)

    def broken(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(probe_report, "_moments", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        probe_report.report(_net(), F.cross_entropy, x, y, tmp_path / "new", **KW)
    with pytest.raises(RuntimeError, match="disk full"):
        probe_report.report(_net(), F.cross_entropy, x, y, out, force=True, **KW)
    assert {p.name for p in tmp_path.iterdir()} == {"rep"}  # nothing half, the old one kept
    assert (out / "report.html").read_text().endswith("</html>\n")


@pytest.mark.parametrize("kw, match", [
    ({"batch_sizes": ()}, r"no batch size given"),
    ({"batch_sizes": (4, 100)}, r"batch_size 100 exceeds the 64 training images"),
    ({"n_batches": 3}, r"n_batches must be at least 4 for the tail index, got 3"),
    ({"n_samples": 65}, r"n_samples must be 0 \(skip beta/sigma\^3\) or 2\.\.64"),
    ({"level": 1.5}, r"level must be a significance level in \(0, 1\)"),
])
def test_bad_settings_refused_before_any_gradient(kw, match):
    net = _net()
    seen = [0]
    net.register_forward_pre_hook(lambda _m, a: seen.__setitem__(0, max(seen[0], len(a[0]))))
    with pytest.raises(CaptureArgumentError, match=match) as e:
        probe_report.compute(net, F.cross_entropy, *_data(), **{**KW, **kw})
    assert "\n" not in str(e.value) and seen[0] <= 2


def test_loss_that_vmap_cannot_run_is_refused_first():
    def item_loss(out, y):  # .item() inside the loss: fine for autograd checks, not for vmap
        return F.cross_entropy(out, y) * float(out.sum().item() != 0)
    with pytest.raises(CaptureArgumentError, match=r"per-sample gradients .* use n_samples=0"):
        probe_report.compute(_net(), item_loss, *_data(), **KW)


def check_in_chromium(folder: Path, shots: Path) -> list[str]:
    """scripts/check_site.py's page check on report.html, served as the book is, offline."""
    pytest.importorskip("playwright")
    sys.path.insert(0, str(REPO / "scripts"))
    import check_site
    if check_site.chromium_path() is None:
        pytest.skip("no chromium")
    from playwright.sync_api import sync_playwright
    handler = functools.partial(check_site.Gzip, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=check_site.chromium_path(),
                                        args=check_site.FLAGS)
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base)
                       else r.abort())
            problems, _ = check_site.check_page(page, base, "report.html", 800, 3.0,
                                                shots / "report.png")
            browser.close()
    finally:
        server.shutdown()
    return problems


def test_page_passes_the_site_check(tmp_path):
    x, y = _data()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv1d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 3))
    probe_report.report(net, F.cross_entropy, x[:, None], y, tmp_path / "rep", **KW)
    html = (tmp_path / "rep" / "report.html").read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched from elsewhere
    assert html.count("<img") == 3 and "BH-FDR" in html and "point mass" in html
    assert check_in_chromium(tmp_path / "rep", tmp_path) == []


def test_book_page_shows_what_the_tiny_example_gives():
    """book/practice/run_on_your_model.md quotes the worked example; float64, so exact anywhere."""
    from sgnlib.examples.tiny import make
    from sgnlib.probe_cli import summary
    page = (REPO / "book" / "practice" / "run_on_your_model.md").read_text()
    res = probe_report.compute(*make(), batch_sizes=(8, 32, 128), n_samples=0)
    lines = [line.rstrip() for line in page.splitlines()]
    for line in summary(res.gaussianity).splitlines():
        assert line.rstrip() in lines, line
    g = res.gaussianity.set_index(["layer", "batch_size"])
    t = res.tail_index.groupby(["layer", "batch_size"]).tail_index_median_all.first()
    for layer in ("conv1", "conv2", "fc"):
        cells = [f"{g.loc[(layer, b), 'gauss_pct_excl_degenerate']:.1f} / "
                 f"{g.loc[(layer, b), 'gauss_pct_fdr']:.3g}" for b in (8, 128)]
        alphas = f"{t[(layer, 8)]:.2f} / {t[(layer, 128)]:.2f}"
        (row,) = [line for line in lines if line.startswith(f"| {layer} |")]
        assert all(c in row for c in cells) and row.endswith(f"| {alphas} |"), row


def test_few_minibatches_per_pass_raise_the_tail_index_and_are_flagged():
    """The claim of the report's note: Gaussian data, 2048 examples, batches of 128 (16 per pass,
    200 minibatches) give a median alpha near 2.7 in the capture's order, 2.0 when independent."""
    from sgnlib.capture import sampled_indices
    from sgnlib.probe_html import pass_note
    from sgnlib.stats import mohammadi_alpha
    x = torch.randn(2048, 2000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    med = {}
    for sampling in ("without_replacement", "independent"):
        idx = sampled_indices(2048, 128, 200, torch.Generator().manual_seed(1), sampling=sampling)
        noise = x[idx].mean(1)
        med[sampling] = float(mohammadi_alpha(noise - noise.mean(0)).median())
    assert med["without_replacement"] == pytest.approx(2.7, abs=0.1)
    assert med["independent"] == pytest.approx(2.0, abs=0.1)
    note = pass_note({"n_examples": 2048, "batch_sizes": [8, 32, 128]}, k1=10)
    assert "batch size 32 (64 per pass), 128 (16 per pass)" in note and "(256" not in note
    assert pass_note({"n_examples": 50000, "batch_sizes": [32, 128]}, k1=10) == ""
