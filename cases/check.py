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

import copy
import functools
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import oracles
from .impl import Implementation, signature_problem
from .sampling import Sample, draw_sample
from .spec import Arg, Case, Integers
from .tolerance import FD_SAFETY, SCALE_FLOOR, rtol

TEST_FILE = "tests/test_reference.py"
CHECKS = {  # verdict name -> the test that states it
    "behaved": "test_well_behaved",
    "forward": "test_forward",
    "jax": "test_matches_jax",
    "fd": "test_matches_fd",
}
DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass
class Verdict:
    ok: bool
    error: float = float("nan")   # the measured normwise error (nan where nothing was measured)
    message: str = ""             # why it failed, with the id that reproduces it


@dataclass
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

    @property
    def status(self) -> str:
        if self.not_implemented:
            return "not implemented"
        return "passed" if all(s.ok for s in self.samples) else "failed"

    def worst(self, check: str) -> float:
        errors = [getattr(s, check).error for s in self.samples]
        errors = [e for e in errors if not np.isnan(e)]
        return max(errors) if errors else float("nan")

    def failures(self) -> list[tuple[str, Verdict]]:
        return [(check, v) for s in self.samples for check, v in s.verdicts().items() if not v.ok]


# --- samples and oracle values, computed once per (case, seed, count, dtype) -------------------

@functools.lru_cache(maxsize=None)
def samples(case: Case, seed: int, n: int) -> tuple[Sample, ...]:
    shapes = oracles.output_shapes(case)
    return tuple(draw_sample(case, seed, i, shapes) for i in range(n))


def _as_dtype(x: np.ndarray, dtype) -> np.ndarray:
    return x.astype(dtype) if np.issubdtype(x.dtype, np.floating) else x.copy()


def _rounded(x: np.ndarray, dtype) -> np.ndarray:
    """The float64 value of what the implementation receives (rounded to its dtype)."""
    return _as_dtype(x, dtype).astype(np.float64) if np.issubdtype(x.dtype, np.floating) else x


@functools.lru_cache(maxsize=None)
def oracle_values(case: Case, seed: int, n: int, dtype: str) -> oracles.OracleValues:
    ss = samples(case, seed, n)
    t = DTYPES[dtype]
    arrays = [{k: _rounded(v, t) for k, v in s.arrays.items()} for s in ss]
    douts = [tuple(_rounded(d, t) for d in s.douts) for s in ss]
    return oracles.evaluate(case, arrays, douts, [s.directions for s in ss])


# --- running the implementation on one sample --------------------------------------------------

