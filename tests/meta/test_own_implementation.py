"""Checking someone else's implementation, as a new user would: one command, a verdict per op.

The fixtures under tests/fixtures/student/ are written in a student's style with two planted
bugs each; the report must find exactly those, at the right op, naming the gradient and entry.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import cases
from cases import cli

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "tests" / "fixtures" / "student"
NOTES_OPS = str(STUDENT / "notes_ops.py")
CS231N = str(STUDENT / "cs231n" / "layers.py")


def report(tmp_path, *argv):
    """`gradref report ... --json` in-process: (exit code, the JSON document)."""
    out = tmp_path / "report.json"
    rc = cli.main(["report", *argv, "--json", str(out)])
    return rc, json.loads(out.read_text())


def expected_statuses(path, buggy_functions):
    """What the report must say per case: every case whose functions the file defines passes
    unless one of them is planted-buggy (failed, or beyond contract where the case's source never
    asks for it); the rest are not implemented. Adapts as cases are added."""
    impl = cases.load(path)
    want = {}
    for case in cases.CASES:
        names = case.functions
        if all(n in impl.namespace for n in names):
            buggy = "beyond contract" if case.beyond_contract else "failed"
            want[case.name] = buggy if set(names) & buggy_functions else "passed"
        else:
            want[case.name] = "not implemented"
    return want


def gradref(*argv):
    return subprocess.run([sys.executable, "-m", "cases.cli", *argv], cwd=ROOT,
                          capture_output=True, text=True)


def pytest_run(*argv):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "tests/test_reference.py", *argv], cwd=ROOT, capture_output=True, text=True)



def test_pytest_collects_only_the_checks_of_an_outside_implementation():
    """`pytest --impl FILE` collects the implementation's checks (tests/test_reference.py and
    tests/test_golden.py), none of gradref's own tests (tests/meta, tests/handwritten, tests/bench)."""
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "--collect-only", "--impl",
                        NOTES_OPS], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    files = {line.split("::")[0] for line in r.stdout.splitlines() if "::" in line}
    assert files == {"tests/test_reference.py", "tests/test_golden.py"}

# --- the notes' ops: two planted bugs, both found, at the right op -----------------------------

def test_notes_ops_report_finds_the_two_bugs_and_nothing_else(tmp_path):
    rc, doc = report(tmp_path, "--impl", NOTES_OPS)
    assert rc == 1 and doc["implementation"] == NOTES_OPS
    got = {c["case"]: c["status"] for c in doc["cases"]}
    assert got == expected_statuses(NOTES_OPS, {"sigmoid_backward", "staged_backward"})
    by_case = {c["case"]: c for c in doc["cases"]}
    sigmoid, staged = by_case["sigmoid"], by_case["staged"]
    assert set(sigmoid["failed_checks"]) == set(staged["failed_checks"]) == {"jax", "fd"}
    assert "dx vs jax.vjp: 4 of 4 entries off; worst at [" in sigmoid["failures"][0]["message"]
    assert "dx vs jax.vjp: 1 of 1 entries off; worst at (scalar)" in staged["failures"][0]["message"]
    assert all("dy" not in f["message"].split(":")[1] for f in staged["failures"])  # dy is right
    assert staged["failed_checks"]["jax"]["reproduce"].startswith(
        'pytest "tests/test_reference.py::test_matches_jax[staged-s')
    assert doc["ops"]["exp"]["status"] == "not implemented"


def test_notes_ops_through_pytest_fails_the_bugs_and_skips_the_missing():
    r = pytest_run("--impl", NOTES_OPS, "--case", "sigmoid", "--case", "multiply", "--case", "exp",
                   "-rfs")
    assert r.returncode == 1, r.stdout
    assert "40 failed, 120 passed, 80 skipped" in r.stdout
    assert "FAILED tests/test_reference.py::test_matches_jax[sigmoid-s0]" in r.stdout
    assert "not implemented: " in r.stdout and "defines no exp_forward / exp_backward" in r.stdout


