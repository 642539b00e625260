"""The `gradref` command. `gradref report` is the main job; `gradref mutants` lists planted bugs."""

from __future__ import annotations

import argparse
import os
import sys

from . import check, layout, mutants, options
from .catalogue import CASES, select
from .draw import PictureError
from .impl import ImplementationError, handwritten, load
from .spec import CaseError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gradref", description="Hand-derived backward passes, "
                                "checked against jax.vjp, finite differences and printed numbers.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="check an implementation on the catalogue (the main job)")
    options.add(r, "samples", "seed", "case", "impl", "mutant", "dtype", "xfails", "timeout",
                "json")
    r.add_argument("--html", metavar="PATH", help="also write one self-contained HTML report, "
                   "each failure with its circuit and heatmaps (needs the [pictures] extra)")
    r.add_argument("--no-mutants", action="store_true",
                   help="skip the mutation score (run by default for the handwritten reference)")
    r.add_argument("--sample", type=int, default=None, metavar="I",
                   help="check only sample I of each case (what a reproduce line reruns)")
    m = sub.add_parser("matrix", help="several implementations in one run, on the same samples: "
                       "a table of cases by implementation and dtype")
    options.add(m, "impl", "samples", "seed", "case", "dtype", "xfails", "timeout", "json",
                impl=dict(action="append", default=[], metavar="[NAME=]IMPL",
                          help="a column (repeat): a .py file, a folder, a module, handwritten, "
                               "or a results file (.json) judged against --vectors; NAME heads it"),
                dtype=dict(nargs="+", default=["float64"],
                           help="one column per implementation and dtype (default float64)"),
                xfails=dict(action="append", default=[], metavar="NAME=FILE",
                            help="known failures of the column NAME (repeat)"),
                json=dict(help="write the matrix as JSON (the source of the other forms)"))
    m.add_argument("--vectors", default=None, metavar="DIR",
                   help="the vectors the results files were computed from (default: gradref's)")
    m.add_argument("--markdown", metavar="PATH", help="write the matrix as Markdown, rendered "
                   "from the JSON; in a file with <!-- matrix:start --> and <!-- matrix:end --> "
                   "markers, only between them")
    e = sub.add_parser("export", help="write the language-neutral test vectors (JSON) into DIR")
    e.add_argument("dir", metavar="DIR")
    options.add(e, "samples", "seed", "case")
    x = sub.add_parser("results", help="run a Python implementation on exported vectors and "
                       "write a results file (what another language's harness writes)")
    x.add_argument("vectors", metavar="VECTORS")
    x.add_argument("out", metavar="RESULTS")
    options.add(x, "impl", "mutant", "timeout")
    c = sub.add_parser("check-results", help="judge a results file (any language) against "
                       "exported vectors, with the report's checks and tolerances")
    c.add_argument("vectors", metavar="VECTORS", help="a vectors folder or one case's file")
    c.add_argument("results", metavar="RESULTS", help="JSON: {format: gradref-results, "
                   "implementation, results: {sample id: {output or gradient name: value}}}")
    options.add(c, "case", "json", "xfails")
    sub.add_parser("vectors-path", help="print the folder of the test vectors this gradref ships "
                   "(use it as VECTORS: gradref check-results \"$(gradref vectors-path)\" out.json)")
    d = sub.add_parser("draw", help="draw a case's circuit with values and gradients on the "
                       "wires, as in the notes' figures (needs the [pictures] extra)")
    d.add_argument("case", metavar="CASE")
    at = d.add_mutually_exclusive_group()
    at.add_argument("--golden", nargs="?", const="0", default=None, metavar="ID",
                    help="at a golden: g0 (the default where the case has one), g1, ...")
    at.add_argument("--sample", default=None, metavar="ID", help="at a random sample: s3, staged-s3")
    options.add(d, "impl", "mutant", "seed", "dtype",
                impl=dict(help="mark this implementation's gradients beside the expected ones"),
                seed=dict(help="global seed of --sample (default 0)"))
    d.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.svg or FILE.png")
    rel = sub.add_parser("reliability", help="measure how reliable the checks are and write "
                         "docs/reliability.md and .json: FD calibration, false failures, "
                         "detection per planted bug, head to head with other checkers")
    rel.add_argument("--samples", type=int, default=None,
                     help="correct samples per case and dtype (false failures, FD calibration; "
                          "default 2000; --quick 50)")
    rel.add_argument("--seed", type=int, default=1,
                     help="global seed (default 1: the default test run uses 0)")
    rel.add_argument("--quick", action="store_true",
                     help="a few cases and samples: a smoke run of every part in seconds")
    rel.add_argument("--mutant-samples", type=int, default=None,
                     help="samples per planted bug (default 100; --quick 10)")
    rel.add_argument("--h2h-samples", type=int, default=None,
                     help="head to head: samples per planted bug and checker (default 5)")
    rel.add_argument("--h2h-correct", type=int, default=None,
                     help="head to head: correct samples per case and checker (default 50)")
    rel.add_argument("--resume", action="store_true",
                     help="continue the false failures kept in the progress file beside the "
                          "JSON (docs/reliability-progress.json; created if absent) toward --samples")
    rel.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                     help="stop adding false-failure samples before this many seconds "
                          "(the other parts run after)")
    rel.add_argument("--output", default="docs/reliability.md", metavar="PATH",
                     help="the page; the JSON goes beside it (default docs/reliability.md)")
    k = sub.add_parser("cases", help="list the catalogue")
    k.add_argument("--markdown", action="store_true", help="as the README's case table")
    sub.add_parser("mutants", help="list the planted bugs the suite must catch")
    g = sub.add_parser("goldens", help="regenerate the goldens: the JAX reference at each "
                       "golden's inputs (conventions at kinks included), as Python literals")
    options.add(g, "case")
    return p


