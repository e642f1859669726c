"""Sweeps: train, then capture gradient noise over a grid, one configuration at a time.

    python -m sgnlib.sweep --preset cpu --dry-run
    python -m sgnlib.sweep --preset cpu                      # every configuration through papermill
    python -m sgnlib.sweep --preset paper --shard 0/4        # every 4th configuration, from the 0th
    python -m sgnlib.sweep --preset paper --runner inprocess # same code, no Jupyter needed
    python -m sgnlib.sweep merge --scale paper               # combine shard outputs

A configuration is a plain dict; `run_config` runs one and returns tidy tables, which are appended
atomically to data/results/<scale>/<table>[.shard-i-of-k].csv. A configuration whose id is already
in its table is skipped, so a killed sweep loses nothing and resumes where it stopped. The papermill
runner executes book/experiments/{train,noise_capture}.ipynb with the configuration as parameters;
those notebooks call `run_config` too, so both runners produce the same rows.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from . import models
from .capture import check_capture_args, gaussianity_of_noise, minibatch_gradients, per_sample_moments
from .data import load_cifar10
from .paths import REPO_ROOT, RESULTS_DIR, RUNS_DIR
from .provenance import append_rows, atomic_write_csv, provenance, resolve_device
from .stats import berry_esseen_bound, mohammadi_alpha, shapiro_wilk
from .stats.berry_esseen import ks_distance_to_normal, null_ks_quantiles
from .train import Recipe, checkpoint_path, model_from_checkpoint, train

TABLES = ("training", "gaussianity", "tail_index", "moments", "berry_esseen", "examples")
TABLE_EXT = {"tail_index": ".csv.gz", "examples": ".csv.gz"}  # the long tables are compressed
NOTEBOOK = {"train": "book/experiments/train.ipynb", "capture": "book/experiments/noise_capture.ipynb",
            "moments": "book/experiments/noise_capture.ipynb", "berry_esseen": "book/experiments/noise_capture.ipynb",
            "examples": "book/experiments/noise_capture.ipynb"}
ALPHA_BINS = np.round(np.arange(0.0, 2.0001, 0.1), 2)
RATIO_BINS = np.round(np.logspace(0, 2, 41), 4)   # beta/sigma^3 >= 1 always


# ---------------------------------------------------------------- presets


def _train_cfgs(model_names, epochs, every, subset=None, seed=0):
    ckpts = sorted(set([1] + list(range(every, epochs + 1, every)) + [epochs]))
    return [{"stage": "train", "model": m, "epochs": epochs, "seed": seed, "subset": subset,
             "checkpoint_epochs": ckpts} for m in model_names]


def _capture_cfgs(model_names, epochs, ckpt_epochs, batch_sizes, n_batches, repeats, subset=None, seed=0):
    out = []
    for m, ce, bs, nb, r in itertools.product(model_names, ckpt_epochs, batch_sizes, n_batches, range(repeats)):
        out.append({"stage": "capture", "model": m, "epochs": epochs, "checkpoint_epoch": ce, "batch_size": bs,
                    "n_batches": nb, "repeat": r, "seed": seed, "subset": subset})
    return out


def _examples_cfgs(model, epochs, batch_sizes, n_batches=200, seed=0, subset=None):
    return [{"stage": "examples", "model": model, "epochs": epochs, "checkpoint_epoch": epochs, "batch_size": bs,
             "n_batches": n_batches, "layers": ["Layer 1", "Layer 4"], "seed": seed, "subset": subset}
            for bs in batch_sizes]


def _berry_esseen_cfgs(model, epochs, batch_sizes, n_samples, n_batches=200, seed=0, subset=None):
    return [{"stage": "berry_esseen", "model": model, "epochs": epochs, "checkpoint_epoch": epochs, "batch_size": bs,
             "n_batches": n_batches, "n_samples": n_samples, "seed": seed, "subset": subset} for bs in batch_sizes]


def preset(name: str, epochs: int | None = None, repeats: int | None = None) -> list[dict]:
    """The configuration list of a preset, in priority order, each configuration once."""
    seen, out = set(), []
    for c in _preset(name, epochs, repeats):
        if config_id(c) not in seen:
            seen.add(config_id(c))
            out.append(c)
    return out


def _preset(name, epochs, repeats):
    if name == "cpu":
        e = epochs or 15
        series = sorted(set([1] + list(range(max(1, e // 5), e + 1, max(1, e // 5))) + [e]))
        cfgs = _train_cfgs(["alexnet", "alexnet_bn"], e, max(1, e // 5))
        cfgs += _capture_cfgs(["alexnet", "alexnet_bn"], e, [e], [64, 128, 256, 512], [200], repeats or 1)
        cfgs += _capture_cfgs(["alexnet", "alexnet_bn"], e, [c for c in series if c != e], [128], [200], 1)
        cfgs += [{"stage": "moments", "model": "alexnet", "epochs": e, "checkpoint_epoch": e, "n_samples": 512,
                  "seed": 0, "subset": None}]
        cfgs += _berry_esseen_cfgs("alexnet", e, [64, 128, 256, 512], 512)
        cfgs += _examples_cfgs("alexnet", e, [64, 128, 256, 512])
        return cfgs
    if name == "paper":
        e = epochs or 300
        every = max(1, e // 12)
        series_ckpts = sorted(set([1] + list(range(every, e + 1, every))) - {e})
        r = repeats or 5
        cfgs = _train_cfgs(["alexnet", "alexnet_bn"], e, every)
        cfgs += _capture_cfgs(["alexnet"], e, [e], [64, 128, 256, 512, 1024, 2048], [200, 600], r)
        cfgs += [{"stage": "moments", "model": "alexnet", "epochs": e, "checkpoint_epoch": e, "n_samples": 5000,
                  "seed": 0, "subset": None}]
        cfgs += _capture_cfgs(["alexnet", "alexnet_bn"], e, series_ckpts + [e], [128], [200], 1)
        cfgs += _berry_esseen_cfgs("alexnet", e, [64, 128, 256, 512, 1024, 2048], 5000)
        cfgs += _examples_cfgs("alexnet", e, [64, 128, 256, 512, 1024])
        cfgs += _train_cfgs(["resnet20", "resnet56"], e, every)
        cfgs += _capture_cfgs(["resnet56"], e, [e], [64, 128, 256, 512], [200, 600], r)
        cfgs += [{"stage": "moments", "model": "resnet56", "epochs": e, "checkpoint_epoch": e, "n_samples": 5000,
                  "seed": 0, "subset": None}]
        cfgs += _capture_cfgs(["resnet20"], e, series_ckpts + [e], [128], [200], 1)
        return cfgs
    if name == "smoke":  # seconds on a CPU: synthetic data, tests and the GPU dry run
        cfgs = _train_cfgs(["alexnet"], 2, 1, subset=20)
        cfgs += _capture_cfgs(["alexnet"], 2, [1, 2], [8], [20], 2, subset=20)
        cfgs += [{"stage": "moments", "model": "alexnet", "epochs": 2, "checkpoint_epoch": 2, "n_samples": 16,
                  "seed": 0, "subset": 20}]
        cfgs += _berry_esseen_cfgs("alexnet", 2, [8], 16, n_batches=20, subset=20)
        cfgs += _examples_cfgs("alexnet", 2, [8], n_batches=20, subset=20)
        return cfgs
    raise ValueError(f"unknown preset {name!r}; choose cpu, paper or smoke")


# ---------------------------------------------------------------- validation and ids


def config_id(cfg: dict) -> str:
    keys = {k: cfg[k] for k in sorted(cfg) if k not in ("checkpoint_epochs",)}
    short = "-".join(str(cfg[k]) for k in ("stage", "model", "checkpoint_epoch", "batch_size", "n_batches", "repeat")
                     if k in cfg)
    return f"{short}-{hashlib.sha1(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:8]}"


def validate(cfgs: list[dict], checkpoint_dir: Path) -> None:
    """Fail before anything runs: bad batch size, n_batches, model or a checkpoint nobody will make."""
    trained = {(c["model"], c["epochs"], c["seed"], e) for c in cfgs if c["stage"] == "train"
               for e in c["checkpoint_epochs"]}
    for c in cfgs:
        models.check_model_name(c["model"])
        if c["stage"] in ("capture", "berry_esseen", "examples"):
            check_capture_args(c["batch_size"], c["n_batches"])
        if c["stage"] == "train" and c["epochs"] <= 0:
            raise ValueError(f"epochs must be positive, got {c['epochs']}")
        if c["stage"] in ("capture", "moments", "berry_esseen", "examples"):
            key = (c["model"], c["epochs"], c["seed"], c["checkpoint_epoch"])
            path = checkpoint_path(ckpt_folder(checkpoint_dir, c), c["model"], c["seed"], c["checkpoint_epoch"])
            if key not in trained and not path.exists():
                raise ValueError(f"missing checkpoint {path}: no train configuration in this sweep writes it; "
                                 f"add the train stage or point --checkpoints at it")


def ckpt_folder(root: Path, cfg: dict) -> Path:
    sub = f"sub{cfg['subset']}" if cfg.get("subset") else "full"
    return Path(root) / f"{cfg['model']}-e{cfg['epochs']}-{sub}"


# ---------------------------------------------------------------- one configuration


_DATA_CACHE: dict = {}


def _data(split, cfg, device, data_source):
    """Train or test tensors for a configuration, kept between configurations of one process."""
    sub = cfg.get("subset")
    if split == "test":
        sub = 100 if sub else None
    key = (split, str(device), data_source, sub)
    if key not in _DATA_CACHE:
        if len(_DATA_CACHE) >= 2:
            _DATA_CACHE.clear()
        _DATA_CACHE[key] = load_cifar10(split, source=data_source, device=device, subset=sub)
    return _DATA_CACHE[key]


def _rows(table: pd.DataFrame, cfg: dict, prov: dict, wall_s: float, **extra) -> pd.DataFrame:
    table = table.copy()
    for k, v in {**{k: (json.dumps(v) if isinstance(v, (list, tuple)) else v) for k, v in cfg.items()},
                 "config_id": config_id(cfg), **extra, **prov, "wall_s": wall_s}.items():
        table[k] = v
    return table


def run_config(cfg: dict, device="auto", data_source="auto", checkpoint_dir=None, progress=False) -> dict:
    """Run one configuration; return {table name: DataFrame} with provenance in every row."""
    device = resolve_device(device)
    checkpoint_dir = Path(checkpoint_dir or REPO_ROOT / "checkpoints")
    x, y, info = _data("train", cfg, device, data_source)
    prov = provenance(device, info)
    t0 = time.perf_counter()
    folder = ckpt_folder(checkpoint_dir, cfg)
    if cfg["stage"] == "train":
        xt, yt, _ = _data("test", cfg, device, data_source)
        out = train(cfg["model"], (x, y), (xt, yt), Recipe(epochs=cfg["epochs"]), seed=cfg["seed"], device=device,
                    checkpoint_dir=folder, checkpoint_epochs=cfg["checkpoint_epochs"], data_info=info,
                    progress=progress)
        hist = pd.DataFrame(out["history"])
        return {"training": _rows(hist, cfg, prov, time.perf_counter() - t0)}
    ck_file = checkpoint_path(folder, cfg["model"], cfg["seed"], cfg["checkpoint_epoch"])
    model, _ = model_from_checkpoint(ck_file, device)
    if cfg["stage"] == "moments":
        res = _moments(model, x, y, cfg, device, str(ck_file))
        rows = []
        for layer, r in res.items():
            ratio = r["beta_over_sigma3"]
            n_point_mass = int((r["sigma2"] == 0).sum())
            ratio = ratio[torch.isfinite(ratio)].cpu().numpy()
            counts, _ = np.histogram(np.clip(ratio, RATIO_BINS[0], RATIO_BINS[-1]), bins=RATIO_BINS)
            qs = np.quantile(ratio, [0.05, 0.25, 0.5, 0.75, 0.95]) if ratio.size else [np.nan] * 5
            for lo, hi, c in zip(RATIO_BINS[:-1], RATIO_BINS[1:], counts):
                if c == 0:  # empty bins are implied
                    continue
                rows.append({"layer": layer, "bin_lo": lo, "bin_hi": hi, "count": int(c), "n_finite": ratio.size,
                             "n_point_mass": n_point_mass,
                             **{f"q{q:02d}": v for q, v in zip((5, 25, 50, 75, 95), qs)}})
        return {"moments": _rows(pd.DataFrame(rows), cfg, prov, time.perf_counter() - t0, bn_mode="eval")}
    if cfg["stage"] == "examples":
        return {"examples": _rows(examples_table(model, x, y, cfg), cfg, prov, time.perf_counter() - t0)}
    if cfg["stage"] == "berry_esseen":
        mom = _moments(model, x, y, cfg, device, str(ck_file))
        return {"berry_esseen": _rows(berry_esseen_table(model, x, y, cfg, mom), cfg, prov,
                                      time.perf_counter() - t0, bn_mode="train (noise), eval (moments)")}
    # capture: Gaussianity per layer, and tail indices of every column (Fig 7-9)
    def keep(name, m, res):
        alpha = mohammadi_alpha(m - m.mean(0)).cpu().numpy()
        nongauss = (res.p < 0.05).cpu().numpy() & ~res.degenerate.cpu().numpy()
        c_all, _ = np.histogram(alpha, bins=ALPHA_BINS)
        c_ng, _ = np.histogram(alpha[nongauss], bins=ALPHA_BINS)
        h = pd.DataFrame({"layer": name, "bin_lo": ALPHA_BINS[:-1], "bin_hi": ALPHA_BINS[1:],
                          "count_all": c_all, "count_nongaussian": c_ng})
        return h[(h.count_all > 0) | (h.count_nongaussian > 0)]  # empty bins are implied
    table, extras = gaussianity_of_noise(model, F.cross_entropy, x, y, cfg["batch_size"], cfg["n_batches"],
                                         seed=cfg["seed"] * 1000 + cfg["repeat"], keep=keep, progress=progress)
    wall = time.perf_counter() - t0
    tail = pd.concat(extras["kept"].values(), ignore_index=True)
    timing = {"grad_s": extras["grad_s"], "shapiro_s": extras["shapiro_s"]}
    return {"gaussianity": _rows(table, cfg, prov, wall, bn_mode="train", **timing),
            "tail_index": _rows(tail, cfg, prov, wall, estimator="mohammadi2015")}


def examples_table(model, x, y, cfg, per_kind: int = 5) -> pd.DataFrame:
    """Fig 8-9: the noise samples of a few Gaussian (p >= 0.05) and non-Gaussian dimensions per layer.

    Dimensions are drawn at random (seeded) among the candidates of each kind; point masses excluded.
    """
    rows = []
    gen = torch.Generator().manual_seed(cfg["seed"])
    for mats in minibatch_gradients(model, F.cross_entropy, x, y, cfg["batch_size"], cfg["n_batches"],
                                    layers=cfg["layers"], seed=cfg["seed"] * 1000):
        for layer, m in mats.items():
            res = shapiro_wilk(m)
            noise = (m - m.mean(0)).cpu()
            alpha = mohammadi_alpha(noise)
            p, deg = res.p.cpu(), res.degenerate.cpu()
            for kind, mask in (("gaussian", (p >= 0.05) & ~deg), ("non-gaussian", (p < 0.05) & ~deg)):
                cand = torch.nonzero(mask).flatten()
                pick = cand[torch.randperm(cand.numel(), generator=gen)[:per_kind]].sort().values
                for dim in pick.tolist():
                    rows.append(pd.DataFrame({"layer": layer, "dim": dim, "kind": kind, "p": float(p[dim]),
                                              "alpha_mohammadi": float(alpha[dim]),
                                              "sample": range(m.shape[0]), "noise": noise[:, dim].numpy()}))
    return pd.concat(rows, ignore_index=True)


_MOMENTS_CACHE: dict = {}


def _moments(model, x, y, cfg, device, checkpoint: str) -> dict:
    """Per-sample moments at one checkpoint, computed once per process (they do not depend on the
    batch size, so the moments stage and every Berry-Esseen batch size share them)."""
    key = (checkpoint, str(device), cfg.get("subset"), cfg["n_samples"], cfg["seed"])
    if key not in _MOMENTS_CACHE:
        _MOMENTS_CACHE.clear()
        _MOMENTS_CACHE[key] = per_sample_moments(model, x, y, n_samples=min(cfg["n_samples"], x.shape[0]),
                                                 seed=cfg["seed"], chunk=256 if device.type == "cuda" else 64)
    return _MOMENTS_CACHE[key]


def berry_esseen_table(model, x, y, cfg, mom: dict) -> pd.DataFrame:
    """Per layer: Kolmogorov distance of the minibatch noise to Phi vs the eq-13 bound (Fig 5 check),
    given the per-sample moments `mom` at the same checkpoint."""
    null50, null90 = null_ks_quantiles(cfg["n_batches"])
    rows = []
    for mats in minibatch_gradients(model, F.cross_entropy, x, y, cfg["batch_size"], cfg["n_batches"],
                                    seed=cfg["seed"] * 1000):
        for layer, m in mats.items():
            ks = ks_distance_to_normal(m)
            bound = berry_esseen_bound(mom[layer]["beta_over_sigma3"], cfg["batch_size"]).to(ks.device)
            ok = torch.isfinite(ks) & torch.isfinite(bound)
            ks, bound = ks[ok], bound[ok]
            q = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64, device=ks.device)
            kq, bq = torch.quantile(ks, q).tolist(), torch.quantile(bound, q).tolist()
            rows.append({"layer": layer, "n_dims": int(ok.sum()), "ks_q10": kq[0], "ks_q50": kq[1], "ks_q90": kq[2],
                         "bound_q10": bq[0], "bound_q50": bq[1], "bound_q90": bq[2],
                         "frac_ks_below_bound": float((ks <= bound).double().mean()),
                         "frac_bound_below_null_median": float((bound < null50).double().mean()),
                         "null_ks_q50": null50, "null_ks_q90": null90})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- the sweep


def table_path(scale: str, table: str, shard: tuple[int, int] | None, results_dir=None) -> Path:
    suffix = f".shard-{shard[0]}-of-{shard[1]}" if shard and shard[1] > 1 else ""
    return Path(results_dir or RESULTS_DIR) / scale / f"{table}{suffix}{TABLE_EXT.get(table, '.csv')}"


def done_ids(scale, shard, results_dir=None) -> set:
    ids = set()
    for t in TABLES:
        p = table_path(scale, t, shard, results_dir)
        if p.exists():
            ids |= set(pd.read_csv(p, usecols=["config_id"]).config_id)
    return ids


def save(tables: dict, scale, shard, results_dir=None) -> None:
    for name, df in tables.items():
        append_rows(df, table_path(scale, name, shard, results_dir))


def estimate_seconds(cfgs, device_kind="cpu") -> float:
    """Rough time: CPU figures measured on 2 cores (AlexNet about 3,000 img/s fwd+bwd)."""
    ips = {"cpu": {"alexnet": 3000, "alexnet_bn": 2500, "resnet20": 400, "resnet56": 140},
           "cuda": {"alexnet": 40000, "alexnet_bn": 35000, "resnet20": 15000, "resnet56": 6000}}[device_kind]
    total = 0.0
    for c in cfgs:
        n_train = 50000 if not c.get("subset") else 10 * c["subset"]
        if c["stage"] == "train":
            total += c["epochs"] * n_train * 1.1 / ips[c["model"]]
        elif c["stage"] in ("capture", "berry_esseen", "examples"):
            total += c["batch_size"] * c["n_batches"] / ips[c["model"]] + 5
        else:
            total += c["n_samples"] * (20 if device_kind == "cpu" else 1) / ips[c["model"]] * 10
    return total


def _run_papermill(cfg, scale, shard, device, data_source, checkpoint_dir, results_dir):
    import papermill as pm
    out = RUNS_DIR / scale / f"{config_id(cfg)}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    params = {"config": json.dumps(cfg), "scale": scale, "device": device, "data_source": data_source,
              "checkpoint_dir": str(checkpoint_dir), "results_dir": str(results_dir or RESULTS_DIR),
              "shard": f"{shard[0]}/{shard[1]}" if shard else ""}
    pm.execute_notebook(str(REPO_ROOT / NOTEBOOK[cfg["stage"]]), str(out), parameters=params,
                        progress_bar=False, cwd=str(REPO_ROOT / "book" / "experiments"))


def sweep(cfgs, scale, shard=None, runner="papermill", device="auto", data_source="auto", checkpoint_dir=None,
          results_dir=None, progress=True, deadline_s: float | None = None, log=print) -> list[str]:
    """Run the configurations this shard owns that are not finished yet; return the ids run."""
    checkpoint_dir = Path(checkpoint_dir or REPO_ROOT / "checkpoints")
    validate(cfgs, checkpoint_dir)
    mine = [c for i, c in enumerate(cfgs) if shard is None or i % shard[1] == shard[0]]
    finished = done_ids(scale, shard, results_dir)
    todo = [c for c in mine if config_id(c) not in finished]
    log(f"{scale}: {len(mine)} configurations in this shard, {len(mine) - len(todo)} already done, {len(todo)} to run")
    ran, start = [], time.perf_counter()
    it = todo
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(todo, desc=f"sweep {scale}")
    for cfg in it:
        if deadline_s is not None and time.perf_counter() - start > deadline_s:
            log(f"deadline reached after {len(ran)} configurations; rerun to continue")
            break
        if runner == "papermill":
            _run_papermill(cfg, scale, shard, device, data_source, checkpoint_dir, results_dir)
        elif runner == "inprocess":
            save(run_config(cfg, device, data_source, checkpoint_dir), scale, shard, results_dir)
        else:
            raise ValueError(f"unknown runner {runner!r}; use papermill or inprocess")
        ran.append(config_id(cfg))
    return ran


def merge(scale, results_dir=None) -> dict:
    """Combine shard tables into one table each (duplicates by config_id and row dropped)."""
    folder = Path(results_dir or RESULTS_DIR) / scale
    out = {}
    for t in TABLES:
        ext = TABLE_EXT.get(t, ".csv")
        parts = sorted(folder.glob(f"{t}.shard-*{ext}"))
        if not parts:
            continue
        base = folder / f"{t}{ext}"
        frames = ([pd.read_csv(base)] if base.exists() else []) + [pd.read_csv(p) for p in parts]
        df = pd.concat(frames, ignore_index=True).drop_duplicates()
        atomic_write_csv(df, base)
        for p in parts:
            p.unlink()
        out[t] = len(df)
    return out


def parse_shard(text: str | None):
    if not text:
        return None
    try:
        i, k = (int(v) for v in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/k (e.g. 0/4), got {text!r}") from None
    if not (k >= 1 and 0 <= i < k):
        raise ValueError(f"--shard i/k needs 0 <= i < k, got {text!r}")
    return i, k


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m sgnlib.sweep", description=__doc__.split("\n")[0])
    ap.add_argument("command", nargs="?", default="run", choices=["run", "merge"])
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--scale", help="results folder under data/results (default: the preset name)")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--shard")
    ap.add_argument("--runner", default="papermill", choices=["papermill", "inprocess"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--data-source", default="auto")
    ap.add_argument("--checkpoints", help="checkpoint folder (default: checkpoints/)")
    ap.add_argument("--results-dir")
    ap.add_argument("--stages", help="comma list of stages to keep: train,capture,moments")
    ap.add_argument("--models", help="comma list of models to keep")
    ap.add_argument("--by-repeat", action="store_true", help="run whole repeats first (useful with --deadline)")
    ap.add_argument("--final-only", action="store_true", help="keep only configurations at the final checkpoint")
    ap.add_argument("--deadline", type=float, help="stop starting new configurations after this many seconds")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)
    scale = a.scale or a.preset
    try:
        if a.command == "merge":
            print(merge(scale, a.results_dir))
            return 0
        cfgs = preset(a.preset, a.epochs, a.repeats)
        if a.stages:
            cfgs = [c for c in cfgs if c["stage"] in a.stages.split(",")]
        if a.models:
            cfgs = [c for c in cfgs if c["model"] in a.models.split(",")]
        if a.final_only:
            cfgs = [c for c in cfgs if c.get("checkpoint_epoch", c["epochs"]) == c["epochs"]]
        if a.by_repeat:
            cfgs = sorted(cfgs, key=lambda c: c.get("repeat", 0))  # stable: keeps the order inside a repeat
        shard = parse_shard(a.shard)
        ck = Path(a.checkpoints or REPO_ROOT / "checkpoints")
        if a.dry_run:
            validate(cfgs, ck)
            mine = [c for i, c in enumerate(cfgs) if shard is None or i % shard[1] == shard[0]]
            done = done_ids(scale, shard, a.results_dir)
            for c in mine:
                print(("done " if config_id(c) in done else "todo ") + config_id(c))
            kind = "cuda" if resolve_device(a.device).type == "cuda" else "cpu"
            todo = [c for c in mine if config_id(c) not in done]
            print(f"{len(mine)} configurations ({len(todo)} to run); estimated {estimate_seconds(todo, kind) / 60:.1f} min on {kind}")
            return 0
        sweep(cfgs, scale, shard, a.runner, a.device, a.data_source, ck, a.results_dir, deadline_s=a.deadline)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
