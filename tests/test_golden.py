"""The numbers the sources print: the implementation and the JAX reference both reproduce them."""

import pytest

from cases import check
from cases.tolerance import GOLDEN_RTOL
from conftest import assert_passes


def test_implementation_matches_golden(golden, implementation):
    """At the source's inputs (upstream gradient 1) the implementation prints the source's numbers."""
    case, g = golden
    if implementation.lookup(case)[0] is None:
        pytest.skip(f"not implemented: {implementation.lookup(case)[1]}")
    assert_passes(check.check_golden(case, implementation, g, GOLDEN_RTOL))


def test_reference_matches_golden(golden):
    """The case's JAX reference agrees with the source, so the oracle itself is anchored."""
    case, g = golden
    if g.at_kink:
        pytest.skip("at a kink the JAX reference follows JAX's convention, not the source's")
    assert_passes(check.reference_golden(case, g, GOLDEN_RTOL))
