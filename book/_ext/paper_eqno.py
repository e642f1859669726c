"""Sphinx extension: displayed equations keep the paper's numbers.

An equation labelled `eq-13` (MyST: `$$ ... $$ (eq-13)`) is the paper's eq 13; it is displayed and
cross-referenced ({eq}`eq-13`) as (13), on every page. Any other label is numbered per page with the
upper-cased first letter of the label before the running number (`rule-fdr` -> (R4)), so the book's
own equations never look like the paper's. Sphinx uses these numbers when `math_numfig` is false
(set in _config.yml); with it true it would number displayed math by position instead. Loaded by
dedupe_js (the project's registered local extension)."""
import re

from sphinx.domains.math import MathDomain

PAPER_LABEL = re.compile(r"eq-(\d+)$")
_note_equation = MathDomain.note_equation


def note_equation(self, docname, labelid, location=None):
    _note_equation(self, docname, labelid, location)  # duplicate warning, running number
    m = PAPER_LABEL.match(labelid)
    number = m.group(1) if m else f"{labelid[0].upper()}{self.equations[labelid][1]}"
    self.equations[labelid] = (docname, number)


def setup(app):
    MathDomain.note_equation = note_equation
    return {"parallel_read_safe": True, "parallel_write_safe": True}
