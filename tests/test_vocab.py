"""masked_fill's mask must broadcast to the input's shape, as in torch, and the error names it."""
import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("mask_shape", [(2, 4), (3, 3, 4)])
def test_masked_fill_mask_must_broadcast_to_the_input(mask_shape):
    with pytest.raises(ValueError) as info:
        mg.zeros((3, 4)).masked_fill(mg.tensor(np.ones(mask_shape, bool)), 0.0)
    assert "masked_fill" in str(info.value) and str(mask_shape) in str(info.value)
    assert "(3, 4)" in str(info.value)


def test_tensor_api_helpers():
    x = mg.randn(2, 3)
    assert x.dim() == 2 and x.numel() == 6 == mg.numel(x) and x.contiguous() is x
    assert x.type_as(mg.zeros(1, dtype=mg.float64)).dtype == np.float64
    assert x.to(mg.float64).dtype == np.float64 and x.to("cpu") is x and x.to("cpu:0") is x
    assert x.to(device="cpu", dtype=mg.float64).dtype == np.float64 and x.to(device=None) is x
    for args, kwargs in ((("cuda",), {}), (("foo", mg.float64), {}), ((), {"device": "mps:0"})):
        with pytest.raises(ValueError, match="to: minigrad runs on the CPU only, got device "
                                             f"'{(args or [kwargs.get('device')])[0]}'"):
            x.to(*args, **kwargs)
    z = x.new_zeros((2, 4))
    assert z.shape == (2, 4) and z.dtype == x.dtype and not z.numpy().any()
    np.testing.assert_allclose(mg.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert mg.linspace(0, 1, 3).dtype == np.float32
