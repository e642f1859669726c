import os
import re
import warnings
import zipfile

import numpy as np
import pytest
import torch

from sgnlib import data
from conftest import needs_cifar


def test_synthetic_is_named_and_shaped():
    x, y, info = data.load_cifar10("train", source="synthetic")
    assert info["source"] == "synthetic"
    assert x.shape == (200, 3, 32, 32) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and set(y.tolist()) == set(range(10))


def test_auto_never_picks_synthetic(tmp_path, monkeypatch):
    monkeypatch.delenv("SGN_DATA", raising=False)
    monkeypatch.setattr(data, "_candidate_folders", lambda: [("data/cifar10", tmp_path)])
    with pytest.raises(data.DataNotFoundError) as e:
        data.load_cifar10("train")
    msg = str(e.value)
    assert "SGN_DATA" in msg and "data/cifar10" in msg and "download=True" in msg
    assert "\n" not in msg


def test_unknown_source_and_split():
    with pytest.raises(ValueError, match="unknown source"):
        data.load_cifar10(source="imagenet")
    with pytest.raises(ValueError, match="split"):
        data.load_cifar10(split="val")


def _write_mirror(folder, split, n_per_class=3, corrupt=False, seed=0, classes=data.CLASSES, prefix=None):
    """A fake mirror zip: `n_per_class` random JPEGs per class under `prefix` (default: the split)."""
    from PIL import Image
    import io
    path = folder / f"cifar10-jpeg-{split}.zip"
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for c in classes:
            for i in range(n_per_class):
                buf = io.BytesIO()
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(buf, "JPEG")
                payload = buf.getvalue()
                if corrupt and c == "cat" and i == 1:
                    payload = b"not a jpeg" + payload[:10]
                zf.writestr(f"{prefix or split}/{c}/{i:04d}.jpg", payload)
    return path


@pytest.fixture
def small_splits(monkeypatch):
    """Fake mirrors hold 3 images per class in either split (CIFAR-10: 5,000 and 1,000)."""
    monkeypatch.setitem(data.N_PER_CLASS, "train", 3)
    monkeypatch.setitem(data.N_PER_CLASS, "test", 3)


def test_mirror_layout_labels_cache_and_subset(tmp_path, monkeypatch, small_splits):
    monkeypatch.setenv("SGN_CACHE", str(tmp_path / "cache"))
    _write_mirror(tmp_path, "train")
    x, y, info = data.load_cifar10("train", root=tmp_path)
    assert info["source"] == "jpeg-mirror" and not info["from_cache"]
    assert x.shape == (30, 3, 32, 32)
    assert y.tolist() == sorted(y.tolist()) and y.bincount().tolist() == [3] * 10  # official class order
    assert info["sha256"] == data.sha256_of(tmp_path / "cifar10-jpeg-train.zip")
    x2, y2, info2 = data.load_cifar10("train", root=tmp_path)
    assert info2["from_cache"] and torch.equal(x, x2) and info2["sha256"][:16] in info2["cache"]
    xs, ys, _ = data.load_cifar10("train", root=tmp_path, subset=2)
    assert ys.bincount().tolist() == [2] * 10 and torch.equal(xs[:2], x[:2])
    assert not list((tmp_path / "cache").glob("*.tmp*"))


def test_corrupt_mirror_is_a_clear_error_and_leaves_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SGN_CACHE", str(tmp_path / "cache"))
    _write_mirror(tmp_path, "test", corrupt=True)
    with pytest.raises(ValueError, match="corrupt"):
        data.load_cifar10("test", root=tmp_path)
    assert not list((tmp_path / "cache").glob("*"))
    (tmp_path / "cifar10-jpeg-test.zip").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable zip"):
        data.load_cifar10("test", root=tmp_path)


def test_augment_reproducible_crop_and_flip():
    x = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).reshape(2, 3, 32, 32)
    a = data.augment(x, torch.Generator().manual_seed(1))
    b = data.augment(x, torch.Generator().manual_seed(1))
    c = data.augment(x, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c) and a.shape == x.shape
    # every output row is a (possibly flipped) shifted window of the padded input
    fill = -torch.tensor(data.MEAN) / torch.tensor(data.STD)
    for img_out, img_in in zip(a, x):
        padded = fill.view(3, 1, 1).expand(3, 40, 40).clone()
        padded[:, 4:36, 4:36] = img_in
        found = any(torch.equal(img_out, padded[:, dy:dy + 32, dx:dx + 32].flip(2) if f else padded[:, dy:dy + 32, dx:dx + 32])
                    for dy in range(9) for dx in range(9) for f in (0, 1))
        assert found


