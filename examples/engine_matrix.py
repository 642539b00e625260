"""Regenerate the tables of docs/engines.md: each engine adapter of examples/ through
`gradref report --impl examples/<engine>_ops.py --json`, in float64 and float32.

    .venv/bin/python examples/engine_matrix.py [--samples 3] [--seed 0]

One `gradref report` process per adapter and dtype (an engine that is not installed, or that
crashes, is one column of "-" and a line saying why, not the end of the run). The tables are
written between the `<!-- matrix:start -->` / `<!-- matrix:end -->` and `<!-- kinks:start -->` /
`<!-- kinks:end -->` markers of docs/engines.md; the ledger below them is prose, kept by hand.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "engines.md"
ENGINES = {   # column -> (adapter, distribution whose version names the column)
    "jax": ("jax_ops.py", "jax"),
    "torch": ("torch_ops.py", "torch"),
    "autograd": ("autograd_ops.py", "autograd"),
    "mygrad": ("mygrad_ops.py", "mygrad"),
    "tinygrad": ("tinygrad_ops.py", "tinygrad"),
    "micrograd": ("micrograd_ops.py", "micrograd"),
}
DTYPES = ("float64", "float32")
SHORT = {"passed": "pass", "failed": "FAIL", "not implemented": "-", "beyond contract": "beyond",
         "convention differs": "conv", "": ""}
KINDS = {   # kind of kink -> the kinked cases of that kind (tests/test_engines.py reads it too)
    "relu'(0)": ("relu", "relu_layer", "xor_net", "xor_net_book", "mlp_cross_entropy",
                 "micrograd_readme", "case_study_net_loss", "two_layer_net_loss",
                 "two_layer_net_toy", "affine_relu", "affine_bn_relu", "affine_ln_relu",
                 "conv_relu", "conv_bn_relu", "conv_relu_pool", "two_layer_net_class",
                 "two_layer_net_fc", "two_layer_net_fc_reg", "fc_net", "fc_net_batchnorm",
                 "fc_net_layernorm", "fc_net_dropout", "three_layer_convnet"),
    "max-gate tie": ("max_gate", "patterns_circuit"),
    "max-pool tie": ("max_pool", "max_pool_ties"),
    "hinge margin 0": ("multiclass_svm_loss", "linear_svm_loss", "svm_loss", "svm_loss_n1",
                       "svm_loss_naive", "svm_loss_vectorized"),
    "|x| at 0": ("l1_loss",),
    "Huber corner": ("huber_loss",),
}


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def run(adapter: str, dtype: str, samples: int, seed: int) -> dict | str:
    """The report's JSON, or one line saying why there is none."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        proc = subprocess.run([str(Path(sys.executable).parent / "gradref"), "report", "--impl",
                               f"examples/{adapter}", "--samples", str(samples), "--seed",
                               str(seed), "--dtype", dtype, "--json", str(out)],
                              cwd=ROOT, capture_output=True, text=True)
        if out.exists():
            return json.loads(out.read_text())
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return lines[-1] if lines else f"exit status {proc.returncode}"


def cell(case: dict) -> str:
    status = SHORT[case["status"]]
    kink = SHORT[case["at_kinks"]["status"] or ""]
    return f"{status} (kink {kink})" if kink and kink != "pass" else status


def render(reports: dict, samples: int, seed: int) -> tuple[str, str]:
    columns = [(e, d) for e in ENGINES for d in DTYPES]
    head = ["| case | " + " | ".join(f"{e} {version(ENGINES[e][1])} {d[-2:]}" for e, d in columns)
            + " |", "|---" * (len(columns) + 1) + "|"]
    names = next((([c["case"] for c in r["cases"]]) for r in reports.values()
                  if isinstance(r, dict)), [])
    by_case = {k: {c["case"]: c for c in r["cases"]} for k, r in reports.items()
               if isinstance(r, dict)}
    rows = [f"| {n} | " + " | ".join(cell(by_case[k][n]) if k in by_case else "?"
                                     for k in columns) + " |" for n in names]
    totals = []
    for k in columns:
        r = reports[k]
        if isinstance(r, dict):
            s = r["summary"]
            defined = len(r["cases"]) - s["not implemented"]
            totals.append(f"{s['passed']}/{defined} pass, {s['failed']} fail")
        else:
            totals.append("did not run")
    rows.append("| **total** | " + " | ".join(totals) + " |")
    notes = [f"- {e} {d}: {r}" for (e, d), r in reports.items() if not isinstance(r, dict)]
    matrix = "\n".join([f"`gradref report`, {samples} random samples per case, seed {seed}, "
                        "plus each kinked case's kink samples. Cells: pass, FAIL, - (not "
                        "implemented); (kink conv) another valid convention at the kinks, "
                        "(kink FAIL) not a subgradient there.", ""] + head + rows
                       + ([""] + notes if notes else []))
    khead = ["| kink | " + " | ".join(f"{e} {d[-2:]}" for e, d in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    krows = []
    for kind, kinked in KINDS.items():
        cells = []
        for k in columns:
            seen = sorted({by_case[k][n]["at_kinks"]["status"] for n in kinked
                           if k in by_case and by_case[k][n]["at_kinks"]["status"]})
            cells.append(", ".join(SHORT[s] for s in seen) or "-")
        krows.append(f"| {kind.replace('|', chr(92) + '|')} | " + " | ".join(cells) + " |")
    return matrix, "\n".join(khead + krows)


def replace(text: str, marker: str, body: str) -> str:
    pattern = re.compile(f"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: no <!-- {marker}:start --> ... <!-- {marker}:end --> markers")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    reports = {}
    for engine, (adapter, _) in ENGINES.items():
        for dtype in DTYPES:
            reports[engine, dtype] = run(adapter, dtype, args.samples, args.seed)
            print(engine, dtype, "ok" if isinstance(reports[engine, dtype], dict)
                  else reports[engine, dtype], flush=True)
    matrix, kinks = render(reports, args.samples, args.seed)
    DOC.write_text(replace(replace(DOC.read_text(), "matrix", matrix), "kinks", kinks))
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
