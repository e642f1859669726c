"""CIFAR-10 on the device, without a DataLoader (paper, "Experimental Results").

`load_cifar10` finds CIFAR-10 in one of two formats -- the official release read through
torchvision, or the JPEG mirror shipped beside this project in ``../shared/data`` -- decodes it
once into a uint8 cache keyed by the source file's sha256 (checksummed; rebuilt with a warning if
bad), and returns normalized float32 images on the requested device plus an ``info`` dict that
travels into every result's provenance. `identify` names the data without decoding it.

Every split is checked before use (`sgnlib.data_files`: ten classes, the split's images per class,
32x32x3 uint8): a file that is not the split it is named for is one `DataError` line. `identify`
also names the test split found beside the train split; `shipped_test_sha256` says which test
split a known train split is released with.

`augment` (`sgnlib.augmentation`, re-exported here) is the paper's crop+flip augmentation done on
the tensor's own device, reproducible from a ``torch.Generator``.
"""
from __future__ import annotations

import functools
import hashlib
import os
import time
from pathlib import Path

import numpy as np
import torch

from .data_files import (CLASSES, N_PER_CLASS, DataError, check_arrays,  # noqa: F401
                         check_mirror_listing)
from .data_files import atomic_save_npz as _atomic_save_npz
from .data_files import content_sha as _content_sha
from .data_files import from_cache as _from_cache
from .data_files import decode_mirror as _decode_mirror
from .data_files import decode_torchvision as _decode_torchvision
from .augmentation import apply_augment, augment  # noqa: F401  (the training augmentation)
from .hyperparameters import MEAN, STD
from .paths import REPO_ROOT, cache_dir

SPLITS = ("train", "test")
SOURCES = ("auto", "torchvision", "jpeg-mirror", "synthetic")
MIRROR_ZIP = "cifar10-jpeg-{split}.zip"
TORCHVISION_DIR = "cifar-10-batches-py"
TORCHVISION_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
# the test split each known train split is released with (train sha256 -> test sha256): the JPEG
# mirror's pair (../shared/data/README.md); the synthetic pair is computed (`shipped_test_sha256`)
SHIPPED_TEST = {"f9e11d6283a4afd5286866ecf0496165390e4f1f2305295e0cfdf337d5eead54":
                "b109075b44d9525eb3796e49b290b0a6c1beb17d7f4106c1a074e20947d37829"}
_SHA_CACHE: dict = {}  # ((path, size, mtime_ns), ...) -> sha256, so one process hashes a file once


class DataNotFoundError(FileNotFoundError):
    """Raised when no CIFAR-10 copy is found; the message names the ways to provide one."""


def _file_key(paths) -> tuple:
    """(path, size, mtime) of each file: a file's version, as far as this process can tell."""
    return tuple((str(Path(p).resolve()), st.st_size, st.st_mtime_ns)
                 for p in paths for st in [os.stat(p)])


