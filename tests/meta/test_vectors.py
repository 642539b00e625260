"""Language-neutral vectors: committed, exact, valid, and judged like any implementation."""

import json
from pathlib import Path

import numpy as np
import pytest

import cases
from cases import check, cli, vectors

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


@pytest.fixture(scope="module")
def fresh_export(tmp_path_factory):
    """vectors/ as this machine exports it now."""
    out = tmp_path_factory.mktemp("fresh")
    vectors.export(str(out))
    return out


def test_committed_vectors_are_what_export_writes_now(fresh_export):
    """Every file, none missing, none extra; index and schema byte for byte; each case's exact
    fields bit for bit and its computed ones within the drift bounds (vectors.drift)."""
    fresh = {f.name for f in fresh_export.iterdir()}
    committed = {f.name for f in VECTORS.glob("*.json")}
    assert fresh == committed, f"vectors/ is out of date ({', '.join(sorted(fresh ^ committed))})"
    for name in ("index.json", "schema.json"):
        assert (fresh_export / name).read_bytes() == (VECTORS / name).read_bytes(), name
    problems = [p for name in sorted(committed - {"index.json", "schema.json"})
                for p in vectors.drift(json.loads((VECTORS / name).read_text()),
                                       json.loads((fresh_export / name).read_text()))]
    assert not problems, "vectors/ is out of date: run gradref export vectors\n" + "\n".join(problems)


def _perturbed(doc, path, factor):
    """A copy of `doc` with the number at `path` (keys and indices) times `factor`."""
    doc = json.loads(json.dumps(doc))
    *where, last = path
    target = doc
    for k in where:
        target = target[k]
    target[last] *= factor
    return doc


def test_drift_within_rounding_passes_and_a_real_change_fails():
    """The drift bounds pass what another CPU's kernels do (a few ulps) and fail a change of a
    reference or an input, naming the case, sample and field."""
    doc = json.loads((VECTORS / "log_det.json").read_text())
    assert vectors.drift(doc, doc) == []
    assert vectors.drift(doc, _perturbed(doc, ("samples", 3, "expected", "dX", 1, 2), 1 + 2**-50)) == []
    moved = vectors.drift(doc, _perturbed(doc, ("samples", 3, "expected", "dX", 1, 2), 1 + 1e-12))
    assert len(moved) == 1 and moved[0].startswith("log_det: log_det-s3: expected.dX moved by ")
    moved = vectors.drift(doc, _perturbed(doc, ("samples", 5, "fd", "estimate", 4), 1 + 1e-6))
    assert len(moved) == 1 and moved[0].startswith("log_det: log_det-s5: fd.estimate[4] moved by ")
    changed = vectors.drift(doc, _perturbed(doc, ("samples", 2, "inputs", "X", 0, 1), 1 + 2**-52))
    assert changed == ["log_det: an exact field differs at $.samples[2].inputs.X[0][1]"]


def test_floats_round_trip_exactly(fresh_export):
    """What export writes reads back as the very float64 values the oracles computed."""
    doc = json.loads((fresh_export / "staged.json").read_text())
    _, ov = check.block(cases.get("staged"), 0, 0, 20, "float64")
    got = np.array([s["expected"]["dx"] for s in doc["samples"]])
    assert np.array_equal(got, ov.grads[0]) and got.dtype == np.float64
    assert np.array_equal([s["fd"]["estimate"] for s in doc["samples"]], ov.fd_estimate)


# --- the schema, checked by a small validator of the subset of JSON Schema it uses --------------

