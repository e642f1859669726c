"""The book's code fits its column at 800 px: a notebook cell holds 80 monospace characters, a code
block in a Markdown list about 79 (the site check measures the rendered page; this finds the line
before a build)."""
import json
import re
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


@pytest.mark.parametrize("path", sorted(BOOK.rglob("*.md")), ids=lambda p: str(p.relative_to(BOOK)))
def test_markdown_code_blocks_fit(path):
    blocks = re.findall(r"^ *```[^\n{]*\n(.*?)^ *```", path.read_text(), flags=re.S | re.M)
    long = [line.strip() for b in blocks for line in b.split("\n") if len(line.strip()) > MARKDOWN_WIDTH]
    assert not long, f"{path.name}: code lines over {MARKDOWN_WIDTH} characters: {long}"
