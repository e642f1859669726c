"""The fast training step (sgnlib.fast_step) against the eager reference, and train_many.

CPU: most tests compile with the "aot_eager" backend (Dynamo + AOTAutograd, the same traced graphs
and the same foreach SGD update, no C++ compiler, seconds); one test compiles with inductor, the
default backend, when a C++ compiler is found (the first run in a fresh inductor cache spends most
of its time compiling C++). CUDA graphs are checked only where CUDA is available.
"""
import io

import pytest
import torch
from torch._dynamo.utils import counters

from sgnlib import fast_step, models, train
from sgnlib.data import augment, load_cifar10
from sgnlib.fast_step import TrainStep, apply_augment, draw_augment
from sgnlib.multitrain import train_many

# compiled vs eager, max |difference| / max |parameter| over the state_dict's tensors, measured on
# CPU: AlexNet after 8 steps (lr 0.1 then 0.01, a partial batch each epoch) 1.7e-7 (aot_eager),
# 2.1e-7 (inductor); AlexNet-BN after 3 steps 4.1e-7, channels_last 2.1e-6 (running stats included)
REL_TOL = 1e-5
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (CUDA graphs)")


@pytest.fixture(scope="module")
def synth():
    return load_cifar10("train", source="synthetic")


@pytest.fixture
def aot(monkeypatch):
    monkeypatch.setattr(fast_step, "BACKEND", "aot_eager")


def max_rel_diff(a: torch.nn.Module, b: torch.nn.Module) -> float:
    return max(float((p - q).abs().max() / p.abs().max().clamp_min(1e-12))
               for p, q in zip(a.state_dict().values(), b.state_dict().values()) if p.is_floating_point())


def pair(name, x, y, mode, batch_sizes, **kw):
    """An eager and a `mode` TrainStep on identical copies of one freshly initialized model."""
    torch.manual_seed(0)
    out = []
    for m in ("eager", mode):
        model = models.build(name).to(x.device)
        if out:
            model.load_state_dict(out[0].model.state_dict())
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        out.append(TrainStep(model, opt, x, y, batch_sizes, mode=m, **kw))
    return out


def test_draws_are_augments_draws(synth):
    """The fast path's random numbers are augment's: same images, same generator state after."""
    x = synth[0][:37]
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    dy, dx, u = draw_augment(37, g2)
    assert torch.equal(augment(x, g1), apply_augment(x, dy, dx, u < 0.5))
    assert torch.equal(g1.get_state(), g2.get_state())


def test_fast_train_follows_eager_on_cpu(synth, tmp_path, aot):
    """train(fast=True) on CPU: compiled step, same augmentation draws, same lr schedule, the partial
    batch trained on, same checkpoint payload; parameters equal to REL_TOL after 8 steps."""
    x, y, _ = synth
    rec = train.Recipe(epochs=2, batch_size=64)  # 200 images: 64+64+64+8 per epoch; lr 0.1, then 0.01
    run = {f: train.train("alexnet", (x, y), recipe=rec, seed=3, progress=False, fast=f, checkpoint_epochs=[1],
                          checkpoint_dir=tmp_path / str(f)) for f in (False, True)}
    assert [r["step"] for r in run[False]["history"]] == ["eager", "eager"]
    assert [r["step"] for r in run[True]["history"]] == ["compiled", "compiled"] and run[True]["step"] == "compiled"
    assert [r["lr"] for r in run[True]["history"]] == [0.1, pytest.approx(0.01)]
    assert [r["train_loss"] for r in run[True]["history"]] == pytest.approx(
        [r["train_loss"] for r in run[False]["history"]], rel=1e-5)
    assert max_rel_diff(run[False]["model"], run[True]["model"]) < REL_TOL
    assert all(p.is_contiguous() for p in run[True]["model"].parameters())
    ck = {f: train.load_checkpoint(tmp_path / str(f) / "alexnet-seed3-epoch001.pt") for f in (False, True)}
    assert torch.equal(ck[False]["generator"], ck[True]["generator"])  # identical generator use
    assert set(ck[False]) == set(ck[True])
    assert ck[False]["optimizer"]["param_groups"] == ck[True]["optimizer"]["param_groups"]
    for s in ck[False]["optimizer"]["state"]:
        a, b = (ck[f]["optimizer"]["state"][s]["momentum_buffer"] for f in (False, True))
        assert float((a - b).abs().max()) <= REL_TOL * float(a.abs().max())


