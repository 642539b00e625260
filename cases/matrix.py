"""`gradref matrix`: several implementations in one run, judged on the same samples, one column
each (per dtype); rows are the cases of the catalogue.

Every implementation runs in its own worker (cases/worker.py); each block of samples is drawn
once, its oracle values are evaluated once and every column is judged against them
(check.check_implementations). A results file (`.json`, from a harness in another language) is one
more column, judged on the samples of the vectors it was computed from. A column that cannot be
imported, crashes or hangs is reported as such and never stops the others.

The JSON (`--json`) is the source: every cell has a `status`; the Markdown (`--markdown`) and the
text table are rendered from it alone. The statuses never merge: PASSED, FAILED (with its worst
error as a multiple of its bound), NOT IMPLEMENTED, CRASHED, TIMEOUT, XFAIL, XPASS, BEYOND
CONTRACT, and apart from them the status at the case's kinks.
"""

from __future__ import annotations

import ast
import json
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from . import check, known, layout, oracles, worker
from .catalogue import select
from .impl import Implementation, ImplementationError, handwritten, load
from .report import BAD, EXIT_FAILED, EXIT_NOTHING_CHECKED, EXIT_PASSED, STATUSES, failed_checks

FORMAT, VERSION = "gradref-matrix", 1
LABEL = re.compile(r"(?P<label>[A-Za-z_][\w.-]*)=(?P<spec>.+)")
# a column as a whole: "checked", or why none of its cells could be checked
COLUMN_STATES = ("checked", "unavailable", "crashed", "timeout")


@dataclass
class Column:
    """One implementation in one dtype. kind: "reference" (the handwritten code), "implementation"
    (a file, folder or module, run in a worker) or "results" (a results file, judged against its
    vectors, in float64)."""
    name: str
    spec: str
    dtype: str
    kind: str
    versions: dict
    impl: Implementation | None = None
    results_doc: dict | None = None
    xfails: list = field(default_factory=list)
    state: str = "checked"
    reason: str = ""
    results: dict = field(default_factory=dict)     # case name -> CaseResult

    @property
    def id(self) -> str:
        return f"{self.name} {self.dtype}"


# --- the columns -------------------------------------------------------------------------------

def parse_impl(text: str) -> tuple[str, str]:
    """`[LABEL=]SPEC` -> (label, spec); the label defaults to the file's stem or the module."""
    m = LABEL.fullmatch(text)
    label, spec = (m["label"], m["spec"]) if m and not Path(text).exists() else ("", text)
    if not spec.strip():
        raise ImplementationError(f"--impl {text!r}: empty: give a .py file, a folder, a module, "
                                  "a results file (.json) or handwritten")
    return label or Path(spec.rstrip("/").split(",")[0]).stem or spec, spec


