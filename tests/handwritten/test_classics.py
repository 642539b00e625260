"""handwritten/classics.py: claims the per-sample checks of cases/classics.py do not state: the
two makemore BatchNorm backwards agree, so do the two makemore cross-entropy backwards, whose
max-subtraction path carries no gradient, ops on logits survive magnitude 1000 (micrograd's tanh
neurons too), the softmax backward never builds its Jacobian, XOR's solution is a stationary
point of the MSE."""

import time
import tracemalloc
import warnings

import jax
import numpy as np
import pytest

import cases
import handwritten as hw
from cases import calls, check, mutants, oracles
from cases.spec import Mutant
from cases.tolerance import rtol

jax.config.update("jax_enable_x64", True)


def test_makemore_backwards_agree():
    """The atom-by-atom and the fused BatchNorm backward give the same gradients (rtol 1e-12)."""
    for s in check.samples(cases.get("makemore_batchnorm"), 0, 50):
        _, cache = hw.makemore_batchnorm_forward(*s.arrays.values())
        steps = hw.makemore_batchnorm_backward(s.douts[0], cache)
        fused = hw.makemore_batchnorm_backward_fused(s.douts[0], cache)
        for a, b in zip(steps, fused):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * np.abs(a).max())



def _cross_entropy_samples(n=50):
    """The case's samples, every other one with row 0's max tied (its argmax could be either)."""
    for s in check.samples(cases.get("makemore_cross_entropy"), 0, n):
        logits, Yb = (np.array(v) for v in s.arrays.values())
        if s.index % 2:
            logits[0, 1] = logits[0, 3] = logits[0].max()
        yield logits, Yb, s.douts[0]


def test_makemore_cross_entropy_max_path_cancels():
    """Dropping the max-subtraction path (1) changes dlogits by rounding only (1e-15 of its
    largest entry), ties in the max included: its net gradient is zero, not a bug to leave out."""
    no_max = mutants.mutate(Mutant(
        "makemore_cross_entropy", "makemore_cross_entropy_backward",
        "dlogits += onehot_max * dlogit_maxes", "dlogits += 0.0", "without the max path",
        kind="dropped path"))
    backward = no_max.namespace["makemore_cross_entropy_backward"]
    for logits, Yb, dout in _cross_entropy_samples():
        _, cache = hw.makemore_cross_entropy_forward(logits, Yb)
        full = hw.makemore_cross_entropy_backward(dout, cache)
        np.testing.assert_allclose(backward(dout, cache), full, rtol=0,
                                   atol=1e-15 * np.abs(full).max())


def test_makemore_cross_entropy_backwards_agree():
    """The atom-by-atom and the fused (softmax - onehot) / n backward agree (rtol 1e-12)."""
    for logits, Yb, dout in _cross_entropy_samples():
        _, cache = hw.makemore_cross_entropy_forward(logits, Yb)
        steps = hw.makemore_cross_entropy_backward(dout, cache)
        fused = hw.makemore_cross_entropy_backward_fused(dout, cache)
        np.testing.assert_allclose(fused, steps, rtol=1e-12, atol=1e-12 * np.abs(steps).max())


# The inputs that set the logits or pre-activations of each op: drawn from U(-1000, 1000).
LOGITS = {"softmax_jvp": ("x",), "logsumexp": ("x",), "sigmoid_bce": ("z",),
          "logistic_regression": ("w",), "mlp_cross_entropy": ("W2",),
          "tanh_neuron": ("b",), "tanh_neuron_exp": ("b",), "sigmoid_layer": ("W",)}


def _extreme_samples(case, n=20):
    for s in check.samples(case, 0, n):
        rng = np.random.default_rng(s.index)
        arrays = {k: rng.uniform(-1000, 1000, np.shape(v)) if k in LOGITS[case.name] else v
                  for k, v in s.arrays.items()}
        yield check.Sample(case, s.index, arrays, s.douts, None)