def _where(e: BaseException) -> str:
    """' (file.py, line N)' of the innermost frame of the implementation's code."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/cases/" not in f.filename]
    if not frames:
        return ""
    f = frames[-1]
    return f" ({Path(f.filename).name}, line {f.lineno})"


def _array(value, shape: tuple, dtype, what: str, problems: list) -> np.ndarray | None:
    """Check one returned value; None (and a problem) if it cannot be compared at all."""
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
    value = value.astype(np.float64)
    if not np.all(np.isfinite(value)):
        bad = int(np.sum(~np.isfinite(value)))
        problems.append(f"{what} has {bad} non-finite entries (nan or inf)")
    return value.copy()


def _changed(before: dict, after: dict) -> list[str]:
    return [name for name in before
            if not np.array_equal(before[name], after[name], equal_nan=True)]


def _split_grads(result, case: Case, who: str, problems: list) -> tuple | None:
    names = case.grad_names
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


def run_implementation(case: Case, fns: tuple, sample: Sample, dtype) -> tuple:
    """(outputs, gradients, problems) of the implementation on one sample, both float64 tuples
    or None where unusable. Runs on copies; reports anything it does wrong as a problem."""
    problems: list[str] = []
    t = np.dtype(dtype)
    arrays = {k: _as_dtype(v, t) for k, v in sample.arrays.items()}
    pristine = copy.deepcopy(arrays)
    args, it = [], iter(arrays.values())
    for a in case.args:
        args.append(next(it) if isinstance(a, Arg) else copy.deepcopy(a.value))
    shapes = oracles.output_shapes(case)
    grad_shapes = [a.shape for a in case.diff_args]
    names = Implementation("", {}).op_names(case)

    # forward (or the loss function)
    problem = signature_problem(fns[0], names[0], tuple(args))
    if problem:
        return None, None, [problem]
    try:
        result = fns[0](*args)
    except Exception as e:
        return None, None, [f"{names[0]} raised {type(e).__name__}: {e}{_where(e)}"]
    changed = _changed(pristine, arrays)
    if changed:
        problems.append(f"{names[0]} wrote into its input(s) {', '.join(changed)}")

    expected_len = len(case.outputs) + 1     # (*outs, cache) or (loss, grads)
    if not isinstance(result, (tuple, list)) or len(result) != expected_len:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        want = ", ".join(case.outputs) + (", grads" if case.style == "loss" else ", cache")
        return None, None, problems + [f"{names[0]} returned {got}; expected ({want})"]
    outs = tuple(_array(v, s, t, f"{names[0]} output {n!r}", problems)
                 for v, s, n in zip(result, shapes, case.outputs))
    if any(o is None for o in outs):
        outs = None

    if case.style == "loss":
        raw = _split_grads(result[1], case, names[0], problems)
    else:
        douts = tuple(_as_dtype(d, t) for d in sample.douts)
        pristine_douts = {f"dout[{i}]": d.copy() for i, d in enumerate(douts)}
        problem = signature_problem(fns[1], names[1], douts + (result[-1],))
        if problem:
            return outs, None, problems + [problem]
        try:
            back = fns[1](*douts, result[-1])
        except Exception as e:
            return outs, None, problems + [f"{names[1]} raised {type(e).__name__}: {e}{_where(e)}"]
        changed = _changed(pristine, arrays) + _changed(
            pristine_douts, {f"dout[{i}]": d for i, d in enumerate(douts)})
        if changed:
            problems.append(f"{names[1]} wrote into {', '.join(changed)} (it must not modify "
                            "its inputs or the upstream gradient)")
        raw = _split_grads(back, case, names[1], problems)
    if raw is None:
        return outs, None, problems
    grads = tuple(_array(v, s, t, f"gradient {n}", problems)
                  for v, s, n in zip(raw, grad_shapes, case.grad_names))
    return outs, (None if any(g is None for g in grads) else grads), problems


# --- comparisons ------------------------------------------------------------------------------

def reproduce(check: str, sample_id: str, seed: int, impl: Implementation, dtype: str) -> str:
    extra = f" --seed {seed}" if seed else ""
    extra += impl.selector
    extra += f" --dtype {dtype}" if dtype != "float64" else ""
    return f'reproduce: pytest "{TEST_FILE}::{CHECKS[check]}[{sample_id}]"{extra}'


def _fmt_index(i: tuple) -> str:
    return "[" + ", ".join(str(int(k)) for k in i) + "]" if i else "(scalar)"


def _scales(expected: tuple) -> list[float]:
    """Per-array normwise scale: its own max |value|, floored at SCALE_FLOOR of the largest."""
    largest = max((float(np.max(np.abs(e), initial=0.0)) for e in expected), default=0.0)
    scales = []
    for e in expected:
        s = max(float(np.max(np.abs(e), initial=0.0)), SCALE_FLOOR * largest)
        scales.append(s if s > 0 else 1.0)
    return scales


def compare(label: str, names: tuple, got: tuple, expected: tuple, bound: float) -> Verdict:
    """Normwise relative error of each array; fails if any exceeds `bound`. `label` says against
    what ("jax.vjp", "the reference forward")."""
    worst, worst_msg = 0.0, ""
    for name, a, b, scale in zip(names, got, expected, _scales(expected)):
        diff = np.abs(a - b)
        err = float(np.max(diff, initial=0.0)) / scale if np.all(np.isfinite(a)) else float("inf")
        if err > worst or not worst_msg:
            off = int(np.sum(~(diff <= bound * scale)))
            i = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(diff), diff, np.inf))), a.shape) \
                if a.size else ()
            worst = max(worst, err)
            worst_msg = (f"{name} vs {label}: {off} of {a.size} entries off; worst at "
                         f"{_fmt_index(i)}: got {float(a[i])!r}, expected {float(b[i])!r}; normwise error "
                         f"{err:.2e} > bound {bound:.1e}")
    return Verdict(ok=worst <= bound, error=worst, message="" if worst <= bound else worst_msg)


def compare_fd(case: Case, grads: tuple, ov: oracles.OracleValues, i: int, bound: float) -> Verdict:
    """Compare with finite differences within their estimated error plus the dtype's rounding."""
    g = np.concatenate([x.ravel() for x in grads])
    h = ov.fd_steps[i]
    est, trunc, rnd = ov.fd_estimate[i], ov.fd_truncation[i], ov.fd_rounding[i]
    fd_error = FD_SAFETY * trunc + rnd                     # estimated error of the FD estimate
    if case.fd_mode == "full":
        fd_grad = est / h
        parts = np.cumsum([0] + [int(np.prod(a.shape, dtype=np.int64)) for a in case.diff_args])
        fd_grads = tuple(fd_grad[parts[k]:parts[k + 1]] for k in range(len(grads)))
        scales = np.concatenate([np.full(parts[k + 1] - parts[k], s)
                                 for k, s in enumerate(_scales(fd_grads))])
        tol = fd_error / h + bound * scales
        diff = np.abs(g - fd_grad)
        bad = ~(diff <= tol)
        err = max((float(np.max(np.abs(gk.ravel() - f), initial=0.0)) / s
                   for gk, f, s in zip(grads, fd_grads, _scales(fd_grads))), default=0.0)
        if not np.all(np.isfinite(g)):
            err = float("inf")
        if not bad.any():
            return Verdict(True, err)
        j = int(np.nanargmax(np.where(np.isfinite(diff), diff / tol, np.inf)))
        k = int(np.searchsorted(parts, j, side="right") - 1)
        arg = case.diff_args[k]
        idx = np.unravel_index(j - parts[k], arg.shape) if arg.shape else ()
        off = int(np.sum(bad[parts[k]:parts[k + 1]]))
        return Verdict(False, err, (
            f"d{arg.name} vs finite differences: {off} of {parts[k + 1] - parts[k]} entries off; "
            f"worst at {_fmt_index(idx)}: got {float(g[j])!r}, finite differences {float(fd_grad[j])!r} "
            f"+- {tol[j]:.2e} (estimated FD error {fd_error[j] / h[j]:.1e} + rounding "
            f"{bound:.1e} x scale); normwise error {err:.2e}"))
    # directional: <g, u_k> for u_k = direction_k * h
    U = ov.directions[i] * h
    proj = U @ g
    scale = float(np.max(np.abs(g), initial=0.0))
    tol = fd_error + bound * scale * np.abs(U).sum(axis=1)
    diff = np.abs(proj - est)
    err = float(np.max(diff)) / max(float(np.max(np.abs(est))), np.finfo(float).tiny)
    if not np.all(np.isfinite(g)):
        err = float("inf")
    bad = ~(diff <= tol)
    if not bad.any():
        return Verdict(True, err)
    k = int(np.nanargmax(np.where(np.isfinite(diff), diff / tol, np.inf)))
    return Verdict(False, err, (
        f"{', '.join(case.grad_names)} vs finite differences along {len(est)} random directions "
        f"({case.n_diff_elements} elements): {int(bad.sum())} of {len(est)} off; worst direction "
        f"{k}: <g, u> = {float(proj[k])!r}, finite differences {float(est[k])!r} +- {tol[k]:.2e}; normwise "
        f"error {err:.2e}. A directional check cannot point at an entry: test_matches_jax can"))


