"""The other checkers of the head to head (cases/checkers.py) run the implementation as their
users do: on the correct reference they pass, and each has the blind spot its method implies."""

import numpy as np
import pytest

import cases
from cases import check, checkers, mutants
from cases.impl import handwritten


def op(case_name, mutant_id=None):
    case = cases.get(case_name)
    impl = mutants.mutate(mutants.find(mutant_id)) if mutant_id else handwritten()
    return checkers.Op(case, impl.lookup(case)[0]), check.samples(case, 1, 3)


def test_cs231n_functions_are_the_notebooks():
    """Central differences of sum(f(x) df), x perturbed in place and restored; rel_error per
    entry with the 1e-8 floor."""
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    df = np.array([[1.0, 2.0], [-1.0, 0.5]])
    grad = checkers.eval_numerical_gradient_array(lambda v: v**3, x, df)
    assert np.allclose(grad, 3 * x**2 * df, rtol=1e-8)
    assert np.array_equal(x, [[0.5, -1.0], [2.0, 3.0]])
    assert checkers.rel_error(np.array([1.0, 0.0]), np.array([1.0 + 2e-8, 0.0])) == pytest.approx(1e-8)


@pytest.mark.parametrize("case_name", ["staged", "softmax_loss", "batchnorm", "word_embedding"])
def test_the_correct_reference_passes_each_float64_checker(case_name):
    """Pair and loss style, non-differentiable inputs and Static parameters all reach the op."""
    o, samples = op(case_name)
    f = checkers.as_jax(o)
    for s in samples:
        assert checkers.check_grads(o.at(s), f) and checkers.cs231n(o.at(s))
        assert checkers.sum_style(o.at(s))


def test_dout_ones_is_blind_to_an_ignored_dout():
    """tinygrad's style differentiates out.sum(): a backward that drops dout passes it; the CS231n
    check, with a random dout, does not."""
    o, samples = op("staged", "staged:dnum ignores dout")
    assert all(checkers.sum_style(o.at(s)) for s in samples)
    assert not any(checkers.cs231n(o.at(s)) for s in samples)


def test_gradcheck_runs_the_numpy_pair():
    pytest.importorskip("torch")
    o, samples = op("affine")
    assert all(checkers.gradcheck(o.at(s)) for s in samples)
    bad, _ = op("affine", "affine:transposed dw")
    assert not any(checkers.gradcheck(bad.at(s)) for s in samples)
