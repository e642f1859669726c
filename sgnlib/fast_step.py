"""The paper's training step, fast: compiled whole and, on CUDA, replayed as a CUDA graph.

`TrainStep` runs one SGD step of the recipe -- crop+flip augmentation, forward, cross-entropy,
backward, SGD with momentum and weight decay -- in one of three ways (`mode`, recorded as the
"step" of every history row of `sgnlib.train.train`):

* "eager": the reference, the very ops of `train`'s loop (`augment`, `torch.optim.SGD.step`).
* "compiled": gather + augmentation + forward + loss under one `torch.compile` (inductor, static
  shapes; AOTAutograd compiles the backward with it) and the SGD update as a second compiled
  function of foreach ops with a 0-dim tensor learning rate, so `set_lr` never recompiles.
* "graph" (CUDA only): the "compiled" step -- forward, backward and update -- captured once per
  batch shape into a `torch.cuda.CUDAGraph` and replayed; channels_last, TF32 convolutions and
  cudnn.benchmark while it runs. A capture that fails falls back to "compiled" with a warning.

Random numbers: the generator is used outside the compiled code, in exactly `augment`'s order
(`draw_augment`: dy, dx, then the flip uniforms, once per step), so a run draws the same crops and
flips in every mode and its generator state (saved in checkpoints) stays the same. The last,
partial batch of an epoch (n % batch_size images; the same size every epoch) gets its own
static-shape compiled step / graph, so all images are trained on, as in the eager loop.

Trajectory: "compiled" follows "eager" to float rounding (inductor reorders and fuses arithmetic);
it is not bitwise. On CUDA "graph" also differs by TF32/cudnn algorithm choice, so runs are
reproducible statistically, not bitwise; the "eager" path stays the bitwise reference.
"""
from __future__ import annotations

import contextlib
import time
import warnings

import torch
import torch.nn.functional as F

from .augmentation import apply_augment, augment  # noqa: F401  (apply_augment: compiled crop)
from .hyperparameters import AUGMENT_PAD
from .step_parts import (CompiledLoss, ShapeBuffers, cpu_compiler, cuda_speed_flags,  # noqa: F401
                         draw_augment, sgd_update)

MODES = ("eager", "compiled", "graph")
# torch.compile backend of the fast step; "aot_eager" needs no C++ compiler (tests)
BACKEND = "inductor"


def default_mode(device) -> str:
    return "graph" if torch.device(device).type == "cuda" else "compiled"


