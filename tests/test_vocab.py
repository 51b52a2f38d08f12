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
