"""handwritten/linear_classifiers.py: claims beyond the per-sample checks of
cases/linear_classifiers.py."""

import numpy as np
import pytest

import cases
import handwritten as hw
from cases import check
from cases.tolerance import rtol


@pytest.mark.parametrize("loss", ["svm_loss", "softmax_loss"])
def test_naive_and_vectorized_losses_agree(loss):
    """The loops and the vectorized version give the same loss and dW, to rounding."""
    case = cases.get(f"{loss}_naive")
    naive, vectorized = getattr(hw, f"{loss}_naive"), getattr(hw, f"{loss}_vectorized")
    for s in check.samples(case, 0, 20):
        args = (*s.arrays.values(), case.args[-1].value)
        got, expected = (tuple(map(np.asarray, fn(*args))) for fn in (vectorized, naive))
        verdict = check.compare(f"{loss}_naive", ("loss", "dW"), got, expected, rtol(np.float64))
        assert verdict.ok, f"{s.id}: {verdict.message}"