def test_subset_rejects_nonpositive():
    with pytest.raises(ValueError, match="positive"):
        data.take_subset(np.arange(10), 0)


@needs_cifar
def test_real_cifar_shapes():
    x, y, info = data.load_cifar10("test")
    assert x.shape == (10000, 3, 32, 32) and y.bincount().tolist() == [1000] * 10
    assert info["source"] in ("jpeg-mirror", "torchvision") and len(info["sha256"]) == 64
    x, y, info = data.load_cifar10("train", subset=5)
    assert x.shape == (50, 3, 32, 32)
    xs, _, _ = data.load_cifar10("train")
    assert xs.shape == (50000, 3, 32, 32)
    assert abs(float(xs.mean())) < 0.1 and abs(float(xs.std()) - 1) < 0.1


def _fake_official(root, n_per_batch=10):
    import pickle
    d = root / data.TORCHVISION_DIR
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in data.TORCHVISION_FILES["train"] + data.TORCHVISION_FILES["test"]:
        with open(d / name, "wb") as f:
            pickle.dump({"data": rng.integers(0, 255, (n_per_batch, 3072), dtype=np.uint8),
                         "labels": [i % 10 for i in range(n_per_batch)]}, f)
    with open(d / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(data.CLASSES)}, f)


def test_torchvision_format_is_found_and_named(tmp_path, monkeypatch):
    """The official format through torchvision (its md5 check bypassed for this fake copy)."""
    import torchvision
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_load_meta", lambda self: None)
    monkeypatch.setenv("SGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SGN_DATA", str(tmp_path))
    monkeypatch.setitem(data.N_PER_CLASS, "train", 5)  # five batches of one image per class
    monkeypatch.setitem(data.N_PER_CLASS, "test", 1)
    _fake_official(tmp_path)
    x, y, info = data.load_cifar10("train")
    assert info["source"] == "torchvision" and x.shape == (50, 3, 32, 32) and len(info["sha256"]) == 64
    x, y, info = data.load_cifar10("test")
    assert x.shape == (10, 3, 32, 32) and y.tolist() == list(range(10))


