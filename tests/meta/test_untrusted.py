"""The implementation under test is untrusted: whatever it does, the verdict stays gradref's.

tests/fixtures/misbehaving/ holds one misbehaving op per file (exits, crashes, hangs, answers
differently the second time, writes where it must not, returns what cannot be compared...),
checked as one implementation through the three paths: `gradref report`, pytest, and
`gradref results` + `check-results`. Each path must reach the same verdict per case, with the
same one-line reason; a hung call must end within its timeout.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cases
from cases import check, cli, worker

ROOT = Path(__file__).resolve().parents[2]
MISBEHAVING = ROOT / "tests" / "fixtures" / "misbehaving"
IMPORTS = ROOT / "tests" / "fixtures" / "misbehaving_imports"
VECTORS = ROOT / "vectors"
OPTIONS = ("--timeout", "1")

# case: (status, what its one line says), the same in every path
EXPECTED = {
    "multiply": ("crashed", "the worker exited with status 0 during multiply_forward on multiply-s0"),
    "add": ("crashed", "the worker exited with status 3 during add_backward on add-s0"),
    "max_gate": ("crashed", "the worker was killed by SIGINT during max_gate_forward on max_gate-s0; "
                            "its last output: "),
    "chain_rule": ("crashed", "the worker was killed by SIGSEGV during chain_rule_backward on "
                              "chain_rule-s0"),
    "reciprocal": ("timeout", "reciprocal_backward on reciprocal-s2 did not return within 1 s "
                              "(--timeout); the worker was stopped"),
    "add_const": ("failed", "add_const-s0: add_const_backward raised RuntimeError: not warmed up yet "
                            "(first_call.py, line 12)"),
    "scale": ("failed", "scale-s0: gradient dx has 3 non-finite entries (nan or inf)"),
    "matmul": ("failed", "matmul_backward returned a different dW when called again with the same "
                         "cache and an equal copy of dout"),
    "exp": ("failed", "exp-s0: exp_backward wrote into the cache its forward returned"),
    "sigmoid": ("failed", "sigmoid_backward wrote into the forward's output(s) out"),
    "staged": ("failed", "staged-s0: staged_forward wrote into its input(s) x"),
    "patterns_circuit": ("failed", "gradient dx has dtype object, expected float64"),
    "relu": ("failed", "relu_backward returned a list of 3 items; the single gradient dx is returned "
                       "as one NumPy array"),
    "fork_sum": ("failed", "fork_sum_backward raised ValueError: shapes (2,) and (3,) not aligned: "
                           "2 (dim 0) != 3 (dim 0) (numpy_error.py, line 14)"),
    "fork_product": ("failed", "fork_product_backward raised ValueError: shapes differ: / a: (2,) / "
                               "b: (3,) (numpy_error.py, line 18)"),
}


def messages(case: dict) -> str:
    return " ".join([case.get("reason") or ""] + [f["message"] for f in case["failures"]])


def gradref(*argv, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "cases.cli", *argv], cwd=cwd,
                          capture_output=True, text=True)


def pytest_run(*argv):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-rf",
                           "tests/test_reference.py", *argv], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "2000"})


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.json"
    rc = cli.main(["report", "--impl", str(MISBEHAVING), "--case", *EXPECTED, "--samples", "3",
                   *OPTIONS, "--json", str(out)])
    return rc, {c["case"]: c for c in json.loads(out.read_text())["cases"]}


def test_report_gives_each_misbehaviour_its_status_and_reason(report):
    rc, by_case = report
    assert rc == 1
    for name, (status, reason) in EXPECTED.items():
        assert by_case[name]["status"] == status, (name, messages(by_case[name])[:500])
        assert reason in messages(by_case[name]), (name, messages(by_case[name])[:500])
        assert "Traceback" not in messages(by_case[name])
    assert "KeyboardInterrupt: pressed by the implementation" in by_case["max_gate"]["reason"]


def test_pytest_reaches_the_same_verdicts():
    r = pytest_run("--impl", str(MISBEHAVING), "--samples", "3", *OPTIONS,
                   *(f"--case={name}" for name in EXPECTED))
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr, r.stdout[-3000:]
    failed = [line for line in r.stdout.splitlines() if line.startswith("FAILED ")]
    for name, (status, reason) in EXPECTED.items():
        mine = [line for line in failed if f"[{name}-s" in line]
        assert mine, name                                        # every one of them fails
        assert reason in r.stdout, name
        if status in ("crashed", "timeout"):                    # unchecked samples fail too
            assert any(f"not checked: {status}: " in line for line in mine), name
    assert "= no tests ran" not in r.stdout


def test_results_and_check_results_reach_the_same_verdicts(tmp_path):
    results, verdicts = tmp_path / "results.json", tmp_path / "verdicts.json"
    assert cli.main(["results", str(VECTORS), str(results), "--impl", str(MISBEHAVING),
                     *OPTIONS]) == 0
    rc = cli.main(["check-results", str(VECTORS), str(results), "--case", *EXPECTED,
                   "--json", str(verdicts)])
    by_case = {c["case"]: c for c in json.loads(verdicts.read_text())["cases"]}
    assert rc == 1
    for name, (status, reason) in EXPECTED.items():
        assert by_case[name]["status"] == status, (name, messages(by_case[name])[:500])
        assert reason in messages(by_case[name]), (name, messages(by_case[name])[:500])


def test_a_hung_call_ends_within_its_timeout():
    start = time.perf_counter()
    result = check.check_case(cases.get("reciprocal"), cases.load(str(MISBEHAVING / "hang.py")),
                              0, 3, timeout=1.0)
    seconds = time.perf_counter() - start
    assert result.status == "timeout" and "did not return within 1 s" in result.reason
    assert 1.0 < seconds < 1.0 + 3.0, seconds        # the timeout, a worker's start, the polling
    assert [s.checked for s in result.samples] == [False] * 3   # the block never came back


# --- what it does at import time -------------------------------------------------------------

def test_an_exit_at_import_is_a_usage_error_in_one_line(capsys):
    bad = str(IMPORTS / "exit_at_import.py")
    assert cli.main(["report", "--impl", bad]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert "import failed: crashed: the worker exited with status 0 during importing" in err
    r = pytest_run("--impl", bad)
    assert r.returncode == 4 and "Traceback" not in r.stdout + r.stderr
    assert "import failed: crashed: the worker exited with status 0" in r.stderr


def test_an_implementation_cannot_meddle_with_the_verdict(tmp_path, monkeypatch, capsys):
    """It loosens gradref's bounds, hides messages, ends its process with 0 at exit, wraps stdout,
    makes NumPy raise and warnings errors, moves the working directory: all in its own process."""
    meddler = str(IMPORTS / "meddler.py")
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["report", "--impl", meddler, "--case", "staged", "--json", "report.json"])
    doc = json.loads((tmp_path / "report.json").read_text())      # where it was asked to be
    assert rc == 1 and doc["cases"][0]["status"] == "failed"
    assert "dx vs jax.vjp: 1 of 1 entries off" in doc["cases"][0]["failures"][0]["message"]
    assert "staged" in capsys.readouterr().out                     # our stdout, not its wrapper
    assert cli.main(["results", str(VECTORS), "r.json", "--impl", meddler]) == 0
    assert cli.main(["check-results", str(VECTORS), "r.json", "--case", "staged"]) == 1
    r = pytest_run("--impl", meddler, "--case", "staged", "--samples", "2")
    assert r.returncode == 1 and "4 failed, 4 passed" in r.stdout and "dx vs jax.vjp" in r.stdout


# --- exit statuses ---------------------------------------------------------------------------

def test_nothing_checked_has_its_own_exit_status(tmp_path, capsys):
    nothing = str(IMPORTS / "nothing.py")
    assert cli.main(["report", "--impl", nothing, "--case", "staged", "matmul"]) == 3
    assert "nothing was checked" in capsys.readouterr().out
    assert cli.main(["results", str(VECTORS), str(tmp_path / "r.json"), "--impl", nothing]) == 0
    assert cli.main(["check-results", str(VECTORS), str(tmp_path / "r.json")]) == 3
    r = pytest_run("--impl", nothing, "--case", "staged")
    assert r.returncode == 5 and "nothing was checked" in r.stdout


def test_an_empty_impl_is_a_usage_error_not_the_reference(capsys):
    assert cli.main(["report", "--impl", "", "--case", "staged"]) == 2
    assert "--impl is empty" in capsys.readouterr().err
    r = pytest_run("--impl", "", "--case", "staged")
    assert r.returncode == 4 and "--impl is empty" in r.stderr


def test_output_cut_short_by_a_closed_pipe_has_no_traceback():
    """The reader is gone before gradref writes (`| head` at its most impatient): no traceback."""
    p = subprocess.Popen([sys.executable, "-m", "cases.cli", "cases"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()
    assert p.wait() == 1 and p.stderr.read() == ""


# --- reproduce lines -------------------------------------------------------------------------

def test_a_reproduce_line_works_from_anywhere_and_reruns_the_sample(tmp_path):
    buggy = str(ROOT / "tests" / "fixtures" / "student" / "notes_ops.py")
    result = check.check_case(cases.get("sigmoid"), cases.load(
        os.path.relpath(buggy)), 0, 1, first=23)
    line = result.samples[0].jax.message.splitlines()[-1]
    assert line.startswith('reproduce: pytest "tests/test_reference.py::test_matches_jax'
                           '[sigmoid-s23]" --samples 24 --impl ' + buggy), line
    rerun = line.split("# or: ")[1].split()
    assert rerun[:6] == ["gradref", "report", "--case", "sigmoid", "--sample", "23"]
    r = subprocess.run([str(Path(sys.executable).parent / "gradref"), *rerun[1:], "--json",
                        "r.json"], cwd=tmp_path, capture_output=True, text=True)   # elsewhere
    doc = json.loads((tmp_path / "r.json").read_text())
    assert r.returncode == 1 and doc["cases"][0]["samples"] == 1
    again = [f["message"] for f in doc["cases"][0]["failures"] if f["check"] == "jax"]
    assert again[0].split("\n")[0] == result.samples[0].jax.message.split("\n")[0]


# --- several implementations on the same samples (what a matrix of implementations runs) ----------

def test_implementations_checked_together_share_samples_and_oracles_and_not_their_fate(monkeypatch):
    evaluations = []
    evaluate = check.oracles.evaluate_stacked
    monkeypatch.setattr(check.oracles, "evaluate_stacked",
                        lambda *a: evaluations.append(1) or evaluate(*a))
    check._blocks_cache.clear()
    impls = [cases.handwritten(), cases.load(str(MISBEHAVING / "exits.py")),
             cases.load(str(MISBEHAVING / "scribbler.py"))]
    ok, crashed, scribbler = check.check_implementations(cases.get("multiply"), impls, 0, 5)
    assert (ok.status, crashed.status, scribbler.status) == ("passed", "crashed", "not implemented")
    assert evaluations == [1]                         # one block, evaluated once for all of them
    together = check.check_implementations(cases.get("staged"), impls[::2], 0, 5)
    alone = [check.check_case(cases.get("staged"), impl, 0, 5) for impl in impls[::2]]
    assert [r.samples for r in together] == [r.samples for r in alone]


def test_a_worker_a_case_holds_is_not_the_one_evicted(monkeypatch):
    """With the pool full, starting a case's second worker stops the least recently used one,
    never the first worker this case just took."""
    monkeypatch.setattr(worker, "MAX_WORKERS", 2)
    worker._stop_all()
    worker._workers.clear()
    ops = MISBEHAVING.parent / "student" / "notes_ops.py"
    first, other = cases.handwritten(), cases.load(str(ops))
    worker.runner(first)
    worker.runner(other)                          # the pool is full: [first, other]
    third = cases.load(str(ROOT / "handwritten"))
    results = check.check_implementations(cases.get("multiply"), [first, third], 0, 2)
    assert [r.status for r in results] == ["passed", "passed"]
