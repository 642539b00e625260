"""The implementation under test (default: handwritten) against the three oracles, per sample."""

from conftest import assert_passes, assert_subgradient


def test_well_behaved(checked):
    """It runs, returns arrays of the right count, shape and dtype, finite, and writes into
    neither its inputs nor the upstream gradient."""
    assert_passes(checked.behaved)


def test_forward(checked):
    """Its forward matches the JAX reference forward."""
    assert_passes(checked.forward)


def test_matches_jax(checked):
    """Its backward matches jax.vjp of the JAX reference, for a random upstream gradient."""
    assert_passes(checked.jax)


def test_matches_fd(checked):
    """Its backward matches finite differences of the reference within their estimated error."""
    assert_passes(checked.fd)


def test_at_kink(kink_checked, implementation):
    """Exactly on a kink its gradient is a subgradient (one-sided finite differences), and the
    case's declared one; another valid subgradient is no failure, a warning says which."""
    assert_subgradient(kink_checked, implementation)
