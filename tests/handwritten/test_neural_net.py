"""handwritten/neural_net.py: claims beyond the per-sample checks of cases/neural_net.py."""

import numpy as np

import cases
import handwritten as hw
from cases import check


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
