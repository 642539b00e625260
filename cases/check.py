"""Checking one case of one implementation: run it on every sample, judge it against the oracles.

Per sample, four verdicts, each a test of its own:
  behaved   the op ran, returned arrays of the right count, shape and dtype, finite, and did not
            write into its inputs or its upstream gradient (it runs on copies; we compare)
  forward   its outputs match the JAX reference forward (normwise, rtol of the dtype)
  jax       its gradients match jax.vjp of the reference (normwise, rtol of the dtype)
  fd        its gradients match Richardson-extrapolated finite differences within their
            estimated error (per element, or per random direction for large inputs)
Nothing the implementation does (raise, return junk, NaN) escapes as an exception: it becomes a
failed verdict whose message names the case, the sample and the problem.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import gc
import math
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import jax
import numpy as np

from . import kinks, oracles
from .impl import Implementation, signature_problem
from .sampling import Block, Sample, draw_range
from .spec import Arg, Case, Integers
from .tolerance import FD_DIRECTIONS, FD_SAFETY, PROBE_SLACK, SCALE_FLOOR, printed_rtol, rtol

TEST_FILE = "tests/test_reference.py"
CHECKS = {  # verdict name -> the test that states it
    "behaved": "test_well_behaved",
    "forward": "test_forward",
    "jax": "test_matches_jax",
    "fd": "test_matches_fd",
}
TESTS = CHECKS | {"kink": "test_at_kink"}   # every test a verdict can send a user to
DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass(slots=True)
class Verdict:
    ok: bool
    error: float = float("nan")   # the measured normwise error (nan where nothing was measured)
    message: str = ""             # why it failed, with the id that reproduces it


@dataclass(slots=True)
class SampleResult:
    id: str
    behaved: Verdict
    forward: Verdict
    jax: Verdict
    fd: Verdict

    def verdicts(self) -> dict:
        return {k: getattr(self, k) for k in CHECKS}

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts().values())


@dataclass
class CaseResult:
    case: Case
    implementation: str
    seed: int
    dtype: str
    samples: list = field(default_factory=list)
    not_implemented: str = ""      # why the op is not there ("" when it is)
    kinks: list = field(default_factory=list)   # a kinks.KinkVerdict per kink sample
    beyond_contract: str = ""      # the case's beyond_contract, where the implementation is held
                                   # only to its sources' contract ("" otherwise): what the source
                                   # does not ask (the backward) is reported, not failed; the
                                   # forward, which it does ask, is still held

    @property
    def status(self) -> str:
        if self.not_implemented:
            return "not implemented"
        if all(s.ok for s in self.samples) and self.kink_status != "failed":
            return "passed"
        excused = self.beyond_contract and all(s.forward.ok for s in self.samples)
        return "beyond contract" if excused else "failed"

    @property
    def kink_status(self) -> str:
        """At the case's kinks: "passed", "convention differs", "failed", or "" (none checked)."""
        return kinks.worst(self.kinks)

    def worst(self, check: str) -> float:
        errors = [getattr(s, check).error for s in self.samples]
        errors = [e for e in errors if not np.isnan(e)]
        return max(errors) if errors else float("nan")

    def failures(self) -> list[tuple[str, Verdict]]:
        """(check, verdict) of every failed check; "kink" for a kink sample that is not a
        subgradient (a different convention is no failure)."""
        return [(check, v) for s in self.samples for check, v in s.verdicts().items() if not v.ok] \
            + [("kink", Verdict(False, message=k.message)) for k in self.kinks
               if k.status == "failed"]


# --- samples and oracle values, in blocks; small blocks are kept for the next implementation ------

BLOCK_CACHE_BYTES = 2**29   # mutants and --impl runs reuse the oracles of the same samples
JUDGE_SAMPLES = 1024
JUDGE_FLOATS = 2**22
RUN_AHEAD_FLOATS = 2**24    # results of the implementation held while the oracles compile


def draw(case: Case, seed: int, start: int, stop: int) -> Block:
    return draw_range(case, seed, start, stop, oracles.output_shapes(case))


def samples(case: Case, seed: int, n: int, start: int = 0) -> tuple[Sample, ...]:
    return tuple(draw(case, seed, start, n).samples())


def _as_dtype(x: np.ndarray, dtype) -> np.ndarray:
    return x.astype(dtype) if x.dtype.kind == "f" else x.copy()   # kind "f": np.floating


