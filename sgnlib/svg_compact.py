"""Matplotlib's SVG written compactly, drawing the same: coordinates to 0.01 pt (a thirtieth of a
pixel at 2x), no comments, metadata or indentation, no-op rotations dropped, and each distinct
inline style written once as a CSS class (named from `prefix`, so two figures on a page never share
a class). Text stays text; embedded raster images pass through untouched."""
from __future__ import annotations

import re

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
ATTRIBUTES = re.compile(r' (x|y|width|height|transform)="([^"]*)"')


def _number(m: re.Match) -> str:
    """A number rounded to 2 decimals, trailing zeros dropped ('-0' written '0')."""
    s = f"{round(float(m[0]), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _path(d: str) -> str:
    """Path data with rounded numbers and no space around its commands."""
    d = re.sub(r"\s+", " ", NUMBER.sub(_number, d)).strip()
    return re.sub(r" ?([MLCQZz]) ?", r"\1", d)


def _classes(svg: str, prefix: str) -> str:
    """Each distinct style="..." replaced by a class defined once in the SVG's style sheet."""
    styles: dict[str, str] = {}

    def to_class(m: re.Match) -> str:
        return f'class="{styles.setdefault(m[1], f"{prefix}{len(styles)}")}"'
    body = re.sub(r'style="([^"]*)"', to_class, svg)
    css = "".join(f".{name}{{{style}}}" for style, name in styles.items())
    return body.replace("</style>", css + "</style>", 1)


def compact(svg: str, prefix: str) -> str:
    """`svg` (matplotlib's output) written compactly; see the module's docstring."""
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r' d="([^"]*)"', lambda m: f' d="{_path(m[1])}"', svg)
    svg = re.sub(r' transform="rotate\(-?0 [^)]*\)"', "", svg)
    svg = ATTRIBUTES.sub(lambda m: f' {m[1]}="{NUMBER.sub(_number, m[2])}"', svg)
    svg = re.sub(r'<g id="[^"]*">', "<g>", svg)
    svg = re.sub(r"\n\s+", "\n", svg)
    svg = re.sub(r"<g>\n(<(?:path|use|text)[^>]*/>)\n</g>", r"\1", svg)
    return _classes(svg, prefix)
