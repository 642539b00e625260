"""The catalogue's goldens: the JAX reference reproduces every number the sources print, every
kinked case documents its convention with a golden on the kink, and the handwritten reference
prints the exact goldens bit for bit. (The implementation under test: tests/test_golden.py.)"""

import ast

import numpy as np

import cases
from cases import check
from cases.pytest_checks import assert_passes
from cases.tolerance import GOLDEN_RTOL


def test_reference_matches_golden(golden):
    """The case's JAX reference agrees with the source, so the oracle itself is anchored."""
    case, g = golden
    assert_passes(check.reference_golden(case, g, GOLDEN_RTOL))


# Kinked cases with no golden flagged at_kink, and why each is exempt.
NOT_FLAGGED = {
    "huber_loss": "its corner golden (|r| = delta) sits on the kink unflagged: the gradient "
                  "clip(r, -delta, delta) is continuous there and JAX agrees, so the reference "
                  "test holds JAX to it",
    "micrograd_sanity": "its kink z = 2x + 2 + x = 0 needs x = -2/3, which float64 cannot hold, "
                        "and no float64 x rounds z to 0 (see the test below)",
}


def _on_kink(case, g):
    return case.distance_to_kink(check.golden_sample(case, g).arrays) == 0


def test_every_kinked_case_has_a_golden_at_its_kink():
    """Each case with a kink documents its convention there: a golden flagged at_kink whose inputs
    sit exactly on the kink (kink_distance 0, exact binary fractions), the numbers the convention
    gives (ReLU'(0) = 0, hinge slope 0 at margin 0, max-pool ties to the first max)."""
    missing = [c.name for c in cases.CASES if c.kink and c.name not in NOT_FLAGGED
               and not any(g.at_kink and _on_kink(c, g) for g in c.goldens)]
    assert not missing, f"kinked cases without a golden at the kink: {missing}"
    assert all(cases.get(name).kink for name in NOT_FLAGGED)


def test_huber_corner_golden_is_on_the_kink_and_jax_agrees_there():
    """huber_loss's exemption: its corner golden is on the kink, unflagged; JAX reproduces it."""
    case = cases.get("huber_loss")
    (corner,) = [g for g in case.goldens if _on_kink(case, g)]
    assert not corner.at_kink
    assert check.reference_golden(case, corner, GOLDEN_RTOL).ok


def test_micrograd_sanity_kink_is_out_of_float64_reach():
    """micrograd_sanity's exemption: z = 2x + 2 + x (micrograd's order) is 0 only at x = -2/3. For x
    in [-1, -1/2] both sums are exact (Sterbenz), so z = 2 + 3x exactly, which no float makes 0;
    elsewhere |z| >= 1/2. The floats around -2/3 all give z != 0."""
    x = -2 / 3 + np.arange(-1000, 1001) * np.spacing(2 / 3)
    assert np.all(2 * x + 2 + x != 0)


def test_exact_goldens_come_out_of_the_reference_bit_for_bit():
    """A golden flagged exact: the handwritten reference does the source's operations in the
    source's order, so every printed number comes out bit for bit, not merely within a bound."""
    exact = [(c, g) for c in cases.CASES for g in c.goldens if g.exact]
    failures = [v.message for c, g in exact
                if not (v := check.check_golden(c, cases.handwritten(), g, None)).ok]
    assert len(exact) == 9 and not failures, failures


def test_gradref_goldens_regenerates_a_golden_at_a_kink(capsys):
    """`gradref goldens` prints each golden as the JAX reference computes it, kinks included:
    l1_loss's sign(0) = 0 entries come out as the committed golden."""
    from cases import cli
    assert cli.main(["goldens", "--case", "l1_loss"]) == 0
    line = capsys.readouterr().out.strip()
    case = cases.get("l1_loss")
    assert line.startswith("l1_loss-g0 (entries with x = y get sign(0) = 0): ")
    assert ast.literal_eval(line.split(": ", 1)[1]) == case.goldens[0].expect
