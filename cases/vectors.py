"""Language-neutral test vectors: the catalogue's samples and oracle values as JSON files.

    gradref export vectors                     write vectors/<case>.json, index.json, schema.json
    gradref results vectors out.json --impl X  run a Python implementation on them (a results file)
    gradref check-results vectors out.json     judge a results file, from any language

A vector file holds, per sample, the inputs, the upstream gradient, the reference outputs and
gradients (jax.vjp) and the finite-difference estimates with their error estimates, so that a
results file is judged by the same four checks, tolerances and report as `gradref report`.
Floats are JSON numbers written as the shortest decimal string that reads back as the same
IEEE-754 float64 (Python's repr); any correctly rounded parser (strtod, Double.parseDouble,
serde_json) recovers them bit for bit. Integers (labels) are JSON integers; Static parameters are
their JSON value (tuples as arrays).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from . import check, kinks, oracles, worker
from .calls import BlockRun, fold
from .catalogue import select
from .check import CaseResult, stop_case
from .compare import judge, probe_scale
from .impl import Implementation, ImplementationError
from .worker import WorkerDied
from .sampling import Sample
from .spec import Arg, Case, CaseError, Integers, Model, Static, elements
from .tolerance import (FD_COND, FD_DIRECTIONS, FD_SAFETY, FD_STEP, FD_STEP_FLOOR, PROBE_SLACK,
                        SCALE_FLOOR, VECTOR_DRIFT_ULPS, rtol)

FORMAT, VERSION = "gradref-vectors", 1
RESULTS_FORMAT = "gradref-results"
FLOATS = ("JSON numbers: the shortest decimal that reads back as the same IEEE-754 float64 "
          "(Python repr); parse with a correctly rounded parser to recover the exact bits")
# A case whose one sample holds more numbers than this is left out of the export (its vectors
# would be megabytes per sample); index.json names it and says why.
MAX_NUMBERS_PER_SAMPLE = 20_000


def _jsonable(value, where: str):
    if isinstance(value, dict):
        return {str(k): _jsonable(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, np.ndarray):     # tagged, so that it reads back as an array
        return {"ndarray": value.tolist(), "dtype": value.dtype.name, "shape": list(value.shape)}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CaseError(f"{where}: {type(value).__name__} cannot be written as JSON")


def _from_json(value):
    """A Static value as the implementation gets it: tagged arrays back to NumPy arrays."""
    if isinstance(value, dict):
        if set(value) == {"ndarray", "dtype", "shape"}:
            return np.asarray(value["ndarray"], dtype=value["dtype"]).reshape(value["shape"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _ctor_json(ctor: dict) -> dict:
    """Constructor arguments as JSON: a dtype by its name ("float64"), tuples as lists."""
    return {k: np.dtype(v).name if k == "dtype" else v for k, v in ctor.items()}


def _ctor_of(ctor: dict) -> dict:
    return {k: np.dtype(v).type if k == "dtype" else _from_json(v) for k, v in ctor.items()}


def numbers_per_sample(case: Case) -> int:
    shapes = oracles.output_shapes(case)
    e = case.n_diff_elements
    k = FD_DIRECTIONS if case.fd_mode == "directional" else e
    return (case.n_input_elements + 2 * sum(elements(s) for s in shapes)
            + 2 * e + 3 * k + (k * e if case.fd_mode == "directional" else 0))


def case_document(case: Case, seed: int, n: int) -> dict:
    ss, ov = check.block(case, seed, 0, n, "float64")
    shapes = oracles.output_shapes(case)
    samples = []
    for i, s in enumerate(ss):
        fd = {"steps": ov.fd_steps[i].tolist(), "estimate": ov.fd_estimate[i].tolist(),
              "truncation": ov.fd_truncation[i].tolist(), "rounding": ov.fd_rounding[i].tolist()}
        if ov.directions is not None:
            fd["directions"] = ov.directions[i].astype(np.int64).tolist()
        samples.append({
            "id": s.id,
            "inputs": {k: v.tolist() for k, v in s.arrays.items()},
            "upstream": {o: d.tolist() for o, d in zip(case.outputs, s.douts)},
            "expected": {**{o: ov.outputs[k][i].tolist() for k, o in enumerate(case.outputs)},
                         **{g: ov.grads[k][i].tolist() for k, g in enumerate(case.grad_names)}},
            "probe": {**{o: ov.probe_outputs[k][i].tolist() for k, o in enumerate(case.outputs)},
                      **{g: ov.probe_grads[k][i].tolist() for k, g in enumerate(case.grad_names)}},
            "fd": fd,
        })
    return {
        "format": FORMAT, "version": VERSION, "floats": FLOATS,
        "case": case.name, "op": case.op, "source": case.source, "style": case.style,
        "functions": list(case.functions), "call": case.call,
        "args": [{"name": a.name, "kind": "array", "shape": list(a.shape),
                  "dtype": "int64" if isinstance(a.domain, Integers) else "float64",
                  "differentiable": a.diff, "domain": str(a.domain)} if isinstance(a, Arg) else
                 {"name": a.name, "kind": "static", "value": _jsonable(a.value, case.name)}
                 for a in case.args],
        "outputs": [{"name": o, "shape": list(s)} for o, s in zip(case.outputs, shapes)],
        "gradients": [{"name": g, "shape": list(a.shape)}
                      for g, a in zip(case.grad_names, case.diff_args)],
        "kink": case.kink or None,
        "beyond_contract": case.beyond_contract or None,
        **({"model": {"class": case.model.cls, "module": case.model.module,
                      "constructor": _jsonable(_ctor_json(case.model.ctor), case.name),
                      "loss_args": list(case.model.call), "state": case.model.state}}
           if case.model else {}),
        "seed": seed,
        "tolerances": {
            "forward_and_gradient_rtol": rtol(np.float64), "scale_floor": SCALE_FLOOR,
            "fd_safety": FD_SAFETY, "fd_cond": FD_COND, "probe_slack": PROBE_SLACK,
            "rule": "forward and gradients, per entry: |got - expected| <= rtol * scale + "
                    "slack, scale = max|expected| of the array, floored at scale_floor times the "
                    "largest such max of the sample's arrays; slack = probe_slack * 2^-29 * probe "
                    "(probe: the rounding the reference's computation can carry at that entry, in "
                    "float32 units: the larger of |float32 - float64| and |float64 with float32-"
                    "sized noise on every operation - float64|; 2^-29 = "
                    "eps64 / eps32). Finite differences, full: per element i, |g_i - estimate_i / "
                    "steps_i| <= (fd_safety * truncation_i + rounding_i) / steps_i + rtol * scale "
                    "+ slack_i; directional: per direction k with u_k = directions_k * steps, "
                    "|<g, u_k> - estimate_k| <= fd_safety * truncation_k + rounding_k + rtol * "
                    "max|g| * |u_k|_1 + sum_i |u_ki| slack_i"},
        "fd": {"mode": case.fd_mode, "step": FD_STEP, "step_floor": FD_STEP_FLOOR,
               "directions": FD_DIRECTIONS if case.fd_mode == "directional" else None,
               "method": "central differences D(t) of <upstream, f> at t = 1, 1/2, 1/4 along "
                         "u = e_i * steps_i (full) or directions * steps; estimate = (4 D(1/4) - "
                         "D(1/2)) / 3, truncation = |estimate - (4 D(1/2) - D(1)) / 3|"},
        "samples": samples,
        "kinks": kink_entries(case, seed),
    }


def kink_entries(case: Case, seed: int) -> list[dict]:
    """The case's kink samples (cases/kinks.py) with what the reference says there."""
    out = []
    for s in kinks.samples(case, seed):
        h, signs, W = kinks.directions(case, s, seed)
        o = kinks.oracle(case, s, kinks.step_vectors(h, signs), W)
        at = case.grad_offsets
        declared = {g: o.declared[at[k]:at[k + 1]].reshape(a.shape).tolist()
                    for k, (a, g) in enumerate(zip(case.diff_args, case.grad_names))}
        out.append({"id": kinks.sample_id(case, s.index),
                    "inputs": {k: v.tolist() for k, v in s.arrays.items()},
                    "upstream": {n: d.tolist() for n, d in zip(case.outputs, s.douts)},
                    "steps": h.tolist(), "signs": signs.astype(np.int64).tolist(),
                    "forward": o.forward.tolist(), "backward": o.backward.tolist(),
                    "low": o.low.tolist(), "high": o.high.tolist(),
                    "truncation": o.truncation.tolist(), "rounding": o.rounding,
                    "declared": declared})
    return out


