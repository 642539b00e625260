"""The implementation under test (default: handwritten) against the three oracles, per sample."""

from conftest import assert_passes


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
