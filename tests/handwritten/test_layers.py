"""handwritten/layers.py: claims beyond the per-sample checks of cases/layers.py."""

import numpy as np

import cases
import handwritten as hw
from cases import check, mutants
from cases.tolerance import GOLDEN_RTOL, rtol


def test_batchnorm_backward_and_backward_alt_agree():
    """The staged graph (C8) and the fused formula (C9) give the same gradients, to rounding."""
    case = cases.get("batchnorm")
    for s in check.samples(case, 0, 20):
        _, cache = hw.batchnorm_forward(*s.arrays.values(), {"mode": "train"})
        staged = hw.batchnorm_backward(s.douts[0], cache)
        fused = hw.batchnorm_backward_alt(s.douts[0], cache)
        verdict = check.compare("batchnorm_backward", case.grad_names, fused, staged, rtol(np.float64))
        assert verdict.ok, f"{s.id}: {verdict.message}"


def test_in_place_relu_bug_is_caught_by_the_hygiene_check_only():
    """`dout[x < 0] = 0; dx = dout` returns right numbers away from 0: only `behaved` rejects it."""
    m = mutants.find("relu:in place: dout[x < 0] = 0 writes into dout")
    result = check.check_case(cases.get("relu"), mutants.mutate(m), 0, 20)
    assert all(not s.behaved.ok and "wrote into dout[0]" in s.behaved.message for s in result.samples)
    assert all(s.forward.ok and s.jax.ok and s.fd.ok for s in result.samples)


def test_max_pool_ties_go_to_the_first_max_in_handwritten_and_jax():
    """At a tie both the handwritten switch (np.argmax) and lax.reduce_window's gradient route
    each window's gradient to its first maximum in row-major order."""
    case = cases.get("max_pool_ties")
    (tie,) = [g for g in case.goldens if g.at_kink]
    assert check.check_golden(case, cases.handwritten(), tie, GOLDEN_RTOL).ok
    assert check.reference_golden(case, tie, GOLDEN_RTOL).ok


def test_batchnorm_of_one_example_gives_dx_zero():
    """N = 1: xhat = 0 and the output is beta whatever x is, so dx = 0 exactly, in both backwards."""
    rng = np.random.default_rng(0)
    x, gamma, beta, dout = (rng.standard_normal((1, 4)) for _ in range(4))
    _, cache = hw.batchnorm_forward(x, gamma[0], beta[0], {"mode": "train"})
    for backward in (hw.batchnorm_backward, hw.batchnorm_backward_alt):
        dx, _, _ = backward(dout, cache)
        assert np.all(dx == 0.0), f"{backward.__name__}: dx = {dx}"
