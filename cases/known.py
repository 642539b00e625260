"""Known failures (`--xfails FILE`): what an implementer expects to fail while working on it.

The file lists one entry a line, `#` starts a comment:

    softmax_loss                       # a case name: every check of every sample of the case
    test_matches_jax[staged-s3]        # a test id: that check of that sample
    tests/test_reference.py::test_matches_fd[matmul-s0]    # a full node id works too

An expected failure that fails is reported as xfail and not counted as a failure; one that passes
is reported as XPASS and counted as a failure (strict: remove the line once the op is fixed); an
entry that matches nothing is warned about. pytest-specific marking lives in cases/pytest_checks.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .catalogue import CASES
from .check import CHECKS, CaseResult
from .impl import ImplementationError
from .sampling import sample_id, sample_index

GOLDEN_TEST = "test_implementation_matches_golden"
_PARAM = re.compile(r"(?P<case>.+)-(?P<kind>[sg])(?P<index>\d+)")


@dataclass(frozen=True)
class Entry:
    path: str
    line: int
    text: str        # the entry as written (a node id keeps its path)

    @property
    def tail(self) -> str:
        """The test id without its file: `test_matches_jax[staged-s3]`, or a case name."""
        return self.text.rsplit("::", 1)[-1]

    @property
    def where(self) -> str:
        return f"{self.path}, line {self.line}"

    @property
    def case(self) -> str:
        """The case the entry is about ("" if it names neither a case nor a case's test)."""
        m = re.fullmatch(r"(?P<test>\w+)\[(?P<param>[^\]]+)\]", self.tail)
        if m is None:
            return self.tail if self.tail in _NAMES else ""
        p = _PARAM.fullmatch(m["param"])
        return p["case"] if p and p["case"] in _NAMES else ""

    def matches_test(self, name: str, nodeid: str, case: str | None) -> bool:
        """Whether this entry selects the pytest item (`name` like test_matches_jax[staged-s3])."""
        return self.text == nodeid or self.tail == name or (case is not None and self.tail == case)

    def matches_check(self, case: str, sample: int, check: str) -> bool:
        return self.tail == case or self.tail == f"{CHECKS[check]}[{sample_id(case, sample)}]"


_NAMES = {c.name for c in CASES}


def read(path: str) -> list[Entry]:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ImplementationError(f"--xfails {path}: {e.strerror or e}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            entries.append(Entry(path, number, line))
    return entries


def judge(result: CaseResult, entries: list[Entry]) -> tuple[str, list[str]]:
    """(status, notes) of a case under the known failures: a failure covered by an entry is
    expected ("xfail"); an entry whose checks all passed is an XPASS, counted as a failure."""
    mine = [e for e in entries if e.case == result.case.name]
    if result.not_implemented or result.stopped or not mine:   # a crash is never expected
        return result.status, []
    index = [sample_index(s.id) for s in result.samples]
    failed = [(i, chk) for i, s in zip(index, result.samples)
              for chk, v in s.verdicts().items() if not v.ok]
    uncovered = [(i, chk) for i, chk in failed
                 if not any(e.matches_check(result.case.name, i, chk) for e in mine)]
    xpass = []
    for e in mine:
        hits = [(i, chk) for i in index for chk in CHECKS
                if e.matches_check(result.case.name, i, chk)]
        if hits and not any(h in failed for h in hits):
            xpass.append(f"{result.case.name}: XPASS {e.text!r} ({e.where}) passed: "
                         "remove it from the known failures")
    if uncovered:
        return ("failed" if result.status == "failed" else "beyond contract"), xpass
    if xpass:
        return "xpass", xpass
    return ("xfail" if failed else result.status), []


def unmatched(entries: list[Entry], results: list[CaseResult]) -> list[str]:
    """One warning line per entry that names nothing `gradref report` can check."""
    warnings = []
    for e in entries:
        p = _PARAM.fullmatch(e.tail.partition("[")[2].rstrip("]"))
        test = e.tail.partition("[")[0]
        known_test = test in CHECKS.values() or test == GOLDEN_TEST
        ok = e.case and (e.tail == e.case or (known_test and p is not None))
        if ok and p is not None and p["kind"] == "s":
            n = next((len(r.samples) for r in results if r.case.name == e.case), None)
            ok = n is None or not n or int(p["index"]) < n   # not selected / not implemented: fine
        if not ok:
            warnings.append(f"warning: known failure {e.text!r} ({e.where}) matches no case or test")
    return warnings
