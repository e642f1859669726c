"""The paper's recipe on one GPU lease: benchmarks, then training and capture in priority order, in a budget.

    SGN_DATA=.carry/cifar10 python scripts/gpu_reproduce.py OUT --budget 540
    python scripts/gpu_reproduce.py OUT --preset smoke --bench-quick --data-source synthetic --device cpu  # rehearsal

Runs the `paper-recipe` preset's configurations in-process (no Jupyter on the GPU host) into a results store
under --work (default /tmp/sgn-work), packed after each group into OUT/results-<scale>.tar.gz; OUT also
gets run.log and manifest.json (the benchmarks' JSON folded in) — three files, since the device tool
brings back at most eight. At home: `tar xzf results-<scale>.tar.gz -C /tmp/r && python -m sgnlib.sweep
merge /tmp/r/<scale> data/results/<scale>`. Scale: paper-recipe (the preset's 300 epochs) unless
--alexnet-epochs / --resnet-epochs shorten training (gpu-short), never mixed.
 1. benchmarks: training eager vs the compiled/graph path (bench_train), capture vs training
    (bench_capture), Shapiro-Wilk on 2.47 M dims (bench_stats), each with its baseline in the same run,
 2. AlexNet and AlexNet-BN: train, Tables 1-2 grid, beta/sigma^3 moments, Gaussianity over epochs,
 3. ResNet-20 and ResNet-56: train, Tables 3-4 grid, moments, Gaussianity over epochs.
A group that would start after the budget is skipped (rerun to continue: finished configurations are
skipped, checkpoints are reused while the machine lives). --final-models brings back model-only final
checkpoints (OUT/<model>-final.pt, about 10 MB each).
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

from sgnlib import planner  # noqa: E402
from sgnlib.atomic import atomic_write  # noqa: E402
from sgnlib.engine import Sweep  # noqa: E402
from sgnlib.provenance import git_commit, provenance, resolve_device  # noqa: E402
from sgnlib.run_options import RunOptions  # noqa: E402
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
    ap.add_argument("--scale", help="results folder name (default: paper-recipe with the preset's epochs, "
                                     "gpu-short when --alexnet-epochs/--resnet-epochs shorten training)")
    ap.add_argument("--preset", default="paper-recipe", help="paper-recipe; smoke for a seconds-long end-to-end rehearsal")
    ap.add_argument("--skip-bench", action="store_true")
    ap.add_argument("--bench-quick", action="store_true", help="seconds-long benchmarks (CPU rehearsal of the script)")
    ap.add_argument("--final-models", default="", help="comma list: bring back model-only final checkpoints "
                                                         "(about 10 MB each; none by default)")
    ap.add_argument("--work", help="folder for checkpoints and the results store while running "
                                   "(default /tmp/sgn-work); OUT gets results-<scale>.tar.gz, packed after each group")
    ap.add_argument("--checkpoints", help="checkpoint folder (default OUT/ckpt); keep it outside OUT to bring "
                                          "back only the final model-only copies")
    a = ap.parse_args()
    t_start = time.perf_counter()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(a.work or "/tmp/sgn-work")
    ck = Path(a.checkpoints) if a.checkpoints else work / "ckpt"
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
        quick = {"train": ["--steps", "3", "--repeats", "1", "--warmup", "1", "--models", "alexnet"],
                 "capture": ["--steps", "4", "--repeats", "1", "--models", "alexnet"],
                 "stats": ["--d", "2000"]} if a.bench_quick else {"train": [], "capture": [], "stats": []}
        for cmd in (["benchmarks/bench_train.py", "--parts", "1", *quick["train"], "--device", str(dev),
                     "--json", str(out / "bench_train.json")],
                    ["benchmarks/bench_capture.py", *quick["capture"], "--device", str(dev),
                     "--json", str(out / "bench_capture.json")],
                    ["benchmarks/bench_stats.py", "--skip-cpu", *quick["stats"], "--json", str(out / "bench_stats.json")]):
            r = subprocess.run([sys.executable, *cmd], cwd=REPO, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
            log(r.stdout.strip() + ("\n" + r.stderr[-2000:] if r.returncode else ""))
        manifest["stages"].append({"stage": "benchmarks", "s": time.perf_counter() - t})
        for name in ("bench_train.json", "bench_stats.json", "bench_capture.json"):
            if (out / name).exists():
                manifest[name.removesuffix(".json")] = json.loads((out / name).read_text())
                (out / name).unlink()  # folded into the manifest: fewer files come back

    if a.scale is None:
        a.scale = "gpu-short" if (a.alexnet_epochs or a.resnet_epochs) else "paper-recipe"
    # the sweep's planner checks preset, data, folders and checkpoints, as `python -m sgnlib.sweep`
    opts = RunOptions(preset=a.preset, scale=a.scale, device=str(dev), data_source=a.data_source,
                      results_dir=str(work / "results"), checkpoints=str(ck))
    folder = work / "results" / a.scale

    def pack():
        """OUT holds few files (the device tool brings back at most 8): the store as one tarball."""
        import tarfile
        if not folder.exists():
            return

        def write(tmp):
            with tarfile.open(tmp, "w:gz") as tar:
                tar.add(folder, arcname=a.scale, filter=lambda ti: None if ti.name.endswith(".lock")
                        or "/.claims" in ti.name else ti)
        atomic_write(out / f"results-{a.scale}.tar.gz", write)
    n_batches = [int(v) for v in a.resnet_n_batches.split(",")]
    groups = [
        ("alexnet", opts.replace(epochs=a.alexnet_epochs, repeats=a.repeats), ["alexnet", "alexnet_bn"],
         None),
        ("resnet", opts.replace(epochs=a.resnet_epochs, repeats=1), ["resnet20", "resnet56"], n_batches),
    ]
    trained, ctx = [], None
    for label, group_opts, keep_models, nbs in groups:
        t = time.perf_counter()
        try:
            run = planner.plan(group_opts)
            ctx = run.ctx
            cfgs = [c for c in run.configs
                    if c.model in keep_models and (nbs is None or (c.n_batches or nbs[0]) in nbs)]
            trained += [c for c in cfgs if c.stage == "train"]
            if left() <= 5:
                log(f"skip {label}: budget spent")
                continue
            ran = Sweep(cfgs, run.store, ctx, "inprocess", log=log).run(deadline_s=left())
        except Exception as e:  # keep what is done; say what broke
            log(f"{label} stopped: {type(e).__name__}: {e}")
            ran = []
        manifest["stages"].append({"stage": label, "configs_run": len(ran), "s": time.perf_counter() - t})
        pack()
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
