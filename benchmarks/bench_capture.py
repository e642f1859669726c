"""Capture overhead: plain training steps (fwd+bwd+SGD step, img/s) vs gradient capture
(fwd+bwd+copy of every weight gradient into the [n_batches, d] matrices, samples/s), same run.

Capture is timed twice: as shipped (finite check read back once per 64 minibatches) and with
check_every=1 (one host-device sync per minibatch), so a GPU run shows what the syncs cost.
Host syncs per minibatch are counted in a separate untimed pass (sgnlib.profiling). The three
timings are interleaved `--repeats` times and each reported number is the median, so a slow
moment of a shared machine does not land on one side of the ratio.

    python benchmarks/bench_capture.py [--steps 64] [--repeats 3] [--device auto] [--json out.json]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from sgnlib import models
from sgnlib.capture import minibatch_gradients, sync
from sgnlib.profiling import host_syncs
from sgnlib.provenance import device_name, provenance, resolve_device


def train_throughput(model, x, y, bs, steps, dev):
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    gen = torch.Generator(device=dev).manual_seed(0)

    def step():
        idx = torch.randint(0, x.shape[0], (bs,), device=dev, generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    for _ in range(3):
        step()
    sync(dev)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(dev)
    return steps * bs / (time.perf_counter() - t)


def capture_throughput(model, x, y, bs, steps, dev, check_every=64):
    list(minibatch_gradients(model, F.cross_entropy, x, y, bs, 3, check_every=check_every))  # warm-up
    sync(dev)
    t = time.perf_counter()
    for _ in minibatch_gradients(model, F.cross_entropy, x, y, bs, steps, check_every=check_every):
        pass
    sync(dev)
    return steps * bs / (time.perf_counter() - t)


def syncs_per_batch(model, x, y, steps, check_every=64):
    """Host syncs per minibatch (they do not depend on the batch size; counted at batch 8, untimed)."""
    with host_syncs() as counts:
        list(minibatch_gradients(model, F.cross_entropy, x, y, 8, steps, check_every=check_every))
    return sum(counts.values()) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--models", default="alexnet,resnet20")
    ap.add_argument("--json")
    a = ap.parse_args()
    dev = resolve_device(a.device)
    n = 4096
    x = torch.randn(n, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (n,), device=dev)
    rows = []
    for name in a.models.split(","):
        for bs in (128, 512):
            torch.manual_seed(0)
            model = models.build(name).to(dev)
            runs = []
            for _ in range(a.repeats):
                runs.append((train_throughput(model, x, y, bs, a.steps, dev),
                             capture_throughput(model, x, y, bs, a.steps, dev),
                             capture_throughput(model, x, y, bs, a.steps, dev, check_every=1)))
            tr, cap, cap1 = (statistics.median(r[i] for r in runs) for i in range(3))
            s64, s1 = syncs_per_batch(model, x, y, a.steps), syncs_per_batch(model, x, y, a.steps, 1)
            rows.append({"model": name, "batch_size": bs, "train_img_s": tr, "capture_samples_s": cap,
                         "capture_over_train": cap / tr, "overhead_pct": 100 * (tr / cap - 1),
                         "capture_sync_each_batch_samples_s": cap1, "sync_each_batch_over_train": cap1 / tr,
                         "host_syncs_per_batch": s64, "host_syncs_per_batch_check_every_1": s1,
                         "runs_img_s": runs})
            print(f"{device_name(dev)} {name} bs={bs}: train {tr:,.0f} img/s, capture {cap:,.0f} samples/s, "
                  f"ratio {cap / tr:.2f} (overhead {100 * (tr / cap - 1):+.1f}%); syncing every batch "
                  f"{cap1:,.0f} samples/s, ratio {cap1 / tr:.2f}; host syncs per batch "
                  f"{s64:.3f} vs {s1:.0f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({**provenance(dev, {"source": "random tensors (4096 x 3 x 32 x 32)"}),
                       "steps": a.steps, "repeats": a.repeats, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