def dumps(doc: dict) -> str:
    """Stable bytes: the header indented, one sample (and one kink sample) a line."""
    lists = ("samples", "kinks")
    head = {k: v for k, v in doc.items() if k not in lists}
    text = json.dumps(head, indent=1, allow_nan=False)[:-2]
    for key in lists:
        rows = ",\n".join(json.dumps(s, separators=(",", ":"), allow_nan=False) for s in doc[key])
        text += f',\n "{key}": [' + (f"\n{rows}\n ]" if rows else "]")
    return text + "\n}\n"


def export(directory: str, case_names=(), seed: int = 0, n: int = 20) -> list[str]:
    """Write <case>.json per case, index.json and schema.json; return the lines to print."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written, left_out = [], {}
    for case in select(case_names):
        size = numbers_per_sample(case)
        if size > MAX_NUMBERS_PER_SAMPLE:
            left_out[case.name] = (f"{size} numbers per sample (over {MAX_NUMBERS_PER_SAMPLE}); "
                                   "a smaller case covers the same op")
            continue
        (out / f"{case.name}.json").write_text(dumps(case_document(case, seed, n)))
        written.append(case.name)
    index = {"format": FORMAT, "version": VERSION, "seed": seed, "samples_per_case": n,
             "regenerate": "gradref export vectors" + (f" --seed {seed}" if seed else "")
                           + (f" --samples {n}" if n != 20 else ""),
             "cases": written, "left_out": left_out}
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    (out / "schema.json").write_text(json.dumps(SCHEMA, indent=1) + "\n")
    return [f"wrote {len(written)} cases to {out}/ ({seed=}, {n} samples each)"] + \
        [f"left out {k}: {v}" for k, v in left_out.items()]


# --- drift: a committed file against a fresh export ----------------------------------------------

# The fields of a sample computed through XLA and LAPACK: compared within bounds (drift); every
# other field of a vector file is exact (cases/tolerance.py, VECTOR_DRIFT_ULPS, says why).
COMPUTED = ("expected", "probe")
COMPUTED_FD = ("estimate", "truncation", "rounding")
COMPUTED_KINK = ("forward", "backward", "low", "high", "truncation", "rounding", "declared")
EPS64, EPS32 = float(np.finfo(np.float64).eps), float(np.finfo(np.float32).eps)


def _exact_part(doc: dict) -> dict:
    """The document without its computed fields: what must match bit for bit."""
    samples = [{k: ({f: v for f, v in s[k].items() if f not in COMPUTED_FD} if k == "fd" else v)
                for k, v in s.items() if k not in COMPUTED} for s in doc["samples"]]
    at_kinks = [{k: v for k, v in s.items() if k not in COMPUTED_KINK} for s in doc["kinks"]]
    return {**doc, "samples": samples, "kinks": at_kinks}


def _first_difference(a, b, path: str = "$") -> str:
    """The JSON path of the first place where two parsed JSON documents differ ("" if none)."""
    if type(a) is not type(b):
        return path
    if isinstance(a, dict):
        for k in sorted(a.keys() | b.keys()):
            found = f"{path}.{k}" if k not in a or k not in b else \
                _first_difference(a[k], b[k], f"{path}.{k}")
            if found:
                return found
        return ""
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} vs {len(b)})"
        return next((d for i, (x, y) in enumerate(zip(a, b))
                     if (d := _first_difference(x, y, f"{path}[{i}]"))), "")
    return "" if a == b else path


def drift(committed: dict, fresh: dict) -> list[str]:
    """One line per field where a fresh export of a case differs from the committed file by more
    than rounding on another machine may move it: exact fields at all, computed ones beyond
    their bound."""
    name = committed.get("case", "?")
    where = _first_difference(_exact_part(committed), _exact_part(fresh))
    if where:
        return [f"{name}: an exact field differs at {where}"]
    f64 = lambda v: np.asarray(v, dtype=np.float64)    # noqa: E731
    problems = []
    for old, new in zip(committed["samples"], fresh["samples"]):
        sid = old["id"]
        scale = {k: float(np.max(np.abs(f64(v)), initial=0.0)) for k, v in old["expected"].items()}
        floor = SCALE_FLOOR * max(scale.values(), default=0.0)
        for field, eps in (("expected", EPS64), ("probe", EPS32)):
            for k, v in old[field].items():
                if np.shape(v) != np.shape(new[field][k]):
                    problems.append(f"{sid}: {field}.{k} changed shape")
                    continue
                gap = float(np.max(np.abs(f64(v) - f64(new[field][k])), initial=0.0))
                bound = VECTOR_DRIFT_ULPS * eps * max(scale[k], floor)
                if not gap <= bound:
                    problems.append(f"{sid}: {field}.{k} moved by {gap:.3e} > {bound:.3e} "
                                    f"({VECTOR_DRIFT_ULPS:g} ulps of its scale {scale[k]:.3e})")
        rounding = f64(old["fd"]["rounding"])
        bounds = {"estimate": rounding, "truncation": rounding,
                  "rounding": VECTOR_DRIFT_ULPS * EPS32 * rounding}
        for k, bound in bounds.items():
            if np.shape(old["fd"][k]) != np.shape(new["fd"][k]):
                problems.append(f"{sid}: fd.{k} changed shape")
                continue
            gap = np.abs(f64(old["fd"][k]) - f64(new["fd"][k]))
            if not np.all(gap <= bound):
                j = int(np.argmax(np.where(gap <= bound, 0.0, np.inf)))
                problems.append(f"{sid}: fd.{k}[{j}] moved by {gap[j]:.3e} > {bound[j]:.3e}")
    for old, new in zip(committed["kinks"], fresh["kinks"]):
        problems += _kink_drift(old, new)
    return [f"{name}: {p}" for p in problems[:3]] + \
        ([f"{name}: ... {len(problems) - 3} more"] if len(problems) > 3 else [])


def _kink_drift(old: dict, new: dict) -> list[str]:
    """A kink entry's computed fields: the one-sided derivatives, piece ranges and truncation
    within their rounding bound plus VECTOR_DRIFT_ULPS ulps of their size; the rounding bound and
    the declared gradient within VECTOR_DRIFT_ULPS ulps of their scale."""
    f64 = lambda v: np.asarray(v, dtype=np.float64)    # noqa: E731
    problems = []
    declared = {k: f64(v) for k, v in old["declared"].items()}
    scale = max((float(np.max(np.abs(v), initial=0.0)) for v in declared.values()), default=0.0)
    pairs = [(k, f64(old[k]), f64(new[k]), old["rounding"]) for k in COMPUTED_KINK[:5]]
    pairs += [("rounding", f64(old["rounding"]), f64(new["rounding"]), 0.0)]
    pairs += [(f"declared.{k}", v, f64(new["declared"][k]), 0.0) for k, v in declared.items()]
    for k, a, b, slack in pairs:
        if a.shape != b.shape:
            problems.append(f"{old['id']}: {k} changed shape")
            continue
        size = scale if k.startswith("declared") else np.abs(a)
        bound = slack + VECTOR_DRIFT_ULPS * EPS64 * np.maximum(size, np.abs(a))
        if not np.all(np.abs(a - b) <= bound):
            problems.append(f"{old['id']}: {k} moved by {float(np.max(np.abs(a - b))):.3e}")
    return problems


# --- reading vectors back ----------------------------------------------------------------------

def load_documents(path: str, case_names=()) -> list[dict]:
    """The vector files at `path` (a file or a folder), in catalogue order; with `case_names`,
    from a folder only those cases' files are read (each case's file is named by the case)."""
    p = Path(path)
    if p.is_dir() and case_names:
        files = [p / f"{c}.json" for c in dict.fromkeys(case_names)]
        missing = [f.stem for f in files if not f.is_file()]
        if missing:
            raise CaseError(f"{path} holds no case {missing[0]!r}")
    else:
        files = [p] if p.is_file() else sorted(f for f in p.glob("*.json")
                                               if f.name not in ("index.json", "schema.json"))
    if p.is_dir() and (p / "index.json").exists():       # catalogue order
        order = json.loads((p / "index.json").read_text()).get("cases", [])
        files.sort(key=lambda f: order.index(f.stem) if f.stem in order else len(order))
    if not files:
        raise ImplementationError(f"{path}: no vector files (run: gradref export {path})")
    docs = []
    for f in files:
        doc = json.loads(f.read_text())
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise ImplementationError(f"{f}: not a {FORMAT} version {VERSION} file")
        docs.append(doc)
    if case_names:
        known = {d["case"] for d in docs}
        missing = [c for c in case_names if c not in known]
        if missing:
            raise CaseError(f"{path} holds no case {missing[0]!r}")
        docs = [d for d in docs if d["case"] in case_names]
    return docs


def case_of(doc: dict) -> Case:
    """The case as the file describes it (no reference: the file holds the oracle values)."""
    args = tuple(Arg(a["name"], tuple(a["shape"]), Integers(0, 1) if a["dtype"] == "int64" else None,
                     a["differentiable"]) if a["kind"] == "array" else Static(a["name"], _from_json(a["value"]))
                 for a in doc["args"])
    shapes = [tuple(o["shape"]) for o in doc["outputs"]]

    def shapes_only(*_):    # the checker asks the reference only for its output shapes
        outs = tuple(np.zeros(s) for s in shapes)
        return outs if len(outs) > 1 else outs[0]
    names = {"forward": doc["functions"][0], "backward": doc["functions"][1]} \
        if doc["style"] == "pair" else {}      # the functions to call, as the file names them
    m = doc.get("model")
    model = m and Model(m["class"], m["module"], _ctor_of(m["constructor"]), tuple(m["loss_args"]),
                        m["state"])
    return Case(doc["case"], doc["op"], doc["source"], args, reference=shapes_only,
                outputs=tuple(o["name"] for o in doc["outputs"]), style=doc["style"],
                kink=doc["kink"] or "", fd=doc["fd"]["mode"],
                beyond_contract=doc["beyond_contract"] or "", model=model, **names)


def oracle_values(doc: dict) -> oracles.OracleValues:
    ss = doc["samples"]
    f64 = lambda v: np.asarray(v, dtype=np.float64)   # noqa: E731
    directions = ([f64(s["fd"]["directions"]) for s in ss] if doc["fd"]["mode"] == "directional"
                  else None)
    return oracles.OracleValues(
        outputs=tuple(np.stack([f64(s["expected"][o["name"]]) for s in ss]) for o in doc["outputs"]),
        grads=tuple(np.stack([f64(s["expected"][g["name"]]) for s in ss]) for g in doc["gradients"]),
        probe_outputs=tuple(np.stack([f64(s["probe"][o["name"]]) for s in ss]) for o in doc["outputs"]),
        probe_grads=tuple(np.stack([f64(s["probe"][g["name"]]) for s in ss]) for g in doc["gradients"]),
        fd_estimate=np.stack([f64(s["fd"]["estimate"]) for s in ss]),
        fd_truncation=np.stack([f64(s["fd"]["truncation"]) for s in ss]),
        fd_rounding=np.stack([f64(s["fd"]["rounding"]) for s in ss]),
        fd_steps=np.stack([f64(s["fd"]["steps"]) for s in ss]),
        directions=None if directions is None else np.stack(directions))


def sample_of(case: Case, doc: dict, i: int) -> Sample:
    s = doc["samples"][i]
    arrays = {a.name: np.asarray(s["inputs"][a.name],
                                 dtype=np.int64 if isinstance(a.domain, Integers) else np.float64)
              for a in case.arrays}
    douts = tuple(np.asarray(s["upstream"][o], dtype=np.float64) for o in case.outputs)
    return Sample(case, i, arrays, douts, None)


def kink_sample_of(case: Case, entry: dict) -> Sample:
    arrays = {a.name: np.asarray(entry["inputs"][a.name],
                                 dtype=np.int64 if isinstance(a.domain, Integers) else np.float64)
              for a in case.arrays}
    douts = tuple(np.asarray(entry["upstream"][o], dtype=np.float64) for o in case.outputs)
    return Sample(case, int(entry["id"].rsplit("-k", 1)[1]), arrays, douts, None)


def kink_oracle(entry: dict) -> kinks.KinkOracle:
    f64 = lambda v: np.asarray(v, dtype=np.float64)    # noqa: E731
    return kinks.KinkOracle(f64(entry["forward"]), f64(entry["backward"]), f64(entry["low"]),
                            f64(entry["high"]), f64(entry["truncation"]), float(entry["rounding"]),
                            np.concatenate([f64(v).ravel() for v in entry["declared"].values()]))


def judge_kinks(case: Case, doc: dict, by_id: dict, repro, results_path: str) -> list:
    """The results file's gradients at the vectors' kink samples, judged as cases/kinks.py does."""
    verdicts = []
    for entry in doc["kinks"]:
        sid, problems = entry["id"], []
        got = by_id.get(sid)
        if isinstance(got, dict):
            reported = got.get("problems", [])
            problems += [fold(p) for p in reported] if isinstance(reported, list) else \
                ["problems: expected a list of strings"]
        elif got is not None:
            problems.append(f"{results_path}: sample {sid}: is {type(got).__name__}, expected an "
                            "object: name -> value")
        grads = None if not isinstance(got, dict) else _named(got, doc["gradients"], "gradient",
                                                               results_path, problems)
        if got is None or grads is None or problems:
            why = f"no result for kink sample {sid}" if got is None else "; ".join(problems)
            v = kinks.KinkVerdict(sid, "failed", f"{sid}: {why}")
        else:
            U = kinks.step_vectors(np.asarray(entry["steps"], dtype=np.float64),
                                   np.asarray(entry["signs"], dtype=np.float64))
            g = np.concatenate([x.ravel() for x in grads])
            v = kinks.judge(case, sid, g, U, kink_oracle(entry),
                            doc["tolerances"]["forward_and_gradient_rtol"])
        if v.message:
            v.message += "\n" + repro("kink", sid)
        verdicts.append(v)
    return verdicts


def _check_tolerances(doc: dict) -> None:
    t = doc["tolerances"]
    now = {"forward_and_gradient_rtol": rtol(np.float64), "scale_floor": SCALE_FLOOR,
           "fd_safety": FD_SAFETY, "fd_cond": FD_COND, "probe_slack": PROBE_SLACK}
    changed = [k for k, v in now.items() if t.get(k) != v]
    if changed:
        raise CaseError(f"case {doc['case']!r}: the vectors were exported with other tolerances "
                        f"({', '.join(changed)}); re-export them with this version of gradref")


# --- results files -----------------------------------------------------------------------------

RESULT_STATUSES = ("crashed", "timeout")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", re.I)
_HEX = re.compile(r"[+-]?0x[0-9a-f]*\.?[0-9a-f]*(p[+-]?\d+)?", re.I)


def compute_results(impl: Implementation, docs: list[dict],
                    timeout: float = worker.DEFAULT_TIMEOUT) -> dict:
    """Run a Python implementation on the vectors' inputs, through the same worker as `gradref
    report`: a results file, as another language would write it. What the worker observed goes
    into it too (`problems` per sample, `status` where the worker crashed or hung), so that
    check-results reaches the report's verdict. Ops the implementation lacks are left out."""
    results = {}
    for doc in docs:
        case = case_of(doc)
        ids = [s["id"] for s in doc["samples"]]
        try:
            run, _ = check.run_samples(case, impl, [sample_of(case, doc, i) for i in
                                                    range(len(ids))], "float64", timeout, ids)
        except WorkerDied as e:
            results |= {sid: {"status": e.status, "problems": [e.reason]} for sid in ids}
            continue
        if run is None:             # not implemented: left out
            continue
        for i, sid in enumerate(ids):
            outs, grads, problems = run.sample(i)
            entry = {}
            for names, values in ((case.outputs, outs), (case.grad_names, grads)):
                if values is not None:
                    entry |= {k: v.tolist() for k, v in zip(names, values)}
            if problems:
                entry["problems"] = problems
            results[sid] = entry
        if doc["kinks"]:            # the kink samples: their gradients (and what was observed)
            at = [kink_sample_of(case, k) for k in doc["kinks"]]
            for k, (grads, problems) in zip(doc["kinks"], kinks.run(
                    case, impl, at, [k["id"] for k in doc["kinks"]], "float64", timeout)):
                entry = {} if grads is None else {
                    g: v.tolist() for g, v in zip(case.grad_names, grads)}
                results[k["id"]] = entry | ({"problems": problems} if problems else {})
    return {"format": RESULTS_FORMAT, "version": VERSION, "implementation": impl.name,
            "results": results}


def read_results(path: str) -> dict:
    """A results file, its structure checked: one line naming the file and what is wrong (a
    usage error) when it is not a gradref-results file of this version."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except RecursionError:
        raise ImplementationError(f"{path}: nested too deeply to read") from None
    except (OSError, ValueError) as e:
        raise ImplementationError(f"{path}: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != RESULTS_FORMAT:
        raise ImplementationError(f"{path}: not a {RESULTS_FORMAT} file: an object with "
                                  f'"format": "{RESULTS_FORMAT}" (see docs/checking-your-own.md)')
    if doc.get("version") != VERSION:
        raise ImplementationError(f"{path}: version {doc.get('version')!r}; this gradref reads "
                                  f"{RESULTS_FORMAT} version {VERSION}")
    if not isinstance(doc.get("results"), dict):
        raise ImplementationError(f"{path}: \"results\" is {type(doc.get('results')).__name__}"
                                  "; expected an object: sample id -> {name: value}")
    return doc


def _number(raw, what: str) -> float:
    """One entry: a JSON number, or a string holding a decimal, a hex float (0x...), nan or inf."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"{what} holds {type(raw).__name__}, not a number")
    if isinstance(raw, str):
        if _HEX.fullmatch(raw.strip()):
            return float.fromhex(raw)
        if _DECIMAL.fullmatch(raw.strip()):
            return float(raw)
        raise ValueError(f"{what} holds the string {raw[:40]!r}, not a number")
    try:
        return float(raw)
    except OverflowError:
        raise ValueError(f"{what} holds an integer too large for a float64") from None


def _tensor(raw, shape: tuple, what: str):
    """Nested lists of the declared shape, as nested lists of floats (ValueError saying what is
    off otherwise); never deeper than the shape, so any nesting is read in bounded time."""
    if not shape:
        if isinstance(raw, list):
            raise ValueError(f"{what} is a list of {len(raw)} where a number was expected "
                             "(nested deeper than its shape)")
        return _number(raw, what)
    if not isinstance(raw, list):
        raise ValueError(f"{what} is {'a number' if isinstance(raw, (int, float)) else type(raw).__name__}"
                         f" where a list of {shape[0]} was expected (shape {shape})")
    if len(raw) != shape[0]:
        raise ValueError(f"{what} has {len(raw)} entries where {shape[0]} were expected (shape "
                         f"{shape})")
    return [_tensor(x, shape[1:], what) for x in raw]


def _named(entry: dict, specs: list, kind: str, where: str, problems: list) -> tuple | None:
    """The arrays `specs` names (outputs or gradients: `kind`) from one sample's results in the
    file `where`; None if any is missing or unusable (and a problem says so)."""
    values = []
    for spec in specs:
        what = f"{kind} {spec['name']}" if kind == "gradient" else f"{kind} {spec['name']!r}"
        if spec["name"] not in entry:
            problems.append(f"{where}: no {what}")
            values.append(None)
            continue
        try:
            value = np.asarray(_tensor(entry[spec["name"]], tuple(spec["shape"]), what),
                               dtype=np.float64)
        except ValueError as e:
            problems.append(f"{where}: {e}")
            values.append(None)
            continue
        bad = int(np.sum(~np.isfinite(value)))
        if bad:
            problems.append(f"{where}: {what} has {bad} non-finite entries (nan or inf)")
        values.append(value)
    return None if any(v is None for v in values) else tuple(values)


def _unknown_ids(by_id: dict, docs: list[dict], vectors: str) -> list[str]:
    """The sample ids of a results file that no vector file at `vectors` holds. `docs` may be a
    selection (--case): an id of another case is known, not unknown, so the other files are read
    too, and only when some id is not among the selected cases' ids."""
    def ids(ds):
        return {s["id"] for d in ds for s in d["samples"] + d["kinks"]}
    selected = ids(docs)
    unknown = [k for k in by_id if k not in selected]
    if unknown:
        named = {k.rsplit("-", 1)[0] for k in unknown}   # ids are <case>-s<i>, -k<j>, -g<k>
        folder = Path(vectors)
        filed = [c for c in named if folder.is_dir() and (folder / f"{c}.json").is_file()]
        every = ids(load_documents(vectors, filed)) if filed else set()
        unknown = [k for k in unknown if k not in every]
    return unknown


def check_results(docs: list[dict], results: dict, vectors: str, results_path: str) -> list[CaseResult]:
    """Judge the selected cases' vectors (`docs`) against a results file: same checks, tolerances
    and verdicts as report. Sample ids that no vector file at `vectors` holds (whether its case is
    selected or not), and unknown keys, are warned about on stderr."""
    by_id = results["results"]
    name = str(results.get("implementation", results_path))
    unknown = _unknown_ids(by_id, docs, vectors)
    if unknown:
        print(f"warning: {results_path}: {len(unknown)} sample id(s) not in {vectors}: "
              f"{', '.join(map(repr, unknown[:3]))}{' ...' if len(unknown) > 3 else ''}",
              file=sys.stderr)
    out = []
    for doc in docs:
        _check_tolerances(doc)
        case = case_of(doc)
        result = CaseResult(case, name, doc["seed"], "float64", beyond_contract=case.beyond_contract)
        ids = [s["id"] for s in doc["samples"]]
        if not any(i in by_id for i in ids):
            result.not_implemented = f"{results_path} has no result for any sample of {case.name}"
            out.append(result)
            continue
        names = {*case.outputs, *case.grad_names, "problems", "status"}
        n = len(ids)
        outputs = tuple(np.zeros((n, *o["shape"])) for o in doc["outputs"])
        grads = tuple(np.zeros((n, *g["shape"])) for g in doc["gradients"])
        outputs_ok, grads_ok = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        problems: dict = {}
        stopped = None
        for i, sid in enumerate(ids):
            entry, said = by_id.get(sid), []
            where = f"{results_path}: sample {sid}"
            if entry is None:
                said.append(f"no result for sample {sid}")
            elif not isinstance(entry, dict):
                said.append(f"{where}: is {type(entry).__name__}, expected an object: name -> value")
            else:
                extra = sorted(k for k in entry if k not in names)
                if extra:
                    print(f"warning: {where}: unknown key(s) {', '.join(map(repr, extra))}",
                          file=sys.stderr)
                reported = entry.get("problems", [])
                if not (isinstance(reported, list) and all(isinstance(p, str) for p in reported)):
                    said.append(f"{where}: problems: expected a list of strings")
                else:
                    said.extend(fold(p) for p in reported)
                status = entry.get("status")
                if status is not None and status not in RESULT_STATUSES:
                    said.append(f"{where}: status: {str(status)[:40]!r} is neither of "
                                f"{', '.join(RESULT_STATUSES)}")
                elif status is not None and stopped is None:
                    stopped = (i, status, "; ".join(said) or "no reason given")
                got = _named(entry, doc["outputs"], "output", results_path, said)
                if got is not None:
                    outputs_ok[i] = True
                    for x, v in zip(outputs, got):
                        x[i] = v
                got = _named(entry, doc["gradients"], "gradient", results_path, said)
                if got is not None:
                    grads_ok[i] = True
                    for x, v in zip(grads, got):
                        x[i] = v
            if said:
                problems[i] = said
        upto = n if stopped is None else stopped[0]    # a crash or hang stops the case there
        run = BlockRun(tuple(x[:upto] for x in outputs), tuple(x[:upto] for x in grads),
                       outputs_ok[:upto], grads_ok[:upto],
                       {i: p for i, p in problems.items() if i < upto})
        repro = lambda chk, sid: _repro(vectors, results_path, case, chk, sid)   # noqa: E731
        ov = oracle_values(doc)
        if upto:
            ov_first = oracles.OracleValues(**{
                k: tuple(x[:upto] for x in v) if isinstance(v, tuple) else
                None if v is None else v[:upto] for k, v in vars(ov).items()})
            result.samples = judge(case, ids[:upto], run, ov_first,
                                   doc["tolerances"]["forward_and_gradient_rtol"],
                                   lambda chk, i: repro(chk, ids[i]), probe_scale(np.float64))
        if stopped is not None:
            stop_case(result, WorkerDied(stopped[1], stopped[2]), upto, n - upto, repro)
        else:
            result.kinks = judge_kinks(case, doc, by_id, repro, results_path)
        out.append(result)
    return out


def _repro(vectors: str, results_path: str, case: Case, chk: str, sid: str) -> str:
    return (f"reproduce: gradref check-results {Path(vectors).resolve()} "
            f"{Path(results_path).resolve()} --case {case.name}   # {sid}, {check.TESTS[chk]}")


# --- the JSON Schema of a vector file -----------------------------------------------------------

_TENSOR = {"anyOf": [{"type": "number"}, {"type": "array", "items": {"$ref": "#/$defs/tensor"}}]}
_NAMED = {"type": "object", "additionalProperties": {"$ref": "#/$defs/tensor"}}
_SHAPED = {"type": "object", "required": ["name", "shape"], "additionalProperties": False,
           "properties": {"name": {"type": "string"},
                          "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}}}}
_NUMBERS = {"type": "array", "items": {"type": "number"}}
_COMPUTED_NOTE = ("computed through XLA and LAPACK: another CPU or BLAS kernel may move the last "
                  "bits (a few ulps); judge against it within the file's tolerances. Every field "
                  "not so marked (ids, inputs, upstream, fd steps and directions, the header) is "
                  "exact on every machine")
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://gradref/vectors/schema.json",
    "title": f"{FORMAT} version {VERSION}: one case of the gradref catalogue, its samples and "
             "oracle values",
    "type": "object",
    "required": ["format", "version", "floats", "case", "op", "source", "style", "functions",
                 "call", "args",
                 "outputs", "gradients", "kink", "beyond_contract", "seed", "tolerances", "fd",
                 "samples", "kinks"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "floats": {"type": "string"},
        "case": {"type": "string"}, "op": {"type": "string"}, "source": {"type": "string"},
        "style": {"enum": ["pair", "loss"]},
        "functions": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        "call": {"type": "string"},
        "args": {"type": "array", "items": {"anyOf": [
            {"type": "object", "additionalProperties": False,
             "required": ["name", "kind", "shape", "dtype", "differentiable", "domain"],
             "properties": {"name": {"type": "string"}, "kind": {"const": "array"},
                            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                            "dtype": {"enum": ["float64", "int64"]},
                            "differentiable": {"type": "boolean"}, "domain": {"type": "string"}}},
            {"type": "object", "additionalProperties": False, "required": ["name", "kind", "value"],
             "properties": {"name": {"type": "string"}, "kind": {"const": "static"},
                            "value": {"description": "the parameter as JSON; a NumPy array "
                                      "inside it as {ndarray: nested list, dtype, shape}"}}}]}},
        "outputs": {"type": "array", "items": _SHAPED},
        "gradients": {"type": "array", "items": _SHAPED},
        "kink": {"type": ["string", "null"]},
        "beyond_contract": {"type": ["string", "null"], "description": "why the case's source "
                            "never asks for it (null when it does); an implementation that does "
                            "not pass it is reported 'beyond contract', not failed"},
        "model": {"type": "object", "additionalProperties": False,
                  "required": ["class", "module", "constructor", "loss_args", "state"],
                  "description": "a model class's loss (the model call style): construct the "
                                 "class with `constructor`, set model.params to the "
                                 "differentiable inputs by name, call model.loss(*loss_args); "
                                 "grads is a dict keyed by parameter name",
                  "properties": {"class": {"type": "string"}, "module": {"type": "string"},
                                 "constructor": {"type": "object"},
                                 "loss_args": {"type": "array", "items": {"type": "string"}},
                                 "state": {"type": "string"}}},
        "seed": {"type": "integer"},
        "tolerances": {"type": "object", "required": ["forward_and_gradient_rtol", "scale_floor",
                                                      "fd_safety", "fd_cond", "probe_slack", "rule"],
                       "properties": {"forward_and_gradient_rtol": {"type": "number"},
                                      "scale_floor": {"type": "number"},
                                      "fd_safety": {"type": "number"}, "fd_cond": {"type": "number"},
                                      "probe_slack": {"type": "number"},
                                      "rule": {"type": "string"}}},
        "fd": {"type": "object", "required": ["mode", "step", "step_floor", "directions", "method"],
               "properties": {"mode": {"enum": ["full", "directional"]},
                              "step": {"type": "number"}, "step_floor": {"type": "number"},
                              "directions": {"type": ["integer", "null"]},
                              "method": {"type": "string"}}},
        "samples": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "inputs", "upstream", "expected", "probe", "fd"],
            "properties": {
                "id": {"type": "string"}, "inputs": _NAMED, "upstream": _NAMED,
                "expected": {**_NAMED, "description": _COMPUTED_NOTE},
                "probe": {**_NAMED, "description": _COMPUTED_NOTE},
                "fd": {"type": "object", "additionalProperties": False,
                       "required": ["steps", "estimate", "truncation", "rounding"],
                       "properties": {"steps": _NUMBERS,
                                      "estimate": {**_NUMBERS, "description": _COMPUTED_NOTE},
                                      "truncation": {**_NUMBERS, "description": _COMPUTED_NOTE},
                                      "rounding": {**_NUMBERS, "description": _COMPUTED_NOTE},
                                      "directions": {"type": "array", "items": {
                                          "type": "array", "items": {"enum": [-1, 1]}}}}}}}},
    },
    "$defs": {"tensor": _TENSOR},
}
SCHEMA["properties"]["kinks"] = {
    "type": "array", "description": "samples exactly on a kink (cases/kinks.py): the gradient "
    "must lie, along each direction u_k, between min(forward, backward, low) and max(forward, "
    "backward, high) within fd_safety * truncation + rounding + rtol max|g| |u_k|_1; it is the "
    "declared convention when within rtol of `declared` (normwise). Directions: u_k = e_k * steps "
    "for k < E (each coordinate), steps for k = E (all ones), signs[k - E - 1] * steps after",
    "items": {"type": "object", "additionalProperties": False,
              "required": ["id", "inputs", "upstream", "steps", "signs", "forward", "backward",
                           "low", "high", "truncation", "rounding", "declared"],
              "properties": {
                  "id": {"type": "string"}, "inputs": _NAMED, "upstream": _NAMED,
                  "steps": _NUMBERS,
                  "signs": {"type": "array", "items": {"type": "array",
                                                       "items": {"enum": [-1, 1]}}},
                  **{k: {**_NUMBERS, "description": _COMPUTED_NOTE}
                     for k in ("forward", "backward", "low", "high", "truncation")},
                  "rounding": {"type": "number", "description": _COMPUTED_NOTE},
                  "declared": {**_NAMED, "description": _COMPUTED_NOTE}}}}
