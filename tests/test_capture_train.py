"""Training and capture on synthetic data: determinism, resume, BN untouched, protocol, probe, errors."""
import pytest
import torch
import torch.nn.functional as F

from sgnlib import capture, models, train
from sgnlib.data import load_cifar10


@pytest.fixture(scope="module")
def synth():
    return load_cifar10("train", source="synthetic")


def test_recipe_milestones_scale():
    assert train.Recipe().scaled_milestones() == [150, 225]
    r = train.Recipe(epochs=30)
    assert r.scaled_milestones() == [15, 22] and r.lr_at(0) == 0.1 and r.lr_at(29) == pytest.approx(0.001)


def test_training_is_deterministic_and_resumes(tmp_path, synth):
    x, y, info = synth
    rec = train.Recipe(epochs=2, batch_size=32)
    a = train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False)
    b = train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False)
    assert [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]
    # killed after epoch 1: resume from the epoch-1 checkpoint reproduces the uninterrupted run
    one = train.train("alexnet", (x, y), recipe=train.Recipe(epochs=2, batch_size=32), seed=1, progress=False,
                      checkpoint_dir=tmp_path, checkpoint_epochs=[1])
    (tmp_path / "alexnet-seed1-epoch002.pt").unlink()
    resumed = train.train("alexnet", (x, y), recipe=rec, seed=1, progress=False, checkpoint_dir=tmp_path,
                          checkpoint_epochs=[1])
    assert resumed["resumed_from"].endswith("epoch001.pt")
    for p, q in zip(one["model"].parameters(), resumed["model"].parameters()):
        assert torch.equal(p, q)
    ck = train.load_checkpoint(tmp_path / "alexnet-seed1-epoch002.pt")
    assert ck["epoch"] == 2 and ck["seed"] == 1 and ck["recipe"]["epochs"] == 2


def test_nan_loss_names_epoch_and_step(synth):
    x, y, _ = synth
    with pytest.raises(train.NonFiniteLossError, match="epoch 1, step"):
        train.train("alexnet", (x * float("nan"), y), recipe=train.Recipe(epochs=1, batch_size=32), progress=False)


def test_missing_checkpoint_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="train the model first"):
        train.load_checkpoint(tmp_path / "none.pt")


def test_protocol_without_replacement_within_a_pass():
    gen = torch.Generator().manual_seed(0)
    idx = capture.minibatch_indices(100, 30, 7, gen)
    assert idx.shape == (7, 30)
    for p in range(0, 6, 3):  # 3 batches per pass, no repeats inside a pass
        assert idx[p:p + 3].flatten().unique().numel() == 90


def test_capture_matches_autograd_and_keeps_bn(synth):
    x, y, _ = synth
    torch.manual_seed(0)
    m = models.build("alexnet_bn")
    before = {k: v.clone() for k, v in m.state_dict().items()}
    mats = next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 16, 5, layers=["Layer 6"], seed=3))
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k]), k
    idx = capture.minibatch_indices(x.shape[0], 16, 5, torch.Generator().manual_seed(3))
    m.train()
    g = torch.autograd.grad(F.cross_entropy(m(x[idx[2]]), y[idx[2]]), m.classifier.weight)[0]
    m.load_state_dict(before)
    assert torch.allclose(mats["Layer 6"][2], g.flatten(), atol=1e-6)


def test_layer_groups_bound_memory_same_result(synth):
    x, y, _ = synth
    m = models.build("alexnet")
    t1, _ = capture.gaussianity_of_noise(m, F.cross_entropy, x, y, 8, 10, max_bytes=4e9)
    t2, _ = capture.gaussianity_of_noise(m, F.cross_entropy, x, y, 8, 10, max_bytes=1e6)
    assert t1.gauss_pct_paper.tolist() == t2.gauss_pct_paper.tolist()


