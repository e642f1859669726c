"""Paper-scale stages on one GPU, in priority order, each resumable, inside a time budget.

    python scripts/gpu_reproduce.py OUT [--budget 540] [--alexnet-epochs 300] [--resnet-epochs 300]
                                        [--repeats 5] [--device auto] [--data-source auto]

Runs the `paper` preset's configurations in-process (no Jupyter needed on the GPU host) into the
results store OUT/results/<scale> (merge it home with `python -m sgnlib.sweep merge OUT/results/<scale>
data/results/<scale>`):
 1. benchmarks (Shapiro-Wilk on 2.47 M dims; training vs capture throughput),
 2. AlexNet and AlexNet-BN: train, Tables 1-2 grid, beta/sigma^3 moments, Gaussianity over epochs,
 3. ResNet-20 and ResNet-56: train, Tables 3-4 grid, moments, Gaussianity over epochs.
A stage that would start after the budget is skipped (rerun to continue: finished configurations
are skipped, checkpoints are reused). Writes OUT/results/paper/*.csv, OUT/run.log, OUT/manifest.json
and model-only copies of the final checkpoints (OUT/<model>-final.pt, each well under 16 MiB).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sgnlib import presets  # noqa: E402
from sgnlib.data import identify  # noqa: E402
from sgnlib.engine import Sweep, validate  # noqa: E402
from sgnlib.provenance import git_commit, provenance, resolve_device  # noqa: E402
from sgnlib.stages import Context  # noqa: E402
from sgnlib.store import ResultStore  # noqa: E402
from sgnlib.train import load_checkpoint  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--budget", type=float, default=540)
    ap.add_argument("--alexnet-epochs", type=int, help="default: the preset's epochs")
    ap.add_argument("--resnet-epochs", type=int, help="default: the preset's epochs")
    ap.add_argument("--repeats", type=int, help="default: the preset's repeats")
    ap.add_argument("--resnet-n-batches", default="200,600")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--data-source", default="auto")
    ap.add_argument("--scale", default="paper")
    ap.add_argument("--preset", default="paper", help="paper; smoke for a seconds-long end-to-end rehearsal")
    ap.add_argument("--skip-bench", action="store_true")
    ap.add_argument("--final-models", default="alexnet,alexnet_bn,resnet56")
    ap.add_argument("--checkpoints", help="checkpoint folder (default OUT/ckpt); keep it outside OUT to bring "
                                          "back only the final model-only copies")
    a = ap.parse_args()
    t_start = time.perf_counter()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ck = Path(a.checkpoints) if a.checkpoints else out / "ckpt"
    logf = open(out / "run.log", "a")

    def log(msg):
        line = f"[{time.perf_counter() - t_start:7.1f}s] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    left = lambda: a.budget - (time.perf_counter() - t_start)  # noqa: E731
    dev = resolve_device(a.device)
    log(f"device {dev}: {provenance(dev)}")
    manifest = {"git_commit": git_commit(), "args": vars(a), "stages": []}

    if not a.skip_bench:
        t = time.perf_counter()
        for cmd in (["benchmarks/bench_stats.py", "--skip-cpu", "--json", str(out / "bench_stats.json")],
                    ["benchmarks/bench_capture.py", "--json", str(out / "bench_capture.json")]):
            r = subprocess.run([sys.executable, *cmd], cwd=REPO, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
            log(r.stdout.strip() + ("\n" + r.stderr[-2000:] if r.returncode else ""))
        manifest["stages"].append({"stage": "benchmarks", "s": time.perf_counter() - t})
        for name in ("bench_stats.json", "bench_capture.json"):
            if (out / name).exists():
                manifest[name.removesuffix(".json")] = json.loads((out / name).read_text())
                (out / name).unlink()  # folded into the manifest: fewer files come back

    data = identify("train", a.data_source)
    spec = presets.load(a.preset)
    store = ResultStore(out / "results" / a.scale)
    ctx = Context(dev, ck)
    groups = [
        ("alexnet", presets.expand(spec, data, a.alexnet_epochs, a.repeats), ["alexnet", "alexnet_bn"], None),
        ("resnet", presets.expand(spec, data, a.resnet_epochs, 1), ["resnet20", "resnet56"],
         [int(v) for v in a.resnet_n_batches.split(",")]),
    ]
    trained = []
    for label, cfgs, keep_models, nbs in groups:
        cfgs = [c for c in cfgs if c.model in keep_models and (nbs is None or (c.n_batches or nbs[0]) in nbs)]
        trained += [c for c in cfgs if c.stage == "train"]
        if left() <= 5:
            log(f"skip {label}: budget spent")
            continue
        t = time.perf_counter()
        try:
            validate(cfgs, ctx)
            ran = Sweep(cfgs, store, ctx, "inprocess", log=log).run(deadline_s=left())
        except Exception as e:  # keep what is done; say what broke
            log(f"{label} stopped: {type(e).__name__}: {e}")
            ran = []
        manifest["stages"].append({"stage": label, "configs_run": len(ran), "s": time.perf_counter() - t})
        log(f"{label}: {len(ran)} configurations in {time.perf_counter() - t:.1f} s")

    finals = {}
    for c in trained:
        if c.model not in a.final_models.split(","):
            continue
        p = ctx.checkpoint_file(c, c.epochs)
        if p.exists() and c.model not in finals:
            state = load_checkpoint(p)
            slim = out / f"{c.model}-final.pt"
            torch.save({k: state[k] for k in ("model", "epoch", "seed", "state_dict", "recipe", "data_source",
                                              "data_sha256")}, slim)
            finals[c.model] = {"file": slim.name, "epoch": state["epoch"], "checkpoint_key": c.checkpoint_key(),
                               "sha256": hashlib.sha256(slim.read_bytes()).hexdigest(),
                               "bytes": slim.stat().st_size}
    manifest["final_checkpoints"] = finals
    manifest["total_s"] = time.perf_counter() - t_start
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str))
    log(f"done in {manifest['total_s']:.1f} s")


if __name__ == "__main__":
    main()
