"""The handwritten reference reproduces the source notebook and the notes' figures, number by number.

These are claims about handwritten/ itself (it does the notebook's operations in the notebook's
order), so they hold bit for bit; tests/test_golden.py holds every implementation to 1e-15.
"""

import jax
import numpy as np

import handwritten as hw
from cases.tolerance import GOLDEN_RTOL

f64 = np.float64


def test_chain_rule_prints_the_notebook():
    f, cache = hw.chain_rule_forward(f64(-2), f64(5), f64(-4))
    dx, dy, dz = hw.chain_rule_backward(f64(1.0), cache)
    assert (cache[0], f) == (3.0, -12.0)                        # q becomes 3, f becomes -12
    assert (dx, dy, dz) == (-4.0, -4.0, 3.0)                     # dfdx =  -4.0, dfdy =  -4.0


def test_sigmoid_neuron_prints_the_notebook():
    f, cache = hw.sigmoid_neuron_forward(np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0]))
    dw, dx = hw.sigmoid_neuron_backward(f64(1.0), cache)
    assert f == 0.7310585786300049
    assert dx.tolist() == [0.3932238664829637, -0.5898357997244456]
    assert dw.tolist() == [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185]


def test_sigmoid_neuron_gate_by_gate_equals_the_fused_sigmoid():
    """The figure's circuit, one gate at a time (A5), gives the figure's numbers and the same
    gradients as the fused (1 - sigma) sigma of A6."""
    w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])
    m0, c0 = hw.multiply_forward(w[0], x[0])                     # -2
    m1, c1 = hw.multiply_forward(w[1], x[1])                     # 6
    s0, c2 = hw.add_forward(m0, m1)                              # 4
    dot, c3 = hw.add_forward(s0, w[2])                           # 1
    neg, c4 = hw.scale_forward(dot, -1.0)                        # -1
    e, c5 = hw.exp_forward(neg)                                  # 0.37
    den, c6 = hw.add_const_forward(e, 1.0)                       # 1.37
    f, c7 = hw.reciprocal_forward(den)                           # 0.73
    values = [m0, m1, s0, dot, neg, e, den, f]
    assert np.round(values, 2).tolist() == [-2, 6, 4, 1, -1, 0.37, 1.37, 0.73]

    dden = hw.reciprocal_backward(1.0, c7)                       # -0.53
    de = hw.add_const_backward(dden, c6)                         # -0.53
    dneg = hw.exp_backward(de, c5)                               # -0.20
    ddot = hw.scale_backward(dneg, c4)                           # 0.20
    ds0, dw2 = hw.add_backward(ddot, c3)
    dm0, dm1 = hw.add_backward(ds0, c2)
    dw0, dx0 = hw.multiply_backward(dm0, c0)
    dw1, dx1 = hw.multiply_backward(dm1, c1)
    assert np.round([dden, de, dneg, ddot], 2).tolist() == [-0.53, -0.53, -0.20, 0.20]

    _, cache = hw.sigmoid_neuron_forward(w, x)
    dw, dx = hw.sigmoid_neuron_backward(1.0, cache)
    np.testing.assert_allclose([dw0, dw1, dw2, dx0, dx1], np.concatenate([dw, dx]), rtol=1e-15)


def test_staged_forward_stages_match_the_catalogue():
    f, (sigy, num, sigx, xpy, den, invden) = hw.staged_forward(f64(3), f64(-4))
    got = [sigy, num, sigx, xpy, den, invden, f]
    expected = [0.017986209962091559, 3.0179862099620918, 0.95257412682243336, -1.0,
                1.9525741268224333, 0.51214444883963162, 1.5456448841066441]
    np.testing.assert_allclose(got, expected, rtol=GOLDEN_RTOL, atol=0)


def test_staged_gradients_add_at_the_forks():
    """dx is the sum of what flows back along x's three paths (via xpy, sigx, num), dy of two:
    differentiate f with each use of x (and y) as its own variable, then add."""
    def split(x_xpy, x_sigx, x_num, y_xpy, y_sigy):
        return (x_num + jax.nn.sigmoid(y_sigy)) / (jax.nn.sigmoid(x_sigx) + (x_xpy + y_xpy) ** 2)

    paths = jax.grad(split, argnums=(0, 1, 2, 3, 4))(3.0, 3.0, 3.0, -4.0, -4.0)
    np.testing.assert_allclose(
        paths, [1.583186894545187, -0.035761547812653588, 0.51214444883963162,
                1.583186894545187, 0.0090458569386223167], rtol=GOLDEN_RTOL)
    _, cache = hw.staged_forward(f64(3), f64(-4))
    dx, dy = hw.staged_backward(f64(1.0), cache)
    np.testing.assert_allclose([dx, dy], [paths[0] + paths[1] + paths[2], paths[3] + paths[4]],
                               rtol=GOLDEN_RTOL)
    assert (dx, dy) == (2.0595697955721652, 1.5922327514838093)


def test_matmul_dimension_analysis():
    """dW has W's shape and dX has X's: the only way to combine dD with X and W."""
    rng = np.random.default_rng(0)
    W, X = rng.standard_normal((5, 10)), rng.standard_normal((10, 3))
    D, cache = hw.matmul_forward(W, X)
    dW, dX = hw.matmul_backward(rng.standard_normal(D.shape), cache)
    assert (D.shape, dW.shape, dX.shape) == ((5, 3), W.shape, X.shape)
