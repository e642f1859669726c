import warnings

import pandas as pd
import pytest
import torch

from sgnlib import models
from sgnlib.paths import PAPER_TABLES

TABLE_MODEL = {"alexnet": ["alexnet", "alexnet_bn"], "resnet56": ["resnet56"]}


@pytest.mark.parametrize("name", models.MODELS)
def test_forward_shape(name):
    m = models.build(name).eval()
    assert m(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_every_weight_size_in_the_paper_tables():
    table = pd.read_csv(PAPER_TABLES)
    for model_name, builds in TABLE_MODEL.items():
        sizes = table[table.model == model_name].groupby("layer").weight_size.first()
        for b in builds:
            layers = dict(models.weight_layers(models.build(b)))
            for layer, size in sizes.items():
                assert layers[layer].numel() == size, (b, layer)


def test_alexnet_sizes_and_names():
    got = [(n, p.numel()) for n, p in models.weight_layers(models.build("alexnet"))]
    assert got == [("Layer 1", 23232), ("Layer 2", 307200), ("Layer 3", 663552), ("Layer 4", 884736),
                   ("Layer 5", 589824), ("Layer 6", 2560)]
    assert sum(s for _, s in got) == 2471104


def test_alexnet_bn_has_bn_before_every_relu():
    feats = list(models.build("alexnet_bn").features)
    for i, m in enumerate(feats):
        if isinstance(m, torch.nn.ReLU):
            assert isinstance(feats[i - 1], torch.nn.BatchNorm2d)


@pytest.mark.parametrize("name,per_block", [("resnet20", 6), ("resnet56", 18)])
def test_resnet_layout(name, per_block):
    layers = models.weight_layers(models.build(name))
    names = [n for n, _ in layers]
    assert names[0] == "First Layer" and names[-1] == "Final Layer"
    assert len(layers) == 2 + 3 * per_block
    sizes = dict((n, p.numel()) for n, p in layers)
    assert sizes["First Layer"] == 432 and sizes["Final Layer"] == 640
    assert sizes["Block 1 Layer 1"] == 2304 and sizes[f"Block 1 Layer {per_block}"] == 2304
    assert sizes["Block 2 Layer 1"] == 4608 and sizes["Block 2 Layer 2"] == 9216
    assert sizes["Block 3 Layer 1"] == 18432 and sizes[f"Block 3 Layer {per_block}"] == 36864
    # parameter-free shortcut: the 0.27M / 0.85M totals of He et al. (2016), Table 6
    n_params = sum(p.numel() for p in models.build(name).parameters())
    assert n_params == {"resnet20": 269722, "resnet56": 853018}[name]


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="alexnet, alexnet_bn, resnet20, resnet56"):
        models.build("vgg16")


def test_paper_table_copy_matches_shared():
    shared = PAPER_TABLES.parent.parent.parent.parent / "shared" / "paper" / "tables_1_to_4.csv"
    if not shared.exists():
        pytest.skip("../shared not beside the checkout")
    assert shared.read_bytes() == PAPER_TABLES.read_bytes()


def _names_sizes(model, **kw):
    return [(n, p.numel()) for n, p in models.weight_layers(model, **kw)]


