"""The examples plug in like any layers file: an autograd engine written here, and PyTorch at a
tie. (Every published engine's adapter over the whole catalogue: tests/meta/test_engines.py.)"""

import json
from pathlib import Path

import pytest

import cases
from cases import check, cli, kinks
from cases.tolerance import GOLDEN_RTOL

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


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
