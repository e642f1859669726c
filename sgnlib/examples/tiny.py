"""A tiny convolutional network on synthetic images, to try `sgn-probe` in seconds on a CPU.

    sgn-probe sgnlib.examples.tiny:make --batch-sizes 8 32 128 --out tiny-report

`make()` returns what `sgn-probe MODULE:FUNCTION` expects: (model, loss function, images, labels).
The 2,048 images are 3x16x16 Gaussian noise, labelled by a fixed random teacher network (so the
labels depend on the images); the student is a two-convolution ReLU network at its seeded
initialization. Everything is float64, so the report's numbers are the same on any CPU (float32
rounding differs between CPUs' kernels and can move a p-value across the significance level).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

N_IMAGES, N_CLASSES, SIDE = 2048, 4, 16


class TinyNet(nn.Module):
    """The network whose gradient noise is probed: conv 3->8, conv 8->8 (3x3), linear 8->4."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, N_CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x)).mean((2, 3))
        return self.fc(x)


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(images [N, 3, 16, 16] float64, labels [N] int64): noise labelled by a random teacher."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(N_IMAGES, 3, SIDE, SIDE, generator=g, dtype=torch.float64)
    teacher = torch.randn(3 * SIDE * SIDE, N_CLASSES, generator=g, dtype=torch.float64)
    labels = (images.flatten(1) @ teacher).argmax(1)
    return images, labels


def make(seed: int = 0):
    """(model, loss function, images, labels) for `sgn-probe sgnlib.examples.tiny:make`."""
    torch.manual_seed(seed)
    model = TinyNet().double()
    images, labels = data(seed)
    return model, F.cross_entropy, images, labels
