"""host_syncs counts exactly the host-reading ops a loop performs (reference: the ops written out)."""
import pytest
import torch

from sgnlib.profiling import host_syncs


def test_counts_item_bool_nonzero_and_nothing_else():
    x = torch.randn(50)
    with host_syncs() as c:
        y = (x * 2 + 1).exp().sum(0)  # device-only work: no syncs
        z = x[torch.arange(5)]
    assert sum(c.values()) == 0
    with host_syncs() as c:
        y.item()
        bool((x > 0).any())
        float(z[0])
        torch.nonzero(x > 0)
        x[x > 0]
    assert c["aten._local_scalar_dense.default"] == 3
    assert c["aten.nonzero.default"] == 1 and c["boolean-mask indexing"] == 1 and sum(c.values()) == 5


def test_counts_copies_off_the_device():
    # a meta tensor stands in for a GPU tensor: the copy is recorded before it (fails to) run
    with host_syncs() as c:
        with pytest.raises(NotImplementedError):
            torch.empty(3, device="meta").to("cpu")
        torch.empty(3).to("cpu", dtype=torch.float64)  # host to host: not a sync
    assert dict(c) == {"device-to-host copy": 1}
