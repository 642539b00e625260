"""The finite-difference oracle itself, on functions whose derivatives are known in closed form:
its estimated error covers its true error (it does not cry wolf), and is small enough that a
gradient off by one part in 10^6 is rejected (it cannot be fooled), also on badly scaled inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import bench, check, oracles
from cases.closed_forms import KNOWN, closed_form, exact_fd_target
from cases.impl import Implementation
from cases.spec import Arg, Case
from cases.tolerance import FD_SAFETY


@pytest.mark.parametrize("name, f, df, domain", KNOWN, ids=[k[0] for k in KNOWN])
def test_estimated_error_covers_the_true_error(name, f, df, domain):
    case, _ = closed_form(name, f, df, domain)
    ss, ov = check.block(case, 0, 0, 64, "float64")
    exact = exact_fd_target(df, ss, ov.fd_steps)        # <grad, h e_i>: the FD estimates this
    estimated = FD_SAFETY * ov.fd_truncation + ov.fd_rounding
    true_error = np.abs(ov.fd_estimate - exact)
    assert np.all(true_error <= estimated), f"worst ratio {np.max(true_error / estimated):.2f}"
    assert np.all(estimated <= 1e-7 * np.abs(exact).max(axis=1, keepdims=True)), \
        "the estimate is too loose to have power"


@pytest.mark.parametrize("name, f, df, domain", KNOWN, ids=[k[0] for k in KNOWN])
def test_exact_gradient_passes_and_one_part_in_1e6_fails(name, f, df, domain):
    case, exact = closed_form(name, f, df, domain)
    assert all(s.fd.ok for s in check.check_case(case, exact, 0, 64).samples)
    _, off = closed_form(name, f, df, domain, relative_error=1e-6)
    assert not any(s.fd.ok for s in check.check_case(case, off, 0, 64).samples)


def test_directional_check_at_scale():
    """Above FD_FULL_MAX_ELEMENTS the check projects on random +-h directions: it still passes
    the exact gradient and rejects one wrong by 1e-6, at a handful of forward evaluations."""
    name, f, df, domain = KNOWN[-1]
    case, exact = closed_form("bump_at_scale", f, df, domain, size=20_000)
    assert case.fd_mode == "directional"
    assert all(s.fd.ok for s in check.check_case(case, exact, 0, 20).samples)
    _, off = closed_form("bump_at_scale", f, df, domain, size=20_000, relative_error=1e-6)
    assert not any(s.fd.ok for s in check.check_case(case, off, 0, 20).samples)


def test_a_wrong_entry_in_a_large_gradient_is_seen_by_the_directional_check():
    name, f, df, domain = KNOWN[-1]
    case, _ = closed_form("bump_one_entry", f, df, domain, size=20_000)

    def backward(dout, x):
        g = dout * df(x)
        g[1234] += 1.0                                   # one entry of 20,000 off by 1
        return g
    impl = Implementation("one entry off", {"fn_forward": lambda x: (np.asarray(f(x)), x),
                                            "fn_backward": backward})
    result = check.check_case(case, impl, 0, 20)
    assert not any(s.fd.ok for s in result.samples)
    assert "along 3 random directions (20000 elements)" in result.samples[0].fd.message
    assert "dx vs jax.vjp: 1 of 20000 entries off; worst at [1234]" in result.samples[0].jax.message


def test_directional_cost_is_a_fixed_number_of_forward_evaluations():
    """Per sample: 3 step sizes x 2 signs x FD_DIRECTIONS directions, plus the base point, at any
    size. The reference runs as a callback that vmap calls once per point, so every forward
    evaluation the FD oracle makes is counted (not just the places it is traced)."""
    name, f, df, domain = KNOWN[-1]
    calls = []

    def counting(x):
        calls.append(1)
        return np.asarray(f(x))
    for size in (2_000, 20_000):
        calls.clear()
        case = Case(name="counted", op="fn", source="closed form",
                    args=(Arg("x", (size,), domain),),
                    reference=lambda x: jax.pure_callback(
                        counting, jax.ShapeDtypeStruct(x.shape, x.dtype), x,
                        vmap_method="sequential"))
        oracles._one_fd(case, (jnp.ones(size),), (), (jnp.ones(size),),
                        jnp.ones((3, size), dtype=jnp.int8))
        assert len(calls) == 3 * 2 * 3 + 1 == bench.fd_evaluations(case)