def _rounded(x: np.ndarray, dtype) -> np.ndarray:
    """The float64 value of what the implementation receives (rounded to its dtype)."""
    return x.astype(dtype).astype(np.float64, copy=False) if x.dtype.kind == "f" else x


_blocks_cache: "collections.OrderedDict" = collections.OrderedDict()


def oracle_values(case: Case, seed: int, blk: Block, dtype: str) -> oracles.OracleValues:
    """The oracle values of a block of samples, at the inputs rounded to `dtype`; recent small
    ones are cached (mutants and --impl runs check the same samples)."""
    key = (case, seed, blk.start, len(blk), dtype)
    if key in _blocks_cache:
        _blocks_cache.move_to_end(key)
        return _blocks_cache[key][0]
    t = DTYPES[dtype]
    arrays = {k: _rounded(v, t) for k, v in blk.arrays.items()}
    ov = oracles.evaluate_stacked(case, arrays, tuple(_rounded(d, t) for d in blk.douts),
                                  blk.directions)
    size = sum(x.nbytes for x in jax.tree_util.tree_leaves(vars(ov)))
    if size <= BLOCK_CACHE_BYTES // 16:
        _blocks_cache[key] = (ov, size)
        while sum(v[1] for v in _blocks_cache.values()) > BLOCK_CACHE_BYTES:
            _blocks_cache.popitem(last=False)
    return ov


def block(case: Case, seed: int, start: int, stop: int, dtype: str) -> tuple:
    """(samples, oracle values) for samples start..stop-1, drawn and evaluated together."""
    blk = draw(case, seed, start, stop)
    return tuple(blk.samples()), oracle_values(case, seed, blk, dtype)


# --- running the implementation on one sample --------------------------------------------------

