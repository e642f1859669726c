"""The book's code fits its column at 800 px: a notebook cell holds 80 monospace characters, a code
block in a Markdown list about 79 (the site check measures the rendered page; this finds the line
before a build)."""
import json
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
WIDTH = 80
MARKDOWN_WIDTH = 78


def _long_lines(text: str, width: int = WIDTH):
    return [line for line in text.split("\n") if len(line) > width]


@pytest.mark.parametrize("path", sorted(BOOK.rglob("*.ipynb")), ids=lambda p: str(p.relative_to(BOOK)))
def test_notebook_code_and_text_output_fit(path):
    nb = json.loads(path.read_text())
    long = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        long += [(i, "code", line) for line in _long_lines("".join(cell["source"]))]
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "") or out.get("data", {}).get("text/plain", ""))
            long += [(i, "output", line) for line in _long_lines(text)]
    assert not long, f"lines over {WIDTH} characters (cell, kind, line): {long}"


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def code_blocks(text: str) -> list[list[str]]:
    """The lines of each fenced code block (a fence without a directive, or {code-block})."""
    blocks, current, fence = [], None, None
    for line in text.split("\n"):
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = stripped[:len(stripped) - len(stripped.lstrip("`"))]
            info = stripped[len(fence):]
            current = [] if not info.startswith("{") or info.startswith("{code") else None
        elif fence is not None and stripped == fence:
            if current is not None:
                blocks.append(current)
            fence, current = None, None
        elif current is not None:
            current.append(stripped)
    return blocks


@pytest.mark.parametrize("path", sorted([*BOOK.rglob("*.md"), *BOOK.rglob("*.ipynb")]),
                         ids=lambda p: str(p.relative_to(BOOK)))
def test_markdown_code_blocks_fit(path):
    blocks = code_blocks(_markdown(path))
    long = [line for block in blocks for line in block if len(line) > MARKDOWN_WIDTH]
    assert not long, f"{path.name}: code lines over {MARKDOWN_WIDTH} characters: {long}"


def test_code_blocks_pairs_fences_and_skips_directives():
    text = "```{glue:figure} f\ncaption\n```\nprose\n  ```bash\n  a b\n  ```\n```{code-block} py\nx\n```"
    assert code_blocks(text) == [["a b"], ["x"]]


ARGUMENT_PAGES = sorted([*BOOK.glob("theory/*.ipynb"), *BOOK.glob("results/*.ipynb"), BOOK / "report.ipynb",
                         BOOK / "intro.ipynb"])


@pytest.mark.parametrize("path", ARGUMENT_PAGES, ids=lambda p: str(p.relative_to(BOOK)))
def test_code_is_folded_on_theory_results_and_report_pages(path):
    """The argument first: a reader unfolds the code; only the experiments pages show it."""
    shown = [i for i, c in enumerate(json.loads(path.read_text())["cells"]) if c["cell_type"] == "code"
             and not {"hide-input", "remove-input", "remove-cell", "hide-cell"} & set(c["metadata"].get("tags", []))]
    assert not shown, f"{path.name}: code cells {shown} show their input; tag them hide-input"
