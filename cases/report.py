"""`gradref report`: check an implementation on the whole catalogue and print one row per case."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from . import mutants as mutants_mod
from .catalogue import get, select
from .check import CaseResult, check_case
from .impl import Implementation
from .tolerance import FD_DIRECTIONS, rtol


def run(impl: Implementation, case_names=(), seed: int = 0, n: int = 20,
        dtype: str = "float64") -> list[CaseResult]:
    return [check_case(c, impl, seed, n, dtype) for c in select(case_names)]


def mutation_score(case_names=(), seed: int = 0, n: int = 20) -> tuple[int, list]:
    """(caught, missed mutants) over the mutants of the selected cases."""
    names = {c.name for c in select(case_names)}
    chosen = [m for m in mutants_mod.MUTANTS if m.case in names]
    missed = [m for m in chosen
              if check_case(get(m.case), mutants_mod.mutate(m), seed, n).status != "failed"]
    return len(chosen) - len(missed), missed


def _e(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.1e}"


def table(results: list[CaseResult]) -> str:
    rows = [("case", "source", "samples", "forward", "vs jax", "vs fd", "fd", "status")]
    for r in results:
        c = r.case
        fd = "full" if c.fd_mode == "full" else f"{FD_DIRECTIONS} dirs"
        rows.append((c.name, c.source.split(" ")[0], str(len(r.samples)), _e(r.worst("forward")),
                     _e(r.worst("jax")), _e(r.worst("fd")), fd, r.status.upper()))
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) if k in (0, 1, 6, 7) else v.rjust(w)
                       for k, (v, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def details(results: list[CaseResult], per_case: int = 3) -> str:
    out = []
    for r in results:
        if r.status == "not implemented":
            out.append(f"{r.case.name}: not implemented ({r.not_implemented})")
        failures = r.failures()
        if failures:
            out.append(f"{r.case.name}: {len(failures)} failed checks; first {min(per_case, len(failures))}:")
            out.extend("  " + v.message.replace("\n", "\n  ") for _, v in failures[:per_case])
    return "\n".join(out)


def to_json(results, impl, seed, n, dtype, score, seconds) -> dict:
    cases = []
    for r in results:
        cases.append({
            "case": r.case.name, "op": r.case.op, "source": r.case.source, "status": r.status,
            "not_implemented": r.not_implemented or None, "samples": len(r.samples),
            "fd_mode": r.case.fd_mode, "kink": r.case.kink or None,
            "worst": {k: (None if np.isnan(r.worst(k)) else r.worst(k))
                      for k in ("forward", "jax", "fd")},
            "failures": [{"check": chk, "message": v.message} for chk, v in r.failures()[:20]],
        })
    doc = {"implementation": impl.name, "seed": seed, "samples_per_case": n, "dtype": dtype,
           "bound_forward_jax": rtol(np.dtype(dtype)), "seconds": round(seconds, 3),
           "summary": {s: sum(r.status == s for r in results)
                       for s in ("passed", "failed", "not implemented")},
           "cases": cases}
    if score is not None:
        caught, missed = score
        doc["mutation"] = {"caught": caught, "total": caught + len(missed),
                           "missed": [m.id for m in missed]}
    return doc


def main(args, impl: Implementation) -> int:
    start = time.perf_counter()
    results = run(impl, args.case, args.seed, args.samples, args.dtype)
    score = None
    if impl.name == "handwritten" and not args.no_mutants:
        score = mutation_score(args.case, args.seed, args.samples)
    seconds = time.perf_counter() - start
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "not implemented")}
    print(f"gradref report: {impl.name}, {args.samples} samples per case, seed {args.seed}, "
          f"{args.dtype} (forward/jax bound {rtol(np.dtype(args.dtype)):.1e}; fd bound estimated "
          "per sample)\n")
    print(table(results))
    more = details(results)
    if more:
        print("\n" + more)
    print(f"\n{len(results)} cases: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['not implemented']} not implemented; "
          f"{sum(len(r.samples) for r in results)} samples checked in {seconds:.1f} s")
    if score is not None:
        caught, missed = score
        total = caught + len(missed)
        print(f"mutation score: {caught}/{total} planted bugs caught "
              f"({100.0 * caught / max(total, 1):.0f}%)"
              + ("" if not missed else "; missed: " + ", ".join(m.id for m in missed)))
    if args.json:
        Path(args.json).write_text(json.dumps(
            to_json(results, impl, args.seed, args.samples, args.dtype, score, seconds), indent=2))
        print(f"wrote {args.json}")
    return 1 if counts["failed"] or (score is not None and score[1]) else 0
