"""CIFAR-10's files, read and checked: a file is used only once its content is the split it stands
for.

A split is ten classes, each with the images per class its source has (`N_PER_CLASS`: 5,000 in
CIFAR-10's train split, 1,000 in its test split, 20 in either split of the synthetic set), every
image 32x32x3 uint8. A JPEG mirror zip is checked from its listing before anything is decoded
(`check_mirror_listing`, cheap enough for `identify`); decoded or cached arrays are checked again
(`check_arrays`). Anything else is one `DataError` line naming the file and what is wrong.

Decoded splits are cached as .npz files holding their own checksum (`read_cache` says what is
wrong with a bad one; `from_cache` deletes it with a warning so the caller decodes again).
"""
from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .atomic import atomic_write

CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")
N_PER_CLASS = {"synthetic": 20, "train": 5000, "test": 1000}
FIX = "re-copy the file, or point SGN_DATA at a complete CIFAR-10 copy"


class DataError(ValueError):
    """A data file whose content is not the split it stands for; the message names the file."""


def expected_per_class(source: str, split: str) -> int:
    """Images per class of `split` from `source` (synthetic: both splits alike)."""
    return N_PER_CLASS["synthetic" if source == "synthetic" else split]


def check_counts(where, source: str, split: str, counts: dict) -> None:
    """counts {class: images}: all ten classes, each with the split's expected number of images."""
    missing = [c for c in CLASSES if not counts.get(c)]
    if missing:
        raise DataError(f"{where}: holds {10 - len(missing)} of the 10 CIFAR-10 classes (no "
                        f"{', '.join(missing)}); {FIX}")
    want, have = expected_per_class(source, split), [counts[c] for c in CLASSES]
    if min(have) != want or max(have) != want:
        many = f"{min(have)}" if min(have) == max(have) else f"{min(have)} to {max(have)}"
        raise DataError(f"{where}: holds {many} images per class ({sum(have)} in all); the {split} "
                        f"split "
                        f"has {want} per class ({10 * want}); {FIX}")


def _mirror_names(zip_path: Path, split: str, names) -> list[str]:
    """The .jpg entries, each `<split>/<class>/<file>.jpg`, with the split's counts per class."""
    names = sorted(n for n in names if n.lower().endswith(".jpg"))
    if not names:
        raise DataError(f"{zip_path} holds no .jpg files; expected {split}/<class>/*.jpg")
    counts = dict.fromkeys(CLASSES, 0)
    for name in names:
        parts = name.split("/")
        if len(parts) < 3 or parts[-2] not in CLASSES:
            raise DataError(f"{zip_path}: unexpected entry {name!r}; expected "
                            f"{split}/<class>/<file>.jpg")
        if parts[-3] != split:
            raise DataError(f"{zip_path}: entry {name!r} belongs to the {parts[-3]!r} split, not "
                            f"{split!r}; "
                            f"the file holds another split: {FIX}")
        counts[parts[-2]] += 1
    check_counts(zip_path, "jpeg-mirror", split, counts)
    return names


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"{zip_path} is not a readable zip ({e}); re-copy it from the "
                        f"mirror") from None


def check_mirror_listing(zip_path: Path, split: str) -> None:
    """The zip's listing is a complete `split` (no image is decoded)."""
    with _open_zip(zip_path) as zf:
        _mirror_names(zip_path, split, zf.namelist())


def decode_mirror(zip_path: Path, split: str):
    """Decode `split/<class>/*.jpg` from the mirror zip into uint8 [N,32,32,3] and labels."""
    from PIL import Image
    with _open_zip(zip_path) as zf:
        names = _mirror_names(zip_path, split, zf.namelist())
        images = np.empty((len(names), 32, 32, 3), dtype=np.uint8)
        labels = np.empty(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            try:
                img = Image.open(io.BytesIO(zf.read(name))).convert("RGB")
            except Exception as e:  # zlib/CRC errors and broken JPEGs alike
                raise DataError(f"{zip_path}: entry {name!r} is corrupt ({e}); re-copy the "
                                f"zip") from e
            if img.size != (32, 32):
                raise DataError(f"{zip_path}: {name!r} is {img.size}, expected 32x32")
            images[i] = np.asarray(img)
            labels[i] = CLASSES.index(name.split("/")[-2])
    # official order within a class is the file order; group by class like the official labels do
    return images, labels


def decode_torchvision(root: Path, split: str, download: bool):
    import torchvision
    ds = torchvision.datasets.CIFAR10(str(root), train=(split == "train"), download=download)
    return np.asarray(ds.data, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64)


def content_sha(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of the arrays' bytes: the checksum stored in the cache and synthetic data's
    identity."""
    h = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(labels).tobytes())
    return h.hexdigest()


def atomic_save_npz(path: Path, **arrays):
    """Replace `path` by an .npz of `arrays` (`sgnlib.atomic.atomic_write`)."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    atomic_write(path, write)


def read_cache(cache: Path):
    """(images, labels) from a valid cache file, else ValueError saying what is wrong with it."""
    try:
        with np.load(cache, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("images", "labels", "checksum") if k in z.files}
    except Exception as e:  # BadZipFile, EOFError, OSError, zlib errors, pickled data, ...
        raise ValueError(f"is unreadable ({type(e).__name__}: {e})") from e
    if len(arrays) < 3:
        missing = sorted({"images", "labels", "checksum"} - set(arrays))
        raise ValueError(f"lacks {missing} (old format?)")
    images, labels = arrays["images"], arrays["labels"]
    if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3) or images.ndim != 4:
        raise ValueError(f"holds images {images.dtype}{list(images.shape)}, expected "
                         f"uint8[N,32,32,3]")
    if labels.dtype != np.int64 or labels.shape != images.shape[:1]:
        raise ValueError(f"holds labels {labels.dtype}{list(labels.shape)}, expected "
                         f"int64[{len(images)}]")
    if str(arrays["checksum"]) != content_sha(images, labels):
        raise ValueError("fails its checksum")
    return images, labels


def from_cache(cache: Path, info: dict):
    """(images, labels) from a valid cache file; None (the bad file deleted, with a warning) if
    not."""
    try:
        return read_cache(cache)
    except ValueError as e:
        reason = " ".join(str(e).split())  # one line
        warnings.warn(f"sgn-book: cache {cache} {reason}; deleting it and decoding again",
                      RuntimeWarning, stacklevel=3)
        cache.unlink(missing_ok=True)
        info["cache_rebuilt"] = reason
        return None


def check_arrays(where, source: str, split: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Decoded `split`: uint8 images [N,32,32,3], one label 0..9 each, the split's counts per
    class."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (32, 32, 3):
        raise DataError(f"{where}: images are {images.dtype}{list(images.shape)}, expected "
                        f"uint8[N,32,32,3]; "
                        f"{FIX}")
    bad_labels = labels.size and not 0 <= labels.min() <= labels.max() <= 9
    if labels.shape != images.shape[:1] or bad_labels:
        raise DataError(f"{where}: {labels.size} labels for {len(images)} images, expected one in "
                        f"0..9 each; "
                        f"{FIX}")
    counts = np.bincount(labels, minlength=10) if labels.size else np.zeros(10, int)
    check_counts(where, source, split, dict(zip(CLASSES, counts.tolist())))