class TrainStep:
    """One SGD step of `model` on `images[idx]`, updating `opt`'s parameters and momentum buffers.

    opt: a `torch.optim.SGD` (one parameter group, dampening 0, no Nesterov); in compiled/graph
    modes its momentum buffers are created (zeros) in `opt.state` and updated in place, so
    `opt.state_dict()` checkpoints and resumes exactly as in eager mode. batch_sizes: the shapes to
    prepare now (compile, capture; `setup_s` says how long it took); another size is prepared on
    first use. amp: bfloat16 autocast for the forward (opt-in; off = fp32). channels_last: default
    on CUDA. backend: torch.compile backend (default `BACKEND`, "inductor"; "aot_eager" needs no C++
    compiler). warmup: steps run (and undone) on a side stream before a graph is captured.
    """

    def __init__(self, model, opt, images, labels, batch_sizes=(), *, mode=None, augment=True,
                 pad=AUGMENT_PAD, amp=False, channels_last=None, backend=None, warmup=3):
        self.device = images.device
        backend = backend or BACKEND
        mode = mode or default_mode(self.device)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "graph" and self.device.type != "cuda":
            raise ValueError(f"mode 'graph' needs CUDA tensors; the images are on {self.device}")
        if mode != "eager" and backend == "inductor" and self.device.type == "cpu" \
                and not cpu_compiler():
            raise RuntimeError("torch.compile (inductor) on CPU needs a C++ compiler and none was "
                               "found (CXX, c++, g++, clang++); install one, or train with "
                               "fast=False")
        (group,) = opt.param_groups
        if group.get("nesterov") or group.get("dampening") or group.get("maximize"):
            raise ValueError("TrainStep implements SGD without Nesterov, dampening or maximize")
        self.model, self.opt, self.images, self.labels = model, opt, images, labels
        self.mode, self.augment, self.pad, self.amp, self.warmup = mode, augment, pad, amp, warmup
        self.momentum, self.weight_decay = float(group["momentum"]), float(group["weight_decay"])
        self.channels_last = (self.device.type == "cuda") if channels_last is None \
            else channels_last
        self.shapes: dict[int, ShapeBuffers] = {}
        self.setup_s = 0.0
        if mode == "eager":
            return
        if self.channels_last:
            model.to(memory_format=torch.channels_last)  # in place: the same Parameter objects
        self.params = list(group["params"])
        self.bufs = []
        for p in self.params:
            old = opt.state[p].get("momentum_buffer")
            buf = torch.zeros_like(p) if old is None else torch.empty_like(p).copy_(old)
            opt.state[p]["momentum_buffer"] = buf
            self.bufs.append(buf)
        self.lr = torch.tensor(float(group["lr"]), device=self.device)
        # every TrainStep of a process shares CompiledLoss.forward's and sgd_update's compile caches
        # (one entry per model/shape/flags): allow more entries than dynamo's default 8 before it
        # gives up compiling
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
        self.loss_fn = torch.compile(CompiledLoss(model, augment, pad, self.channels_last, amp),
                                     backend=backend, dynamic=False, fullgraph=True)
        self.update = torch.compile(sgd_update, backend=backend, dynamic=False, fullgraph=True)
        for n in sorted(set(batch_sizes)):
            self.prepare(n)

    @property
    def kind(self) -> str:
        """What runs: "eager" | "compiled" | "graph", "+bf16" with amp."""
        return self.mode + ("+bf16" if self.amp else "")

    def set_lr(self, lr: float) -> None:
        """New learning rate for the following steps (a tensor fill: nothing is recompiled)."""
        self.opt.param_groups[0]["lr"] = lr
        if self.mode != "eager":
            self.lr.fill_(lr)

    def _state(self):
        return self.params + self.bufs + list(self.model.buffers())

    def _step(self, st: ShapeBuffers):
        for p in self.params:
            p.grad = None
        loss = self.loss_fn(self.images, self.labels, st.idx, st.dy, st.dx, st.u)
        loss.backward()
        self.update(self.params, [p.grad for p in self.params], self.bufs, self.lr, self.momentum,
                    self.weight_decay)
        return loss.detach()

    def prepare(self, n: int) -> ShapeBuffers:
        """Compile (and in graph mode capture) the step for batch size `n`; the model, optimizer and
        generator are left as they were (warm-up steps are undone)."""
        if n in self.shapes or self.mode == "eager":
            return self.shapes.get(n)
        t0 = time.perf_counter()
        st = ShapeBuffers(n, self.device)
        saved = [t.detach().clone() for t in self._state()]
        try:
            with cuda_speed_flags(self.device.type == "cuda"):
                if self.mode == "compiled":
                    self._step(st)
                else:
                    self._capture(st)
        finally:
            with torch.no_grad():
                for t, s in zip(self._state(), saved):
                    t.copy_(s)
            for p in self.params:  # a graph keeps its gradients in its own memory pool
                p.grad = None
        self.shapes[n] = st
        self.setup_s += time.perf_counter() - t0
        return st

    def _capture(self, st: ShapeBuffers):
        try:
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                for _ in range(max(1, self.warmup)):
                    self._step(st)
            torch.cuda.current_stream(self.device).wait_stream(side)
            for p in self.params:
                p.grad = None
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                st.loss = self._step(st)
            st.graph = graph
            self._check_replay(st)
        except Exception as e:  # noqa: BLE001 -- any capture failure: run compiled instead
            torch.cuda.synchronize(self.device)
            first = str(e).splitlines()[0][:200]
            warnings.warn(f"CUDA graph capture failed ({type(e).__name__}: {first}); running the "
                          f"compiled step without a graph", RuntimeWarning, stacklevel=3)
            self.mode, st.graph, st.loss = "compiled", None, None
            for s in self.shapes.values():
                s.graph, s.loss = None, None
        torch.cuda.synchronize(self.device)

    def _check_replay(self, st: ShapeBuffers, rel: float = 1e-2):
        """One replay against one compiled step from the same state and inputs (a few flipped and
        shifted images): the updates must agree, else the graph is not used (RuntimeError)."""
        st.idx.copy_(torch.arange(st.n, device=self.device) % self.images.shape[0])
        st.dy.fill_(self.pad // 2), st.dx.fill_(self.pad), st.u.fill_(0.25)
        before = [t.detach().clone() for t in self._state()]
        st.graph.replay()
        loss_g, after_g = float(st.loss), [t.detach().clone() for t in self.params]
        with torch.no_grad():
            for t, s in zip(self._state(), before):
                t.copy_(s)
        loss_c = float(self._step(st))
        for p, b, a in zip(self.params, before, after_g):
            want = p.detach() - b
            if float((a - b - want).abs().max()) > rel * float(want.abs().max()) + 1e-12:
                raise RuntimeError(f"replayed update differs from the compiled step's (loss "
                                   f"{loss_g} vs {loss_c})")
        if abs(loss_g - loss_c) > rel * abs(loss_c):
            raise RuntimeError(f"replayed loss {loss_g} differs from the compiled step's {loss_c}")

    def __call__(self, idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One step on images[idx], augmentation drawn from `generator`; the detached loss (in graph
        mode a buffer the next step overwrites: copy it to keep it)."""
        if self.mode == "eager":
            return self._eager(idx, generator)
        st = self.shapes.get(idx.shape[0]) or self.prepare(idx.shape[0])
        st.idx.copy_(idx)
        if self.augment:
            draw_augment(st.n, generator, self.pad, out=(st.dy, st.dx, st.u))
        if st.graph is not None:
            st.graph.replay()
            return st.loss
        with cuda_speed_flags(self.device.type == "cuda"):
            return self._step(st)

    def _eager(self, idx, generator):
        """The reference: the ops of `sgnlib.train.train`'s eager loop."""
        x = self.images[idx]
        if self.augment:
            x = augment(x, generator, self.pad)
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16) if self.amp \
            else contextlib.nullcontext()
        with autocast:
            loss = F.cross_entropy(self.model(x), self.labels[idx])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.detach()

    def close(self) -> None:
        """Drop graphs and gradients (frees the graphs' memory); the model returns to contiguous
        format."""
        self.shapes.clear()
        if self.mode != "eager":
            for p in self.params:
                p.grad = None
            if self.channels_last:
                self.model.to(memory_format=torch.contiguous_format)
