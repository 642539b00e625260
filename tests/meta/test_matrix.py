"""`gradref matrix`: several implementations in one run, one column per implementation and dtype,
all judged on the same samples; the JSON is the source and the Markdown is rendered from it."""

import json
from pathlib import Path

import pytest

from cases import check, cli, matrix

ROOT = Path(__file__).resolve().parents[2]
MISBEHAVING = ROOT / "tests" / "fixtures" / "misbehaving"
CASES = ("multiply", "chain_rule", "reciprocal", "max_gate")
WRONG_MULTIPLY = '''"""multiply with its dx doubled: a planted bug."""
from handwritten import multiply_forward, max_gate_forward, max_gate_backward


def multiply_backward(dout, cache):
    x, y = cache
    return 2 * dout * y, dout * x
'''


def gradref_matrix(*argv):
    return cli.main(["matrix", *map(str, argv)])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One matrix: the reference, a planted bug, a segfault, a hang, a results file from the
    vectors of one case, and an engine that is not installed; float64 and float32."""
    tmp = tmp_path_factory.mktemp("matrix")
    wrong = tmp / "wrong.py"
    wrong.write_text(WRONG_MULTIPLY)
    results = tmp / "multiply-results.json"
    assert cli.main(["results", str(ROOT / "vectors" / "multiply.json"), str(results)]) == 0
    out, md = tmp / "matrix.json", tmp / "matrix.md"
    status = gradref_matrix(
        "--impl", "handwritten", "--impl", f"wrong={wrong}",
        "--impl", f"seg={MISBEHAVING / 'segfault.py'}", "--impl", f"hang={MISBEHAVING / 'hang.py'}",
        "--impl", f"js={results}", "--impl", "absent=no_such_engine_xyz",
        "--case", *CASES, "--samples", 4, "--dtype", "float64", "float32", "--timeout", 1,
        "--json", out, "--markdown", md)
    return status, json.loads(out.read_text()), md.read_text()


def cells(doc, column):
    return {row["case"]: row["cells"][column] for row in doc["rows"]}


def test_every_column_is_reported_with_a_status_in_every_cell(run):
    _, doc, _ = run
    ids = [c["id"] for c in doc["columns"]]
    assert ids == [f"{name} {d}" for name in ("handwritten", "wrong", "seg", "hang")
                   for d in ("float64", "float32")] + ["js float64", "absent float64",
                                                       "absent float32"]
    assert [r["case"] for r in doc["rows"]] == list(CASES)
    assert all(row["cells"][i]["status"] in matrix.CELL_STATUSES for row in doc["rows"]
               for i in ids)


def test_a_crash_and_a_hang_stop_only_their_own_cells(run):
    _, doc, _ = run
    for d in ("float64", "float32"):
        assert cells(doc, f"seg {d}")["chain_rule"]["status"] == "crashed"
        assert "SIGSEGV" in cells(doc, f"seg {d}")["chain_rule"]["reason"]
        assert cells(doc, f"hang {d}")["reciprocal"]["status"] == "timeout"
        assert cells(doc, f"hang {d}")["reciprocal"]["reproduce"].startswith(
            "gradref report --case reciprocal --samples 4 --impl ")   # the calls before it count
        assert {c: x["status"] for c, x in cells(doc, f"handwritten {d}").items()} == \
            dict.fromkeys(CASES, "passed")


def test_a_failed_cell_gives_its_worst_error_as_a_multiple_of_its_bound(run):
    _, doc, _ = run
    x = cells(doc, "wrong float64")["multiply"]
    assert x["status"] == "failed" and x["excess"] > 1
    assert str(Path(doc["columns"][2]["spec"])) in x["reproduce"]   # the absolute --impl
    assert cells(doc, "wrong float64")["max_gate"]["status"] == "passed"


def test_a_column_that_cannot_be_imported_says_why_in_one_line(run):
    _, doc, _ = run
    absent = [c for c in doc["columns"] if c["name"] == "absent"]
    assert all(c["state"] == "unavailable" for c in absent)
    assert all("No module named 'no_such_engine_xyz'" in c["reason"] and "\n" not in c["reason"]
               for c in absent)
    assert {x["status"] for x in cells(doc, "absent float64").values()} == {"unavailable"}


def test_a_results_file_is_one_more_column(run):
    _, doc, _ = run
    got = {c: x["status"] for c, x in cells(doc, "js float64").items()}
    assert got == {"multiply": "passed", "chain_rule": "not implemented",
                   "reciprocal": "not implemented", "max_gate": "not implemented"}
    assert cells(doc, "js float64")["multiply"]["samples"] == 20     # the vectors' samples


def test_totals_keep_their_denominators(run):
    _, doc, _ = run
    seg = next(c for c in doc["columns"] if c["id"] == "seg float64")["totals"]
    assert (seg["cases"], seg["implemented"], seg["passed"], seg["crashed"]) == (4, 1, 0, 1)
    assert matrix.total_text(seg) == "0/1 passed (4 cases), 1 crashed"


def test_the_markdown_is_rendered_from_the_json_alone(run):
    _, doc, md = run
    assert md == matrix.markdown(json.loads(json.dumps(doc))) + "\n"
    assert "| multiply | PASSED | PASSED | FAILED ×" in md


def test_a_crash_or_failure_anywhere_exits_1(run):
    assert run[0] == 1


def test_a_column_that_checked_nothing_exits_3(capsys):
    assert gradref_matrix("--impl", "handwritten", "--impl", "no_such_engine_xyz",
                          "--case", "multiply", "--samples", 1) == 3


def test_all_columns_passing_exits_0(capsys):
    assert gradref_matrix("--impl", "handwritten", "--impl", f"again={ROOT / 'handwritten'}",
                          "--case", "multiply", "--samples", 1) == 0


def test_markdown_between_markers_keeps_the_rest_of_the_file(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# title\n<!-- matrix:start -->\nold\n<!-- matrix:end -->\nledger\n")
    matrix.write_markdown(str(page), "new table")
    assert page.read_text() == "# title\n<!-- matrix:start -->\nnew table\n<!-- matrix:end -->\nledger\n"


def test_known_failures_of_one_column_are_xfail_there_only(tmp_path, capsys):
    wrong, xfails, out = tmp_path / "wrong.py", tmp_path / "xfails.txt", tmp_path / "m.json"
    wrong.write_text(WRONG_MULTIPLY)
    xfails.write_text("multiply   # the planted bug\n")
    status = gradref_matrix("--impl", f"wrong={wrong}", "--impl", f"also={wrong}",
                            "--xfails", f"wrong={xfails}", "--case", "multiply", "--samples", 2,
                            "--json", out)
    doc = json.loads(out.read_text())
    assert (cells(doc, "wrong float64")["multiply"]["status"],
            cells(doc, "also float64")["multiply"]["status"], status) == ("xfail", "failed", 1)


def test_the_oracles_are_evaluated_once_for_all_columns(tmp_path, monkeypatch, capsys):
    calls = []
    real = check.oracle_values
    monkeypatch.setattr(check, "oracle_values",
                        lambda *a: calls.append(a[2].ids) or real(*a))
    wrong = tmp_path / "wrong.py"
    wrong.write_text(WRONG_MULTIPLY)
    gradref_matrix("--impl", "handwritten", "--impl", f"wrong={wrong}", "--case", "multiply",
                   "--samples", 3)
    assert calls == [["multiply-s0", "multiply-s1", "multiply-s2"]]


def test_a_column_is_named_with_the_versions_of_what_it_imports(tmp_path):
    (tmp_path / "helper.py").write_text("")
    impl = tmp_path / "ops.py"
    impl.write_text("import numpy as np\nfrom scipy import special\nimport helper, json\n")
    got = matrix.versions_of(str(impl))
    assert set(got) == {"numpy", "scipy"}        # not the standard library, not its own modules


def test_the_engines_page_is_its_json_rendered():
    """docs/engines.md's tables are docs/engines.json rendered (examples/engine_matrix.py wrote
    both): a hand edit of a cell, or a JSON regenerated without its page, fails here."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("engine_matrix",
                                                  ROOT / "examples" / "engine_matrix.py")
    engine_matrix = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(engine_matrix)
    doc = json.loads((ROOT / "docs" / "engines.json").read_text())
    page = (ROOT / "docs" / "engines.md").read_text()
    assert matrix.MARKERS[0] + matrix.markdown(doc) + "\n" + matrix.MARKERS[1] in page
    assert engine_matrix.kinks_table(doc) in page