def _where(e: BaseException) -> str:
    """' (file.py, line N)' of the innermost frame of the implementation's code."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/cases/" not in f.filename]
    if not frames:
        return ""
    f = frames[-1]
    return f" ({Path(f.filename).name}, line {f.lineno})"


def _finite(x: np.ndarray) -> bool:
    """Whether every entry is finite. A finite sum implies it (a nan or inf entry makes the sum nan
    or inf); only when the sum is not finite (or overflows) are the entries looked at."""
    if x.ndim == 0:
        return math.isfinite(x)
    return math.isfinite(x.sum()) or bool(np.isfinite(x).all())


def _array(value, shape: tuple, dtype, what: str, problems: list) -> np.ndarray | None:
    """Check one returned value; None (and a problem) if it cannot be compared at all."""
    if (type(value) is not np.ndarray and not isinstance(value, np.generic)
            or value.shape != shape or value.dtype != dtype):
        if isinstance(value, (float, int)) and not isinstance(value, bool) and shape == ():
            value = np.asarray(value, dtype=dtype)  # a Python number is fine for a scalar
        if not isinstance(value, (np.ndarray, np.generic)):
            problems.append(f"{what} is {type(value).__name__}, not a NumPy array")
            return None
        value = np.asarray(value)
        if value.shape != tuple(shape):
            problems.append(f"{what} has shape {value.shape}, expected {tuple(shape)}")
            return None
        if value.dtype != dtype:
            problems.append(f"{what} has dtype {value.dtype}, expected {np.dtype(dtype).name}")
    value = np.array(value, dtype=np.float64)   # a copy: later changes by the op do not reach it
    if not _finite(value):
        bad = int(np.sum(~np.isfinite(value)))
        problems.append(f"{what} has {bad} non-finite entries (nan or inf)")
    return value


def _changed(names: tuple, before: list, after: list) -> list[str]:
    """The names of the arrays whose bytes differ between `before` and `after`."""
    return [n for n, b, a in zip(names, before, after) if b.tobytes() != a.tobytes()]


def _split_grads(result, case: Case, who: str, problems: list) -> tuple | None:
    names = _layout(case).grad_names
    if isinstance(result, dict):
        keys = [a.name for a in case.diff_args]
        missing = [k for k in keys if k not in result]
        if missing:
            problems.append(f"{who} returned a dict without {missing}")
            return None
        return tuple(result[k] for k in keys)
    if len(names) == 1 and not isinstance(result, (tuple, list)):
        return (result,)
    if not isinstance(result, (tuple, list)):
        problems.append(f"{who} returned {type(result).__name__}; expected {len(names)} "
                        f"gradients ({', '.join(names)})")
        return None
    if len(result) != len(names):
        problems.append(f"{who} returned {len(result)} gradients; expected {len(names)} "
                        f"({', '.join(names)})")
        return None
    return tuple(result)


@dataclass(frozen=True)
class Layout:
    """What run_implementation needs to know of a case, worked out once per case."""
    shapes: tuple          # output shapes
    grad_shapes: tuple
    names: tuple           # the implementation's function names (forward, backward) or (op,)
    grad_names: tuple
    inputs: tuple          # array input names, in order
    douts: tuple           # "dout[0]", ... for the upstream gradients
    output_labels: tuple   # how messages name each output and gradient
    grad_labels: tuple
    statics: bool          # whether any Static parameter sits among the arguments


@functools.lru_cache(maxsize=None)
def _layout(case: Case) -> Layout:
    shapes = oracles.output_shapes(case)
    names = case.functions
    return Layout(shapes, tuple(tuple(a.shape) for a in case.diff_args), names, case.grad_names,
                  tuple(a.name for a in case.arrays),
                  tuple(f"dout[{i}]" for i in range(len(case.outputs))),
                  tuple(f"{names[0]} output {n!r}" for n in case.outputs),
                  tuple(f"gradient {n}" for n in case.grad_names),
                  any(not isinstance(a, Arg) for a in case.args))


def _static_copy(value, dtype):
    """A fresh copy of a Static parameter, float arrays in it (bn_param's running statistics) in
    the implementation's dtype."""
    if isinstance(value, dict):
        return {k: _static_copy(v, dtype) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(dtype)
    return copy.deepcopy(value)


def run_implementation(case: Case, fns: tuple, sample: Sample, dtype) -> tuple:
    """(outputs, gradients, problems) of the implementation on one sample, both float64 tuples
    or None where unusable. Runs on copies; reports anything it does wrong as a problem."""
    problems: list[str] = []
    t = np.dtype(dtype)
    lay = _layout(case)
    arrays = [_as_dtype(v, t) for v in sample.arrays.values()]
    pristine = [v.copy() for v in arrays]
    if lay.statics:   # Static parameters (fresh copies) between the arrays, in call order
        it = iter(arrays)
        args = [next(it) if isinstance(a, Arg) else _static_copy(a.value, t) for a in case.args]
    else:
        args = arrays

    # forward (or the loss function)
    name = lay.names[0]
    problem = signature_problem(fns[0], name, len(args))
    if problem:
        return None, None, [problem]
    try:
        result = fns[0](*args)
    except Exception as e:
        return None, None, [f"{name} raised {type(e).__name__}: {e}{_where(e)}"]
    changed = _changed(lay.inputs, pristine, arrays)
    if changed:
        problems.append(f"{name} wrote into its input(s) {', '.join(changed)}")

    if not isinstance(result, (tuple, list)) or len(result) != len(case.outputs) + 1:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        want = ", ".join(case.outputs) + (", grads" if case.style == "loss" else ", cache")
        return None, None, problems + [f"{name} returned {got}; expected ({want})"]
    outs = tuple(_array(v, s, t, w, problems)
                 for v, s, w in zip(result, lay.shapes, lay.output_labels))
    if any(o is None for o in outs):
        outs = None

    if case.style == "loss":
        raw = _split_grads(result[1], case, name, problems)
    else:
        name = lay.names[1]
        douts = [_as_dtype(d, t) for d in sample.douts]
        pristine_douts = [d.copy() for d in douts]
        problem = signature_problem(fns[1], name, len(douts) + 1)
        if problem:
            return outs, None, problems + [problem]
        try:
            back = fns[1](*douts, result[-1])
        except Exception as e:
            return outs, None, problems + [f"{name} raised {type(e).__name__}: {e}{_where(e)}"]
        changed = (_changed(lay.inputs, pristine, arrays)
                   + _changed(lay.douts, pristine_douts, douts))
        if changed:
            problems.append(f"{name} wrote into {', '.join(changed)} (it must not modify "
                            "its inputs or the upstream gradient)")
        raw = _split_grads(back, case, name, problems)
    if raw is None:
        return outs, None, problems
    grads = tuple(_array(v, s, t, w, problems)
                  for v, s, w in zip(raw, lay.grad_shapes, lay.grad_labels))
    return outs, (None if any(g is None for g in grads) else grads), problems


def _row_changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(S,) whether row i of `after` differs from row i of `before` in any byte."""
    n = len(before)
    return np.any(before.reshape(n, -1).view(np.uint8) != after.reshape(n, -1).view(np.uint8),
                  axis=1)


def run_block(case: Case, fns: tuple, blk: Block, dtype) -> list:
    """run_implementation on every sample of a block, the same results, faster: the inputs and
    upstream gradients are copied once per block (each call gets its rows as views), returned
    values are checked for type, shape and dtype in the loop and for finiteness and untouched
    inputs once per block, vectorized. A sample where anything is off runs again through
    run_implementation, which finds and words every problem."""
    t = np.dtype(dtype)
    lay = _layout(case)
    n = len(blk)
    pair = case.style == "pair"
    if signature_problem(fns[0], lay.names[0], len(case.args)) or (
            pair and signature_problem(fns[1], lay.names[1], len(blk.douts) + 1)):
        return [run_implementation(case, fns, s, dtype) for s in blk.samples()]
    work = [_as_dtype(blk.arrays[k], t) for k in lay.inputs] + [_as_dtype(d, t) for d in blk.douts]
    pristine = [w.copy() for w in work]
    rows = list(zip(*([w[i, ...] for i in range(n)] for w in work)))   # [i, ...]: an array, 0-d too
    n_in, n_outs = len(lay.inputs), len(case.outputs)
    statics = [(i, a.value) for i, a in enumerate(case.args) if not isinstance(a, Arg)]
    kinds = lay.shapes + lay.grad_shapes
    got = [np.zeros((n, *s)) for s in kinds]        # what each call returned, as float64 copies
    odd = np.zeros(n, dtype=bool)                   # something is off: ask run_implementation
    forward, backward = fns[0], fns[-1]
    for i, row in enumerate(rows):
        args = list(row[:n_in])
        for k, v in statics:
            args.insert(k, _static_copy(v, t))
        try:
            result = forward(*args)
            if not isinstance(result, (tuple, list)) or len(result) != n_outs + 1:
                odd[i] = True
                continue
            grads = _split_grads(backward(*row[n_in:], result[-1]) if pair else result[1],
                                 case, "", [])
            if grads is None:
                odd[i] = True
                continue
            values = (*result[:n_outs], *grads)
            for v, shape, into in zip(values, kinds, got):
                if not (isinstance(v, (np.ndarray, np.generic)) and v.shape == shape
                        and v.dtype == t):
                    odd[i] = True
                    break
                into[i] = v          # a copy now: an op may reuse its buffers in the next call
        except Exception:
            odd[i] = True
    for x in got:
        odd |= ~np.isfinite(x.reshape(n, -1)).all(axis=1)
    touched = np.zeros(n, dtype=bool)
    for before, after in zip(pristine, work):
        touched |= _row_changed(before, after)
    out = []
    for i in range(n):
        if not (odd[i] or touched[i]):
            out.append((tuple(x[i, ...] for x in got[:n_outs]),
                        tuple(x[i, ...] for x in got[n_outs:]), []))
            continue
        outs, grads, problems = run_implementation(case, fns, blk.sample(i), dtype)
        if touched[i] and not problems:   # it changed this sample's inputs later, not in its calls
            problems = ["an input or upstream gradient of this sample changed after its calls "
                        "returned (the op keeps a reference to it and writes into it later)"]
        out.append((outs, grads, problems))
    return out


# --- comparisons: vectorized over samples; messages only for the failures ----------------------

def reproduce(check: str, sample_id: str, seed: int, impl: Implementation, dtype: str) -> str:
    extra = f" --seed {seed}" if seed else ""
    extra += impl.selector
    extra += f" --dtype {dtype}" if dtype != "float64" else ""
    return f'reproduce: pytest "{TEST_FILE}::{TESTS[check]}[{sample_id}]"{extra}'


def _fmt_index(i: tuple) -> str:
    return "[" + ", ".join(str(int(k)) for k in i) + "]" if i else "(scalar)"


def _rows(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def _scales(expected: tuple) -> np.ndarray:
    """(S, arrays): each array's own max |value| per sample, floored at SCALE_FLOOR of the
    sample's largest (so a gradient that cancels to ~0 is judged at the scale of its terms)."""
    absmax = np.stack([np.abs(_rows(e)).max(axis=1, initial=0.0) for e in expected], axis=1)
    scale = np.maximum(absmax, SCALE_FLOOR * absmax.max(axis=1, keepdims=True))
    return np.where(scale > 0, scale, 1.0)


def normwise_errors(got: tuple, expected: tuple) -> np.ndarray:
    """(S, arrays) normwise relative errors max|a - b| / scale; inf where `a` is not finite."""
    diff = np.stack([np.abs(_rows(a) - _rows(e)).max(axis=1, initial=0.0)
                     for a, e in zip(got, expected)], axis=1)
    finite = np.stack([np.isfinite(_rows(a)).all(axis=1) for a in got], axis=1)
    return np.where(finite, diff / _scales(expected), np.inf)


def _worst_entry(diff: np.ndarray) -> int:
    return int(np.argmax(np.where(np.isfinite(diff), diff, np.inf))) if diff.size else 0


def allowed(expected: tuple, slack: tuple | None, bound: float) -> tuple:
    """Per entry, the largest |got - expected| that passes: `bound` times the array's normwise
    scale, plus the rounding-probe slack of that entry (cases/tolerance.py, PROBE_SLACK)."""
    scales = _scales(expected)
    return tuple(bound * scales[:, k].reshape((-1,) + (1,) * (e.ndim - 1))
                 + (0.0 if slack is None else slack[k]) for k, e in enumerate(expected))


def within(got: tuple, expected: tuple, slack: tuple | None, bound: float) -> np.ndarray:
    """(S,) whether every entry of every array is within what `allowed` allows (nan fails)."""
    limits = allowed(expected, slack, bound)
    return np.all(np.stack([np.all(_rows(np.abs(a - e) <= m), axis=1)
                            for a, e, m in zip(got, expected, limits)], axis=1), axis=1)


def compare(label: str, names: tuple, got: tuple, expected: tuple, bound: float,
            slack: tuple | None = None) -> Verdict:
    """One sample: fails if any entry is off by more than `allowed`; the message names the worst
    array, how many entries are off, the worst entry, both values and the bound."""
    one = lambda xs: None if xs is None else tuple(x[None] for x in xs)   # noqa: E731
    errors = normwise_errors(one(got), one(expected))[0]
    worst = float(np.max(errors))
    limits = [m[0] for m in allowed(one(expected), one(slack), bound)]
    ratios = [np.max(np.abs(a - b) / np.broadcast_to(m, np.shape(a)), initial=0.0)
              if np.all(np.isfinite(a)) else np.inf for a, b, m in zip(got, expected, limits)]
    if all(r <= 1.0 for r in ratios):
        return Verdict(True, worst)
    k = int(np.argmax(np.where(np.isnan(ratios), np.inf, ratios)))
    a, b, m = got[k], expected[k], np.broadcast_to(limits[k], np.shape(got[k]))
    diff = np.abs(a - b)
    i = np.unravel_index(_worst_entry(np.where(m > 0, diff / m, np.inf)), a.shape) if a.shape else ()
    off = int(np.sum(~(diff <= m)))
    probe = "" if slack is None or not np.any(slack[k]) else \
        f" (there {float(m[i]):.1e}: the bound plus the rounding probe)"
    return Verdict(False, worst, (
        f"{names[k]} vs {label}: {off} of {a.size} entries off; worst at {_fmt_index(i)}: "
        f"got {float(a[i])!r}, expected {float(b[i])!r}; normwise error {errors[k]:.2e} > bound "
        f"{bound:.1e}{probe}"))


def _blocks(case: Case) -> np.ndarray:
    return np.cumsum([0] + [int(np.prod(a.shape, dtype=np.int64)) for a in case.diff_args])


def fd_errors(case: Case, G: np.ndarray, ov: oracles.OracleValues, rows, bound: float,
              slack: np.ndarray | None = None):
    """Finite-difference comparison of flattened gradients G (S, E) for the samples `rows`.
    Returns (error (S,), got (S, K), estimate (S, K), tolerance (S, K)): per element for the full
    check (K = E, in gradient units), per direction for the directional one (<g, u> units).
    `slack` (S, E): the rounding-probe allowance of each gradient entry."""
    h, est = ov.fd_steps[rows], ov.fd_estimate[rows]
    slack = np.zeros_like(G) if slack is None else slack
    fd_error = FD_SAFETY * ov.fd_truncation[rows] + ov.fd_rounding[rows]
    finite = np.isfinite(G).all(axis=1)
    if case.fd_mode == "full":
        parts = _blocks(case)
        fd = est / h
        split = lambda x: tuple(x[:, parts[k]:parts[k + 1]] for k in range(len(parts) - 1))  # noqa: E731
        scales = np.repeat(_scales(split(fd)), np.diff(parts), axis=1)
        tol = fd_error / h + bound * scales + slack
        error = normwise_errors(split(G), split(fd)).max(axis=1)
        return np.where(finite, error, np.inf), G, fd, tol
    V = ov.directions[rows]                                        # (S, K, E) of +-1; u = V h
    proj = np.einsum("ske,se->sk", V, h * G)                       # <g, u_k>
    tol = (fd_error + bound * np.abs(G).max(axis=1)[:, None] * h.sum(axis=1)[:, None]
           + (h * slack).sum(axis=1)[:, None])
    error = np.abs(proj - est).max(axis=1) / np.maximum(np.abs(est).max(axis=1), np.finfo(float).tiny)
    return np.where(finite, error, np.inf), proj, est, tol


def fd_message(case: Case, got, est, tol, error: float, bound: float) -> str:
    """The message for one sample's failed finite-difference check (rows of fd_errors)."""
    diff = np.abs(got - est)
    bad = ~(diff <= tol)
    j = _worst_entry(np.where(np.isfinite(diff), diff / tol, np.inf))
    if case.fd_mode == "directional":
        return (f"{', '.join(case.grad_names)} vs finite differences along {len(est)} random "
                f"directions ({case.n_diff_elements} elements): {int(bad.sum())} of {len(est)} "
                f"off; worst direction {j}: <g, u> = {float(got[j])!r}, finite differences "
                f"{float(est[j])!r} +- {tol[j]:.2e}; normwise error {error:.2e}. A directional "
                "check cannot point at an entry: test_matches_jax can")
    parts = _blocks(case)
    k = int(np.searchsorted(parts, j, side="right") - 1)
    arg = case.diff_args[k]
    idx = np.unravel_index(j - parts[k], arg.shape) if arg.shape else ()
    return (f"d{arg.name} vs finite differences: {int(bad[parts[k]:parts[k + 1]].sum())} of "
            f"{parts[k + 1] - parts[k]} entries off; worst at {_fmt_index(idx)}: got "
            f"{float(got[j])!r}, finite differences {float(est[j])!r} +- {tol[j]:.2e} (their "
            f"estimated error plus {bound:.1e} x scale); normwise error {error:.2e}")


# --- the whole case ---------------------------------------------------------------------------

def check_case(case: Case, impl: Implementation, seed: int = 0, n: int = 20,
               dtype: str = "float64") -> CaseResult:
    """Check `impl` on samples 0..n-1 of `case`; never raises for anything the impl does.

    The oracles compile in the background meanwhile: blocks of samples are drawn and run through
    the implementation ahead of their oracle values (up to RUN_AHEAD_FLOATS of results held),
    then evaluated and judged in order."""
    result = CaseResult(case, impl.name, seed, dtype,
                        beyond_contract=case.beyond_contract if impl.contract == "source" else "")
    fns, why = impl.lookup(case)
    if fns is None:
        result.not_implemented = why
        return result
    oracles.prefetch(case)
    t = DTYPES[dtype]
    size = judge_block(case)
    per_sample = sum(int(np.prod(s, dtype=np.int64)) for s in oracles.output_shapes(case))
    per_sample += case.n_diff_elements
    ran: collections.deque = collections.deque()     # (block, runs), not judged yet

    def judge_first():
        blk, runs = ran.popleft()
        ov = oracle_values(case, seed, blk, dtype)
        result.samples.extend(judge(case, blk.ids, runs, ov, rtol(t),
                                    lambda chk, sid: reproduce(chk, sid, seed, impl, dtype),
                                    probe_scale(t)))

    with _gc_paused():
        for start in range(0, n, size):
            blk = draw(case, seed, start, min(n, start + size))
            ran.append((blk, run_block(case, fns, blk, t)))
            while ran and (oracles.ready(case)
                           or sum(len(r[0]) for r in ran) * per_sample > RUN_AHEAD_FLOATS):
                judge_first()
        while ran:
            judge_first()
    result.kinks = kinks.check(case, impl, seed, dtype)
    return _not_checkable(result, impl)


def _not_checkable(result: CaseResult, impl: Implementation) -> CaseResult:
    """A case whose every failing sample stopped on a name its folder could not import (NameError
    on one of impl.unavailable: fast_layers' col2im_6d_cython without the compiled extension) is
    not checkable for that reason, not failed: nothing of the implementation's math was judged."""
    stops = set()
    for s in result.samples:
        if s.ok:
            continue
        m = re.search(r"raised NameError: name '(\w+)' is not defined", s.behaved.message)
        if m is None or m.group(1) not in impl.unavailable:
            return result
        stops.add(m.group(1))
    if stops:
        result.not_implemented = f"not checkable: {impl.unavailable[sorted(stops)[0]]}"
        result.samples, result.kinks = [], []
    return result


@contextlib.contextmanager
def _gc_paused():
    """Python's cyclic garbage collector off for the duration: checking allocates many small
    acyclic objects per sample, and every few thousand allocations the collector would walk the
    whole heap (JAX's included); 10,000 samples of staged took 0.79 s with it, 0.58 s without."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def judge_block(case: Case) -> int:
    """Samples drawn, run, evaluated and judged together: whole chunks of the oracles, up to
    JUDGE_SAMPLES while their values stay within JUDGE_FLOATS (judging costs a few dozen NumPy
    calls per block, spread over its samples)."""
    size = oracles.block_size(case)
    k = FD_DIRECTIONS if case.fd_mode == "directional" else case.n_diff_elements
    io = sum(int(np.prod(s, dtype=np.int64)) for s in oracles.output_shapes(case))
    per_sample = 2 * (io + case.n_diff_elements) + 4 * k + k * case.n_diff_elements // 8
    chunks = max(1, min(JUDGE_SAMPLES, JUDGE_FLOATS // per_sample) // size)
    return size * chunks


def probe_scale(dtype) -> float:
    """What one unit of the float32 rounding probe allows an implementation in `dtype`."""
    return PROBE_SLACK * float(np.finfo(dtype).eps) / float(np.finfo(np.float32).eps)


def judge(case: Case, ids: list, runs: list, ov: oracles.OracleValues, bound: float,
          repro, probe: float) -> list[SampleResult]:
    """The four verdicts of each sample of a block from what the implementation returned
    (`runs`: (outputs, gradients, problems), float64 tuples or None) and the oracle values of the
    same samples; `repro(check, sample_id)` is the line that reproduces one; `probe` scales the
    oracles' rounding probe into per-entry slack (probe_scale). Used for Python implementations
    and for results files from other languages alike."""
    def slack(arrays, rows):
        return tuple(probe * p[rows] for p in arrays) if arrays else None

    def note(check, i, message):
        return f"{ids[i]}: {message}\n{repro(check, ids[i])}"

    def judged(check, rows, ok, errors, explain):
        """Verdicts for the samples `rows`; `explain(j)` builds a message only on failure."""
        return {i: Verdict(True, e) if good else Verdict(False, e, note(check, i, explain(j)))
                for j, (i, good, e) in enumerate(zip(rows, ok.tolist(), errors.tolist()))}

    def unusable(check, which):
        """Failed verdicts where the outputs (which=0) or gradients (which=1) were unusable."""
        what = "output" if which == 0 else "gradients"
        return {i: Verdict(False, message=note(check, i, f"no usable {what}: " + "; ".join(r[2])))
                for i, r in enumerate(runs) if r[which] is None}

    def against(check, label, names, which, oracle, probes):
        """Verdicts of the samples whose outputs (which=0) or gradients (which=1) are usable,
        against `oracle` values, in one vectorized comparison; (rows, got, slack, verdicts)."""
        rows = [i for i, r in enumerate(runs) if r[which] is not None]
        verdicts = unusable(check, which)
        if not rows:
            return rows, None, None, verdicts
        got = tuple(np.stack([runs[i][which][k] for i in rows]) for k in range(len(names)))
        expected = tuple(o[rows] for o in oracle)
        extra = slack(probes, rows)
        errors = normwise_errors(got, expected).max(axis=1)
        verdicts |= judged(check, rows, within(got, expected, extra, bound), errors,
                           lambda j: compare(label, names, tuple(g[j] for g in got),
                                             tuple(e[j] for e in expected), bound,
                                             None if extra is None else
                                             tuple(x[j] for x in extra)).message)
        return rows, got, extra, verdicts

    _, _, _, forward = against("forward", "the reference forward", case.outputs, 0, ov.outputs,
                               ov.probe_outputs)
    rows, got, extra, jax_v = against("jax", "jax.vjp", case.grad_names, 1, ov.grads,
                                      ov.probe_grads)
    fd_v = unusable("fd", 1)
    if rows:
        G = np.concatenate([_rows(g) for g in got], axis=1)
        flat = None if extra is None else np.concatenate([_rows(x) for x in extra], axis=1)
        error, fd_got, est, tol = fd_errors(case, G, ov, rows, bound, flat)
        ok = np.all(np.abs(fd_got - est) <= tol, axis=1)     # every entry within its bound
        fd_v |= judged("fd", rows, ok, error, lambda j: fd_message(
            case, fd_got[j], est[j], tol[j], error[j], bound))

    out = []
    for i, (sid, r) in enumerate(zip(ids, runs)):
        behaved = Verdict(True) if not r[2] else Verdict(False, message=note("behaved", i, "; ".join(r[2])))
        out.append(SampleResult(sid, behaved, forward[i], jax_v[i], fd_v[i]))
    return out


# --- golden values ----------------------------------------------------------------------------

def golden_sample(case: Case, golden) -> Sample:
    arrays = {a.name: np.asarray(golden.inputs[a.name],
                                 dtype=np.int64 if isinstance(a.domain, Integers) else np.float64)
              for a in case.arrays}
    douts = tuple(np.ones(s) for s in oracles.output_shapes(case))  # the source's df/df = 1
    directions = None   # the oracles of a directional case want some; goldens use none of them
    if case.fd_mode == "directional":
        directions = np.ones((FD_DIRECTIONS, case.n_diff_elements), dtype=np.int8)
    return Sample(case, 0, arrays, douts, directions)


def _golden_verdict(case: Case, golden, values: dict, who: str, bound: float | None) -> Verdict:
    """`bound` None: bit for bit (Golden.exact)."""
    names = tuple(golden.expect)
    expected = tuple(np.asarray(golden.expect[k], dtype=np.float64) for k in names)
    got = tuple(np.asarray(values[k], dtype=np.float64) for k in names)
    if bound is None:
        for k, a, b in zip(names, got, expected):
            if a.shape != b.shape or not np.array_equal(a, b):
                i = np.unravel_index(int(np.argmax(a != b)), a.shape) if a.shape == b.shape else ()
                return Verdict(False, message=(
                    f"{case.name}: {who}: {k} is not bit for bit the golden value "
                    f"({golden.note}): at {_fmt_index(i)} got {float(a[i])!r}, expected "
                    f"{float(b[i])!r}"))
        return Verdict(True, 0.0)
    bound = max([bound] + [printed_rtol(e, golden.digits) for e in expected])
    v = compare(f"the golden value ({golden.note})", names, got, expected, bound)
    if not v.ok:
        v.message = f"{case.name}: {who}: {v.message}"
    return v


def check_golden(case: Case, impl: Implementation, golden, bound: float | None) -> Verdict:
    """The implementation at the golden inputs (upstream gradient 1) vs the printed numbers,
    within `bound` (normwise), or bit for bit where `bound` is None."""
    fns, why = impl.lookup(case)
    if fns is None:
        return Verdict(False, message=why)
    outs, grads, problems = run_implementation(case, fns, golden_sample(case, golden), np.float64)
    if outs is None or grads is None or problems:
        return Verdict(False, message=f"{case.name}: golden {golden.note!r}: " + "; ".join(problems))
    values = dict(zip(case.outputs, outs)) | dict(zip(case.grad_names, grads))
    return _golden_verdict(case, golden, values, impl.name, bound)


def reference_values(case: Case, golden) -> dict:
    """The case's JAX reference (forward and jax.vjp, upstream gradient 1) at a golden's inputs:
    every output and gradient by name. `gradref goldens` prints them: it regenerates a golden."""
    s = golden_sample(case, golden)
    ov = oracles.evaluate(case, [s.arrays], [s.douts], [s.directions])
    values = dict(zip(case.outputs, (o[0] for o in ov.outputs)))
    return values | dict(zip(case.grad_names, (g[0] for g in ov.grads)))


def reference_golden(case: Case, golden, bound: float) -> Verdict:
    """The case's JAX reference (forward and jax.vjp) vs the printed numbers."""
    return _golden_verdict(case, golden, reference_values(case, golden), "the JAX reference", bound)