def test_known_failures_turn_the_bugs_into_xfails(tmp_path):
    xfails = tmp_path / "known.txt"
    xfails.write_text("# my known bugs\nsigmoid\ntest_matches_jax[staged-s0]   # one sample\n"
                      "test_matches_jax[nonexistent-s0]\n")
    r = pytest_run("--impl", NOTES_OPS, "--case", "sigmoid", "--case", "staged",
                   "--xfails", str(xfails), "-W", "default")
    # sigmoid's 40 failing checks and staged-s0's jax check xfail; its 40 passing checks are
    # non-strict XPASSes (the case as a whole failed); staged's other 39 failures still fail
    assert "39 failed, 40 passed, 1 deselected, 41 xfailed, 40 xpassed" in r.stdout and r.returncode == 1
    assert "test_matches_fd[staged-s0]" in r.stdout                       # not listed: fails
    assert "'test_matches_jax[nonexistent-s0]' (" in r.stdout and "matches no collected test" in r.stdout
    rc, doc = report(tmp_path, "--impl", NOTES_OPS, "--case", "sigmoid", "staged",
                     "--xfails", str(xfails))
    assert [c["status"] for c in doc["cases"]] == ["xfail", "failed"] and rc == 1


def test_a_known_failure_that_passes_is_an_xpass_failure(tmp_path, capsys):
    xfails = tmp_path / "known.txt"
    xfails.write_text("multiply\ntest_matches_fd[matmul-s2]\nnot_a_case\n")
    rc, doc = report(tmp_path, "--impl", NOTES_OPS, "--case", "multiply", "matmul",
                     "--xfails", str(xfails))
    assert rc == 1 and [c["status"] for c in doc["cases"]] == ["xpass", "xpass"]
    out, err = capsys.readouterr()
    assert "XPASS 'multiply'" in out and "remove it" in out
    assert "'not_a_case' (" in err and "matches no case or test" in err
    r = pytest_run("--impl", NOTES_OPS, "--case", "multiply", "--xfails", str(xfails))
    assert r.returncode == 1 and "XPASS(strict) 'multiply'" in r.stdout


# --- implementations that cannot be used: one clear line, no traceback --------------------------

def test_an_import_failure_under_pytest_is_one_line(tmp_path):
    bad = tmp_path / "layers.py"
    bad.write_text("import numpy as np\nfrom .missing_helpers import *\n")
    r = pytest_run("--impl", str(bad))
    assert r.returncode == 4 and "Traceback" not in r.stdout + r.stderr
    assert "ERROR: --impl " in r.stderr and "import failed: ImportError" in r.stderr


def test_an_import_failure_in_the_report_is_one_line(tmp_path):
    bad = tmp_path / "layers.py"
    bad.write_text("import numpy as np\nraise NameError('oops')\n")
    r = gradref("report", "--impl", str(bad))
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "import failed: NameError: oops (layers.py, line 2)" in r.stderr


def test_not_callable_and_wrong_signature_are_one_line_per_op(tmp_path):
    weird = tmp_path / "weird.py"
    weird.write_text("multiply_forward = 42\nmultiply_backward = None\n"
                     "def exp_forward(x, y):\n    return x, None\n"
                     "def exp_backward(dout, cache):\n    return dout\n")
    rc, doc = report(tmp_path, "--impl", str(weird), "--case", "multiply", "exp")
    by_case = {c["case"]: c for c in doc["cases"]}
    assert "multiply_forward is a int, not a function" in by_case["multiply"]["failures"][0]["message"]
    assert "exp_forward(x, y) cannot be called with 1 arguments" in by_case["exp"]["failures"][0]["message"]
    assert rc == 1


# --- a student's CS231n package: run as is, with its relative imports ---------------------------