def installed_version(dist: str) -> str | None:
    """The installed version of a distribution, None where it is not installed."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _distribution_versions(names) -> dict:
    """{distribution: version} of the top-level import names that an installed distribution
    provides (the standard library and local modules have none)."""
    provides = metadata.packages_distributions()
    versions = {dist: installed_version(dist) for name in sorted(names)
                if name not in sys.stdlib_module_names for dist in provides.get(name, ())}
    return {dist: v for dist, v in versions.items() if v is not None}


def _imported_names(path: Path) -> set:
    """The top-level names a Python file imports, read from its source (the implementation is not
    imported in this process: it is untrusted, and only its worker runs it)."""
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def versions_of(spec: str) -> dict:
    """The versions of the distributions an implementation imports directly (its files read, not
    run), or of the module's own distribution; gradref's for the handwritten reference."""
    if spec == "handwritten":
        version = installed_version("gradref")
        return {"gradref": version} if version else {}
    names, local = set(), set()
    for s in spec.split(","):
        p = Path(s)
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p] if p.is_file() else []
        for f in files:
            names |= _imported_names(f)
            local.update(x.stem for x in f.parent.glob("*.py"))
            local.update(x.name for x in f.parent.iterdir() if x.is_dir())
        if not files:
            names.add(s.split(".")[0])
    return _distribution_versions(names - local)


def environment() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(),
            "packages": {d: installed_version(d)
                         for d in ("gradref", "numpy", "jax", "jaxlib", "scipy")}}


def _is_results_file(spec: str) -> bool:
    return spec.endswith(".json") and Path(spec).is_file()


def columns_of(impls: list, dtypes: list, xfails: dict, timeout: float) -> list[Column]:
    """One column per implementation and dtype (a results file: one column, float64), each
    imported once here: one that cannot be is a column that says why, not the end of the run.
    The usage errors (names, --xfails, how many) are said before any worker starts."""
    from . import vectors
    parsed = [parse_impl(text) for text in impls]
    for k, (name, spec) in enumerate(parsed):
        if name in (n for n, _ in parsed[:k]):
            raise ImplementationError(f"--impl {impls[k]}: a second column named {name!r}: "
                                      f"name it, as --impl NAME={spec}")
    unknown = [n for n in xfails if n not in (name for name, _ in parsed)]
    if unknown:
        raise ImplementationError(f"--xfails {', '.join(unknown)}=...: no column of that name")
    run_in_workers = [spec for _, spec in parsed if not _is_results_file(spec)]
    if len(run_in_workers) > worker.MAX_WORKERS:
        raise ImplementationError(f"--impl: {len(run_in_workers)} implementations; a matrix runs "
                                  f"at most {worker.MAX_WORKERS}, each in its own worker")
    if run_in_workers.count("handwritten") > 1:
        raise ImplementationError("--impl handwritten: once per matrix")
    columns = []
    for name, spec in parsed:
        entries = known.read(xfails[name]) if name in xfails else []
        if _is_results_file(spec):
            doc = vectors.read_results(spec)
            versions = {str(k): str(v) for k, v in dict(doc.get("versions") or {}).items()}
            columns.append(Column(name, str(Path(spec).resolve()), "float64", "results",
                                  versions, results_doc=doc, xfails=entries))
            continue
        impl = handwritten() if spec == "handwritten" else load(spec)
        kind = "reference" if impl.own else "implementation"
        state, reason = "checked", ""
        try:
            worker.runner(impl, timeout)
        except ImplementationError as e:
            state, reason = "unavailable", str(e)
        except worker.WorkerDied as e:
            state, reason = e.status, f"while importing: {e.reason}"
        absolute = spec if spec == "handwritten" else impl.recipe[1]
        versions = versions_of(absolute)
        for dtype in dtypes:
            columns.append(Column(name, absolute, dtype, kind, versions, impl,
                                  xfails=entries, state=state, reason=reason))
    return columns


# --- the run -------------------------------------------------------------------------------------

def run(columns: list[Column], case_names, seed: int, n: int, timeout: float,
        vectors_dir: str) -> list:
    """Fill each column's results: every case, every dtype, all implementation columns of a dtype
    together (one draw and one oracle evaluation per block for all of them)."""
    from . import vectors
    chosen = select(case_names)
    for c in chosen:
        oracles.prefetch(c)
    for dtype in dict.fromkeys(c.dtype for c in columns):
        live = [c for c in columns if c.dtype == dtype and c.impl is not None
                and c.state == "checked"]
        for case in chosen:
            if not live:
                break
            for c, r in zip(live, check.check_implementations(
                    case, [c.impl for c in live], seed, n, dtype, 0, timeout)):
                c.results[case.name] = r
    files = [c for c in columns if c.kind == "results"]
    docs = vectors.load_documents(vectors_dir, case_names) if files else []
    for c in files:
        for r in vectors.check_results(docs, c.results_doc, vectors_dir, c.spec):
            c.results[r.case.name] = r
    return chosen


def _finite(x):
    """JSON has no inf: an error that is not finite (NaN, inf returned) is said by the reason."""
    return x if x is not None and np.isfinite(x) else None


def worst_excess(failures: list) -> float | None:
    """A failed case's worst error as a multiple of its bound, over its failures
    (CaseResult.failures); None where none was measured."""
    excess = [v.excess for _, v in failures if not np.isnan(v.excess)]
    return max(excess) if excess else None


def cell(c: Column, case) -> dict:
    r = c.results.get(case.name)
    if r is None:
        why = c.reason if c.state != "checked" else "not in the vectors of this results file"
        return {"status": "unavailable" if c.state == "checked" else c.state, "samples": 0,
                "kinks": {"status": None, "samples": 0}, "excess": None, "check": None,
                "reason": why, "reproduce": None}
    status, _ = known.judge(r, c.xfails)
    failures = r.failures()
    first = next(iter(failed_checks(r).items()), None)
    reason = r.not_implemented or r.reason or (
        failures[0][1].message.split("\n")[0] if failures and status != "passed" else "")
    reproduce = first[1]["reproduce"] if first else None
    if r.stopped and c.impl is not None:   # a crash or hang may need the calls before it: the case
        reproduce = (f"gradref report --case {case.name} --samples {len(r.samples)}"
                     f"{f' --seed {r.seed}' if r.seed else ''}{c.impl.selector}"
                     f"{f' --dtype {c.dtype}' if c.dtype != 'float64' else ''}")
    return {"status": status, "samples": r.checked,
            "kinks": {"status": r.kink_status or None, "samples": len(r.kinks)},
            "excess": _finite(worst_excess(failures)) if status in ("failed", "xfail", "beyond contract")
            else None,
            "check": first[0] if first else None, "reason": reason or None,
            "reproduce": reproduce}


CELL_STATUSES = STATUSES + ("unavailable",)


def totals(cells: list[dict]) -> dict:
    counts = {s: sum(x["status"] == s for x in cells) for s in CELL_STATUSES}
    implemented = len(cells) - counts["not implemented"] - counts["unavailable"]
    kinks = {s: sum(x["kinks"]["status"] == s for x in cells)
             for s in ("passed", "convention differs", "failed")}
    return {"cases": len(cells), "implemented": implemented, **counts, "kinks": kinks}


def to_json(columns: list[Column], chosen: list, settings: dict) -> dict:
    rows = [{"case": case.name, "op": case.op, "source": case.source,
             "cells": {c.id: cell(c, case) for c in columns}} for case in chosen]
    cols = []
    for c in columns:
        cells = [row["cells"][c.id] for row in rows]
        cols.append({"id": c.id, "name": c.name, "dtype": c.dtype, "kind": c.kind,
                     "spec": c.spec, "versions": c.versions, "state": c.state,
                     "reason": c.reason or None,
                     "implementation": (c.results_doc or {}).get("implementation"),
                     "totals": totals(cells)})
    return {"format": FORMAT, "version": VERSION, "environment": environment(),
            "settings": settings, "columns": cols, "rows": rows}


def exit_status(doc: dict) -> int:
    """1 when any cell failed, crashed, timed out or passed unexpectedly, or a column crashed or
    hung while importing; 3 when some column checked nothing (not installed, nothing
    implemented); 0 otherwise: every column checked something and all of it passed."""
    cols = doc["columns"]
    if any(c["state"] in ("crashed", "timeout") for c in cols) or any(
            cell["status"] in BAD for row in doc["rows"] for cell in row["cells"].values()):
        return EXIT_FAILED
    checked = ("passed", "xfail", "beyond contract")
    if any(sum(c["totals"][s] for s in checked) == 0 for c in cols):
        return EXIT_NOTHING_CHECKED
    return EXIT_PASSED


# --- rendering, from the JSON alone ------------------------------------------------------------------

SHORT = {"passed": "PASSED", "failed": "FAILED", "not implemented": "—", "crashed": "CRASHED",
         "timeout": "TIMEOUT", "xfail": "XFAIL", "xpass": "XPASS",
         "beyond contract": "BEYOND", "unavailable": "n/a"}
KINK_SHORT = {"convention differs": "kinks: CONV", "failed": "kinks: FAIL"}
LEGEND = ("PASSED; FAILED ×k: the worst error was k times its bound; — not implemented; CRASHED, "
          "TIMEOUT: the worker died or hung (the other columns went on); XFAIL, XPASS: a known "
          "failure failed, or passed; BEYOND: beyond the source's contract; n/a: not run (the "
          "column could not be imported, or a results file's vectors lack the case). At the "
          "case's kinks: kinks: CONV, another valid convention (not a "
          "failure); kinks: FAIL, not a subgradient there.")


def cell_text(x: dict) -> str:
    text = SHORT[x["status"]]
    if x["excess"] is not None:
        text += f" ×{x['excess']:.3g}"
    kink = KINK_SHORT.get(x["kinks"]["status"])
    return f"{text}, {kink}" if kink else text


def column_head(c: dict) -> str:
    shown = {d: v for d, v in c["versions"].items() if d not in ("numpy", "gradref")}
    version = " ".join(f"{v}" if d == c["name"] else f"{d} {v}" for d, v in shown.items())
    return " ".join(filter(None, [c["name"], version, c["dtype"]]))


def total_text(t: dict) -> str:
    more = "".join(f", {t[s]} {s}" for s in ("failed", "crashed", "timeout", "xfail", "xpass",
                                              "beyond contract") if t[s])
    return f"{t['passed']}/{t['implemented']} passed ({t['cases']} cases){more}"


def markdown(doc: dict) -> str:
    env, s = doc["environment"], doc["settings"]
    cols = doc["columns"]
    pk = ", ".join(f"{d} {v or 'not installed'}" for d, v in env["packages"].items())
    lines = [f"`{s['command']}`", "",
             f"{s['samples']} random samples per case, seed {s['seed']}, plus each kinked "
             f"case's kink samples; results files on their vectors' samples, in float64. "
             f"Python {env['python']} on {env['platform']}; {pk}.", "", LEGEND, "",
             "| case | " + " | ".join(column_head(c).replace("|", "\\|") for c in cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    for row in doc["rows"]:
        lines.append(f"| {row['case']} | " + " | ".join(
            cell_text(row["cells"][c["id"]]) for c in cols) + " |")
    lines.append("| **passed** | " + " | ".join(total_text(c["totals"]) for c in cols) + " |")
    notes = [f"- {c['id']}: {c['state']}: {c['reason']}" for c in cols if c["state"] != "checked"]
    return "\n".join(lines + ([""] + notes if notes else []))


def text_table(doc: dict) -> str:
    cols = doc["columns"]
    head = ["case"] + [f"{c['name']} {c['dtype'][-2:]}" for c in cols]
    rows = [head] + [[r["case"]] + [cell_text(r["cells"][c["id"]]).replace("kinks: ", "k:")
                                    for c in cols] for r in doc["rows"]]
    widths = [max(len(r[k]) for r in rows) for k in range(len(head))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    out = ["\n".join(lines), ""]
    for c in cols:
        out.append(f"{c['id']}: {c['state']}: {c['reason']}" if c["state"] != "checked"
                   else f"{c['id']} ({column_head(c)}): {total_text(c['totals'])}")
    problems = [f"{r['case']} [{c['id']}]: {x['status'].upper()}: {x['reason']}"
                + (f"\n  {x['reproduce']}" if x["reproduce"] else "")
                for r in doc["rows"] for c in cols
                for x in [r["cells"][c["id"]]] if x["status"] in BAD]
    return "\n".join(out + ([""] + problems if problems else []))


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"


MARKERS = markers("matrix")


def between_markers(text: str, name: str, body: str) -> str | None:
    """`text` with what lies between its `name` markers replaced by `body`; None where it has no
    such markers."""
    start_marker, end_marker = markers(name)
    start, end = text.find(start_marker), text.find(end_marker)
    if not 0 <= start < end:
        return None
    return text[:start + len(start_marker)] + body + "\n" + text[end:]


def write_markdown(path: str, body: str) -> None:
    """The whole file, or, where it holds the matrix markers, only what lies between them."""
    p = Path(path)
    text = between_markers(p.read_text(), "matrix", body) if p.exists() else None
    p.write_text(body + "\n" if text is None else text)


def main(args, argv: list) -> int:
    start = time.perf_counter()
    if not args.impl:
        raise ImplementationError("give at least one --impl (handwritten for the reference)")
    xfails = {}
    for text in args.xfails:
        name, sep, path = text.partition("=")
        if not sep:
            raise ImplementationError(f"--xfails {text}: write COLUMN=FILE")
        xfails[name] = path
    vectors_dir = args.vectors or str(layout.VECTORS)
    columns = columns_of(args.impl, args.dtype, xfails, args.timeout)
    chosen = run(columns, args.case, args.seed, args.samples, args.timeout, vectors_dir)
    settings = {"command": "gradref " + " ".join(argv), "samples": args.samples,
                "seed": args.seed, "dtypes": list(args.dtype), "timeout": args.timeout,
                "vectors": vectors_dir, "seconds": round(time.perf_counter() - start, 1)}
    doc = to_json(columns, chosen, settings)
    print(f"gradref matrix: {len(columns)} columns, {len(chosen)} cases, {args.samples} samples "
          f"per case, seed {args.seed}, in {settings['seconds']} s\n")
    print(text_table(doc))
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.markdown:
        write_markdown(args.markdown, markdown(doc))
        print(f"wrote {args.markdown}")
    return exit_status(doc)
