"""What gradref pictures, and where: one point of a case, its circuit and its wrong gradients.

A point is a golden (the inputs a source prints numbers for, upstream gradient 1) or a random
sample (the one a test id such as `staged-s3` names). At a point, the circuit comes from the JAX
reference (cases/circuit.py, drawn by cases/draw.py); the expected gradients, and the bound each
entry of an implementation's gradient must keep, are those of the suite's JAX check (the oracle
values and `compare.allowed`), so a picture marks wrong exactly what `test_matches_jax` fails (on a
kink too: the references state the sources' conventions, cases/conventions.py). The
implementation runs through its worker (`check.run_samples`), which turns anything it does into a
problem, never an exception. `gradref draw`, the HTML report and the pytest-html hook all come
here.
"""

from __future__ import annotations

import base64
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import check, compare, kinks, oracles
from .circuit import trace
from .draw import FORMATS, Judged, PictureError, digraph, render
from .heatmap import heatmap
from .impl import Implementation
from .sampling import sample_id
from .spec import Case, CaseError
from .tolerance import rtol

# Above this many gates a circuit is not drawn in reports (the layout takes seconds and the
# picture is a wall of boxes); `gradref draw` draws any size.
REPORT_MAX_GATES = 200


@dataclass
class Point:
    case: Case
    label: str                  # "golden g0 (the source notebook's ...)", "sample staged-s3"
    sample: object              # cases.sampling.Sample: inputs and upstream gradients
    expected: tuple             # the JAX check's gradients, one per differentiable input
    probe: tuple | None         # the oracles' rounding probe of each gradient (float32 units)


def _index(which, prefix: str, case: Case, what: str) -> int:
    """`3`, `s3` or `staged-s3` (prefix "s"); `0`, `g0`, `sigmoid_neuron-g0` (prefix "g")."""
    m = re.fullmatch(rf"(?:{re.escape(case.name)}-)?{prefix}?(\d+)", str(which))
    if not m:
        raise CaseError(f"{case.name}: {what} {which!r} is not like {prefix}0 or "
                        f"{case.name}-{prefix}0")
    return int(m.group(1))


def golden_point(case: Case, which="0") -> Point:
    k = _index(which, "g", case, "golden")
    if k >= len(case.goldens):
        raise CaseError(f"{case.name}: no golden g{k} (it has {len(case.goldens)})")
    golden = case.goldens[k]
    s = check.golden_sample(case, golden)
    ov = oracles.evaluate(case, [s.arrays], [s.douts], [s.directions])
    return Point(case, f"golden g{k} ({golden.note})", s, tuple(g[0] for g in ov.grads),
                 tuple(p[0] for p in ov.probe_grads) if ov.probe_grads else None)


def sample_point(case: Case, which, seed: int = 0, dtype: str = "float64") -> Point:
    i = _index(which, "s", case, "sample")
    blk = check.draw(case, seed, i, i + 1)
    ov = check.oracle_values(case, seed, blk, dtype)
    return Point(case, f"sample {sample_id(case.name, i)}, seed {seed}", blk.sample(0),
                 tuple(g[0] for g in ov.grads),
                 tuple(p[0] for p in ov.probe_grads) if ov.probe_grads else None)


def kink_point(case: Case, which, seed: int = 0) -> Point:
    """A kink sample (`relu-k0`, cases/kinks.py); expected: the declared convention there."""
    from . import kinks
    k = _index(which, "k", case, "kink sample")
    ss = kinks.samples(case, seed)
    if k >= len(ss):
        raise CaseError(f"{case.name}: no kink sample k{k} (it has {len(ss)})")
    s = ss[k]
    ov = oracles.evaluate(case, [s.arrays], [s.douts], [s.directions])
    return Point(case, f"kink sample {case.name}-k{k}, seed {seed}", s,
                 tuple(g[0] for g in ov.grads),
                 tuple(p[0] for p in ov.probe_grads) if ov.probe_grads else None)


def _is_kink_id(which) -> bool:
    return re.fullmatch(r"(?:\w+-)?k\d+", str(which)) is not None


def choose_point(case: Case, golden=None, sample=None, seed: int = 0,
                 dtype: str = "float64") -> Point:
    """--golden [ID] or --sample ID (a kink sample: `k0`); neither: the first golden, or sample 0
    where there is none."""
    if sample is not None:
        if _is_kink_id(sample):
            return kink_point(case, sample, seed)
        return sample_point(case, sample, seed, dtype)
    if golden is not None or case.goldens:
        return golden_point(case, golden or "0")
    return sample_point(case, 0, seed, dtype)


@dataclass
class Run:
    """An implementation at a point: its gradients judged per input, and what went wrong."""
    name: str
    judged: dict = field(default_factory=dict)     # input name -> Judged
    problems: list = field(default_factory=list)   # what the worker observed, in words
    kink: str = ""      # on a kink: what cases/kinks.py says of the gradient there, in words

    @property
    def wrong(self) -> dict:
        return {k: j for k, j in self.judged.items() if j.wrong}