def _sha_cached(paths) -> str:
    """`sha256_of(paths)`, memoized per file version for this process."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    key = _file_key(paths)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_of(paths)
    return _SHA_CACHE[key]


def _listing_checked(zip_path: Path, split: str) -> None:
    """`check_mirror_listing`, once per file version and split for this process."""
    key = ("listing", split) + _file_key([zip_path])
    if key not in _SHA_CACHE:
        check_mirror_listing(Path(zip_path), split)
        _SHA_CACHE[key] = True


def sha256_of(paths) -> str:
    """sha256 over the bytes of one file, or of several files concatenated in order."""
    h = hashlib.sha256()
    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def _candidate_folders() -> list[tuple[str, Path]]:
    """Default folders searched when neither root= nor $SGN_DATA is given."""
    return [("data/cifar10", REPO_ROOT / "data" / "cifar10"),
            ("../shared/data", REPO_ROOT.parent / "shared" / "data")]


def _find_in(folder: Path, split: str):
    """Which format (if any) a folder holds for `split`: ('jpeg-mirror', zip) or ('torchvision',
    dir)."""
    if (folder / TORCHVISION_DIR).is_dir() and all(
            (folder / TORCHVISION_DIR / f).is_file() for f in TORCHVISION_FILES[split]):
        return "torchvision", folder
    if (folder / MIRROR_ZIP.format(split=split)).is_file():
        return "jpeg-mirror", folder / MIRROR_ZIP.format(split=split)
    return None


def _not_found_message(split: str) -> str:
    return (f"CIFAR-10 ({split}) not found. Provide it one of three ways: (1) set SGN_DATA to a "
            f"folder holding '{TORCHVISION_DIR}/' or '{MIRROR_ZIP.format(split=split)}'; (2) put "
            f"either in {REPO_ROOT / 'data' / 'cifar10'}; (3) call with download=True (or run "
            f"`make book`, which allows it) to fetch the official archive through torchvision.")


def _from_sgn_data(value: str, split: str, source: str):
    """Resolve through $SGN_DATA alone; a missing, empty or data-less folder is an error."""
    folder, zip_name = Path(value).expanduser(), MIRROR_ZIP.format(split=split)
    found = _find_in(folder, split) if value.strip() else None
    if found and source in ("auto", found[0]):
        return found
    if not value.strip():
        problem = "is set but empty"
    elif not folder.is_dir():
        problem = f"is set but {folder} does not exist"
    else:
        problem = (f"holds a {found[0]} copy, not the requested {source}" if found else
                   f"is set but {folder} holds neither {TORCHVISION_DIR}/ ({split} files) nor "
                   f"{zip_name}")
    raise DataNotFoundError(f"SGN_DATA={value!r} {problem}; unset it or point it at a folder "
                            f"holding {TORCHVISION_DIR}/ or {zip_name}")


def resolve_source(split: str = "train", source: str = "auto", root=None, download: bool = False):
    """Decide where CIFAR-10 comes from, without decoding anything: returns (source, path)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {SOURCES}")
    if source == "synthetic":
        return "synthetic", None
    if root is not None:
        found = _find_in(Path(root), split)
        if found and source in ("auto", found[0]):
            return found
        if source == "torchvision" and download:
            return "torchvision", Path(root)
        raise DataNotFoundError(_not_found_message(split) + f" (looked in root={root})")
    if "SGN_DATA" in os.environ:  # explicit: only this folder, never a silent fallback
        return _from_sgn_data(os.environ["SGN_DATA"], split, source)
    for _, folder in _candidate_folders():
        found = _find_in(folder, split)
        if found and source in ("auto", found[0]):
            return found
    if download:
        return "torchvision", REPO_ROOT / "data" / "cifar10"
    raise DataNotFoundError(_not_found_message(split))


def _synthetic(split: str, n_per_class: int = 20, seed: int = 0):
    """A tiny CIFAR-shaped random set for fast tests: class-dependent mean colour plus noise."""
    g = np.random.default_rng(seed + (0 if split == "train" else 1))
    labels = np.repeat(np.arange(10), n_per_class)
    base = (np.arange(10)[:, None] * np.array([23, 61, 97]) % 256)[labels]
    images = np.clip(base[:, None, None, :] + g.normal(0, 40, (labels.size, 32, 32, 3)), 0, 255)
    return images.astype(np.uint8), labels.astype(np.int64)


@functools.lru_cache(maxsize=None)
def _synthetic_sha(split: str) -> str:
    return _content_sha(*_synthetic(split))


def shipped_test_sha256(train_sha256: str | None) -> str | None:
    """sha256 of the test split released with the train split `train_sha256`; None when unknown."""
    if train_sha256 == _synthetic_sha("train"):
        return _synthetic_sha("test")
    return SHIPPED_TEST.get(train_sha256)


def _locate(split, source, root, download):
    """(source, path, files) with the files present, fetching through torchvision if asked to."""
    src, path = resolve_source(split, source, root, download)
    if src == "synthetic":
        return src, None, None
    if src == "torchvision" and not (Path(path) / TORCHVISION_DIR).is_dir():
        _decode_torchvision(path, split, download=True)  # explicit download requested by the caller
    files = path if src == "jpeg-mirror" else [Path(path) / TORCHVISION_DIR / f
                                               for f in TORCHVISION_FILES[split]]
    return src, path, files


def _identify(split, source, root, download) -> dict:
    src, path, files = _locate(split, source, root, download)
    if src == "jpeg-mirror":
        _listing_checked(path, split)
    synth = src == "synthetic"
    return {"source": src, "sha256": _synthetic_sha(split) if synth else _sha_cached(files),
            "path": None if synth else str(path),
            "n_per_class": N_PER_CLASS["synthetic" if synth else split]}


