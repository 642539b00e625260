"""The `gradref` command. `gradref report` is the main job; `gradref mutants` lists planted bugs."""

from __future__ import annotations

import argparse
import sys

from . import check, layout, mutants
from .catalogue import CASES, select
from .draw import PictureError
from .impl import ImplementationError, handwritten, load
from .spec import CaseError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=20, help="random samples per case (default 20)")
    p.add_argument("--seed", type=int, default=0, help="global seed (default 0)")
    p.add_argument("--case", nargs="+", default=[], metavar="NAME", help="only these cases")
    p.add_argument("--impl", default=None,
                   help="implementation: a .py file, a folder or a module (default: handwritten)")
    p.add_argument("--mutant", default=None, help="the handwritten reference with this mutant planted")
    p.add_argument("--dtype", default="float64", choices=sorted(check.DTYPES),
                   help="dtype the implementation computes in (oracles stay float64)")
    p.add_argument("--xfails", metavar="FILE", default=None,
                   help="known failures: one test id or case name a line (# comments)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gradref", description="Hand-derived backward passes, "
                                "checked against jax.vjp, finite differences and printed numbers.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="check an implementation on the catalogue (the main job)")
    _common(r)
    r.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    r.add_argument("--html", metavar="PATH", help="also write one self-contained HTML report, "
                   "each failure with its circuit and heatmaps (needs the [pictures] extra)")
    r.add_argument("--no-mutants", action="store_true",
                   help="skip the mutation score (run by default for the handwritten reference)")
    e = sub.add_parser("export", help="write the language-neutral test vectors (JSON) into DIR")
    e.add_argument("dir", metavar="DIR")
    e.add_argument("--samples", type=int, default=20, help="samples per case (default 20)")
    e.add_argument("--seed", type=int, default=0, help="global seed (default 0)")
    e.add_argument("--case", nargs="+", default=[], metavar="NAME", help="only these cases")
    x = sub.add_parser("results", help="run a Python implementation on exported vectors and "
                       "write a results file (what another language's harness writes)")
    x.add_argument("vectors", metavar="VECTORS")
    x.add_argument("out", metavar="RESULTS")
    x.add_argument("--impl", default=None, help="implementation (default: handwritten)")
    x.add_argument("--mutant", default=None, help="the handwritten reference with this mutant")
    c = sub.add_parser("check-results", help="judge a results file (any language) against "
                       "exported vectors, with the report's checks and tolerances")
    c.add_argument("vectors", metavar="VECTORS", help="a vectors folder or one case's file")
    c.add_argument("results", metavar="RESULTS", help="JSON: {format: gradref-results, "
                   "implementation, results: {sample id: {output or gradient name: value}}}")
    c.add_argument("--case", nargs="+", default=[], metavar="NAME", help="only these cases")
    c.add_argument("--json", metavar="PATH", help="also write the verdicts as JSON")
    c.add_argument("--xfails", metavar="FILE", default=None,
                   help="known failures: one test id or case name a line (# comments)")
    sub.add_parser("vectors-path", help="print the folder of the test vectors this gradref ships "
                   "(use it as VECTORS: gradref check-results \"$(gradref vectors-path)\" out.json)")
    d = sub.add_parser("draw", help="draw a case's circuit with values and gradients on the "
                       "wires, as in the notes' figures (needs the [pictures] extra)")
    d.add_argument("case", metavar="CASE")
    at = d.add_mutually_exclusive_group()
    at.add_argument("--golden", nargs="?", const="0", default=None, metavar="ID",
                    help="at a golden: g0 (the default where the case has one), g1, ...")
    at.add_argument("--sample", default=None, metavar="ID", help="at a random sample: s3, staged-s3")
    d.add_argument("--impl", default=None, help="mark this implementation's gradients beside "
                   "the expected ones")
    d.add_argument("--mutant", default=None, help="the handwritten reference with this mutant")
    d.add_argument("--seed", type=int, default=0, help="global seed of --sample (default 0)")
    d.add_argument("--dtype", default="float64", choices=sorted(check.DTYPES),
                   help="dtype the implementation computes in")
    d.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.svg or FILE.png")
    k = sub.add_parser("cases", help="list the catalogue")
    k.add_argument("--markdown", action="store_true", help="as the README's case table")
    sub.add_parser("mutants", help="list the planted bugs the suite must catch")
    g = sub.add_parser("goldens", help="regenerate the goldens: the JAX reference at each "
                       "golden's inputs (conventions at kinks included), as Python literals")
    g.add_argument("--case", nargs="+", default=[], metavar="NAME", help="only these cases")
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
    return load(args.impl) if args.impl else handwritten()


def _vectors_command(args, vectors) -> int:
    import json
    if args.command == "export":
        if args.samples < 1:
            raise CaseError("--samples must be at least 1")
        print("\n".join(vectors.export(args.dir, args.case, args.seed, args.samples)))
        return 0
    if args.command == "results":
        impl = _implementation(args)
        doc = vectors.compute_results(impl, vectors.load_documents(args.vectors))
        with open(args.out, "w") as f:
            json.dump(doc, f)
        print(f"wrote {args.out}: {len(doc['results'])} samples computed by {impl.name}")
        return 0
    from . import report
    try:
        with open(args.results) as f:
            results = json.load(f)
    except (OSError, ValueError) as e:
        raise ImplementationError(f"{args.results}: {e}") from None
    return report.main_results(args, vectors, results)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
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
                print(f"{m.id!r:70} {m.function}: {m.old!r} -> {m.new!r}")
            return 0
        if args.command == "draw":
            from . import pictures
            return pictures.main_draw(args, _implementation(args) if args.impl or args.mutant
                                      else None)
        if args.command in ("export", "results", "check-results"):
            from . import vectors
            return _vectors_command(args, vectors)
        if args.samples < 1:
            raise CaseError("--samples must be at least 1")
        from . import report
        return report.main(args, _implementation(args))
    except (CaseError, ImplementationError, PictureError) as e:
        print(f"gradref: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
