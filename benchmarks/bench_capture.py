"""Capture overhead: plain training steps (fwd+bwd+SGD step, img/s) vs gradient capture
(fwd+bwd+copy of every weight gradient into the [n_batches, d] matrices, samples/s), same run.

    python benchmarks/bench_capture.py [--steps 20] [--device auto] [--json out.json]
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from sgnlib import models
from sgnlib.capture import minibatch_gradients, sync
from sgnlib.provenance import device_name, resolve_device


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


def capture_throughput(model, x, y, bs, steps, dev):
    list(minibatch_gradients(model, F.cross_entropy, x, y, bs, 3))  # warm-up
    sync(dev)
    t = time.perf_counter()
    for _ in minibatch_gradients(model, F.cross_entropy, x, y, bs, steps):
        pass
    sync(dev)
    return steps * bs / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
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
            tr = train_throughput(model, x, y, bs, a.steps, dev)
            cap = capture_throughput(model, x, y, bs, a.steps, dev)
            rows.append({"model": name, "batch_size": bs, "train_img_s": tr, "capture_samples_s": cap,
                         "capture_over_train": cap / tr, "overhead_pct": 100 * (tr / cap - 1)})
            print(f"{device_name(dev)} {name} bs={bs}: train {tr:,.0f} img/s, capture {cap:,.0f} samples/s, "
                  f"ratio {cap / tr:.2f} (overhead {100 * (tr / cap - 1):+.1f}%)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"device": device_name(dev), "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
