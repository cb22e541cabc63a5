"""empty_hugepages: a plain, usable tensor whatever the kernel decides about huge pages."""

import pytest
import torch

from swavlab.hugepages import empty_hugepages


@pytest.mark.parametrize("shape", [(3, 5), (4096, 3000), (0, 7)])
def test_returns_a_writable_tensor_of_the_requested_shape(shape: tuple[int, ...]) -> None:
    tensor = empty_hugepages(shape, torch.float32, torch.device("cpu"))
    assert tensor.shape == shape and tensor.dtype == torch.float32 and tensor.is_contiguous()
    tensor.fill_(2.0)
    assert tensor.sum().item() == 2.0 * tensor.numel()


def test_other_dtypes_keep_their_element_size() -> None:
    tensor = empty_hugepages((1024, 1024), torch.float64, torch.device("cpu"))
    tensor.copy_(torch.arange(1024 * 1024, dtype=torch.float64).view(1024, 1024))
    assert tensor[-1, -1].item() == 1024 * 1024 - 1
