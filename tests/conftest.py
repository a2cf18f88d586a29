import pytest
import torch


@pytest.fixture(autouse=True)
def _few_threads():
    # Tiny tensors: more threads only add contention on the shared 2-core machine.
    torch.set_num_threads(1)
    yield
