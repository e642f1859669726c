"""The kernels a gradient capture runs on: plain sums of products, so exact zeros stay exact.

A point mass (a constant weight dimension, `sgnlib.stats.shapiro`) is mostly an exact zero: a dead
unit, or a kernel tap that never meets an active input (on AlexNet's 2x2 maps, with padding 1, a
corner tap pairs one output position with one input position). A convolution computed as sums of
products keeps such a zero exactly zero, whatever the rounding (TF32 included) and batch size:
PyTorch's CPU convolution (oneDNN direct) and its CUDA fallback without cuDNN (im2col + GEMM) do.
cuDNN picks its algorithm per tensor shape, so per batch size, among them FFT and Winograd
transforms, which mix positions and leave a rounding residue (about 1e-5 on the AlexNet Layer-4
shape) where the exact value is 0; such a column is no longer constant and stops counting as a point
mass. `exact_kernels` therefore turns cuDNN off and float32 matmuls to IEEE float32 while a
minibatch gradient is computed, and restores both flags afterwards. Both flags act on CUDA only:
CPU numbers do not change.
"""
from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def exact_kernels():
    """cuDNN off and IEEE float32 CUDA matmuls inside the block, the previous flags after it."""
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    old = (cudnn.enabled, matmul.fp32_precision)
    cudnn.enabled, matmul.fp32_precision = False, "ieee"
    try:
        yield
    finally:
        cudnn.enabled, matmul.fp32_precision = old
