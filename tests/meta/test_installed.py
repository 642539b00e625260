"""gradref as another project uses it: the built wheel, installed (not editable) into a fresh venv,
used from a folder outside the checkout (issue 16's done-when).

The venv reuses this venv's dependencies (jax, numpy, pytest) through a .pth file instead of
downloading them; a .pth line only appends a folder to sys.path, so this venv's editable install of
gradref (a .pth that runs its import hook) stays inactive there, and the checkout is not on the path.
"""

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "cases", "handwritten", "vectors")

GOOD = """from gradref.handwritten import staged_forward, staged_backward, sigmoid_forward, sigmoid_backward
from gradref.handwritten import relu_forward, relu_backward
"""
# A planted bug: dy with the wrong sign (dx and the forward stay right).
BAD = """from gradref.handwritten import staged_forward, sigmoid_forward, sigmoid_backward
from gradref.handwritten import relu_forward, relu_backward
from gradref.handwritten import staged_backward as _right


def staged_backward(dout, cache):
    dx, dy = _right(dout, cache)
    return dx, -dy
"""
# A project's own tests over gradref's cases: the marker picks the cases, else --gradref-case does.
OWN_TESTS = """import pytest
import gradref


@pytest.mark.gradref_cases("staged", "sigmoid")
def test_mine(gradref_case):
    gradref.assert_conforms("good.py", cases=gradref_case, samples=2)


def test_each_selected_case(gradref_case):
    assert gradref_case in ("staged", "sigmoid", "relu")
"""
API = """
import importlib.util, json, sys
import gradref, good
print("gradref at", gradref.__file__)
print("cases:", importlib.util.find_spec("cases"), "handwritten:", importlib.util.find_spec("handwritten"))
r = gradref.check("good.py", cases=["staged", "sigmoid", "exp"], samples=3)
print("good:", r.passed, r.status, json.loads(r.to_json())["summary"])
gradref.assert_conforms(good, cases="staged", samples=3)
try:
    gradref.assert_conforms("bad.py", cases=["staged", "sigmoid"], samples=3)
    print("bad: no AssertionError")
except AssertionError as e:
    print("bad: AssertionError:", e)

# the shipped vectors, from this folder: the good file's results judged against them
import contextlib, io
from gradref.cases import cli
with contextlib.redirect_stdout(io.StringIO()) as where:
    cli.main(["vectors-path"])
vectors = where.getvalue().strip()
print("vectors-path:", vectors)
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(["results", vectors + "/staged.json", "results.json", "--impl", "good.py"]) == 0
print("check-results:", cli.main(["check-results", vectors, "results.json", "--case", "staged"]))
"""


def run(venv_python, *argv, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(venv_python), *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv with the wheel installed, a project folder outside the checkout)."""
    tmp = tmp_path_factory.mktemp("installed")
    src = tmp / "src"     # a clean copy: a stale build/ in the checkout cannot leak into the wheel
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    wheels = tmp / "wheels"
    # built as `pip install -e .` built the editable one: setuptools in an isolated build
    # environment (this venv's setuptools cannot write wheels without the `wheel` package)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                            str(wheels), str(src)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel, = wheels.glob("gradref-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                       cwd=tmp).stdout.strip())
    (purelib / "gradref_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                                "-q", "--no-deps", "--no-index", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    project = tmp / "project"
    project.mkdir()
    (project / "good.py").write_text(GOOD)
    (project / "bad.py").write_text(BAD)
    (project / "test_own.py").write_text(OWN_TESTS)
    (project / "known.txt").write_text("staged    # the sign of dy, being fixed\n")
    return python, project, purelib


@pytest.fixture(scope="module")
def runs(installed):
    """The API script and the plugin on the good and the bad file, run side by side."""
    python, project, _ = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    flags = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--gradref-case", "staged",
             "--gradref-case", "sigmoid", "--gradref-case", "relu", "--gradref-samples", "2"]
    commands = {"api": ["-c", API],
                "pytest good": [*flags, "--gradref-impl", "good.py"],
                "pytest bad": [*flags, "--gradref-impl", "bad.py"],
                "pytest bad, known": [*flags, "--gradref-impl", "bad.py", "--gradref-xfails",
                                      "known.txt", "-rx"],
                }
    procs = {k: subprocess.Popen([str(python), *argv], cwd=project, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for k, argv in commands.items()}
    return {k: (p.wait(timeout=300), p.stdout.read()) for k, p in procs.items()}


def test_only_gradref_is_importable_and_it_is_the_installed_one(installed, runs):
    _, _, purelib = installed
    rc, out = runs["api"]
    assert rc == 0, out
    assert f"gradref at {purelib}" in out
    assert "cases: None handwritten: None" in out
    assert not (purelib / "cases").exists() and not (purelib / "handwritten").exists()


def test_the_api_passes_the_good_file_and_raises_on_the_planted_bug(runs):
    rc, out = runs["api"]
    assert rc == 0, out
    assert ("good: True {'staged': 'passed', 'sigmoid': 'passed', 'exp': 'not implemented'}"
            in out), out
    bad = out[out.index("bad: "):]
    assert bad.startswith("bad: AssertionError: gradref: bad.py fails 1 of 2 cases (staged)"), out
    assert "staged-s0: dy vs jax.vjp: 1 of 1 entries off" in bad


def test_the_plugin_runs_the_checks_in_a_project_of_its_own(runs):
    """28 checks (3 cases, 2 samples, 4 checks; relu's 4 kink samples) beside the project's own 5
    tests over the cases."""
    rc, out = runs["pytest good"]
    assert rc == 0 and "33 passed" in out, out
    rc, out = runs["pytest bad"]
    assert rc == 1 and "4 failed, 29 passed" in out, out
    assert "FAILED gradref::test_matches_jax[staged-s0]" in out
    assert "staged-s0: dy vs jax.vjp: 1 of 1 entries off" in out


def test_known_failures_turn_the_bug_into_xfails(runs):
    """A case entry makes each test of the case a non-strict xfail, as in the checkout: the four
    checks of dy fail as expected, the four of the forward and its hygiene pass (xpassed)."""
    rc, out = runs["pytest bad, known"]
    assert rc == 0 and "25 passed, 4 xfailed, 4 xpassed" in out, out
    assert "XFAIL gradref::test_matches_fd[staged-s1] - known failure (known.txt, line 1)" in out


def test_a_failure_names_the_command_that_reproduces_it_and_that_command_does(installed, runs):
    python, project, _ = installed
    out = runs["pytest bad"][1]
    line = next(s for s in out.splitlines() if s.startswith("reproduce: ")
                and "test_matches_fd[staged-s1]" in s)
    assert line == ('reproduce: pytest --gradref-impl bad.py --gradref-samples 2 --gradref-case '
                    'staged -k "test_matches_fd[staged-s1]"')
    r = run(python, "-m", *shlex.split(line.removeprefix("reproduce: ")), "-p", "no:cacheprovider",
            cwd=project)
    assert r.returncode == 1 and "1 failed" in r.stdout and "FAILED gradref::test_matches_fd[staged-s1]" in r.stdout, r.stdout


def test_the_shipped_vectors_judge_a_results_file_from_any_folder(installed, runs):
    _, _, purelib = installed
    rc, out = runs["api"]
    assert f"vectors-path: {purelib / 'gradref' / 'vectors'}\n" in out, out
    assert (purelib / "gradref" / "vectors" / "schema.json").is_file()
    assert "1 cases: 1 passed" in out and "check-results: 0" in out, out
