"""`gradref report`: check an implementation on the whole catalogue and print one row per case."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import known as known_mod
from . import mutants as mutants_mod
from . import oracles, worker
from .catalogue import get, select
from .check import CHECKS, TESTS, CaseResult, check_case
from .impl import Implementation, ImplementationError
from .spec import Mutant
from .tolerance import FD_DIRECTIONS, rtol


def run(impl: Implementation, case_names=(), seed: int = 0, n: int = 20,
        dtype: str = "float64", first: int = 0,
        timeout: float = worker.DEFAULT_TIMEOUT) -> list[CaseResult]:
    chosen = select(case_names)
    for c in chosen:       # compile ahead, in the order checked, while earlier cases run
        oracles.prefetch(c)
    return [check_case(c, impl, seed, n, dtype, first, timeout) for c in chosen]


@dataclass
class Hunt:
    """One planted bug hunted: the verdict of what was checked, the first sample that failed ("" if
    none did) and how many samples were run before the hunt stopped."""
    mutant: Mutant
    verdict: str
    first_failing: str
    samples: int

    @property
    def caught(self) -> bool:
        return self.verdict == self.mutant.expect


HUNT_GROWTH = 4   # each stage of a hunt checks 3x as many samples as all stages before it


def hunt_stages(n: int) -> list[tuple[int, int]]:
    """(first, count) of each stage over samples 0..n-1: [0, 1), [1, 4), [4, 16), ... A mutant
    that fails sample 0 costs one sample; one that passes everything costs the n samples, in
    log4(n) round trips instead of one."""
    stages, start = [], 0
    while start < n:
        stop = min(n, max(1, start * HUNT_GROWTH))
        stages.append((start, stop - start))
        start = stop
    return stages


def hunt(m: Mutant, seed: int = 0, n: int = 20, dtype: str = "float64",
         timeout: float = worker.DEFAULT_TIMEOUT) -> Hunt:
    """Check the reference with `m` planted on samples 0..n-1 and at the kinks, stopping at the
    first stage with a failing sample: the verdict is the one a full run gives (a failed sample
    fails the case whatever the rest), at a fraction of the cost; the kinks, which can only turn
    a passing case into failed or "convention differs", are checked once the samples all pass."""
    case, impl = get(m.case), mutants_mod.mutate(m)
    for first, count in hunt_stages(n):
        last = first + count == n
        r = check_case(case, impl, seed, count, dtype, first, timeout, at_kinks=last)
        if r.status != "passed" or last:
            bad = [s.id for s in r.samples if not s.ok] + [k.id for k in r.kinks
                                                           if k.status == "failed"]
            return Hunt(m, mutants_mod.verdict(r), bad[0] if bad else "", first + r.checked)
    raise ValueError("a hunt needs at least one sample")


def mutation_hunts(case_names=(), seed: int = 0, n: int = 20) -> list[Hunt]:
    """Every mutant of the selected cases, hunted (hunt)."""
    names = {c.name for c in select(case_names)}
    return [hunt(m, seed, n) for m in mutants_mod.MUTANTS if m.case in names]


def mutation_score(case_names=(), seed: int = 0, n: int = 20) -> tuple[int, list]:
    """(caught, missed mutants) over the mutants of the selected cases. A mutant is caught when
    its case gets the mutant's expected verdict (a crash or a hang is not what any expects)."""
    hunts = mutation_hunts(case_names, seed, n)
    missed = [h.mutant for h in hunts if not h.caught]
    return len(hunts) - len(missed), missed


def mutation_line(hunts: list[Hunt]) -> str:
    missed = [h.mutant.id for h in hunts if not h.caught]
    caught = len(hunts) - len(missed)
    return (f"mutation score: {caught}/{len(hunts)} planted bugs caught "
            f"({100.0 * caught / max(len(hunts), 1):.0f}%), on {sum(h.samples for h in hunts)} "
            f"samples (each hunt stops at its first failing stage)"
            + ("" if not missed else "; missed: " + ", ".join(missed)))


