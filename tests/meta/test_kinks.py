"""At the kinks (cases/kinks.py): subgradients pass, other conventions are told apart, and a
gradient outside the subdifferential fails with its one-sided derivatives."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import cases
from cases import cli, kinks

ROOT = Path(__file__).resolve().parents[2]
KINK_CONVENTIONS = str(ROOT / "tests" / "fixtures" / "student" / "kink_conventions.py")


def test_kink_samples_sit_exactly_on_a_kink_with_upstream_of_both_signs():
    for case in cases.CASES:
        ss = kinks.samples(case)
        assert all(case.distance_to_kink(s.arrays) == 0 for s in ss), case.name
        if case.style == "pair" and ss:
            signs = {float(np.sign(d).max()) for s in ss for d in s.douts}
            assert signs == {1.0, -1.0}, case.name   # convex, then concave kinks of <dout, f>


def test_every_kinked_case_is_checked_at_its_kinks_but_the_unreachable_one():
    missing = [c.name for c in cases.CASES if c.kink and not kinks.samples(c)]
    assert missing == ["micrograd_sanity"]   # its kink needs x = -2/3 (test_catalogue_goldens.py)


def test_report_tells_another_convention_from_a_wrong_tie(tmp_path):
    """relu'(0) = 1 is another subgradient (exit unaffected); a (0, 0) tie is not (exit 1), and
    the message gives <g, (1, 1)> and the one-sided derivatives along (1, 1)."""
    out = tmp_path / "r.json"
    rc = cli.main(["report", "--impl", KINK_CONVENTIONS, "--case", "relu", "max_gate",
                   "--json", str(out)])
    doc = {c["case"]: c for c in json.loads(out.read_text())["cases"]}
    assert rc == 1
    assert doc["relu"]["status"] == "passed"
    assert doc["relu"]["at_kinks"]["status"] == "convention differs"
    assert doc["max_gate"]["status"] == "failed"
    assert doc["max_gate"]["at_kinks"]["status"] == "failed"
    message = doc["max_gate"]["at_kinks"]["verdicts"][0]["message"]
    assert "not a subgradient at the kink: along u = all ones (times the FD steps), <g, u> = 0, " \
           "but the one-sided derivatives are f'(x; u) = 0.790297 and -f'(x; -u) = 0.790297" in message


def test_under_pytest_another_convention_warns_and_a_wrong_tie_fails():
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_reference.py",
                        "-k", "at_kink", "--impl", KINK_CONVENTIONS, "--case", "relu",
                        "--case", "max_gate"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1, r.stdout
    assert "4 failed, 4 passed" in r.stdout
    assert "FAILED tests/test_reference.py::test_at_kink[max_gate-k0]" in r.stdout
    assert "ConventionDiffers: relu-k0: a subgradient, but not the declared one" in r.stdout


def test_goldens_at_a_kink_accept_another_subgradient_and_reject_a_wrong_one():
    impl = cases.load(KINK_CONVENTIONS)
    relu, gate = cases.get("relu"), cases.get("max_gate")
    assert kinks.at_golden(relu, impl, 0).status == "convention differs"
    assert kinks.at_golden(gate, impl, 1).status == "failed"
    assert kinks.at_golden(gate, cases.handwritten(), 1).status == "passed"
