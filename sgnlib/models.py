"""The paper's four networks: AlexNet, AlexNet-BN, ResNet-20 and ResNet-56 for CIFAR-10.

`build(name)` makes one; `weight_layers(model)` lists its weight tensors under the names used in
the paper's Tables 1-4, in forward order. Any other model: the weights of every convolution
(`_ConvNd`: Conv1d/2d/3d, ConvTranspose1d/2d/3d) and `nn.Linear`, named "Layer 1".. in module order;
other weight matrices (Embedding, Bilinear, RNN, attention in-projections, raw parameters) are
never dropped silently: warned about, or a ValueError when asked for by name.
"""
from __future__ import annotations

import functools
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import models_beyond  # the chapter "Beyond the paper"'s networks, built by name below

MODELS = ("alexnet", "alexnet_bn", "resnet20", "resnet56", "alexnet_text", "alexnet_text_tables",
          "alexnet_text_tables_p5")


class AlexNet(nn.Module):
    """CIFAR-10 AlexNet whose weight sizes match Tables 1-2 exactly.

    Layer 1..5: conv 3->64 (11x11, stride 4, padding 5), 64->192 (5x5), 192->384, 384->256,
    256->256 (3x3); 2x2 max-pools after conv 1, 2 and 5; Layer 6: Linear(256, 10).
    Weight sizes 23,232 / 307,200 / 663,552 / 884,736 / 589,824 / 2,560.

    Discrepancy in the paper: its text describes a 5x5/stride-2/padding-2 first convolution (4,800
    weights) where Table 1 lists 23,232 = 64x3x11x11; the text's three fully connected layers fit
    the tables, which show the five convolutions and only the final classifier. The table sizes are
    those of this network (the widely used CIFAR AlexNet), whose classifier is its only linear
    layer. With ``batch_norm=True`` a BatchNorm is inserted before every ReLU ("AlexNet-BN"). With
    ``text=True`` ("alexnet_text", a factor of the protocol study) the network is the one the text
    describes: first convolution 5x5 / stride 2 / padding 2 (4,800 weights) and three fully
    connected layers 1024 -> 384 -> 192 -> 10 (the text gives no widths; 384 and 192 are those of
    the classic cuda-convnet CIFAR-10 network, our choice). Names: Layer 1-5, FC 1, FC 2, Layer 6
    (output).

    The network that fits both the text and the tables ("alexnet_text_tables"): the tables' 11x11
    first convolution at the text's stride 2 and padding 2, and the text's three fully connected
    layers, the last one 256 -> 10 as Table 1's 2,560 requires: `first=(11, 2, 2)`,
    `hidden=(256, 256)`. Its six tabled weight sizes equal Table 1's. Convolutions 3-5 see 3x3 maps
    (2x2 in "alexnet"), the flattened features are 256 wide, and both hidden layers keep that width
    (the text gives none; 256 is the only width Table 1 fixes). "alexnet_text_tables_p5" pads the
    first convolution by 5 as "alexnet" does: maps of 16, 8, 4 and 1,024 flattened features.
    """

    def __init__(self, num_classes: int = 10, batch_norm: bool = False, text: bool = False,
                 first: tuple | None = None, hidden: tuple | None = None):
        super().__init__()
        k, s, p = first or ((5, 2, 2) if text else (11, 4, 5))
        hidden = hidden if hidden is not None else ((384, 192) if text else ())
        width = 256 * _pooled_side(32, k, s, p) ** 2  # flattened features
        spec = [(3, 64, k, s, p, True), (64, 192, 5, 1, 2, True), (192, 384, 3, 1, 1, False),
                (384, 256, 3, 1, 1, False), (256, 256, 3, 1, 1, True)]
        layers: list[nn.Module] = []
        for cin, cout, k, s, p, pool in spec:
            layers.append(nn.Conv2d(cin, cout, k, stride=s, padding=p))
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.ReLU(inplace=True))
            if pool:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        fcs: list[nn.Module] = []
        for w in hidden:
            fcs += [nn.Linear(width, w), nn.ReLU(inplace=True)]
            width = w
        self.hidden = nn.Sequential(*fcs) if fcs else nn.Identity()
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.classifier(self.hidden(torch.flatten(self.features(x), 1)))

    def paper_layers(self):
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)]
        fcs = [m for m in self.hidden.modules() if isinstance(m, nn.Linear)]
        return [(f"Layer {i + 1}", m.weight) for i, m in enumerate(convs)] + \
               [(f"FC {i + 1}", m.weight) for i, m in enumerate(fcs)] + \
               [("Layer 6", self.classifier.weight)]


def _pooled_side(side: int, k: int, s: int, p: int) -> int:
    """Side of the last feature map: first convolution (k, s, p), 2x2 pools after convolutions 1, 2
    and 5 (convolutions 2-5 keep the size)."""
    side = (side + 2 * p - k) // s + 1
    for _ in range(3):
        side //= 2
    return side