def markdown_table() -> str:
    """The README's case table: one row per case, generated from the records."""
    rows = ["| case | source | call | gradients | finite differences | conventions |",
            "|---|---|---|---|---|---|"]
    for c in CASES:
        call = f"`{c.call}`".replace("|", "\\|")
        beyond = c.beyond_contract and f"beyond the source's contract: {c.beyond_contract}"
        kink = ("; ".join(t for t in (c.kink, c.notes, beyond) if t) or "-").replace("|", "\\|")
        rows.append(f"| {c.name} | {c.source.replace('|', '/')} | {call} | "
                    f"{', '.join(c.grad_names)} | {c.fd_mode} | {kink} |")
    return "\n".join(rows)


def _implementation(args):
    if args.mutant:
        return mutants.mutate(mutants.find(args.mutant))
    return load(args.impl) if args.impl is not None else handwritten()   # --impl "": an error


def _vectors_command(args, vectors) -> int:
    import json
    if args.command == "export":
        if args.samples < 1:
            raise CaseError("--samples must be at least 1")
        print("\n".join(vectors.export(args.dir, args.case, args.seed, args.samples)))
        return 0
    if args.command == "results":
        impl = _implementation(args)
        doc = vectors.compute_results(impl, vectors.load_documents(args.vectors), args.timeout)
        with open(args.out, "w") as f:
            json.dump(doc, f)
        print(f"wrote {args.out}: {len(doc['results'])} samples computed by {impl.name}")
        return 0
    from . import report
    return report.main_results(args, vectors, vectors.read_results(args.results))


def main(argv=None) -> int:
    """The command; its exit status: 0 passed, 1 failed (or crashed, timed out), 2 usage error,
    3 nothing checked (cases/report.py, exit_status). Output cut short by a closed pipe
    (`gradref report | head`) ends quietly with 1."""
    try:
        status = _main(argv)
        sys.stdout.flush()      # here, not at exit: a closed pipe is then caught below
        return status
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit: point it elsewhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv=None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "timeout", 1.0) <= 0:
        parser().error("--timeout must be positive")
    try:
        if args.command == "cases":
            print(markdown_table() if args.markdown else
                  "\n".join(f"{c.name:26} {' / '.join(c.functions):50} {c.source}" for c in CASES))
            return 0
        if args.command == "vectors-path":
            print(layout.VECTORS)
            return 0
        if args.command == "goldens":
            for case in select(args.case):
                for k, g in enumerate(case.goldens):
                    values = check.reference_values(case, g)
                    print(f"{case.name}-g{k} ({g.note}): "
                          f"{ {name: values[name].tolist() for name in g.expect} }")
            return 0
        if args.command == "mutants":
            for m in mutants.MUTANTS:
                print(f"{m.id!r:70} [{m.kind}] {m.function}: {m.old!r} -> {m.new!r}")
            return 0
        if args.command == "draw":
            from . import pictures
            return pictures.main_draw(args, _implementation(args) if args.impl or args.mutant
                                      else None)
        if args.command == "reliability":
            from . import reliability
            counts = (args.samples, args.mutant_samples, args.h2h_samples, args.h2h_correct)
            if any(k is not None and k < 1 for k in counts):
                raise CaseError("sample counts must be at least 1")
            if args.budget is not None and args.budget < 0:
                raise CaseError("--budget must be at least 0")
            return reliability.main(args)
        if args.command in ("export", "results", "check-results"):
            from . import vectors
            return _vectors_command(args, vectors)
        if args.samples < 1:
            raise CaseError("--samples must be at least 1")
        if args.command == "matrix":
            from . import matrix
            return matrix.main(args, sys.argv[1:] if argv is None else list(argv))
        if args.sample is not None and args.sample < 0:
            raise CaseError("--sample must be at least 0")
        from . import report
        return report.main(args, _implementation(args))
    except (CaseError, ImplementationError, PictureError) as e:
        print(f"gradref: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