def identify(split="train", source="auto", root=None, download=None) -> dict:
    """{source, sha256, path, n_per_class} of the data `load_cifar10` would use, without decoding (a
    mirror zip's listing is checked). For the train split also 'test': {source, sha256, path} of the
    test split found the same way (what the train stage evaluates on), or None if there is none."""
    if download is None:
        download = os.environ.get("SGN_ALLOW_DOWNLOAD") == "1"
    out = _identify(split, source, root, download)
    if split == "train":
        try:
            test = _identify("test", out["source"], root, download)
            out["test"] = {k: test[k] for k in ("source", "sha256", "path")}
        except DataNotFoundError:
            out["test"] = None
    return out


def n_train_images(source: str, subset: int | None) -> int:
    """Training images a configuration sees: 10 * min(subset, n_per_class), or 10 * n_per_class."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {SOURCES}")
    n = N_PER_CLASS["synthetic" if source == "synthetic" else "train"]
    if subset is not None and int(subset) <= 0:
        raise ValueError(f"subset must be a positive number of images per class, got {subset}")
    return 10 * (n if subset is None else min(int(subset), n))


def load_uint8(split="train", source="auto", root=None, download=False):
    """CIFAR-10 as uint8 [N,32,32,3] + int64 labels + info, through the sha-keyed, self-checking
    cache; the content is checked to be a complete `split` (`DataError` naming the file if not)."""
    src, path, files = _locate(split, source, root, download)
    info = {"source": src, "split": split}
    if src == "synthetic":
        images, labels = _synthetic(split)
        info.update(path=None, sha256=_content_sha(images, labels), decode_s=0.0, from_cache=False,
                    cache_rebuilt=None)
        return images, labels, info
    sha = _sha_cached(files)
    where = path if src == "jpeg-mirror" else Path(path) / TORCHVISION_DIR
    info.update(path=str(path), sha256=sha, cache_rebuilt=None)
    cache = cache_dir() / f"cifar10-{src}-{split}-{sha[:16]}.npz"
    t0 = time.perf_counter()
    cached = _from_cache(cache, info) if cache.is_file() else None
    if cached is not None:
        check_arrays(where, src, split, *cached)
        info.update(from_cache=True, load_s=time.perf_counter() - t0, cache=str(cache))
        return (*cached, info)
    images, labels = (_decode_mirror(Path(path), split) if src == "jpeg-mirror"
                      else _decode_torchvision(path, split, download=False))
    check_arrays(where, src, split, images, labels)
    checksum = np.array(_content_sha(images, labels))
    _atomic_save_npz(cache, images=images, labels=labels, checksum=checksum)
    info.update(from_cache=False, decode_s=time.perf_counter() - t0, cache=str(cache))
    return images, labels, info


def take_subset(labels: np.ndarray, k: int) -> np.ndarray:
    """Indices of the first `k` images of each class, in dataset order (deterministic)."""
    if k <= 0:
        raise ValueError(f"subset must be a positive number of images per class, got {k}")
    idx = np.concatenate([np.flatnonzero(labels == c)[:k] for c in range(10)])
    return np.sort(idx)


def load_cifar10(split="train", source="auto", root=None, device="cpu", subset=None, download=None,
                 normalize: bool = True):
    """Return (images float32 [N,3,32,32] normalized, labels int64 [N], info) on `device`.

    normalize: standardize each channel with MEAN/STD (the default); False: raw pixels in [0, 1].

    source: "auto" | "torchvision" | "jpeg-mirror" | "synthetic" ("auto" never picks synthetic).
    subset: first `subset` images of each class. download: allow torchvision to fetch the official
    archive when no copy is found; None means "if $SGN_ALLOW_DOWNLOAD is 1" (`make book` sets it).
    """
    if download is None:
        download = os.environ.get("SGN_ALLOW_DOWNLOAD") == "1"
    images, labels, info = load_uint8(split, source, root, download)
    if subset is not None:
        idx = take_subset(labels, int(subset))
        images, labels = images[idx], labels[idx]
    x = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().div_(255)
    if normalize:
        mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
        std = torch.tensor(STD, device=device).view(1, 3, 1, 1)
        x = ((x - mean) / std).contiguous()
    info.update(n=int(x.shape[0]), subset_per_class=subset, mean=MEAN if normalize else None,
                std=STD if normalize else None)
    return x, torch.from_numpy(labels).to(device), info
