"""Networks the paper never saw, for the chapter "Beyond the paper": a torchvision ResNet-18 and a
small vision transformer on CIFAR-10, and a small decoder-only transformer language model on the
characters of a real text (`sgnlib.text_data`).

`build(name)` makes one (`MODELS`); `sgnlib.models.build` hands these names over to it. Each network
lists the weights the analysis reports (`paper_layers`, forward order, readable names), as the
paper's networks do (`sgnlib.models.weight_layers`):

- convolution and linear weights: one layer each, as in the paper;
- attention: each block's query/key/value projection is one Linear(D, 3D) weight, reported as one
  layer ("Attn QKV", the heads together), and its output projection another ("Attn Out");
- embeddings: the ViT's patch embedding (a 4x4, stride-4 convolution) and its learned position
  embedding; the language model's token embedding and learned position embedding; one layer each.
  A token embedding row has a gradient only from the minibatch's occurrences of that token: a
  character absent from a minibatch gives an exact zero, so rare characters make point masses by
  construction (counted in % degenerate, as the paper's rule counts them Gaussian);
- layer-norm gains and biases, BatchNorm scales and shifts, and every bias: not captured. They are
  vectors, not weight matrices, and the paper's tables list no BatchNorm parameter either; they are
  trained as usual.

ResNet-18 is torchvision's, adapted to 32x32 images: a 3x3, stride-1 stem and no max-pool. The
ImageNet stem (7x7, stride 2, then a stride-2 max-pool) shrinks a 32x32 image to 8x8 before the
first block and to 1x1 in the last stage; the CIFAR adaptation keeps 32x32 into the first stage,
as He et al.'s CIFAR ResNets (`sgnlib.models.CifarResNet`) do. The transformers are written out in
plain torch (pre-LayerNorm blocks, GELU MLP, no dropout), weights drawn from a normal law of
standard deviation 0.02 (truncated at 2 sd), biases zero, as in GPT-2 and ViT.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .text_data import CONTEXT, TEXT_MODELS, VOCAB  # noqa: F401  (TEXT_MODELS re-exported)

MODELS = ("resnet18", "vit", "charlm")
MODEL_VERSION = {m: 1 for m in MODELS}
VIT = {"patch": 4, "dim": 128, "depth": 6, "heads": 4, "mlp": 512}
LM = {"dim": 128, "depth": 4, "heads": 4, "mlp": 512}
# training examples per second (images; text windows of 128 characters for charlm), forward and
# backward, for `sgnlib.engine.estimate_seconds`: CPU = 128 / (the measured one-thread CPU seconds
# per step of presets/beyond.yaml / 1.6) on 2 cores; CUDA rough guesses, not measured
THROUGHPUT = {"cpu": {"resnet18": 42, "vit": 214, "charlm": 112},
              "cuda": {"resnet18": 5000, "vit": 15000, "charlm": 10000}}


class ResNet18(nn.Module):
    """torchvision's ResNet-18 for 32x32 images (module docstring): its modules under their
    torchvision names (conv1, bn1, layer1-4, fc), the stem replaced, the max-pool left out."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        from torchvision.models import resnet18  # imported here: torchvision takes ~1.5 s
        tv = resnet18(num_classes=num_classes)
        tv.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        nn.init.kaiming_normal_(tv.conv1.weight, mode="fan_out", nonlinearity="relu")
        for name in ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"):
            self.add_module(name, getattr(tv, name))

    def stages(self):
        return (self.layer1, self.layer2, self.layer3, self.layer4)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for stage in self.stages():
            x = stage(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def paper_layers(self):
        """Stem, then per stage and block its two 3x3 convolutions and the 1x1 shortcut
        convolution where the block has one (stages 2-4), then FC."""
        out = [("Stem", self.conv1.weight)]
        for s, stage in enumerate(self.stages(), start=1):
            for b, block in enumerate(stage, start=1):
                out += [(f"Stage {s} Block {b} Conv 1", block.conv1.weight),
                        (f"Stage {s} Block {b} Conv 2", block.conv2.weight)]
                if block.downsample is not None:
                    out.append((f"Stage {s} Shortcut", block.downsample[0].weight))
        return out + [("FC", self.fc.weight)]


class Attention(nn.Module):
    """Multi-head self-attention: one Linear for queries, keys and values, one for the output;
    `causal`: each position sees itself and the positions before it."""

    def __init__(self, dim: int, heads: int, causal: bool):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)   # [b, heads, t, t]
        if self.causal:
            future = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        y = scores.softmax(-1) @ v                                      # [b, heads, t, d/heads]
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dim: int, heads: int, mlp: int, causal: bool):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, causal)
        self.fc1, self.fc2 = nn.Linear(dim, mlp), nn.Linear(mlp, dim)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))

    def named_weights(self, prefix: str):
        return [(f"{prefix} Attn QKV", self.attn.qkv.weight),
                (f"{prefix} Attn Out", self.attn.out.weight),
                (f"{prefix} MLP 1", self.fc1.weight), (f"{prefix} MLP 2", self.fc2.weight)]


