"""gradref from Python: check an implementation of the CS231n calling convention.

    import gradref

    results = gradref.check("my_layers.py", cases=["affine", "relu"])
    results.passed                  # True unless a case failed
    results.status["affine"]        # passed, failed, not implemented, beyond contract
    results.messages["affine"]      # what `gradref report` says about the case ("" if nothing)
    results.to_json()               # the document `gradref report --json` writes
    print(results)                  # the report: table, details, summary line

    gradref.assert_conforms(my_layers, cases="affine")    # AssertionError with the report's messages

`impl` is what `--impl` takes (a .py file, a folder of them, a module name, several comma-separated,
or "handwritten") or a module object. This file is the installed package's top level: pyproject.toml
maps cases/gradref/ to `gradref`, cases/ to `gradref.cases` (the machinery) and handwritten/ to
`gradref.handwritten`. The machinery is imported on first call, not here, so that loading the pytest
plugin (gradref.pytest_plugin) in a project that does not use it costs nothing.
"""

from __future__ import annotations

import json
import os
import time
import types
from dataclasses import dataclass, field

__all__ = ["check", "assert_conforms", "Results", "ImplementationError"]
# The only failures check() reports as a status: everything else it counts (not implemented,
# beyond contract) is not held against the implementation, as in `gradref report`.
FAILING = ("failed", "xpass")


class ImplementationError(Exception):
    """The implementation cannot be loaded at all (no such file, an import error); one line."""


@dataclass(frozen=True)
class Results:
    """What check() found: per case its status and the report's messages, and the JSON document."""
    implementation: str
    status: dict[str, str]           # case name -> status, in catalogue order
    messages: dict[str, str]         # case name -> the report's details for it ("" when none)
    document: dict = field(repr=False)   # the same document as `gradref report --json`
    text: str = field(repr=False, default="")   # the report as `gradref report` prints it

    @property
    def passed(self) -> bool:
        return not any(s in FAILING for s in self.status.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, s in self.status.items() if s in FAILING]

    def to_json(self) -> str:
        """The text `gradref report --json PATH` writes into PATH."""
        return json.dumps(self.document, indent=2)

    def __str__(self) -> str:
        return self.text


def _implementation(impl):
    from .cases import impl as impl_mod
    if isinstance(impl, types.ModuleType):
        return impl_mod.from_module(impl)
    if isinstance(impl, (str, os.PathLike)):
        try:
            return impl_mod.load(os.fspath(impl))
        except impl_mod.ImplementationError as e:
            raise ImplementationError(str(e)) from None
    raise TypeError(f"impl: give a .py file, a folder, a module name or a module object, "
                    f"not a {type(impl).__name__}")


def check(impl, cases=None, samples: int = 20, seed: int = 0, dtype: str = "float64",
          timeout: float | None = None) -> Results:
    """Check `impl` on the catalogue (or the named `cases`: one name or a list), `samples` random
    samples per case, as `gradref report` does (without the mutation score). Never raises for what
    the implementation does; raises ValueError for bad arguments and ImplementationError for an
    implementation that cannot be imported. `timeout` is reserved for the per-case time limit of
    the worker process that is coming (it runs implementations in a separate process); today the
    checks run in this process with no limit, and any other value than None raises."""
    from .cases import check as check_mod
    from .cases import report
    from .cases.spec import CaseError

    if timeout is not None:
        raise NotImplementedError("gradref.check(timeout=...): reserved; implementations run in "
                                  "this process, without a time limit, in this version")
    names = [cases] if isinstance(cases, str) else list(cases or ())
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be an int of at least 1, not {samples!r}")
    if dtype not in check_mod.DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(sorted(check_mod.DTYPES))}, not {dtype!r}")
    implementation = _implementation(impl)
    start = time.perf_counter()
    try:
        case_results = report.run(implementation, names, seed, samples, dtype)
    except CaseError as e:
        raise ValueError(str(e)) from None
    seconds = time.perf_counter() - start
    status = report.statuses(case_results)
    document = report.to_json(case_results, implementation, seed, samples, dtype, None, seconds,
                              status)
    messages = {r.case.name: report.details([r], status=[st]) for r, st in zip(case_results, status)}
    counts = {s: status.count(s) for s in report.STATUSES}
    text = "\n\n".join(t for t in (
        f"gradref: {implementation.name}, {samples} samples per case, seed {seed}, {dtype}",
        report.table(case_results, status), report.details(case_results, status=status),
        f"{len(status)} cases: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)) if t)
    return Results(implementation.name, {r.case.name: st for r, st in zip(case_results, status)},
                   messages, document, text)


def assert_conforms(impl, cases=None, samples: int = 20, seed: int = 0, dtype: str = "float64",
                    timeout: float | None = None) -> Results:
    """check(), then one AssertionError naming every failed case with the report's messages (an
    implementation that cannot be imported fails too). Returns the results when all passed."""
    try:
        results = check(impl, cases, samples, seed, dtype, timeout)
    except ImplementationError as e:
        raise AssertionError(f"gradref: {e}") from None
    if not results.passed:
        details = "\n".join(results.messages[name] for name in results.failed)
        raise AssertionError(f"gradref: {results.implementation} fails {len(results.failed)} of "
                             f"{len(results.status)} cases ({', '.join(results.failed)})\n{details}")
    return results