# --- the whole case ---------------------------------------------------------------------------

def check_case(case: Case, impl: Implementation, seed: int = 0, n: int = 20,
               dtype: str = "float64") -> CaseResult:
    """Check `impl` on samples 0..n-1 of `case`; never raises for anything the impl does."""
    result = CaseResult(case, impl.name, seed, dtype)
    fns, why = impl.lookup(case)
    if fns is None:
        result.not_implemented = why
        return result
    ss = samples(case, seed, n)
    ov = oracle_values(case, seed, n, dtype)
    t = DTYPES[dtype]
    bound = rtol(t)
    for i, s in enumerate(ss):
        outs, grads, problems = run_implementation(case, fns, s, t)
        result.samples.append(judge(case, i, s.id, outs, grads, problems, ov, bound,
                                    lambda chk, sid=s.id: reproduce(chk, sid, seed, impl, dtype)))
    return result


def judge(case: Case, i: int, sample_id: str, outs, grads, problems: list,
          ov: oracles.OracleValues, bound: float, repro) -> SampleResult:
    """The four verdicts of sample i from what the implementation returned (`outs`, `grads`:
    float64 tuples or None) and the oracle values; `repro(check)` is the line that reproduces it."""
    def fail(check, message):
        return Verdict(False, float("nan"), f"{sample_id}: {message}\n{repro(check)}")

    def located(check, v):
        if v.ok:
            return v
        return Verdict(False, v.error, f"{sample_id}: {v.message}\n{repro(check)}")

    behaved = Verdict(True) if not problems else fail("behaved", "; ".join(problems))
    if outs is None:
        forward = fail("forward", "no usable output: " + "; ".join(problems))
    else:
        expected = tuple(o[i] for o in ov.outputs)
        forward = located("forward", compare("the reference forward", case.outputs, outs,
                                             expected, bound))
    if grads is None:
        jax_v = fail("jax", "no usable gradients: " + "; ".join(problems))
        fd_v = fail("fd", "no usable gradients: " + "; ".join(problems))
    else:
        expected = tuple(g[i] for g in ov.grads)
        jax_v = located("jax", compare("jax.vjp", case.grad_names, grads, expected, bound))
        fd_v = located("fd", compare_fd(case, grads, ov, i, bound))
    return SampleResult(sample_id, behaved, forward, jax_v, fd_v)


