"""sgnlib.tables: the experiment pages' tables (a notebook's papermill parameters)."""
from sgnlib import tables


def test_notebook_parameters_read_every_parameter_and_its_comment():
    from sgnlib.paths import REPO_ROOT
    for nb in ("train", "noise_capture"):
        path = REPO_ROOT / "book" / "experiments" / f"{nb}.ipynb"
        p = tables.notebook_parameters(path).set_index("parameter")
        expected = {"model", "epochs", "seed", "subset", "device", "config", "output_dir"}
        assert expected <= set(p.index)
        assert (p.meaning != "").all(), p[p.meaning == ""]
        assert f"Parameters of {nb}.ipynb" in tables.parameters_html(path, nb)