def mutation_json(hunts: list[Hunt]) -> dict:
    """The mutation score as a table: per planted bug, its verdict and the first sample that
    failed it."""
    caught = sum(h.caught for h in hunts)
    return {"caught": caught, "total": len(hunts),
            "missed": [h.mutant.id for h in hunts if not h.caught],
            "mutants": [{"id": h.mutant.id, "case": h.mutant.case, "kind": h.mutant.kind,
                         "expect": h.mutant.expect, "verdict": h.verdict, "caught": h.caught,
                         "first_failing": h.first_failing or None, "samples_run": h.samples}
                        for h in hunts]}


def _e(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.1e}"


STATUSES = ("passed", "failed", "crashed", "timeout", "not implemented", "beyond contract", "xfail",
            "xpass")
BAD = ("failed", "crashed", "timeout", "xpass")
# Exit statuses of `gradref report` and `gradref check-results` (README, "Exit statuses").
EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_NOTHING_CHECKED = 0, 1, 2, 3


def exit_status(status: list[str], mutants_missed: bool = False) -> int:
    """0 only when at least one case was checked and all passed (known failures and cases beyond
    the source's contract included); 1 when any failed, crashed, timed out or passed unexpectedly
    (or a mutant was missed); 3 when nothing was checked (every case not implemented)."""
    if mutants_missed or any(st in BAD for st in status):
        return EXIT_FAILED
    if not any(st in ("passed", "xfail", "beyond contract") for st in status):
        return EXIT_NOTHING_CHECKED
    return EXIT_PASSED


def statuses(results: list[CaseResult], entries=()) -> list[str]:
    """Each case's status, with the known failures (`--xfails`) applied."""
    return [known_mod.judge(r, list(entries))[0] for r in results]


def failed_checks(r: CaseResult) -> dict:
    """Per failed check: how many samples, the worst error, the first failing id and its reproducer."""
    out = {}
    for chk in CHECKS:
        bad = [s for s in r.samples if not getattr(s, chk).ok]
        if bad:
            errors = [getattr(s, chk).error for s in bad if not np.isnan(getattr(s, chk).error)]
            worst = max(bad, key=lambda s: np.nan_to_num(getattr(s, chk).error, nan=np.inf))
            message = getattr(worst, chk).message
            out[chk] = {"test": CHECKS[chk], "samples_failed": len(bad),
                        "worst_error": max(errors) if errors else None, "worst_id": worst.id,
                        "reproduce": message.rsplit("\n", 1)[-1].removeprefix("reproduce: ")}
    bad = [k for k in r.kinks if k.status == "failed"]
    if bad:
        out["kink"] = {"test": TESTS["kink"], "samples_failed": len(bad), "worst_error": None,
                       "worst_id": bad[0].id, "reproduce": bad[0].message.rsplit("\n", 1)[-1]
                       .removeprefix("reproduce: ")}
    return out


