"""The suite's power: every planted bug (a one-line edit of the handwritten backward) is rejected."""

import pytest

import cases
from cases import check, mutants

IDS = [m.id for m in mutants.MUTANTS]


@pytest.mark.parametrize("mutant", mutants.MUTANTS, ids=IDS)
def test_mutant_is_caught(mutant):
    """The default run (20 samples, seed 0) gives the mutant's case the expected verdict: failed,
    or "convention differs" for another valid subgradient at a kink."""
    result = check.check_case(cases.get(mutant.case), mutants.mutate(mutant), 0, 20)
    got = mutants.verdict(result)
    assert got == mutant.expect, f"mutant {mutant.id!r}: {got}, expected {mutant.expect}"


# Bugs that must be rejected by *each* gradient check on its own, not only by the suite as a whole.
BOTH_ORACLES = [
    "staged:= instead of += at the sigx fork",
    "staged:dnum ignores dout",
    "matmul:transposed dW, (10, 5) for W (5, 10)",
    "sigmoid:sigma' with the wrong sign",
]


@pytest.mark.parametrize("oracle", ["jax", "fd"])
@pytest.mark.parametrize("mutant_id", BOTH_ORACLES)
def test_each_gradient_check_rejects(mutant_id, oracle):
    m = mutants.find(mutant_id)
    result = check.check_case(cases.get(m.case), mutants.mutate(m), 0, 20)
    assert any(not getattr(s, oracle).ok for s in result.samples), \
        f"the {oracle} check passed mutant {mutant_id!r} on every sample"


def test_every_case_has_two_mutants():
    counts = {c.name: 0 for c in cases.CASES}
    for m in mutants.MUTANTS:
        counts[cases.get(m.case).name] += 1
    # matmul_large shares matmul's backward: its mutants are matmul's.
    thin = {name: k for name, k in counts.items() if k < 2 and name != "matmul_large"}
    assert not thin, f"cases with fewer than two mutants: {thin}"


def test_a_stale_mutant_is_a_clear_error():
    stale = mutants.Mutant("staged", "staged_backward", "no such line", "x", "stale")
    with pytest.raises(cases.CaseError, match="occurs 0 times in staged_backward"):
        mutants.mutate(stale)


def test_report_prints_the_mutation_score(capsys):
    from cases import cli
    assert cli.main(["report", "--case", "staged", "matmul", "--samples", "5"]) == 0
    expected = sum(m.case in ("staged", "matmul") for m in mutants.MUTANTS)
    assert f"mutation score: {expected}/{expected} planted bugs caught (100%)" in capsys.readouterr().out