def validate(value, schema, root, path="$"):
    """Problems (path: why) of `value` against `schema`: type, const, enum, properties, required,
    additionalProperties, items, anyOf, $ref, minimum, minItems, maxItems."""
    if "$ref" in schema:
        return validate(value, root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root, path)
    if "anyOf" in schema:
        options = [validate(value, s, root, path) for s in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{path}: matches no anyOf option"]
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
             "integer": int, "number": (int, float)}
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(isinstance(value, types[t]) and not (isinstance(value, bool) and t in
                   ("integer", "number")) for t in allowed):
            return [f"{path}: {type(value).__name__} is not {schema['type']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{path}: {value!r} != {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} not in {schema['enum']}"]
    if "minimum" in schema and value < schema["minimum"]:
        return [f"{path}: {value} < {schema['minimum']}"]
    if isinstance(value, list) and not schema.get("minItems", 0) <= len(value) <= schema.get(
            "maxItems", len(value)):
        return [f"{path}: {len(value)} items, outside [minItems, maxItems]"]
    problems = []
    if isinstance(value, dict):
        problems += [f"{path}: lacks {k!r}" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            sub = schema.get("properties", {}).get(k, schema.get("additionalProperties", {}))
            if sub is False:
                problems.append(f"{path}: unexpected {k!r}")
            else:
                problems += validate(v, sub, root, f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            problems += validate(v, schema["items"], root, f"{path}[{i}]")
    return problems


def test_every_vector_file_validates_against_the_committed_schema():
    schema = json.loads((VECTORS / "schema.json").read_text())
    files = [f for f in VECTORS.glob("*.json") if f.name not in ("schema.json", "index.json")]
    assert len(files) == len(json.loads((VECTORS / "index.json").read_text())["cases"])
    for f in files:
        assert validate(json.loads(f.read_text()), schema, schema) == [], f.name


def test_the_validator_rejects_a_broken_file():
    schema = json.loads((VECTORS / "schema.json").read_text())
    doc = json.loads((VECTORS / "staged.json").read_text())
    doc["samples"][3]["expected"]["dx"] = "0.5"
    del doc["tolerances"]["fd_safety"]
    problems = validate(doc, schema, schema)
    assert "$.samples[3].expected.dx: matches no anyOf option" in problems
    assert "$.tolerances: lacks 'fd_safety'" in problems


# --- check-results: the same verdicts for a results file from any language ----------------------

@pytest.fixture(scope="module")
def handwritten_results(tmp_path_factory):
    path = tmp_path_factory.mktemp("results") / "handwritten.json"
    assert cli.main(["results", str(VECTORS), str(path)]) == 0
    return path


def check_results(tmp_path, results_path, *extra):
    out = tmp_path / "verdicts.json"
    rc = cli.main(["check-results", str(VECTORS), str(results_path), "--json", str(out), *extra])
    return rc, json.loads(out.read_text())


def test_results_of_the_handwritten_reference_pass(tmp_path, handwritten_results):
    rc, doc = check_results(tmp_path, handwritten_results)
    assert rc == 0 and doc["implementation"] == "handwritten"
    assert doc["summary"]["passed"] == len(doc["cases"]) > 0


def test_one_perturbed_value_fails_naming_case_sample_gradient_and_entry(tmp_path, handwritten_results):
    results = json.loads(handwritten_results.read_text())
    results["results"]["matmul-s4"]["dW"][2][7] += 1e-6
    path = tmp_path / "perturbed.json"
    path.write_text(json.dumps(results))
    rc, doc = check_results(tmp_path, path)
    assert rc == 1
    failed = [c for c in doc["cases"] if c["status"] == "failed"]
    assert [c["case"] for c in failed] == ["matmul"]
    message = failed[0]["failures"][0]["message"]
    assert message.startswith("matmul-s4: dW vs jax.vjp: 1 of 50 entries off; worst at [2, 7]: got ")
    assert f"gradref check-results {VECTORS} {path} --case matmul" in message
    assert set(failed[0]["failed_checks"]) == {"jax", "fd"}


def test_missing_and_malformed_results_are_clear_failures(tmp_path, handwritten_results):
    results = json.loads(handwritten_results.read_text())
    del results["results"]["staged-s1"]["dy"]
    results["results"]["staged-s2"]["dx"] = [1.0, 2.0]
    del results["results"]["staged-s3"]
    results["results"] = {k: v for k, v in results["results"].items() if not k.startswith("exp-")}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(results))
    rc, doc = check_results(tmp_path, path, "--case", "staged", "exp")
    staged, exp = sorted(doc["cases"], key=lambda c: c["case"] != "staged")
    messages = " ".join(f["message"] for f in staged["failures"])
    assert rc == 1 and exp["status"] == "not implemented" and staged["status"] == "failed"
    for part in (f"staged-s1: {path}: no gradient dy",
                 f"staged-s2: {path}: gradient dx is a list of 2 where a number was expected",
                 "staged-s3: no result for sample staged-s3"):
        assert part in messages


def test_case_selection_reads_only_the_files_it_needs(tmp_path, handwritten_results, monkeypatch):
    """--case staged reads staged.json, and for the results file's ids of other cases only those
    cases' files (an id of another case is known, not unknown): not the whole folder."""
    read = []
    real = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: read.append(self.name) or
                        real(self, *a, **k))
    results = json.loads(handwritten_results.read_text())
    results["results"] = {k: v for k, v in results["results"].items()
                          if k.startswith(("staged-", "relu-"))}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(results))
    read.clear()
    rc, doc = check_results(tmp_path, path, "--case", "staged")
    assert rc == 0 and [c["case"] for c in doc["cases"]] == ["staged"]
    assert sorted(n for n in read if n != path.name and n != "verdicts.json") == \
        ["index.json", "index.json", "relu.json", "staged.json"]


def test_kink_samples_travel_in_the_vectors_and_are_judged_like_report(tmp_path, handwritten_results):
    """A results file's gradients at the vectors' kink samples: another subgradient (relu'(0) = 1)
    is another convention, a max tie given (0, 0) fails with its one-sided derivatives."""
    results = json.loads(handwritten_results.read_text())
    doc = json.loads((VECTORS / "relu.json").read_text())
    k0 = doc["kinks"][0]
    x, dout = np.asarray(k0["inputs"]["x"]), np.asarray(k0["upstream"]["out"])
    results["results"]["relu-k0"]["dx"] = (dout * (x >= 0)).tolist()
    results["results"]["max_gate-k1"] = {"dx": 0.0, "dy": 0.0}
    path = tmp_path / "kinks.json"
    path.write_text(json.dumps(results))
    rc, verdicts = check_results(tmp_path, path, "--case", "relu", "max_gate")
    by_case = {c["case"]: c for c in verdicts["cases"]}
    assert rc == 1
    assert by_case["relu"]["status"] == "passed"
    assert by_case["relu"]["at_kinks"]["status"] == "convention differs"
    assert by_case["max_gate"]["status"] == "failed"
    bad = [v for v in by_case["max_gate"]["at_kinks"]["verdicts"] if v["status"] == "failed"]
    assert [v["id"] for v in bad] == ["max_gate-k1"]
    assert "not a subgradient at the kink: along u = all ones" in bad[0]["message"]
    assert f"gradref check-results {VECTORS} {path} --case max_gate   # max_gate-k1, " \
           "test_at_kink" in bad[0]["message"]