# --- golden values ----------------------------------------------------------------------------

def golden_sample(case: Case, golden) -> Sample:
    arrays = {a.name: np.asarray(golden.inputs[a.name],
                                 dtype=np.int64 if isinstance(a.domain, Integers) else np.float64)
              for a in case.arrays}
    douts = tuple(np.ones(s) for s in oracles.output_shapes(case))  # the source's df/df = 1
    return Sample(case, 0, arrays, douts, None)


def _golden_verdict(case: Case, golden, values: dict, who: str, bound: float) -> Verdict:
    names = tuple(golden.expect)
    expected = tuple(np.asarray(golden.expect[k], dtype=np.float64) for k in names)
    got = tuple(np.asarray(values[k], dtype=np.float64) for k in names)
    v = compare(f"the golden value ({golden.note})", names, got, expected, bound)
    if not v.ok:
        v.message = f"{case.name}: {who}: {v.message}"
    return v


def check_golden(case: Case, impl: Implementation, golden, bound: float) -> Verdict:
    """The implementation at the golden inputs (upstream gradient 1) vs the printed numbers."""
    fns, why = impl.lookup(case)
    if fns is None:
        return Verdict(False, message=why)
    outs, grads, problems = run_implementation(case, fns, golden_sample(case, golden), np.float64)
    if outs is None or grads is None or problems:
        return Verdict(False, message=f"{case.name}: golden {golden.note!r}: " + "; ".join(problems))
    values = dict(zip(case.outputs, outs)) | dict(zip(case.grad_names, grads))
    return _golden_verdict(case, golden, values, impl.name, bound)


def reference_golden(case: Case, golden, bound: float) -> Verdict:
    """The case's JAX reference (forward and jax.vjp) vs the printed numbers."""
    s = golden_sample(case, golden)
    ov = oracles.evaluate(case, [s.arrays], [s.douts], [None])
    values = dict(zip(case.outputs, (o[0] for o in ov.outputs)))
    values |= dict(zip(case.grad_names, (g[0] for g in ov.grads)))
    return _golden_verdict(case, golden, values, "the JAX reference", bound)
