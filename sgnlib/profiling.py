"""Count host-device synchronisations: the operations that make the CPU wait for the GPU.

A GPU loop runs at full speed only while the CPU queues work ahead of the device; every `.item()`,
`bool(tensor)`, `nonzero`, boolean-mask indexing or copy to the host drains that queue. `host_syncs`
records those operations through a TorchDispatchMode, so the count is the same on the CPU (where
nothing actually waits) and on the GPU: a CPU test can guarantee a GPU loop never stalls.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# ops that read device data back to the host (or need its size) before they can return
SYNC_OPS = {
    "aten._local_scalar_dense.default",
    "aten.nonzero.default",
    "aten.masked_select.default",
    "aten.unique_consecutive.default",
    "aten._unique2.default",
    "aten.repeat_interleave.Tensor",
}


class _Recorder(TorchDispatchMode):
    def __init__(self, counts: Counter):
        super().__init__()
        self.counts = counts

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func)
        if name in SYNC_OPS:
            self.counts[name] += 1
        elif name in (
            "aten.index.Tensor",
            "aten.index_put.default",
            "aten.index_put_.default",
        ) and any(
            isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in args[1] if i is not None
        ):
            self.counts[
                "boolean-mask indexing"
            ] += 1  # its size depends on the data: nonzero inside
        elif name == "aten._to_copy.default" and kwargs and kwargs.get("device") is not None:
            src = args[0]
            if (
                isinstance(src, torch.Tensor)
                and src.device.type != "cpu"
                and torch.device(kwargs["device"]).type == "cpu"
            ):
                self.counts["device-to-host copy"] += 1
        return func(*args, **(kwargs or {}))


@contextmanager
def host_syncs():
    """Context manager yielding a Counter {op name: calls} of host-syncing operations inside it."""
    counts: Counter = Counter()
    with _Recorder(counts):
        yield counts