def run_at(point: Point, impl: Implementation, dtype: str = "float64") -> Run:
    """Run `impl` at `point` and judge each gradient as the JAX check does (its bound and slack)."""
    case = point.case
    t = check.DTYPES[dtype]
    try:
        block, why = check.run_samples(case, impl, [point.sample], dtype, ids=[point.label])
    except check.WorkerDied as e:
        return Run(impl.name, problems=[f"{e.status}: {e.reason}"])
    if block is None:
        return Run(impl.name, problems=[f"not implemented: {why}"])
    _, grads, problems = block.sample(0)
    run = Run(impl.name, problems=list(problems))
    if grads is None:
        return run
    one = lambda xs: None if xs is None else tuple(x[None] for x in xs)   # noqa: E731
    slack = None if point.probe is None else tuple(compare.probe_scale(t) * p for p in point.probe)
    limits = compare.allowed(one(point.expected), one(slack), rtol(t))
    other = False
    if case.kink and case.distance_to_kink(point.sample.arrays) == 0:
        v = kinks.judge_point(case, grads, problems, point.sample, point.label, 0, t)
        other = v.status == "convention differs"
        run.kink = {"passed": "on the kink: the declared convention",
                    "convention differs": "on the kink: another valid subgradient, not wrong",
                    "failed": "on the kink: not a subgradient"}[v.status]
    for a, got, want, limit in zip(case.diff_args, grads, point.expected, limits):
        run.judged[a.name] = Judged(got, np.asarray(want),
                                    np.broadcast_to(limit[0], np.shape(want)), other)
    return run


@dataclass
class Picture:
    title: str
    mime: str        # "image/svg+xml" or "image/png"
    data: bytes

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    def as_dict(self) -> dict:
        """JSON-friendly, as the HTML renderer takes it."""
        return {"title": self.title, "mime": self.mime, "uri": self.data_uri()}


def circuit_picture(point: Point, run: Run | None = None, file_format: str = "svg",
                    circuit=None) -> Picture:
    """The circuit at `point` (traced here unless given), `run`'s gradients marked on it."""
    circuit = circuit or trace(point.case, point.sample.arrays, point.sample.douts)
    said = [] if run is None else run.problems + ([run.kink] if run.kink else [])
    caption = f"{run.name}: " + "; ".join(said) if said else ""
    graph = digraph(circuit, f"{point.case.name} at {point.label}: forward values in green, "
                    "gradients in red", None if run is None else run.judged,
                    "" if run is None else run.name, caption)
    mime = "image/svg+xml" if file_format == "svg" else "image/png"
    return Picture(f"circuit of {point.case.name} at {point.label}", mime,
                   render(graph, file_format))


def heatmaps(point: Point, run: Run) -> list[Picture]:
    """One heatmap per wrong gradient that is an array (a scalar's value is in the circuit)."""
    return [Picture(f"d{name} at {point.label}: got, expected, |got - expected|", "image/png",
                    heatmap(f"d{name}", j.got, j.expected, j.allowed,
                            f"{point.case.name} at {point.label}"))
            for name, j in run.wrong.items() if np.ndim(j.got) >= 1]


def of_point(point: Point, impl: Implementation, dtype: str = "float64") -> list[Picture]:
    """The pictures of a point where a check failed: its circuit (where small enough to read)
    with the implementation's gradients marked, and a heatmap of each wrong array gradient."""
    run = run_at(point, impl, dtype)
    circuit = trace(point.case, point.sample.arrays, point.sample.douts)
    pictures = [circuit_picture(point, run, circuit=circuit)] \
        if len(circuit.gates) <= REPORT_MAX_GATES else []
    return pictures + heatmaps(point, run)


def of_failure(case: Case, impl: Implementation, sample_id: str, seed: int,
               dtype: str = "float64") -> list[Picture]:
    """of_point at a failing sample (`staged-s3`, or a kink sample `max_gate-k0`)."""
    point = (kink_point(case, sample_id, seed) if _is_kink_id(sample_id)
             else sample_point(case, sample_id, seed, dtype))
    return of_point(point, impl, dtype)


def main_draw(args, impl: Implementation | None) -> int:
    """`gradref draw CASE [--golden [ID] | --sample ID] [--impl X] -o FILE.svg|FILE.png`."""
    from .catalogue import get
    case = get(args.case)
    out = Path(args.output)
    file_format = out.suffix.lstrip(".").lower()
    if file_format not in FORMATS:
        raise PictureError(f"-o {args.output}: the file name must end in .svg or .png")
    point = choose_point(case, args.golden, args.sample, args.seed, args.dtype)
    run = None if impl is None else run_at(point, impl, args.dtype)
    if run is not None and run.problems and run.problems[0].startswith("not implemented"):
        raise CaseError(f"{case.name}: {run.problems[0]}")
    out.write_bytes(circuit_picture(point, run, file_format).data)
    print(f"wrote {out}: {case.name} at {point.label}")
    if run is not None:
        for p in run.problems:
            print(f"{case.name}: {run.name}: {p}", file=sys.stderr)
        for name, j in run.judged.items():
            verdict = ("WRONG (" + j.wrong + ")" if j.wrong else
                       "another convention (a valid subgradient)" if j.off else "right")
            print(f"  d{name}: {verdict}")
    return 0