def _in_process(implementation, case):
    """The case's functions, to call in this process (under NumPy's strictest error settings, or
    timing and tracing its allocations): gradref's own code only. Another implementation is
    untrusted and runs in its worker (the per-sample checks); these tests skip it."""
    if not implementation.own:
        pytest.skip("calls the implementation in the test process: gradref's own code only")
    fns, why = implementation.lookup(case)
    if fns is None:
        pytest.skip(f"not implemented: {why}")
    return fns


def _run_strict(case, fns, s):
    """Run the op with every NumPy floating-point error and every warning raised (underflow to 0
    or a subnormal is the correct double here, not an error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            plan = check.call_plan(case)
            return calls.run_block(fns, plan, "float64", [s.arrays[k][None] for k in plan.inputs],
                                   [d[None] for d in s.douts]).sample(0)


@pytest.mark.parametrize("name", LOGITS)
def test_logits_of_magnitude_1000_raise_no_warning_and_give_no_nan(name, implementation):
    """No overflow, no invalid operation, no warning, every output and gradient finite."""
    case = cases.get(name)
    fns = _in_process(implementation, case)
    for s in _extreme_samples(case):
        outs, grads, problems = _run_strict(case, fns, s)
        assert not problems, f"{s.id} at magnitude 1000: {'; '.join(problems)}"


@pytest.mark.parametrize("name", LOGITS)
def test_logits_of_magnitude_1000_match_jax(name, implementation):
    """Where the float64 JAX reference is finite, outputs and gradients match it. Saturated
    gradients are differences of nearly equal terms (softmax: p_i (g_i - <g, p>) with p one-hot),
    so errors are measured against the larger of the values and the terms' scale max |dout|."""
    case = cases.get(name)
    fns = _in_process(implementation, case)
    compared = 0
    for s in _extreme_samples(case):
        outs, grads, problems = _run_strict(case, fns, s)
        assert outs is not None and grads is not None, f"{s.id}: {'; '.join(problems)}"
        ov = oracles.evaluate(case, [s.arrays], [s.douts], [None])
        for got, ref, floor in ((outs, [o[0] for o in ov.outputs], 0.0),
                                (grads, [g[0] for g in ov.grads],
                                 max(float(np.abs(d).max()) for d in s.douts))):
            if not all(np.all(np.isfinite(r)) for r in ref):
                continue
            scale = max(max(float(np.abs(r).max()) for r in ref), floor) or 1.0
            err = max(float(np.abs(g - r).max()) for g, r in zip(got, ref)) / scale
            assert err <= rtol(np.float64), f"{s.id} at magnitude 1000: error {err:.2e}"
            compared += 1
    assert compared, "the JAX reference was never finite: nothing compared"


def test_softmax_jvp_never_builds_the_jacobian(implementation):
    """At K = 10^5 the backward runs in well under a second and allocates a few copies of x;
    the K x K Jacobian would be 80 GB."""
    case = cases.get("softmax_jvp")
    fns = _in_process(implementation, case)
    rng = np.random.default_rng(0)
    x, g = 3.0 * rng.standard_normal((1, 10**5)), rng.standard_normal((1, 10**5))
    p, cache = fns[0](x)
    tracemalloc.start()
    t0 = time.perf_counter()
    dx = fns[1](g, cache)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 1.0, f"backward took {seconds:.2f} s at K = 10^5"
    assert peak < 10 * x.nbytes, f"backward allocated {peak / x.nbytes:.1f} times the size of x"
    expected = jax.vjp(lambda z: jax.nn.softmax(z, axis=-1), x)[1](g)[0]
    np.testing.assert_allclose(dx, expected, rtol=0, atol=rtol(np.float64) * np.abs(g).max())


def test_xor_solution_is_a_stationary_point_of_the_mse():
    """At the book's parameters the net fits XOR exactly, so the MSE gradient (dout = f - y) is 0."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    W, c, w, b = np.ones((2, 2)), np.array([0.0, -1.0]), np.array([1.0, -2.0]), 0.0
    f, cache = hw.xor_net_forward(X, W, c, w, b)
    for grad in hw.xor_net_backward(f - np.array([0.0, 1.0, 1.0, 0.0]), cache):
        assert np.all(np.asarray(grad) == 0)
