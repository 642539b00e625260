"""The suite's power: every planted bug (a one-line edit of the handwritten backward) is rejected."""

import pytest

import cases
from cases import check, mutants, report
from cases.spec import BUG_KINDS

IDS = [m.id for m in mutants.MUTANTS]


@pytest.mark.parametrize("mutant", mutants.MUTANTS, ids=IDS)
def test_mutant_is_caught(mutant):
    """The default run (20 samples, seed 0) gives the mutant's case the expected verdict: failed,
    or "convention differs" for another valid subgradient at a kink (hunted as the report does:
    stopped at its first failing stage, test_a_hunt_gives_the_full_runs_verdict)."""
    got = report.hunt(mutant, 0, 20)
    assert got.caught, f"mutant {mutant.id!r}: {got.verdict}, expected {mutant.expect}"


@pytest.mark.parametrize("mutant_id", [
    "staged:= instead of += at the sigx fork",              # fails every sample: stops at s0
    "relu:relu'(0) = 1, another subgradient",                # convention differs, at kinks only
    "relu:relu'(0) = 2, not a subgradient",                  # failed, at kinks only
    "max_pool:dx accumulated in a float32 buffer",
])
def test_a_hunt_gives_the_full_runs_verdict(mutant_id):
    """A hunt stops early but gives the verdict of checking every sample and the kinks."""
    m = mutants.find(mutant_id)
    full = mutants.verdict(check.check_case(cases.get(m.case), mutants.mutate(m), 0, 20))
    assert report.hunt(m, 0, 20).verdict == full


def test_a_hunt_stops_at_its_first_failing_stage():
    m = mutants.find("staged:= instead of += at the sigx fork")
    h = report.hunt(m, 0, 10_000)
    assert (h.caught, h.first_failing, h.samples) == (True, "staged-s0", 1)
    assert report.hunt_stages(20) == [(0, 1), (1, 3), (4, 12), (16, 4)]


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
    stale = mutants.Mutant("staged", "staged_backward", "no such line", "x", "stale",
                           kind="wrong formula")
    with pytest.raises(cases.CaseError, match="occurs 0 times in staged_backward"):
        mutants.mutate(stale)


def test_report_prints_the_mutation_score(capsys):
    from cases import cli
    assert cli.main(["report", "--case", "staged", "matmul", "--samples", "5"]) == 0
    expected = sum(m.case in ("staged", "matmul") for m in mutants.MUTANTS)
    assert f"mutation score: {expected}/{expected} planted bugs caught (100%)" in capsys.readouterr().out


def test_every_mutant_has_a_documented_bug_kind():
    """Each mutant states its kind of bug, one of spec.BUG_KINDS (the record rejects any other at
    import), and every kind is planted at least three times: detection is reported per kind."""
    counts = {kind: 0 for kind in BUG_KINDS}
    for m in mutants.MUTANTS:
        counts[m.kind] += 1
    thin = {kind: k for kind, k in counts.items() if k < 3}
    assert not thin, f"bug kinds planted fewer than three times: {thin}"
    with pytest.raises(cases.CaseError, match="kind 'typo' is not one of"):
        mutants.Mutant("staged", "staged_backward", "a", "b", "a typo", kind="typo")