def table(results: list[CaseResult], status: list[str] | None = None) -> str:
    status = status or [r.status for r in results]
    rows = [("case", "source", "samples", "forward", "vs jax", "vs fd", "fd", "at kinks",
             "status")]
    for r, st in zip(results, status):
        c = r.case
        fd = "full" if c.fd_mode == "full" else f"{FD_DIRECTIONS} dirs"
        kink = f"{r.kink_status.upper()} ({len(r.kinks)})" if r.kinks else "-"
        rows.append((c.name, c.source.split(" ")[0], str(r.checked), _e(r.worst("forward")),
                     _e(r.worst("jax")), _e(r.worst("fd")), fd, kink, st.upper()))
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) if k in (0, 1, 6, 7, 8) else v.rjust(w)
                       for k, (v, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def details(results: list[CaseResult], per_case: int = 3, status: list[str] | None = None) -> str:
    out = []
    for r, st in zip(results, status or [r.status for r in results]):
        if r.status == "not implemented":
            out.append(f"{r.case.name}: not implemented ({r.not_implemented})")
        if r.stopped:
            out.append(f"{r.case.name}: {r.stopped.upper()}: {r.reason}")
            continue
        differs = [k for k in r.kinks if k.status == "convention differs"]
        if differs:
            out.append(f"{r.case.name}: at its kinks, another convention on {len(differs)} of "
                       f"{len(r.kinks)} kink samples (not a failure): "
                       + differs[0].message.split("\n")[0])
        failures = r.failures()
        if failures and st == "beyond contract":
            out.append(f"{r.case.name}: beyond contract ({r.beyond_contract}); not held against "
                       f"it: {len(failures)} checks did not pass, first: "
                       + failures[0][1].message.split("\n")[0])
        elif failures and st == "xfail":
            out.append(f"{r.case.name}: xfail, {len(failures)} failed checks, all known failures")
        elif failures:
            for chk, f in failed_checks(r).items():
                of = f"{len(r.kinks)} kink" if chk == "kink" else str(len(r.samples))
                out.append(f"{r.case.name}: {f['test']} failed on {f['samples_failed']} of "
                           f"{of} samples; worst {_e(f['worst_error'] or np.nan)} at "
                           f"{f['worst_id']}: {f['reproduce']}")
            out.append(f"{r.case.name}: {len(failures)} failed checks; first {min(per_case, len(failures))}:")
            out.extend("  " + v.message.replace("\n", "\n  ") for _, v in failures[:per_case])
    return "\n".join(out)


def _ops(cases: list[dict]) -> dict:
    """Per op (several cases may share one): the worst status of its cases."""
    rank = {"crashed": 0, "timeout": 0, "failed": 0, "xpass": 1, "xfail": 2, "beyond contract": 3,
            "passed": 4, "not implemented": 5}
    ops: dict = {}
    for c in cases:
        op = ops.setdefault(c["op"], {"status": c["status"], "cases": []})
        op["cases"].append(c["case"])
        if rank[c["status"]] < rank[op["status"]]:
            op["status"] = c["status"]
    return ops


def to_json(results, impl, seed, n, dtype, hunts, seconds, status=None, notes=()) -> dict:
    """`impl`: the Implementation checked, or its name; `hunts`: the mutation score's (or None)."""
    status = status or [r.status for r in results]
    cases = []
    for r, st in zip(results, status):
        cases.append({
            "case": r.case.name, "op": r.case.op, "source": r.case.source, "status": st,
            "not_implemented": r.not_implemented or None,
            "beyond_contract": r.case.beyond_contract or None, "samples": r.checked,
            "reason": r.reason or None,
            "fd_mode": r.case.fd_mode, "kink": r.case.kink or None,
            "at_kinks": {"status": r.kink_status or None, "samples": len(r.kinks),
                         "verdicts": [{"id": k.id, "status": k.status, "message": k.message or None}
                                      for k in r.kinks]},
            "worst": {k: (None if np.isnan(r.worst(k)) else r.worst(k))
                      for k in ("forward", "jax", "fd")},
            "failed_checks": failed_checks(r),
            "failures": [{"check": chk, "message": v.message} for chk, v in r.failures()[:20]],
        })
    doc = {"implementation": getattr(impl, "name", impl), "seed": seed, "samples_per_case": n,
           "dtype": dtype, "bound_forward_jax": rtol(np.dtype(dtype)), "seconds": round(seconds, 3),
           "summary": {s: sum(st == s for st in status) for s in STATUSES},
           "ops": _ops(cases), "notes": list(notes), "cases": cases}
    if hunts is not None:
        doc["mutation"] = mutation_json(hunts)
    return doc


def render(results: list[CaseResult], header: str, status: list[str], notes=(),
           seconds: float = 0.0) -> dict:
    """Print the header, the table, the details and the summary line; return the counts."""
    counts = {s: sum(st == s for st in status) for s in STATUSES}
    print(header + "\n")
    print(table(results, status))
    more = "\n".join([details(results, status=status)] + list(notes)).strip()
    if more:
        print("\n" + more)
    more = "".join(f", {counts[s]} {s}" for s in ("crashed", "timeout", "beyond contract",
                                                  "xfail", "xpass") if counts[s])
    differ = sum(r.kink_status == "convention differs" for r in results)
    more += f", {differ} with another convention at kinks" if differ else ""
    print(f"\n{len(results)} cases: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['not implemented']} not implemented{more}; "
          f"{sum(r.checked for r in results)} samples checked in {seconds:.1f} s")
    if not any(st in ("passed", "xfail", "beyond contract", *BAD) for st in status):
        print("nothing was checked: no case is implemented (exit status 3)")
    return counts


def main(args, impl: Implementation) -> int:
    start = time.perf_counter()
    entries = known_mod.read(args.xfails) if args.xfails else []   # a bad file: before the run
    first, n = (args.sample, 1) if args.sample is not None else (0, args.samples)
    try:    # import it now: an import that fails is a usage error (2), before any case runs
        problems = worker.runner(impl, args.timeout).problems   # a folder's modules that did not
    except worker.WorkerDied as e:
        raise ImplementationError(f"--impl {impl.name}: import failed: {e.status}: {e.reason}") from None
    results = run(impl, args.case, args.seed, n, args.dtype, first, args.timeout)
    hunts = None
    if impl.name == "handwritten" and not args.no_mutants:
        hunts = mutation_hunts(args.case, args.seed, args.samples)
    which = f"sample {first}" if args.sample is not None else f"{n} samples per case"
    return conclude(args, results, entries, start, impl, args.seed, n, args.dtype,
                    f"gradref report: {impl.name}, {which}, seed {args.seed}, {args.dtype} "
                    f"(forward/jax bound {rtol(np.dtype(args.dtype)):.1e}; fd bound estimated per "
                    "sample)", [f"import: {line}" for line in problems], hunts)


def main_results(args, vectors, results: dict) -> int:
    """`gradref check-results`: a results file judged like an implementation."""
    start = time.perf_counter()
    entries = known_mod.read(args.xfails) if args.xfails else []
    docs = vectors.load_documents(args.vectors, args.case)
    checked = vectors.check_results(docs, results, args.vectors, args.results)
    name = results.get("implementation", args.results)
    seed = docs[0]["seed"] if docs else 0
    n = max((len(d["samples"]) for d in docs), default=0)
    return conclude(args, checked, entries, start, name, seed, n, "float64",
                    f"gradref check-results: {name} ({args.results}) against {args.vectors}, "
                    f"{n} samples per case, seed {seed}, float64 (forward/jax bound "
                    f"{rtol(np.float64):.1e}; fd bound estimated per sample)")


def conclude(args, results: list[CaseResult], entries: list, start: float, impl, seed: int,
             n: int, dtype: str, header: str, more_notes=(), hunts=None) -> int:
    """What `report` and `check-results` do once the cases are judged: the known failures applied,
    the table printed, the JSON (and HTML) written; the exit status. `impl`: the Implementation
    checked, or its name."""
    judged = [known_mod.judge(r, entries) for r in results]
    status = [st for st, _ in judged]
    notes = [line for _, ns in judged for line in ns] + list(more_notes)
    for warning in known_mod.unmatched(entries, results):
        print(warning, file=sys.stderr)
    seconds = time.perf_counter() - start
    render(results, header, status, notes, seconds)
    if hunts is not None:
        print(mutation_line(hunts))
    doc = None                           # built only where it is written
    if args.json or getattr(args, "html", None):
        doc = to_json(results, impl, seed, n, dtype, hunts, seconds, status, notes)
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2))
        print(f"wrote {args.json}")
    if getattr(args, "html", None):
        from . import html_report
        Path(args.html).write_text(html_report.render(html_report.attach_pictures(doc, impl)))
        print(f"wrote {args.html}")
    return exit_status(status, hunts is not None and not all(h.caught for h in hunts))