def test_probe_on_any_model():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    xx, yy = torch.randn(300, 5), torch.randint(0, 3, (300,))
    t = capture.probe(net, F.cross_entropy, xx, yy, batch_size=20, n_batches=30)
    assert list(t.layer) == ["Layer 1", "Layer 2"] and list(t.d) == [20, 12]
    with pytest.raises(ValueError, match="n_batches"):
        capture.probe(net, F.cross_entropy, xx, yy, batch_size=20, n_batches=2)
    with pytest.raises(ValueError, match="exceeds"):
        capture.probe(net, F.cross_entropy, xx, yy, batch_size=1000, n_batches=5)


def test_nan_gradient_names_layer_and_batch(synth):
    x, y, _ = synth
    m = models.build("alexnet")
    with torch.no_grad():
        m.classifier.weight[0, 0] = float("nan")
    with pytest.raises(capture.NonFiniteGradientError, match="Layer 1.* minibatch 0 "):
        next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 5))


@pytest.mark.parametrize("check_every", [1, 4, 64])
def test_nan_in_one_minibatch_is_found_however_late_the_check(synth, check_every):
    x, y, _ = synth
    x = x.clone()
    idx = capture.minibatch_indices(x.shape[0], 8, 10, torch.Generator().manual_seed(0))
    x[idx[6, 3]] = float("nan")  # only minibatch 6 sees this image
    m = models.build("alexnet")
    with pytest.raises(capture.NonFiniteGradientError, match="'Layer 1' at minibatch 6 "):
        next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 10, check_every=check_every))
    with pytest.raises(ValueError, match="check_every"):
        next(capture.minibatch_gradients(m, F.cross_entropy, x, y, 8, 10, check_every=0))


def test_capture_loop_syncs_once_per_check_interval(synth):
    """The GPU overhead of issue 4: no host-device sync per layer per minibatch (counted on the CPU)."""
    from sgnlib.profiling import host_syncs
    x, y, _ = synth
    m = models.build("alexnet")  # 6 weight layers: the old loop synced 6 times per minibatch
    for n_batches, check_every, groups in ((130, 64, 1), (20, 64, 1), (20, 5, 1)):
        with host_syncs() as counts:
            for _ in capture.minibatch_gradients(m, F.cross_entropy, x, y, 4, n_batches, check_every=check_every):
                pass
        assert sum(counts.values()) == groups * -(-n_batches // check_every), counts
    # two layer groups: one sync per interval in each group's pass
    with host_syncs() as counts:
        mats = list(capture.minibatch_gradients(m, F.cross_entropy, x, y, 4, 20, max_bytes=20 * 4 * 300_000))
    assert len(mats) > 1 and sum(counts.values()) == len(mats)


def test_auto_memory_budget_cpu():
    assert capture.auto_max_bytes("cpu") == 4e9


def test_per_sample_moments_match_loop(synth):
    x, y, _ = synth
    torch.manual_seed(0)
    m = models.build("alexnet").eval()
    res = capture.per_sample_moments(m, x, y, n_samples=12, chunk=5, layers=["Layer 6"], seed=0)
    pick = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))[:12]
    gs = torch.stack([torch.autograd.grad(F.cross_entropy(m(x[i:i + 1]), y[i:i + 1]), m.classifier.weight)[0].flatten()
                      for i in pick.tolist()]).double()
    dg = gs - gs.mean(0)
    var = (dg ** 2).mean(0)
    torch.testing.assert_close(res["Layer 6"]["sigma2"], var, rtol=1e-4, atol=1e-12)


def test_finite_check_confirms_on_the_stored_row():
    big = torch.full((2, 4), 3e38)  # finite entries whose float32 sum overflows to inf
    mats = {"Layer 1": torch.zeros(2, 3), "Layer 2": big}
    sums = torch.stack([mats["Layer 1"].sum(1), big.sum(1)], 1)
    assert not torch.isfinite(sums).all() and torch.isfinite(big).all()
    capture._check_finite(sums, mats, ["Layer 1", "Layer 2"], 0, 2, 8)  # no false alarm
    mats["Layer 2"][1, 2] = float("inf")
    with pytest.raises(capture.NonFiniteGradientError, match="'Layer 2' at minibatch 1 "):
        capture._check_finite(sums, mats, ["Layer 1", "Layer 2"], 0, 2, 8)
