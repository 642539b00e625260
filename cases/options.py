"""The options, declared once: `gradref report`, `results`, `check-results`, `matrix` (argparse,
cases/cli.py) and pytest (bare in the checkout's conftest.py, as `--gradref-*` in the installed
plugin) all take them from OPTIONS. Nothing here imports NumPy or JAX: the pytest plugin declares
them in every pytest run of every project where gradref is installed.
"""

from __future__ import annotations

DEFAULT_TIMEOUT = 60.0     # seconds per call of the implementation (and for importing it)
DTYPES = ("float32", "float64")

IMPL = "a .py file, a folder or a module (default: handwritten)"
XFAILS = "known failures: one test id or case name a line (# comments)"
OPTIONS = {   # name -> argparse's keyword arguments
    "samples": dict(type=int, default=20, help="random samples per case (default 20)"),
    "seed": dict(type=int, default=0, help="global seed (default 0)"),
    "case": dict(nargs="+", default=[], metavar="NAME", help="only these cases"),
    "impl": dict(default=None, help=f"implementation: {IMPL}"),
    "mutant": dict(default=None, help="the handwritten reference with this mutant planted"),
    "dtype": dict(default="float64", choices=DTYPES,
                  help="dtype the implementation computes in (oracles stay float64)"),
    "xfails": dict(metavar="FILE", default=None, help=XFAILS),
    "timeout": dict(type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                    help=f"longest a call of the implementation may take (default "
                         f"{DEFAULT_TIMEOUT:g}); past it the case is TIMEOUT and the run goes on"),
    "json": dict(metavar="PATH", help="also write the results as JSON"),
}
# Under pytest --case is repeated rather than given several names: a list after --case would
# swallow the test paths that follow it on a pytest command line.
PYTEST_OPTIONS = ("samples", "seed", "impl", "dtype", "case", "xfails", "timeout")
PYTEST_CASE = dict(action="append", default=[], metavar="NAME", help="only this case (repeatable)")


def add(parser, *names: str, **changed: dict) -> None:
    """Add the options `names` to an argparse parser; `changed`: per option, keywords that differ
    for this command (`samples=dict(help=...)`)."""
    for name in names:
        parser.add_argument(f"--{name}", **{**OPTIONS[name], **changed.get(name, {})})


def add_pytest(group, prefix: str = "") -> None:
    """The pytest options, each as --<prefix><name>: the checkout's conftest.py adds them bare,
    the installed plugin with its prefix. Validated in cases/pytest_checks.configure."""
    for name in PYTEST_OPTIONS:
        group.addoption(f"--{prefix}{name}", dest=f"{prefix}{name}".replace("-", "_"),
                        **(PYTEST_CASE if name == "case" else OPTIONS[name]))
