"""Regenerate docs/engines.md (and docs/engines.json): one `gradref matrix` over the reference and
each engine adapter of examples/, in float64 and float32, then the table of conventions at kinks.

    .venv/bin/python examples/engine_matrix.py [--samples 3] [--seed 0]

The matrix is `gradref matrix --impl handwritten --impl jax=examples/jax_ops.py ... --dtype float64
float32 --json docs/engines.json --markdown docs/engines.md` (the command is printed above the
table): one worker per engine, the oracles evaluated once for all columns; an engine that is not
installed, or that crashes, is a column that says so, not the end of the run. The matrix goes
between the `<!-- matrix:start -->` / `<!-- matrix:end -->` markers of docs/engines.md, the
conventions at kinks (per kind of kink, from the JSON) between `<!-- kinks:start -->` /
`<!-- kinks:end -->`; the ledger below them is prose, kept by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gradref.cases import cli
from gradref.cases.matrix import between_markers

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "engines.md"
JSON = ROOT / "docs" / "engines.json"
ENGINES = {   # column -> adapter
    "jax": "jax_ops.py",
    "torch": "torch_ops.py",
    "autograd": "autograd_ops.py",
    "mygrad": "mygrad_ops.py",
    "tinygrad": "tinygrad_ops.py",
    "micrograd": "micrograd_ops.py",
}
NODE_RESULTS = "examples/node/results.json"   # the JavaScript column (ignored by git)
DTYPES = ("float64", "float32")
TIMEOUT = 300   # seconds a call: tinygrad compiles the 12-step LSTM's kernels on its first call
                # (23 to 64 s on the shared 2-core box, about 1 s once compiled)
SHORT = {"passed": "pass", "failed": "FAIL", "convention differs": "conv"}
KINDS = {   # kind of kink -> the kinked cases of that kind (tests/meta/test_engines.py reads it too)
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


def node_results() -> list[str]:
    """The JavaScript column: examples/node/harness.mjs on the vectors, where node is installed."""
    if not shutil.which("node"):
        print("node is not installed: no JavaScript column", file=sys.stderr)
        return []
    results = Path(NODE_RESULTS)
    results.unlink(missing_ok=True)     # a harness that dies must not leave an old file
    run = subprocess.run(["node", "examples/node/harness.mjs", "vectors", NODE_RESULTS])
    written = results.exists()
    if run.returncode != 0 or not written:
        sys.exit(f"examples/node/harness.mjs ended with exit status {run.returncode} and "
                 f"{'' if written else 'no '}{NODE_RESULTS}: no matrix")
    return ["--impl", f"node={NODE_RESULTS}"]


def matrix_argv(samples: int, seed: int, more: list[str]) -> list[str]:
    return (["matrix", "--impl", "handwritten"]
            + [a for e, adapter in ENGINES.items() for a in ("--impl", f"{e}=examples/{adapter}")]
            + more
            + ["--dtype", *DTYPES, "--samples", str(samples), "--seed", str(seed),
               "--timeout", str(TIMEOUT),
               "--json", str(JSON.relative_to(ROOT)), "--markdown", str(DOC.relative_to(ROOT))])


def kinks_table(doc: dict) -> str:
    """Per kind of kink and column: the statuses at the kinks of that kind's cases."""
    cols = [c for c in doc["columns"] if c["name"] in ENGINES]
    head = ["| kink | " + " | ".join(f"{c['name']} {c['dtype'][-2:]}" for c in cols) + " |",
            "|---" * (len(cols) + 1) + "|"]
    rows = []
    for kind, kinked in KINDS.items():
        cells = []
        for c in cols:
            seen = sorted({r["cells"][c["id"]]["kinks"]["status"] for r in doc["rows"]
                           if r["case"] in kinked and r["cells"][c["id"]]["kinks"]["status"]})
            cells.append(", ".join(SHORT[s] for s in seen) or "-")
        rows.append(f"| {kind.replace('|', chr(92) + '|')} | " + " | ".join(cells) + " |")
    return "\n".join(head + rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    os.chdir(ROOT)          # the command recorded in the page names the adapters from here
    status = cli.main(matrix_argv(args.samples, args.seed, node_results()))
    doc = json.loads(JSON.read_text())
    text = between_markers(DOC.read_text(), "kinks", kinks_table(doc))
    if text is None:
        raise SystemExit(f"{DOC}: no <!-- kinks:start --> ... <!-- kinks:end --> markers")
    DOC.write_text(text)
    print(f"wrote the kinks table of {DOC.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
