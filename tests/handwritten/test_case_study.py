"""handwritten/case_study.py: claims beyond the per-sample checks of cases/case_study.py."""

import numpy as np

import cases


def test_naive_softmax_gives_nan_where_the_stable_one_does_not():
    """B9: at f = [123, 456, 789] e^f overflows to inf and inf / inf = nan; shifting by max f
    first gives the notes' finite probabilities."""
    (golden,) = cases.get("stable_softmax_b9").goldens
    f = np.asarray(golden.inputs["f"])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(f) / np.sum(np.exp(f))
    stable, _ = cases.handwritten().namespace["stable_softmax_forward"](f)
    assert np.isnan(naive).any() and np.all(np.isfinite(stable))
