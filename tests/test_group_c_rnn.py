"""Group C classifiers and recurrent layers: claims beyond the per-sample checks of
cases/group_c_rnn.py."""

import numpy as np
import pytest

import cases
import handwritten as hw
from cases import check, mutants
from cases.tolerance import rtol


def test_fancy_index_embedding_bug_is_caught_with_a_large_error():
    """`dW[x] += dout` keeps one gradient per repeated word: every sample repeats a word, and the
    error is of order 1 (0.57 to 1.34 here; the catalogue measured 0.65), not rounding."""
    m = mutants.find("word_embedding:fancy-index += keeps one of the repeated indices")
    result = check.check_case(cases.get("word_embedding"), mutants.mutate(m), 0, 20)
    assert all(not s.jax.ok and s.jax.error > 0.1 for s in result.samples)


def test_two_layer_net_class_returns_the_function_numbers():
    """TwoLayerNet.loss(X, y, reg) gives two_layer_net_loss's loss and gradients, bit for bit."""
    case = cases.get("two_layer_net_loss")
    reg = case.args[-1].value
    for s in check.samples(case, 0, 20):
        a = s.arrays
        net = hw.TwoLayerNet(*a["W1"].shape, a["W2"].shape[1])
        net.params.update(W1=a["W1"], b1=a["b1"], W2=a["W2"], b2=a["b2"])
        loss, grads = net.loss(a["X"], a["y"], reg)
        expected_loss, expected = hw.two_layer_net_loss(*a.values(), reg)
        assert loss == expected_loss, s.id
        for name, g in zip(("W1", "b1", "W2", "b2"), expected):
            assert np.array_equal(grads[name], g), f"{s.id}: d{name}"


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