def test_cs231n_layers_file_runs_as_is_with_one_command(tmp_path):
    out = tmp_path / "r.json"
    r = gradref("report", "--impl", CS231N, "--json", str(out))
    doc = json.loads(out.read_text())
    got = {c["case"]: c["status"] for c in doc["cases"]}
    want = expected_statuses(CS231N, {"softmax_loss", "batchnorm_backward_alt"})
    assert got == want and doc["implementation"] == CS231N
    assert r.returncode == (1 if "failed" in want.values() else 0)
    impl = cases.load(CS231N)
    for c in doc["cases"]:
        if c["status"] == "failed":                    # the two bugs, at their gradient, with an entry
            names = cases.get(c["case"]).functions
            gradient = "dx" if "softmax_loss" in names else "dgamma"
            assert set(c["failed_checks"]) == {"jax", "fd"}, c["case"]
            assert f": {gradient} vs jax.vjp: " in c["failures"][0]["message"], c["case"]
            assert "worst at [" in c["failures"][0]["message"], c["case"]


def test_rnn_layers_star_import_brings_the_layers_along():
    impl = cases.load(str(STUDENT / "cs231n" / "rnn_layers.py"))
    assert callable(impl.namespace["affine_forward"]) and callable(impl.namespace["sigmoid"])


def test_a_module_that_is_not_there_is_one_line_without_our_own_frames(capsys):
    assert cli.main(["report", "--impl", "no_such_module_xyz"]) == 2
    err = capsys.readouterr().err
    assert err == ("gradref: error: --impl no_such_module_xyz: import failed: ModuleNotFoundError: "
                   "No module named 'no_such_module_xyz'\n")


def test_the_timing_plugin_says_where_the_time_went():
    """`pytest -p cases.timing` (docs/benchmarks.md) ends with one line splitting the run."""
    out = pytest_run("--case", "staged", "-p", "cases.timing")
    assert out.returncode == 0, out.stdout[-2000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("gradref timing: wall ")]
    assert line and "oracle compilation" in line[0] and "tests waiting for it" in line[0]
    assert float(line[0].split("XLA ")[1].split(")")[0]) > 0, line[0]   # staged compiled here


# --- cases beyond a source's contract -----------------------------------------------------------

FAITHFUL_BN = str(STUDENT / "faithful_batchnorm.py")
BN_CASES = ("batchnorm", "batchnorm_test", "batchnorm_alt", "batchnorm_alt_test")


def test_a_faithful_file_is_not_failed_on_a_case_its_source_never_asks_for(tmp_path):
    """A skeleton-faithful batchnorm (no cache after a test-mode forward) passes train mode and is
    reported 'beyond contract' on test mode, saying why and what happened; exit 0."""
    rc, doc = report(tmp_path, "--impl", FAITHFUL_BN, "--case", *BN_CASES)
    got = {c["case"]: c["status"] for c in doc["cases"]}
    assert rc == 0 and got == {"batchnorm": "passed", "batchnorm_test": "beyond contract",
                               "batchnorm_alt": "passed", "batchnorm_alt_test": "beyond contract"}
    test_mode = next(c for c in doc["cases"] if c["case"] == "batchnorm_test")
    assert "never calls the backward after a test-mode forward" in test_mode["beyond_contract"]
    assert "cannot unpack non-iterable NoneType" in test_mode["failures"][0]["message"]


def test_beyond_contract_excuses_the_backward_only_and_never_the_reference():
    """The test-mode forward is in the contract: a wrong one fails. The reference claims every case
    (contract "all"): the same file held to it fails the test-mode cases."""
    faithful = cases.load(FAITHFUL_BN)
    wrong_forward = faithful.with_replacement(
        "batchnorm_forward", lambda x, g, b, p: (x, None), "wrong forward", "")
    assert check_case_status(wrong_forward, "batchnorm_test") == "failed"
    strict = cases.Implementation("held to all", faithful.namespace, contract="all")
    assert check_case_status(strict, "batchnorm_test") == "failed"
    assert check_case_status(cases.handwritten(), "batchnorm_test") == "passed"


def check_case_status(impl, name):
    from cases import check
    return check.check_case(cases.get(name), impl, 0, 4).status


def test_beyond_contract_under_pytest_skips_with_the_reason():
    r = pytest_run("--impl", FAITHFUL_BN, "--case", "batchnorm_test", "-rs")
    assert r.returncode == 0, r.stdout
    assert "80 skipped" in r.stdout and "beyond contract: the CS231n a2 notebook" in r.stdout