class BasicBlock(nn.Module):
    """He et al. (2016) CIFAR basic block with the parameter-free shortcut (option A)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = cout - cin
        self.stride = stride

    def shortcut(self, x):
        if self.stride == 1 and self.pad == 0:
            return x
        x = x[:, :, ::self.stride, ::self.stride]  # subsample, then zero-pad the new channels
        return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for CIFAR: widths 16/32/64, three stages of n basic blocks (He et al. 2016)."""

    def __init__(self, n: int, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages, cin = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                blocks.append(BasicBlock(cin, width, stride if i == 0 else 1))
                cin = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for stage in self.stages:
            x = stage(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def paper_layers(self):
        out = [("First Layer", self.conv1.weight)]
        for b, stage in enumerate(self.stages, start=1):
            convs = [c for blk in stage for c in (blk.conv1, blk.conv2)]
            out += [(f"Block {b} Layer {l}", c.weight) for l, c in enumerate(convs, start=1)]
        return out + [("Final Layer", self.fc.weight)]


def build(name: str) -> nn.Module:
    """A network by name (`MODELS`): the paper's four and the AlexNet variants of the protocol
    study; the names of `sgnlib.models_beyond.MODELS` are built there."""
    check_model_name(name)
    if name in models_beyond.MODELS:
        return models_beyond.build(name)
    return {"alexnet": lambda: AlexNet(), "alexnet_bn": lambda: AlexNet(batch_norm=True),
            "alexnet_text": lambda: AlexNet(text=True),
            "alexnet_text_tables": lambda: AlexNet(first=(11, 2, 2), hidden=(256, 256)),
            "alexnet_text_tables_p5": lambda: AlexNet(first=(11, 2, 5), hidden=(256, 256)),
            "resnet20": lambda: CifarResNet(3), "resnet56": lambda: CifarResNet(9)}[name]()


SUPPORTED = (nn.modules.conv._ConvNd, nn.Linear)
SUPPORTED_TEXT = "nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d and nn.Linear weights"


def weight_layers(model: nn.Module, layers=None) -> list[tuple[str, nn.Parameter]]:
    """[(paper layer name, weight parameter)] in forward order, as in Tables 1-4.

    layers: names to select, in the given order. A parameterized module with a weight matrix of an
    unsupported type is warned about (one line) when `layers` is None and raises a ValueError naming
    it when requested by its module name. A model without any supported weight raises a ValueError.
    """
    inner = getattr(model, "_orig_mod", model)  # torch.compile wrapper
    if hasattr(inner, "paper_layers"):
        named = inner.paper_layers()
    else:
        mods = [m for m in inner.modules()
                if isinstance(m, SUPPORTED) and isinstance(m.weight, nn.Parameter)]
        named = [(f"Layer {i + 1}", m.weight) for i, m in enumerate(mods)]
    skipped = unsupported_modules(inner, named)
    kind = type(inner).__name__
    if not named:
        extra = f"; it has {_describe(skipped)}" if skipped else ""
        raise ValueError(f"{kind} has no weight layer to capture: supported are "
                         f"{SUPPORTED_TEXT}{extra}")
    if layers is None:
        if skipped:
            warnings.warn(f"{kind}: skipping the weights of unsupported modules "
                          f"{_describe(skipped)}; only {SUPPORTED_TEXT} are captured", stacklevel=2)
        return named
    wanted, lookup = list(layers), dict(named)
    if not wanted:
        raise ValueError(f"layers is empty; this model has {[n for n, _ in named]}")
    bad = [(n, t) for n, t in skipped if n in wanted]
    if bad:
        raise ValueError(f"unsupported layers {_describe(bad)}: only {SUPPORTED_TEXT} can be "
                         f"captured")
    missing = [l for l in wanted if l not in lookup]
    if missing:
        raise ValueError(f"unknown layers {missing}; this model has {[n for n, _ in named]}")
    return [(l, lookup[l]) for l in wanted]


def unsupported_modules(model: nn.Module, named) -> list[tuple[str, str]]:
    """[(module name, type name)] of modules owning a parameter of 2+ dims that `named` leaves out
    (biases and normalization scales are vectors and do not count)."""
    kept = {id(p) for _, p in named}
    return [(name or "<root>", type(m).__name__) for name, m in model.named_modules()
            if any(p.dim() >= 2 and id(p) not in kept for p in m.parameters(recurse=False))]


def _describe(mods) -> str:
    return ", ".join(f"{n!r} ({t})" for n, t in mods)


def check_model_name(name: str) -> str:
    if name not in MODELS + models_beyond.MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: "
                         f"{', '.join(MODELS + models_beyond.MODELS)}")
    return name


@functools.lru_cache(maxsize=None)
def layer_names(name: str) -> tuple[str, ...]:
    """The weight-layer names of one of the paper's networks, in forward order (Tables 1-4)."""
    return tuple(n for n, _ in weight_layers(build(name)))
