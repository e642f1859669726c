"""Training throughput: eager vs the fast step (compiled + CUDA graph), per network, same run;
then every network trained alone vs all at once (`sgnlib.multitrain.train_many`).

Part 1, one process: for each network, `sgnlib.fast_step.TrainStep` in mode "eager" (the reference
loop's ops), the fast mode ("graph" on CUDA, "compiled" on CPU) and, with --amp, the fast mode under
bfloat16 autocast. Each variant is built once (compile + capture time reported as setup_s, never
timed as training) and warmed up (--warmup steps, excluded); then --repeats rounds each time --steps
steps of every variant in turn (interleaved, so a slow moment of a shared machine does not land on
one side of the ratio) and the reported img/s is the median. A step is what `train` does per
minibatch: index slice, augmentation draws, step, loss copied into the epoch's loss tensor. Data:
random normal images (steps * batch of them, so no partial batch), labels uniform.

Part 2: `train_many` on random data with the fast path (or
--concurrent-mode eager), each network alone (one process; repeats + 1 epochs of --steps steps, img/s
the median over epochs after the first), then all networks at once (one process each, steps prepared
first, loops started together, epochs in proportion to each network's speed alone so the loops last
alike; img/s over the epochs after the first that ended while every network was still training).
"total" is the sum over networks run together.

CPU check (small; CPU numbers say nothing about a GPU):
    python benchmarks/bench_train.py --device cpu --models alexnet,resnet20 --steps 10 --repeats 2
On a GPU (H100/H200):
    python benchmarks/bench_train.py --device cuda --steps 200 --repeats 5 --amp --json bench_train_gpu.json
Compiling is most of the time in a fresh inductor cache (tens of seconds per network and variant; part
2's processes reuse the on-disk cache). Within a short device lease, split it: part 1 alone with
--parts 1 (and without --amp), then --parts 2 (e.g. with --models alexnet,resnet20).
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sgnlib import models  # noqa: E402
from sgnlib.capture import sync  # noqa: E402
from sgnlib.fast_step import TrainStep, default_mode  # noqa: E402
from sgnlib.multitrain import train_many  # noqa: E402
from sgnlib.provenance import device_name, provenance, resolve_device  # noqa: E402
from sgnlib.train import Recipe  # noqa: E402

ALL_MODELS = "alexnet,alexnet_bn,resnet20,resnet56"


def build_variant(name, mode, amp, x, y, bs, dev):
    torch.manual_seed(0)
    model = models.build(name).to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sync(dev)
    t = time.perf_counter()
    step = TrainStep(model, opt, x, y, (bs,), mode=mode, amp=amp)
    sync(dev)
    return step, time.perf_counter() - t


def run_steps(step, perm, bs, steps, gen, dev):
    """img/s of `steps` steps (synchronized before and after)."""
    per_epoch = perm.shape[0] // bs
    losses = torch.zeros(steps, device=dev)
    sync(dev)
    t = time.perf_counter()
    for s in range(steps):
        k = s % per_epoch
        losses[s] = step(perm[k * bs:(k + 1) * bs], gen)
    sync(dev)
    dt = time.perf_counter() - t
    if not bool(torch.isfinite(losses).all()):
        raise RuntimeError(f"{step.kind}: non-finite loss")
    return steps * bs / dt


def in_process(a, dev, x, y):
    fast = default_mode(dev)
    variants = [("eager", False), (fast, False)] + ([(fast, True)] if a.amp else [])
    rows = []
    for name in a.models.split(","):
        built = {}
        for mode, amp in variants:
            built[(mode, amp)] = build_variant(name, mode, amp, x, y, a.batch_size, dev)
            print(f"  {name} {built[(mode, amp)][0].kind}: setup {built[(mode, amp)][1]:.1f} s", flush=True)
        gen = torch.Generator(device=dev).manual_seed(0)
        perm = torch.randperm(x.shape[0], device=dev, generator=gen)
        for step, _ in built.values():
            run_steps(step, perm, a.batch_size, a.warmup, gen, dev)
        runs = {k: [] for k in built}
        for _ in range(a.repeats):
            for k, (step, _) in built.items():
                runs[k].append(run_steps(step, perm, a.batch_size, a.steps, gen, dev))
        eager = statistics.median(runs[("eager", False)])
        for (mode, amp), (step, setup) in built.items():
            med = statistics.median(runs[(mode, amp)])
            rows.append({"model": name, "variant": step.kind, "mode": step.mode, "amp": amp,
                         "batch_size": a.batch_size, "img_per_s": med, "over_eager": med / eager,
                         "setup_s": setup, "runs_img_per_s": runs[(mode, amp)]})
            print(f"{device_name(dev)} {name} {step.kind:>12}: {med:12,.0f} img/s  x{med / eager:5.2f} vs eager"
                  f"  (setup {setup:.1f} s; runs {', '.join(f'{r:,.0f}' for r in runs[(mode, amp)])})", flush=True)
        for step, _ in built.values():
            step.close()
        del built
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    return rows


def concurrent(a, dev):
    def job(name, epochs):
        return {"model_name": name, "name": name, "data": {"random": a.steps * a.batch_size},
                "recipe": Recipe(epochs=epochs, batch_size=a.batch_size),
                "fast": a.concurrent_mode == "fast", "amp": a.amp and a.concurrent_mode == "fast"}
    names = a.models.split(",")
    alone = {}
    for name in names:
        r = train_many([job(name, a.repeats + 1)], dev)
        alone[name] = r["jobs"][0]
        print(f"{device_name(dev)} alone    {name:>10} ({alone[name]['step']}): "
              f"{alone[name]['img_per_s']:12,.0f} img/s (setup {alone[name]['setup_s']:.1f} s)", flush=True)
    # together: epochs in proportion to each network's speed alone, so that the loops last alike
    slowest = min(r["img_per_s"] for r in alone.values())
    epochs = {n: max(a.repeats + 1, round((a.repeats + 1) * alone[n]["img_per_s"] / slowest)) for n in names}
    together = train_many([job(n, epochs[n]) for n in names], dev)
    for row in together["jobs"]:
        print(f"{device_name(dev)} together {row['name']:>10} ({row['step']}): {row['img_per_s_overlap']:12,.0f} "
              f"img/s while all ran (x{row['img_per_s_overlap'] / alone[row['name']]['img_per_s']:.2f} of alone; "
              f"{row['epochs']} epochs, median {row['img_per_s']:,.0f})", flush=True)
    total_alone = sum(r["img_per_s"] for r in alone.values())
    print(f"{device_name(dev)} together total {together['total_img_per_s_overlap']:,.0f} img/s while all ran; "
          f"sum of alone {total_alone:,.0f}; all loops ran at once for {together['overlap_s']:.1f} s "
          f"of {together['wall_s']:.1f} s", flush=True)
    strip = ("history", "start", "end", "checkpoints", "epoch_ends")
    return {"mode": a.concurrent_mode, "epochs_together": epochs,
            "alone": {k: {c: v for c, v in r.items() if c not in strip} for k, r in alone.items()},
            "together": {**{k: v for k, v in together.items() if k != "jobs"},
                         "jobs": [{c: v for c, v in r.items() if c not in strip} for r in together["jobs"]]},
            "sum_alone_img_per_s": total_alone}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--models", default=ALL_MODELS)
    ap.add_argument("--steps", type=int, default=100, help="timed steps per repeat (and steps per epoch in part 2)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps per variant before the repeats")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--amp", action="store_true", help="also time the fast step under bfloat16 autocast")
    ap.add_argument("--parts", choices=("1", "2", "1,2"), default="1,2",
                    help="1: eager vs fast in one process; 2: networks alone vs concurrently")
    ap.add_argument("--concurrent-mode", choices=("fast", "eager"), default="fast")
    ap.add_argument("--json")
    a = ap.parse_args()
    dev = resolve_device(a.device)
    n = a.steps * a.batch_size
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 32, 32, generator=g).to(dev)
    y = torch.randint(0, 10, (n,), generator=g).to(dev)
    t0 = time.perf_counter()
    rows = in_process(a, dev, x, y) if "1" in a.parts else None
    del x, y
    conc = concurrent(a, dev) if "2" in a.parts else None
    if a.json:
        with open(a.json, "w") as f:
            json.dump({**provenance(dev, {"source": f"random normal tensors ({n} x 3 x 32 x 32)"}),
                       "params": vars(a), "fast_mode": default_mode(dev), "rows": rows, "concurrent": conc,
                       "total_s": time.perf_counter() - t0}, f, indent=1)


if __name__ == "__main__":
    main()
