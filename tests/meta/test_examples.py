"""The examples plug in like any layers file: an autograd engine written here, and PyTorch at a
tie. (Every published engine's adapter over the whole catalogue: tests/meta/test_engines.py.) The
Node.js example (examples/node) is judged from another language, through the vectors."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import cases
from cases import check, cli, kinks
from cases.tolerance import GOLDEN_RTOL

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
VECTORS = ROOT / "vectors"


def statuses(tmp_path, path):
    out = tmp_path / "report.json"
    rc = cli.main(["report", "--impl", str(path), "--json", str(out)])
    return rc, {c["case"]: c["status"] for c in json.loads(out.read_text())["cases"]}


def defined(path):
    """Each case: passed if the file defines its op, else not implemented."""
    impl = cases.load(str(path))
    return {c.name: "passed" if impl.lookup(c)[0] else "not implemented" for c in cases.CASES}


def test_micrograd_engine_passes_the_scalar_cases(tmp_path):
    rc, got = statuses(tmp_path, EXAMPLES / "micrograd_engine.py")
    assert rc == 0 and got == defined(EXAMPLES / "micrograd_engine.py")
    assert [k for k, v in got.items() if v == "passed"] == [
        "multiply", "max_gate", "chain_rule", "staged", "patterns_circuit"]


def test_micrograd_engine_follows_the_catalogue_at_a_max_tie():
    impl = cases.load(str(EXAMPLES / "micrograd_engine.py"))
    for name in ("max_gate", "patterns_circuit"):
        case = cases.get(name)
        for g in case.goldens:
            assert check.check_golden(case, impl, g, GOLDEN_RTOL).ok, (name, g.note)


def test_torch_example_at_ties_is_another_convention_not_a_failure():
    """torch splits a max tie 0.5/0.5: a subgradient, so its goldens at ties are another
    convention (a warning under pytest), not failures."""
    pytest.importorskip("torch")
    impl = cases.load(str(EXAMPLES / "torch_ops.py"))
    for name in ("max_gate", "patterns_circuit"):
        case = cases.get(name)
        (k,) = [k for k, g in enumerate(case.goldens) if g.at_kink]
        assert kinks.at_golden(case, impl, k).status == "convention differs", name


# --- another language: examples/node, judged through the vectors ----------------------------------

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node (Node.js) is not on PATH: the "
                                "JavaScript example (examples/node) cannot run")


def node_verdicts(tmp_path, ops=None, *case, timeout=None):
    """The Node.js harness's results file for `ops` (default: notes.mjs), judged by
    check-results: (exit status, {case: its verdict as check-results' JSON has it})."""
    results, verdicts = tmp_path / "node_results.json", tmp_path / "verdicts.json"
    run = subprocess.run([NODE, str(EXAMPLES / "node" / "harness.mjs"), str(VECTORS), str(results),
                          *(["--ops", str(ops)] if ops else []),
                          *(["--timeout", str(timeout)] if timeout else [])],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rc = cli.main(["check-results", str(VECTORS), str(results), "--json", str(verdicts),
                   *(["--case", *case] if case else [])])
    return rc, {c["case"]: c for c in json.loads(verdicts.read_text())["cases"]}


def notes_cases():
    """Each exported case: passed if handwritten/notes.py defines its op, else not implemented."""
    exported = json.loads((VECTORS / "index.json").read_text())["cases"]
    return {k: v for k, v in defined(ROOT / "handwritten" / "notes.py").items() if k in exported}


@needs_node
def test_node_notes_pass_check_results_on_every_case_of_the_notes(tmp_path):
    rc, verdicts = node_verdicts(tmp_path)
    assert rc == 0
    assert {k: v["status"] for k, v in verdicts.items()} == notes_cases()
    assert verdicts["max_gate"]["at_kinks"]["status"] == "passed"


@needs_node
def test_node_planted_bug_fails_exactly_its_case(tmp_path):
    """notes.mjs with multiply's dx unswapped (x * dout): multiply fails on dx, nothing else."""
    source = (EXAMPLES / "node" / "notes.mjs").read_text()
    right, wrong = "const dx = y * dout;", "const dx = x * dout;"
    assert source.count(right) == 1
    bug = tmp_path / "notes_bug.mjs"
    bug.write_text(source.replace(right, wrong))
    rc, verdicts = node_verdicts(tmp_path, bug)
    assert rc == 1
    assert {k: v["status"] for k, v in verdicts.items()} == notes_cases() | {"multiply": "failed"}
    messages = [f["message"] for f in verdicts["multiply"]["failures"]]
    assert messages and all(m.startswith("multiply-s") and ": dx vs " in m for m in messages)


@needs_node
def test_node_harness_records_exceptions_and_non_finite_values(tmp_path):
    """A throw is a problem of its sample (with the module's file and line), a write into a
    (frozen) input raises, NaN travels as "nan": each fails its case, none stops the harness."""
    ops = tmp_path / "odd.mjs"
    ops.write_text("export function multiply_forward(x, y) { return [x * y, [x, y]]; }\n"
                   "export function multiply_backward(dout, cache) { throw new RangeError('no'); }\n"
                   "export function exp_forward(x) { return [x.map(() => NaN), x]; }\n"
                   "export function exp_backward(dout, cache) { dout[0] = 1; return dout; }\n")
    rc, verdicts = node_verdicts(tmp_path, ops, "multiply", "exp")
    assert rc == 1 and {k: v["status"] for k, v in verdicts.items()} == {
        "multiply": "failed", "exp": "failed"}
    first = lambda case: verdicts[case]["failures"][0]["message"]     # noqa: E731
    assert "multiply-s0: multiply_backward raised RangeError: no (odd.mjs, line 2)" in first("multiply")
    exp = " ".join(f["message"] for f in verdicts["exp"]["failures"])
    assert "exp_backward raised TypeError" in exp and "a write into an input or dout" in exp
    assert "output 'out' has 3 non-finite entries" in exp


@needs_node
def test_node_harness_stops_a_case_that_exits_hangs_or_throws_later(tmp_path):
    """An op that ends its thread (process.exit), loops forever or throws after returning stops
    its own case, CRASHED or TIMEOUT at the sample and call it was in; the next case runs in a
    fresh thread and passes; the harness itself exits 0 with its file written."""
    ops = tmp_path / "wild.mjs"
    ops.write_text(
        "export function multiply_forward(x, y) { return [x * y, [x, y]]; }\n"
        "export function multiply_backward(dout, cache) { process.exit(0); }\n"
        "export function add_forward(x, y) { for (;;) {} }\n"
        "export function add_backward(dout, cache) { return [dout, dout]; }\n"
        "export function exp_forward(x) { const out = x.map(Math.exp); return [out, out]; }\n"
        "export function exp_backward(dout, out) { return dout.map((d, i) => d * out[i]); }\n"
        "export function scale_forward(x, a) { return [x.map((v) => v * a), a]; }\n"
        "export function scale_backward(dout, a) {\n"
        "  setTimeout(() => { throw new Error('later'); }, 0); return dout.map((d) => d * a); }\n")
    rc, verdicts = node_verdicts(tmp_path, ops, "multiply", "add", "exp", "scale", timeout=1)
    assert rc == 1 and {k: v["status"] for k, v in verdicts.items()} == {
        "multiply": "crashed", "add": "timeout", "exp": "passed", "scale": "crashed"}
    reason = lambda case: verdicts[case]["failures"][0]["message"]     # noqa: E731
    assert "multiply_backward on multiply-s0: its thread ended (exit code 0" in reason("multiply")
    assert "add_forward on add-s0: did not return within 1 s" in reason("add")
    assert re.search(r"after the calls on scale-s\d+ returned: uncaught Error: later "
                     r"\(wild.mjs, line 9\)", reason("scale"))


@needs_node
def test_node_harness_sees_cache_writes_and_a_different_second_answer(tmp_path):
    """A backward that writes into its cache, or answers differently the second time (it keeps a
    counter), fails test_well_behaved with the line that says so; the right one beside passes."""
    ops = tmp_path / "stateful.mjs"
    ops.write_text(
        "export function exp_forward(x) { const out = x.map(Math.exp); return [out, [...out]]; }\n"
        "export function exp_backward(dout, c) { const dx = dout.map((d, i) => d * c[i]);\n"
        "  c[0] = 0; return dx; }\n"
        "let calls = 0;\n"
        "export function multiply_forward(x, y) { return [x * y, [x, y]]; }\n"
        "export function multiply_backward(dout, [x, y]) { calls += 1;\n"
        "  return [y * dout * (calls % 2 ? 1 : 1.5), x * dout]; }\n"
        "export function add_forward(x, y) { return [x.map((r, i) => r.map((v, j) => v + y[i][j])), 0]; }\n"
        "export function add_backward(dout, cache) { return [dout, dout]; }\n")
    rc, verdicts = node_verdicts(tmp_path, ops, "exp", "multiply", "add")
    assert rc == 1 and {k: v["status"] for k, v in verdicts.items()} == {
        "exp": "failed", "multiply": "failed", "add": "passed"}
    said = lambda case: " ".join(f["message"] for f in verdicts[case]["failures"])  # noqa: E731
    assert "exp_backward wrote into the cache its forward returned" in said("exp")
    assert ("multiply_backward returned a different dx when called again with the same cache and "
            "an equal copy of dout") in said("multiply")
    assert "a different dy" not in said("multiply")


@needs_node
def test_node_module_that_exits_while_imported_is_a_usage_error(tmp_path):
    """process.exit(0) at a module's top level: exit status 2, one line, no results file."""
    ops, results = tmp_path / "quits.mjs", tmp_path / "out.json"
    ops.write_text("process.exit(0);\nexport function exp_forward(x) { return [x, x]; }\n")
    run = subprocess.run([NODE, str(EXAMPLES / "node" / "harness.mjs"), str(VECTORS), str(results),
                          "--ops", str(ops)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and not results.exists()
    assert run.stderr.splitlines()[0] == (f"--ops {ops}: while importing it, its thread ended "
                                          "(exit code 0: process.exit, or an uncaught error)")

