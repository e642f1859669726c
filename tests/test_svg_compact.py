"""sgnlib.svg_compact: the compact SVG draws the same elements, with the same styles and text."""
import io
import re
import xml.etree.ElementTree as ET

import matplotlib.pyplot as plt

from sgnlib.svg_compact import compact

NS = "{http://www.w3.org/2000/svg}"


def matplotlib_svg() -> str:
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.123456, 2.5, 1.0], "-o", label="p = 0.0123")
    ax.set_title("p = 0.0123")
    ax.legend()
    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "t"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buf.getvalue()


def test_same_elements_styles_and_text_fewer_bytes():
    raw = matplotlib_svg()
    small = compact(raw, "cx")
    a, b = ET.fromstring(raw), ET.fromstring(small)
    skip = (f"{NS}g", f"{NS}metadata")
    drawn = lambda e: e.tag.startswith(NS) and e.tag not in skip  # noqa: E731
    kinds = lambda t: sorted(e.tag for e in t.iter() if drawn(e))  # noqa: E731
    assert kinds(a) == kinds(b)
    texts = lambda t: [e.text for e in t.iter(f"{NS}text")]  # noqa: E731
    assert texts(a) == texts(b) and "p = 0.0123" in texts(b)   # text content never rounded
    css = b.find(f"{NS}defs/{NS}style").text
    styles = [e.get("style") for e in a.iter() if e.get("style")]
    classes = [e.get("class") for e in b.iter() if e.get("class")]
    assert len(styles) == len(classes) and not any(e.get("style") for e in b.iter())
    defined = dict(re.findall(r"\.(cx\d+)\{([^}]*)\}", css))
    assert [defined[c] for c in classes] == styles        # each element keeps its own style
    assert len(small) < 0.7 * len(raw)
    assert compact(raw, "cx") == small                    # deterministic


def test_path_numbers_rounded_to_a_hundredth():
    svg = '<svg><path d="M 1.23456 2 \nL 3.005 -0.001 \nz\n"/></svg>'
    assert compact(svg, "c") == '<svg><path d="M1.23 2L3 0z"/></svg>'