def _init_transformer(model: nn.Module) -> None:
    """Weights ~ N(0, 0.02^2) truncated at 2 sd, biases 0, LayerNorm gains 1 (GPT-2 / ViT)."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.Embedding)):
            nn.init.trunc_normal_(m.weight, std=0.02, a=-0.04, b=0.04)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
    nn.init.trunc_normal_(model.pos, std=0.02, a=-0.04, b=0.04)


class ViT(nn.Module):
    """Vision transformer for 32x32 images: 4x4 patches (64 tokens), learned position embedding,
    `depth` pre-LN blocks, final LayerNorm, mean over the tokens (no class token), linear head."""

    def __init__(self, num_classes: int = 10, patch: int = 4, dim: int = 128, depth: int = 6,
                 heads: int = 4, mlp: int = 512):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.pos = nn.Parameter(torch.zeros(1, (32 // patch) ** 2, dim))
        self.blocks = nn.ModuleList(Block(dim, heads, mlp, causal=False) for _ in range(depth))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        _init_transformer(self)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2) + self.pos          # [b, tokens, dim]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x).mean(1))

    def paper_layers(self):
        out = [("Patch embedding", self.patch.weight), ("Position embedding", self.pos)]
        for i, block in enumerate(self.blocks, start=1):
            out += block.named_weights(f"Block {i}")
        return out + [("Head", self.head.weight)]


class CharLM(nn.Module):
    """Decoder-only transformer on characters: token and learned position embeddings, `depth`
    causal pre-LN blocks, final LayerNorm, linear head (not tied to the token embedding, so each is
    its own layer). Input [B, T] token ids; output logits [B, vocab, T], the class dimension second
    as `F.cross_entropy` takes it for sequences: `F.cross_entropy(model(x), y)` with targets y
    [B, T] is the mean next-character loss, and each sequence is one example."""

    def __init__(self, vocab: int = len(VOCAB), context: int = CONTEXT, dim: int = 128,
                 depth: int = 4, heads: int = 4, mlp: int = 512):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.zeros(1, context, dim))
        self.blocks = nn.ModuleList(Block(dim, heads, mlp, causal=True) for _ in range(depth))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)
        _init_transformer(self)

    def forward(self, idx):
        x = self.tok(idx) + self.pos[:, :idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x)).transpose(1, 2)

    def paper_layers(self):
        out = [("Token embedding", self.tok.weight), ("Position embedding", self.pos)]
        for i, block in enumerate(self.blocks, start=1):
            out += block.named_weights(f"Block {i}")
        return out + [("Head", self.head.weight)]


def build(name: str) -> nn.Module:
    """One of `MODELS`, with the sizes of `VIT` and `LM`."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODELS)}")
    return {"resnet18": lambda: ResNet18(), "vit": lambda: ViT(**VIT),
            "charlm": lambda: CharLM(**LM)}[name]()
