"""`gradref report`: check an implementation on the whole catalogue and print one row per case."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from . import known as known_mod
from . import mutants as mutants_mod
from . import oracles, worker
from .catalogue import get, select
from .check import CHECKS, TESTS, CaseResult, check_case
from .impl import Implementation, ImplementationError
from .tolerance import FD_DIRECTIONS, rtol


def run(impl: Implementation, case_names=(), seed: int = 0, n: int = 20,
        dtype: str = "float64", first: int = 0,
        timeout: float = worker.DEFAULT_TIMEOUT) -> list[CaseResult]:
    chosen = select(case_names)
    for c in chosen:       # compile ahead, in the order checked, while earlier cases run
        oracles.prefetch(c)
    return [check_case(c, impl, seed, n, dtype, first, timeout) for c in chosen]


def mutation_score(case_names=(), seed: int = 0, n: int = 20) -> tuple[int, list]:
    """(caught, missed mutants) over the mutants of the selected cases. A mutant is caught when
    its case fails (crashing or hanging would be caught too, but no mutant here does either)."""
    names = {c.name for c in select(case_names)}
    chosen = [m for m in mutants_mod.MUTANTS if m.case in names]
    missed = [m for m in chosen
              if not mutants_mod.caught(m, check_case(get(m.case), mutants_mod.mutate(m), seed, n))]
    return len(chosen) - len(missed), missed


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


def to_json(results, impl, seed, n, dtype, score, seconds, status=None, notes=()) -> dict:
    """`impl`: the Implementation checked, or its name."""
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
    if score is not None:
        caught, missed = score
        doc["mutation"] = {"caught": caught, "total": caught + len(missed),
                           "missed": [m.id for m in missed]}
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
    entries = known_mod.read(args.xfails) if getattr(args, "xfails", None) else []
    first, n = (args.sample, 1) if args.sample is not None else (0, args.samples)
    try:    # import it now: an import that fails is a usage error (2), before any case runs
        problems = worker.runner(impl, args.timeout).problems   # a folder's modules that did not
    except worker.WorkerDied as e:
        raise ImplementationError(f"--impl {impl.name}: import failed: {e.status}: {e.reason}") from None
    results = run(impl, args.case, args.seed, n, args.dtype, first, args.timeout)
    judged = [known_mod.judge(r, entries) for r in results]
    status = [st for st, _ in judged]
    notes = [line for _, ns in judged for line in ns]
    notes += [f"import: {line}" for line in problems]     # import, one line each
    for warning in known_mod.unmatched(entries, results):
        print(warning, file=sys.stderr)
    score = None
    if impl.name == "handwritten" and not args.no_mutants:
        score = mutation_score(args.case, args.seed, args.samples)
    seconds = time.perf_counter() - start
    which = f"sample {first}" if args.sample is not None else f"{n} samples per case"
    render(results, f"gradref report: {impl.name}, {which}, seed "
           f"{args.seed}, {args.dtype} (forward/jax bound {rtol(np.dtype(args.dtype)):.1e}; "
           "fd bound estimated per sample)", status, notes, seconds)
    if score is not None:
        caught, missed = score
        total = caught + len(missed)
        print(f"mutation score: {caught}/{total} planted bugs caught "
              f"({100.0 * caught / max(total, 1):.0f}%)"
              + ("" if not missed else "; missed: " + ", ".join(m.id for m in missed)))
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(
            results, impl, args.seed, n, args.dtype, score, seconds, status, notes),
            indent=2))
        print(f"wrote {args.json}")
    if getattr(args, "html", None):
        from . import html_report
        doc = to_json(results, impl, args.seed, n, args.dtype, score, seconds, status, notes)
        Path(args.html).write_text(html_report.render(html_report.attach_pictures(doc, impl)))
        print(f"wrote {args.html}")
    return exit_status(status, score is not None and bool(score[1]))


def main_results(args, vectors, results: dict) -> int:
    """`gradref check-results`: a results file judged like an implementation."""
    start = time.perf_counter()
    entries = known_mod.read(args.xfails) if args.xfails else []
    docs = vectors.load_documents(args.vectors, args.case)
    checked = vectors.check_results(docs, results, args.vectors, args.results)
    judged = [known_mod.judge(r, entries) for r in checked]
    status = [st for st, _ in judged]
    notes = [line for _, ns in judged for line in ns]
    for warning in known_mod.unmatched(entries, checked):
        print(warning, file=sys.stderr)
    name = results.get("implementation", args.results)
    seconds = time.perf_counter() - start
    seed = docs[0]["seed"] if docs else 0
    n = max((len(d["samples"]) for d in docs), default=0)
    render(checked, f"gradref check-results: {name} ({args.results}) against "
                    f"{args.vectors}, {n} samples per case, seed {seed}, float64 (forward/jax "
                    f"bound {rtol(np.float64):.1e}; fd bound estimated per sample)",
                    status, notes, seconds)
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(
            checked, name, seed, n, "float64", None, seconds, status, notes), indent=2))
        print(f"wrote {args.json}")
    return exit_status(status)