def test_lr_changes_without_recompiling_and_partial_batch(synth, aot):
    """set_lr is a tensor fill: no new graphs; the partial batch has its own prepared shape.
    channels_last (the CUDA default) keeps the optimizer's Parameter objects and ends contiguous."""
    x, y, _ = synth
    eager, fast = pair("alexnet_bn", x, y, "compiled", (64, 8), channels_last=True)
    assert sorted(fast.shapes) == [8, 64]
    assert all(p is q for p, q in zip(fast.params, fast.model.parameters()))
    assert fast.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    graphs = counters["stats"]["unique_graphs"]
    ge, gf = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    perm = torch.randperm(200, generator=torch.Generator().manual_seed(2))
    for lr, idx in ((0.05, perm[:64]), (0.02, perm[64:72]), (0.2, perm[72:136])):
        eager.set_lr(lr), fast.set_lr(lr)
        assert float(eager(idx, ge)) == pytest.approx(float(fast(idx, gf)), rel=1e-5)
    assert counters["stats"]["unique_graphs"] == graphs  # nothing recompiled
    assert max_rel_diff(eager.model, fast.model) < REL_TOL  # BN running stats included
    fast.set_lr(0.0)
    before = [p.clone() for p in fast.params]
    fast(perm[:8], gf)
    assert all(torch.equal(p, q) for p, q in zip(before, fast.params))
    fast(perm[:16], gf)  # a batch size not prepared is prepared on first use (one more graph)
    assert sorted(fast.shapes) == [8, 16, 64]
    fast.close()
    assert all(p.is_contiguous() and p.grad is None for p in fast.model.parameters())


@pytest.mark.skipif(not fast_step.cpu_compiler(), reason="torch.compile (inductor) on CPU needs a C++ compiler; "
                                                         "none found (CXX, c++, g++, clang++)")
def test_inductor_on_cpu(synth):
    """The default backend on CPU: fast=True compiles with inductor (no CUDA graph)."""
    x, y, _ = synth
    rec = train.Recipe(epochs=1, batch_size=100)
    e, f = (train.train("alexnet", (x, y), recipe=rec, seed=4, progress=False, fast=v) for v in (False, True))
    assert f["history"][0]["step"] == "compiled" and f["setup_s"] > 0
    assert max_rel_diff(e["model"], f["model"]) < REL_TOL


def test_graph_mode_needs_cuda(synth):
    x, y, _ = synth
    m = models.build("alexnet")
    with pytest.raises(ValueError, match="needs CUDA"):
        TrainStep(m, torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9), x, y, (64,), mode="graph")


def test_train_many_two_jobs_on_cpu(tmp_path):
    jobs = [{"model_name": "alexnet", "name": n, "seed": s, "data": {"source": "synthetic"}, "fast": False,
             "recipe": train.Recipe(epochs=1, batch_size=100), "checkpoint_dir": tmp_path / n, "return_model": r}
            for n, s, r in (("a", 0, True), ("b", 1, False))]
    out = train_many(jobs, "cpu", timeout=300)
    assert [j["name"] for j in out["jobs"]] == ["a", "b"] and out["device"] == "cpu"
    assert all(j["img_per_s"] > 0 and j["step"] == "eager" and j["epochs"] == 1 for j in out["jobs"])
    assert out["total_img_per_s"] == pytest.approx(sum(j["img_per_s"] for j in out["jobs"]))
    assert (tmp_path / "b" / "alexnet-seed1-epoch001.pt").exists()
    models.build("alexnet").load_state_dict(torch.load(io.BytesIO(out["jobs"][0]["state_dict"]), weights_only=True))
    with pytest.raises(RuntimeError, match="job 0 .*unknown model"):
        train_many([{"model_name": "nope", "data": {"source": "synthetic"}}], "cpu", timeout=120)


@cuda
@pytest.mark.parametrize("name", ["alexnet", "alexnet_bn"])
def test_cuda_graph_follows_eager(synth, name):
    """CUDA: the graphed step (channels_last, TF32 convolutions, cudnn.benchmark) stays close to the
    eager one (TF32 in both; not bitwise) over steps with a partial batch and lr changes."""
    x, y = synth[0].cuda(), synth[1].cuda()
    eager, fast = pair(name, x, y, "graph", (64, 8))
    assert fast.mode == "graph" and all(s.graph is not None for s in fast.shapes.values())
    ge, gf = (torch.Generator(device="cuda").manual_seed(1) for _ in range(2))
    perm = torch.randperm(200, device="cuda", generator=torch.Generator(device="cuda").manual_seed(2))
    for lr, idx in ((0.05, perm[:64]), (0.02, perm[64:72]), (0.01, perm[72:136]), (0.01, perm[136:144])):
        eager.set_lr(lr), fast.set_lr(lr)
        assert float(eager(idx, ge)) == pytest.approx(float(fast(idx, gf)), rel=1e-2)
    assert torch.equal(ge.get_state(), gf.get_state())
    fast.close()
    assert max_rel_diff(eager.model, fast.model) < 2e-2


@cuda
def test_cuda_train_defaults_to_graph(synth):
    x, y = synth[0].cuda(), synth[1].cuda()
    out = train.train("resnet20", (x, y), recipe=train.Recipe(epochs=2, batch_size=64), progress=False,
                      device="cuda")
    assert [r["step"] for r in out["history"]] == ["graph", "graph"]
    assert all(torch.isfinite(p).all() for p in out["model"].parameters())


def test_amp_is_opt_in_and_recorded(synth, aot):
    x, y, _ = synth
    eager, fast = pair("alexnet", x, y, "compiled", (64,), amp=True)
    assert (eager.kind, fast.kind) == ("eager+bf16", "compiled+bf16")
    ge, gf = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    for _ in range(2):
        assert float(eager(torch.arange(64), ge)) == pytest.approx(float(fast(torch.arange(64), gf)), rel=1e-2)