def test_download_only_when_allowed(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_candidate_folders", lambda: [])
    monkeypatch.delenv("SGN_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.delenv("SGN_DATA", raising=False)
    with pytest.raises(data.DataNotFoundError):
        data.resolve_source("train")
    src, path = data.resolve_source("train", download=True)
    assert src == "torchvision" and path.name == "cifar10"


@pytest.fixture
def mirror(tmp_path, monkeypatch, small_splits):
    """A 30-image fake JPEG mirror in tmp_path, an empty cache, and no $SGN_DATA."""
    monkeypatch.setenv("SGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SGN_DATA", raising=False)
    _write_mirror(tmp_path, "train")
    return tmp_path


def _spoil(cache, how, images, labels):
    if how == "truncated":
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    elif how == "empty":
        cache.write_bytes(b"")
    elif how == "garbage":
        cache.write_bytes(os.urandom(4096))
    elif how == "wrong_checksum":  # content changed, checksum kept: only the checksum can notice
        with np.load(cache) as z:
            checksum = z["checksum"]
        bad = images.copy()
        bad[0, 0, 0, 0] ^= 1
        np.savez(cache, images=bad, labels=labels, checksum=checksum)
    elif how == "old_format":
        np.savez(cache, images=images, labels=labels)
    elif how == "wrong_dtype":
        np.savez(cache, images=images.astype(np.float32), labels=labels, checksum=np.array("0" * 64))


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage", "wrong_checksum", "old_format", "wrong_dtype"])
def test_bad_cache_is_rebuilt_with_a_warning_naming_it(mirror, how):
    images, labels, info = data.load_uint8("train", root=mirror)
    assert not info["from_cache"] and info["cache_rebuilt"] is None
    cache = data.Path(info["cache"])
    _spoil(cache, how, images, labels)
    with pytest.warns(RuntimeWarning, match=re.escape(str(cache))) as rec:
        images2, labels2, info2 = data.load_uint8("train", root=mirror)
    [w] = [w for w in rec if issubclass(w.category, RuntimeWarning)]
    assert "\n" not in str(w.message) and "decoding again" in str(w.message)
    assert info2["cache_rebuilt"] and not info2["from_cache"]
    assert np.array_equal(images, images2) and np.array_equal(labels, labels2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        images3, _, info3 = data.load_uint8("train", root=mirror)  # the rewritten cache is valid
    assert info3["from_cache"] and info3["cache_rebuilt"] is None and np.array_equal(images, images3)
    assert not list(cache.parent.glob("*.tmp*"))


@pytest.mark.parametrize("value, says", [("missing", "does not exist"), ("", "empty"), ("nodata", "holds neither")])
def test_bad_sgn_data_is_an_error_not_a_fallback(tmp_path, monkeypatch, value, says):
    (tmp_path / "nodata").mkdir()
    _write_mirror(tmp_path, "train")  # a valid copy elsewhere must not be picked silently
    monkeypatch.setattr(data, "_candidate_folders", lambda: [("data/cifar10", tmp_path)])
    monkeypatch.setenv("SGN_DATA", str(tmp_path / value) if value else "")
    for call in (lambda: data.resolve_source("train", download=True), lambda: data.identify("train")):
        with pytest.raises(data.DataNotFoundError) as e:
            call()
        msg = str(e.value)
        assert "SGN_DATA" in msg and says in msg and "cifar10-jpeg-train.zip" in msg and "\n" not in msg
    assert data.resolve_source("train", root=tmp_path)[0] == "jpeg-mirror"  # root= still wins


def test_sgn_data_with_a_mirror_is_used(mirror, monkeypatch):
    monkeypatch.setenv("SGN_DATA", str(mirror))
    assert data.resolve_source("train") == ("jpeg-mirror", mirror / "cifar10-jpeg-train.zip")
    with pytest.raises(data.DataNotFoundError, match="SGN_DATA.*holds a jpeg-mirror copy"):
        data.resolve_source("train", source="torchvision")


def test_identify_matches_load_without_decoding(mirror, monkeypatch):
    monkeypatch.setattr(data, "_SHA_CACHE", {})
    _, _, info = data.load_uint8("train", root=mirror)

    def no_decode(*a, **k):
        raise AssertionError("identify must not decode")
    monkeypatch.setattr(data, "_decode_mirror", no_decode)
    monkeypatch.setattr(data, "_decode_torchvision", no_decode)
    ident = data.identify("train", root=mirror)
    assert ident == {"source": "jpeg-mirror", "sha256": info["sha256"], "path": info["path"], "n_per_class": 3,
                     "test": None}  # the fixture has no test split
    assert ident["sha256"] == data.sha256_of(mirror / "cifar10-jpeg-train.zip")


def test_identify_hashes_a_file_once_per_version(mirror, monkeypatch):
    monkeypatch.setattr(data, "_SHA_CACHE", {})
    calls = []
    real = data.sha256_of
    monkeypatch.setattr(data, "sha256_of", lambda p: calls.append(p) or real(p))
    first = data.identify("train", root=mirror)["sha256"]
    assert data.identify("train", root=mirror)["sha256"] == first and len(calls) == 1
    _write_mirror(mirror, "train", seed=1)  # new content: hashed again
    assert data.identify("train", root=mirror)["sha256"] != first and len(calls) == 2


def test_synthetic_has_a_real_identity():
    ident = data.identify("train", source="synthetic")
    _, _, info = data.load_uint8("train", source="synthetic")
    assert len(ident["sha256"]) == 64 and ident["sha256"] == info["sha256"]
    assert ident["n_per_class"] == 20 and ident["path"] is None and ident["source"] == "synthetic"
    assert data.identify("train", source="synthetic") == ident  # deterministic
    assert data.identify("test", source="synthetic")["sha256"] != ident["sha256"]


def test_n_train_images():
    assert data.n_train_images("synthetic", None) == 200
    assert data.n_train_images("synthetic", 5) == 50 and data.n_train_images("synthetic", 100) == 200
    for src in ("auto", "torchvision", "jpeg-mirror"):
        assert data.n_train_images(src, None) == 50000
        assert data.n_train_images(src, 10) == 100 and data.n_train_images(src, 6000) == 50000
    with pytest.raises(ValueError):
        data.n_train_images("imagenet", None)
    with pytest.raises(ValueError):
        data.n_train_images("auto", 0)


def test_normalize_false_gives_raw_pixels():
    """normalize=False: pixels in [0, 1]; the default is those pixels standardized with MEAN/STD."""
    from sgnlib.data import MEAN, STD
    raw, y, info = data.load_cifar10("train", source="synthetic", normalize=False)
    norm, y2, _ = data.load_cifar10("train", source="synthetic")
    assert raw.min() >= 0 and raw.max() <= 1 and info["mean"] is None and torch.equal(y, y2)
    mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
    assert torch.allclose(norm, (raw - mean) / std, atol=1e-6)


# ------------------------------------------------------------------ content checks

def _data_error(call, *names):
    """The one-line DataError `call` raises, which names the file and every word in `names`."""
    with pytest.raises(data.DataError) as e:
        call()
    msg = str(e.value)
    assert "\n" not in msg and all(n in msg for n in names), msg
    return msg


@pytest.mark.parametrize("kw, says", [
    (dict(classes=data.CLASSES[:3]), "holds 3 of the 10 CIFAR-10 classes (no cat, deer"),
    (dict(n_per_class=2), "holds 2 images per class (20 in all); the train split has 3 per class (30)"),
    (dict(prefix="test"), "entry 'test/airplane/0000.jpg' belongs to the 'test' split, not 'train'"),
])
def test_a_mirror_that_is_not_the_train_split_is_a_data_error(mirror, kw, says):
    """Three classes, too few images, the test zip saved as the train zip: refused by identify (the
    dry run) and by the loader, before anything is decoded or trained."""
    path = _write_mirror(mirror, "train", **kw)
    for call in (lambda: data.identify("train", root=mirror), lambda: data.load_cifar10("train", root=mirror)):
        _data_error(call, str(path), says)
    assert not list((mirror / "cache").glob("*.npz"))


def test_data_error_is_a_user_error():
    from sgnlib.engine import USER_ERRORS
    assert issubclass(data.DataError, USER_ERRORS)


def test_the_real_sizes_are_cifar10s():
    assert data.N_PER_CLASS == {"synthetic": 20, "train": 5000, "test": 1000}


def test_a_torchvision_copy_with_missing_classes_is_a_data_error(tmp_path, monkeypatch):
    """The official format is checked after decoding (labels 0..3 only: four classes)."""
    import torchvision
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_load_meta", lambda self: None)
    monkeypatch.setenv("SGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SGN_DATA", str(tmp_path))
    _fake_official(tmp_path, n_per_batch=4)
    _data_error(lambda: data.load_cifar10("test"), data.TORCHVISION_DIR, "holds 4 of the 10 CIFAR-10 classes")


def test_a_cache_of_a_bad_split_is_refused_too(mirror, monkeypatch):
    """A cache decoded before the checks existed is checked like a fresh decode."""
    data.load_uint8("train", root=mirror)
    monkeypatch.setitem(data.N_PER_CLASS, "train", 4)  # the cached file is no longer a complete split
    monkeypatch.setattr(data, "_SHA_CACHE", {})
    _data_error(lambda: data.load_uint8("train", root=mirror), "holds 3 images per class")


def test_check_arrays_refuses_bad_shapes_and_labels():
    images, labels = np.zeros((20, 32, 32, 3), np.uint8), np.repeat(np.arange(10), 2)
    data.check_arrays("x.npz", "synthetic", "train", *data._synthetic("train"))
    with pytest.raises(data.DataError, match=r"x\.npz: images are uint8\[20, 32, 32, 1\]"):
        data.check_arrays("x.npz", "synthetic", "train", images[..., :1], labels)
    with pytest.raises(data.DataError, match="expected one in 0..9 each"):
        data.check_arrays("x.npz", "synthetic", "train", images, labels + 1)


# ------------------------------------------------------------------ the test split

def test_identify_names_the_test_split_beside_the_train_split(mirror):
    test = _write_mirror(mirror, "test", seed=5)
    ident = data.identify("train", root=mirror)
    assert ident["test"] == {"source": "jpeg-mirror", "sha256": data.sha256_of(test), "path": str(test)}
    assert "test" not in data.identify("test", root=mirror)
    _write_mirror(mirror, "test", n_per_class=1)  # a bad test split stops the dry run as well
    _data_error(lambda: data.identify("train", root=mirror), "cifar10-jpeg-test.zip", "the test split has 3")


def test_shipped_test_split_of_known_train_splits():
    syn = data.identify("train", "synthetic")
    assert syn["test"]["sha256"] == data.identify("test", "synthetic")["sha256"]
    assert data.shipped_test_sha256(syn["sha256"]) == syn["test"]["sha256"]
    assert data.shipped_test_sha256(MIRROR_TRAIN) == MIRROR_TEST
    assert data.shipped_test_sha256("0" * 64) is None and data.shipped_test_sha256(None) is None


MIRROR_TRAIN = "f9e11d6283a4afd5286866ecf0496165390e4f1f2305295e0cfdf337d5eead54"  # ../shared/data/README.md
MIRROR_TEST = "b109075b44d9525eb3796e49b290b0a6c1beb17d7f4106c1a074e20947d37829"


@needs_cifar
def test_the_mirror_pair_is_the_shipped_one():
    ident = data.identify("train")
    if ident["source"] == "jpeg-mirror":
        assert (ident["sha256"], ident["test"]["sha256"]) == (MIRROR_TRAIN, MIRROR_TEST)
