"""CIFAR-10 on the device, without a DataLoader (paper, "Experimental Results").

`load_cifar10` finds CIFAR-10 in one of two formats -- the official release read through
torchvision, or the JPEG mirror shipped beside this project in ``../shared/data`` -- decodes it
once into a uint8 cache keyed by the source file's sha256 (checksummed; rebuilt with a warning if
bad), and returns normalized float32 images on the requested device plus an ``info`` dict that
travels into every result's provenance. `identify` names the data without decoding it.

`augment` is the paper's crop+flip augmentation done on the tensor's own device, reproducible
from a ``torch.Generator``.
"""
from __future__ import annotations

import hashlib
import io
import os
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from .paths import REPO_ROOT, cache_dir

CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
SPLITS = ("train", "test")
SOURCES = ("auto", "torchvision", "jpeg-mirror", "synthetic")
MIRROR_ZIP = "cifar10-jpeg-{split}.zip"
TORCHVISION_DIR = "cifar-10-batches-py"
TORCHVISION_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


N_PER_CLASS = {"synthetic": 20, "train": 5000, "test": 1000}
_SHA_CACHE: dict = {}  # ((path, size, mtime_ns), ...) -> sha256, so one process hashes a file once


class DataNotFoundError(FileNotFoundError):
    """Raised when no CIFAR-10 copy is found; the message names the ways to provide one."""


def _sha_cached(paths) -> str:
    """`sha256_of(paths)`, memoized per (path, size, mtime) for this process."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    key = tuple((str(Path(p).resolve()), st.st_size, st.st_mtime_ns) for p in paths for st in [os.stat(p)])
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_of(paths)
    return _SHA_CACHE[key]


def _content_sha(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of the arrays' bytes: the checksum stored in the cache and synthetic data's identity."""
    h = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(labels).tobytes())
    return h.hexdigest()


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
    """Which format (if any) a folder holds for `split`: ('jpeg-mirror', zip) or ('torchvision', dir)."""
    if (folder / TORCHVISION_DIR).is_dir() and all(
            (folder / TORCHVISION_DIR / f).is_file() for f in TORCHVISION_FILES[split]):
        return "torchvision", folder
    if (folder / MIRROR_ZIP.format(split=split)).is_file():
        return "jpeg-mirror", folder / MIRROR_ZIP.format(split=split)
    return None


def _not_found_message(split: str) -> str:
    return (f"CIFAR-10 ({split}) not found. Provide it one of three ways: (1) set SGN_DATA to a folder "
            f"holding '{TORCHVISION_DIR}/' or '{MIRROR_ZIP.format(split=split)}'; (2) put either in "
            f"{REPO_ROOT / 'data' / 'cifar10'}; (3) call with download=True (or run `make book`, "
            f"which allows it) to fetch the official archive through torchvision.")


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
                   f"is set but {folder} holds neither {TORCHVISION_DIR}/ ({split} files) nor {zip_name}")
    raise DataNotFoundError(f"SGN_DATA={value!r} {problem}; unset it or point it at a folder holding "
                            f"{TORCHVISION_DIR}/ or {zip_name}")


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


def _decode_mirror(zip_path: Path, split: str):
    """Decode `split/<class>/*.jpg` from the mirror zip into uint8 [N,32,32,3] and labels."""
    from PIL import Image
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{zip_path} is not a readable zip ({e}); re-copy it from the mirror") from e
    with zf:
        names = sorted(n for n in zf.namelist() if n.lower().endswith(".jpg"))
        if not names:
            raise ValueError(f"{zip_path} holds no .jpg files; expected {split}/<class>/*.jpg")
        images = np.empty((len(names), 32, 32, 3), dtype=np.uint8)
        labels = np.empty(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            parts = name.split("/")
            if len(parts) < 3 or parts[-2] not in CLASSES:
                raise ValueError(f"{zip_path}: unexpected entry {name!r}; expected {split}/<class>/<file>.jpg")
            try:
                img = Image.open(io.BytesIO(zf.read(name))).convert("RGB")
            except Exception as e:  # zlib/CRC errors and broken JPEGs alike
                raise ValueError(f"{zip_path}: entry {name!r} is corrupt ({e}); re-copy the zip") from e
            if img.size != (32, 32):
                raise ValueError(f"{zip_path}: {name!r} is {img.size}, expected 32x32")
            images[i] = np.asarray(img)
            labels[i] = CLASSES.index(parts[-2])
    # official order within a class is the file order; group by class like the official labels do
    return images, labels


def _decode_torchvision(root: Path, split: str, download: bool):
    import torchvision
    ds = torchvision.datasets.CIFAR10(str(root), train=(split == "train"), download=download)
    return np.asarray(ds.data, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64)


def _synthetic(split: str, n_per_class: int = 20, seed: int = 0):
    """A tiny CIFAR-shaped random set for fast tests: class-dependent mean colour plus noise."""
    g = np.random.default_rng(seed + (0 if split == "train" else 1))
    labels = np.repeat(np.arange(10), n_per_class)
    base = (np.arange(10)[:, None] * np.array([23, 61, 97]) % 256)[labels]
    images = np.clip(base[:, None, None, :] + g.normal(0, 40, (labels.size, 32, 32, 3)), 0, 255)
    return images.astype(np.uint8), labels.astype(np.int64)


def _atomic_save_npz(path: Path, **arrays):
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_cache(cache: Path):
    """(images, labels) from a valid cache file, else ValueError saying what is wrong with it."""
    try:
        with np.load(cache, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("images", "labels", "checksum") if k in z.files}
    except Exception as e:  # BadZipFile, EOFError, OSError, zlib errors, pickled data, ...
        raise ValueError(f"is unreadable ({type(e).__name__}: {e})") from e
    if len(arrays) < 3:
        raise ValueError(f"lacks {sorted({'images', 'labels', 'checksum'} - set(arrays))} (old format?)")
    images, labels = arrays["images"], arrays["labels"]
    if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3) or images.ndim != 4:
        raise ValueError(f"holds images {images.dtype}{list(images.shape)}, expected uint8[N,32,32,3]")
    if labels.dtype != np.int64 or labels.shape != images.shape[:1]:
        raise ValueError(f"holds labels {labels.dtype}{list(labels.shape)}, expected int64[{len(images)}]")
    if str(arrays["checksum"]) != _content_sha(images, labels):
        raise ValueError("fails its checksum")
    return images, labels