# --- results files are read strictly: never misread, one line for what is wrong -----------------

@pytest.mark.parametrize("edit, says", [
    (lambda d: d.update(results=None), '"results" is NoneType; expected an object'),
    (lambda d: d.update(version=2), "version 2; this gradref reads gradref-results version 1"),
    (lambda d: d.pop("format"), "not a gradref-results file"),
])
def test_a_malformed_results_file_is_a_usage_error_in_one_line(tmp_path, capsys, edit, says,
                                                              handwritten_results):
    doc = json.loads(handwritten_results.read_text())
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert cli.main(["check-results", str(VECTORS), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: " in err and says in err


@pytest.mark.parametrize("text", ["[1, 2]", "null", "[" * 100_000 + "]" * 100_000])
def test_a_results_file_that_is_not_an_object_is_one_line(tmp_path, capsys, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert cli.main(["check-results", str(VECTORS), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_values_are_read_as_written_or_refused_with_file_sample_and_key(tmp_path, handwritten_results):
    doc = json.loads(handwritten_results.read_text())
    r = doc["results"]
    r["staged-s0"]["dx"] = repr(r["staged-s0"]["dx"])           # a decimal string: its value
    r["staged-s1"]["dx"] = float(r["staged-s1"]["dx"]).hex()    # a hex float, with 0x
    r["staged-s2"]["dx"] = "abc"
    r["staged-s3"] = 0.5
    r["staged-s4"]["dx"] = 10 ** 400
    r["staged-s5"]["dx"] = [[r["staged-s5"]["dx"]]]
    r["staged-s6"]["dy"] = "10"                                 # not 16: decimals stay decimal
    r["staged-s7"]["extra"] = 1
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(doc))
    rc, verdicts = check_results(tmp_path, path, "--case", "staged")
    failures = {f["message"].split(":")[0]: f["message"].split("\n")[0]
                for f in verdicts["cases"][0]["failures"] if f["check"] == "behaved"}
    assert rc == 1 and sorted(failures) == ["staged-s2", "staged-s3", "staged-s4", "staged-s5"]
    assert failures["staged-s2"] == f"staged-s2: {path}: gradient dx holds the string 'abc', not a number"
    assert failures["staged-s3"] == f"staged-s3: {path}: sample staged-s3: is float, expected an object: name -> value"
    assert "gradient dx holds an integer too large for a float64" in failures["staged-s4"]
    assert "gradient dx is a list of 1 where a number was expected" in failures["staged-s5"]
    jax = {f["message"].split(":")[0] for f in verdicts["cases"][0]["failures"] if f["check"] == "jax"}
    assert "staged-s6" in jax and "staged-s0" not in jax and "staged-s1" not in jax


def test_a_file_with_no_known_sample_checks_nothing(tmp_path, capsys):
    path = tmp_path / "strangers.json"
    path.write_text(json.dumps({"format": "gradref-results", "version": 1,
                                "results": {"nonsense-s0": {"out": 1.0}}}))
    assert cli.main(["check-results", str(VECTORS), str(path), "--case", "staged"]) == 3
    captured = capsys.readouterr()
    assert "1 sample id(s) not in" in captured.err and "nothing was checked" in captured.out


def test_case_filter_does_not_call_the_other_cases_ids_unknown(tmp_path, capsys):
    """`--case staged` on a file that also answers other cases: their ids are in the vectors, so
    no warning; only an id no vector file holds is warned about."""
    staged = json.loads((VECTORS / "staged.json").read_text())
    results = {s["id"]: s["expected"] for s in staged["samples"]}
    results["multiply-s0"] = {"out": 0.0, "dx": 0.0, "dy": 0.0}       # another case's sample
    results["max_gate-k1"] = {"dx": 0.0, "dy": 0.0}                   # another case's kink
    results["nonsense-s0"] = {"out": 1.0}                             # no case's sample
    path = tmp_path / "more.json"
    path.write_text(json.dumps({"format": "gradref-results", "version": 1, "results": results}))
    assert cli.main(["check-results", str(VECTORS), str(path), "--case", "staged"]) == 0
    err = capsys.readouterr().err
    assert "1 sample id(s) not in" in err and "'nonsense-s0'" in err
    assert "multiply-s0" not in err and "max_gate-k1" not in err