def test_every_conv_kind_and_linear_listed_in_module_order():
    nn = torch.nn
    net = nn.Sequential(nn.Conv1d(2, 3, 3), nn.Conv2d(3, 4, 2), nn.Conv3d(4, 2, 1), nn.ConvTranspose2d(2, 5, 3),
                        nn.ConvTranspose1d(5, 1, 2), nn.BatchNorm1d(1), nn.Linear(7, 6, bias=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # biases and BatchNorm scales are not weight matrices
        got = _names_sizes(net)
    assert got == [("Layer 1", 18), ("Layer 2", 48), ("Layer 3", 8), ("Layer 4", 90), ("Layer 5", 10),
                   ("Layer 6", 42)]
    assert _names_sizes(net, layers=["Layer 4", "Layer 1"]) == [("Layer 4", 90), ("Layer 1", 18)]
    with pytest.raises(ValueError, match="unknown layers"):
        models.weight_layers(net, layers=["Layer 9"])


@pytest.mark.parametrize("name", models.MODELS)
def test_paper_networks_warn_about_nothing(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        models.weight_layers(models.build(name))


class _Mixed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.bil = nn.Bilinear(3, 3, 4)
        self.rnn = nn.LSTM(4, 4)
        self.att = nn.MultiheadAttention(4, 2)
        self.raw = nn.Parameter(torch.zeros(4, 4))
        self.head = nn.Linear(4, 2)


def test_unsupported_weight_matrices_are_never_dropped_silently():
    net = _Mixed()
    with pytest.warns(UserWarning, match=r"_Mixed: skipping .*'<root>' \(_Mixed\), 'bil' \(Bilinear\), "
                                         r"'rnn' \(LSTM\), 'att' \(MultiheadAttention\); only .*Conv1d"):
        names = [n for n, _ in models.weight_layers(net)]
    assert names == ["Layer 1", "Layer 2"]  # the attention out-projection (a Linear) and the head
    with pytest.raises(ValueError, match=r"unsupported layers 'bil' \(Bilinear\), 'rnn' \(LSTM\)"):
        models.weight_layers(net, layers=["Layer 2", "bil", "rnn"])


def test_no_weight_layer_names_the_model_and_the_supported_types():
    with pytest.raises(ValueError, match=r"Sequential has no weight layer to capture: supported are nn.Conv1d.*"
                                         r"nn.Linear weights; it has '1' \(Embedding\)"):
        models.weight_layers(torch.nn.Sequential(torch.nn.Identity(), torch.nn.Embedding(3, 2)))
    with pytest.raises(ValueError, match="ReLU has no weight layer"):
        models.weight_layers(torch.nn.ReLU())


def test_text_alexnet_is_the_architecture_the_text_describes():
    """5x5 / stride 2 / padding 2 first convolution (4,800 weights) and three FC layers; the table
    AlexNet's parameters and their order are unchanged by the option (old checkpoints load)."""
    m = models.build("alexnet_text")
    conv1 = m.features[0]
    assert (conv1.kernel_size, conv1.stride, conv1.padding) == ((5, 5), (2, 2), (2, 2))
    sizes = [(n, p.numel()) for n, p in models.weight_layers(m)]
    assert sizes == [("Layer 1", 4800), ("Layer 2", 307200), ("Layer 3", 663552), ("Layer 4", 884736),
                     ("Layer 5", 589824), ("FC 1", 1024 * 384), ("FC 2", 384 * 192), ("Layer 6", 1920)]
    assert sum(isinstance(x, torch.nn.Linear) for x in m.modules()) == 3
    assert list(models.build("alexnet").state_dict()) == [
        f"features.{i}.{w}" for i in (0, 3, 6, 8, 10) for w in ("weight", "bias")] + [
        "classifier.weight", "classifier.bias"]


@pytest.mark.parametrize("name,maps,flat", [("alexnet_text_tables", 3, 256), ("alexnet_text_tables_p5", 4, 1024)])
def test_text_and_tables_alexnet_fits_both(name, maps, flat):
    """11x11 first convolution at the text's stride 2, three Linear layers, and the six tabled
    weight sizes equal to Table 1's (read from the paper's table file)."""
    paper = pd.read_csv(PAPER_TABLES)
    want = paper[(paper.table == 1)].drop_duplicates("layer").set_index("layer").weight_size.to_dict()
    m = models.build(name)
    conv1 = m.features[0]
    assert (conv1.kernel_size, conv1.stride) == ((11, 11), (2, 2))
    assert conv1.padding == ((2, 2) if name == "alexnet_text_tables" else (5, 5))
    assert sum(isinstance(x, torch.nn.Linear) for x in m.modules()) == 3
    sizes = dict((n, p.numel()) for n, p in models.weight_layers(m))
    assert {k: sizes[k] for k in want} == want and len(want) == 6
    assert list(sizes) == [f"Layer {i}" for i in range(1, 6)] + ["FC 1", "FC 2", "Layer 6"]
    x = torch.zeros(2, 3, 32, 32)
    feats = m.features[:-1](x)  # before the last pool: convolutions 3-5 see maps x maps
    assert feats.shape[-1] == maps and torch.flatten(m.features(x), 1).shape[1] == flat
    assert m(x).shape == (2, 10)