def _locate(split, source, root, download):
    """(source, path, files) with the files present, fetching through torchvision if asked to."""
    src, path = resolve_source(split, source, root, download)
    if src == "synthetic":
        return src, None, None
    if src == "torchvision" and not (Path(path) / TORCHVISION_DIR).is_dir():
        _decode_torchvision(path, split, download=True)  # explicit download requested by the caller
    files = path if src == "jpeg-mirror" else [Path(path) / TORCHVISION_DIR / f for f in TORCHVISION_FILES[split]]
    return src, path, files


def identify(split="train", source="auto", root=None, download=None) -> dict:
    """{source, sha256, path, n_per_class} of the data `load_cifar10` would use, without decoding."""
    if download is None:
        download = os.environ.get("SGN_ALLOW_DOWNLOAD") == "1"
    src, path, files = _locate(split, source, root, download)
    synth = src == "synthetic"
    return {"source": src, "sha256": _content_sha(*_synthetic(split)) if synth else _sha_cached(files),
            "path": None if synth else str(path), "n_per_class": N_PER_CLASS["synthetic" if synth else split]}


def n_train_images(source: str, subset: int | None) -> int:
    """Training images a configuration sees: 10 * min(subset, n_per_class), or 10 * n_per_class."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {SOURCES}")
    n = N_PER_CLASS["synthetic" if source == "synthetic" else "train"]
    if subset is not None and int(subset) <= 0:
        raise ValueError(f"subset must be a positive number of images per class, got {subset}")
    return 10 * (n if subset is None else min(int(subset), n))


def load_uint8(split="train", source="auto", root=None, download=False):
    """CIFAR-10 as uint8 [N,32,32,3] + int64 labels + info, through the sha-keyed, self-checking cache."""
    src, path, files = _locate(split, source, root, download)
    info = {"source": src, "split": split}
    if src == "synthetic":
        images, labels = _synthetic(split)
        info.update(path=None, sha256=_content_sha(images, labels), decode_s=0.0, from_cache=False,
                    cache_rebuilt=None)
        return images, labels, info
    sha = _sha_cached(files)
    info.update(path=str(path), sha256=sha, cache_rebuilt=None)
    cache = cache_dir() / f"cifar10-{src}-{split}-{sha[:16]}.npz"
    t0 = time.perf_counter()
    if cache.is_file():
        try:
            images, labels = _read_cache(cache)
            info.update(from_cache=True, load_s=time.perf_counter() - t0, cache=str(cache))
            return images, labels, info
        except ValueError as e:
            reason = " ".join(str(e).split())  # one line
            warnings.warn(f"sgn-book: cache {cache} {reason}; deleting it and decoding again",
                          RuntimeWarning, stacklevel=2)
            cache.unlink(missing_ok=True)
            info["cache_rebuilt"] = reason
    images, labels = (_decode_mirror(Path(path), split) if src == "jpeg-mirror"
                      else _decode_torchvision(path, split, download=False))
    _atomic_save_npz(cache, images=images, labels=labels, checksum=np.array(_content_sha(images, labels)))
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


def augment(images: torch.Tensor, generator: torch.Generator | None = None, pad: int = 4) -> torch.Tensor:
    """Random crop with `pad`-pixel black padding and horizontal flip, on the images' own device.

    Padding uses the normalized value of a black pixel, as torchvision's RandomCrop(32, padding=4)
    on unnormalized images would. `generator` must live on the images' device.
    """
    n, c, h, w = images.shape
    dev = images.device
    fill = (-torch.tensor(MEAN, device=dev) / torch.tensor(STD, device=dev)).view(1, c, 1, 1).to(images.dtype)
    padded = fill.expand(n, c, h + 2 * pad, w + 2 * pad).clone()
    padded[:, :, pad:pad + h, pad:pad + w] = images
    dy = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), device=dev, generator=generator)
    flip = torch.rand(n, device=dev, generator=generator) < 0.5
    rows = (dy[:, None] + torch.arange(h, device=dev))[:, None, :, None].expand(n, c, h, w + 2 * pad)
    out = padded.gather(2, rows)
    cols = dx[:, None] + torch.arange(w, device=dev)
    cols = torch.where(flip[:, None], cols.flip(1), cols)[:, None, None, :].expand(n, c, h, w)
    return out.gather(3, cols)
