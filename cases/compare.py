"""Comparing what an implementation returned with the oracles: the verdicts of a block of samples.

Per sample, four verdicts, each a test of its own:
  behaved   the op ran, returned arrays of the right count, shape and dtype, finite, wrote into
            nothing it was given, and answered the same when its backward was called again
            (what the worker observed: cases/calls.py)
  forward   its outputs match the JAX reference forward (normwise, rtol of the dtype)
  jax       its gradients match jax.vjp of the reference (normwise, rtol of the dtype)
  fd        its gradients match Richardson-extrapolated finite differences within their
            estimated error (per element, or per random direction for large inputs)
Everything here is vectorized over the samples of a block; messages are built only for failures.
Used for Python implementations (through the worker) and for results files from other languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat

import numpy as np

from . import oracles
from .calls import BlockRun
from .spec import Case
from .tolerance import FD_SAFETY, PROBE_SLACK, SCALE_FLOOR

VERDICTS = ("behaved", "forward", "jax", "fd")


@dataclass(slots=True)
class Verdict:
    ok: bool
    error: float = float("nan")   # the measured normwise error (nan where nothing was measured)
    message: str = ""             # why it failed, with the id that reproduces it
    excess: float = float("nan")  # a failed comparison: its worst entry's |got - expected| as a
                                  # multiple of what that entry was allowed (nan otherwise)


@dataclass(slots=True)
class SampleResult:
    id: str
    behaved: Verdict
    forward: Verdict
    jax: Verdict
    fd: Verdict
    checked: bool = True    # False: not run (its case stopped first); every verdict failed

    def verdicts(self) -> dict:
        return {k: getattr(self, k) for k in VERDICTS}

    @property
    def ok(self) -> bool:
        return self.behaved.ok and self.forward.ok and self.jax.ok and self.fd.ok




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
    ratios = [np.inf if np.isnan(r) else float(r) for r in ratios]
    k = int(np.argmax(ratios))
    a, b, m = got[k], expected[k], np.broadcast_to(limits[k], np.shape(got[k]))
    diff = np.abs(a - b)
    i = np.unravel_index(_worst_entry(np.where(m > 0, diff / m, np.inf)), a.shape) if a.shape else ()
    off = int(np.sum(~(diff <= m)))
    probe = "" if slack is None or not np.any(slack[k]) else \
        f" (there {float(m[i]):.1e}: the bound plus the rounding probe)"
    return Verdict(False, worst, (
        f"{names[k]} vs {label}: {off} of {a.size} entries off; worst at {_fmt_index(i)}: "
        f"got {float(a[i])!r}, expected {float(b[i])!r}; normwise error {errors[k]:.2e} > bound "
        f"{bound:.1e}{probe}"), ratios[k])


def fd_errors(case: Case, G: np.ndarray, ov: oracles.OracleValues, rows, bound: float,
              slack: np.ndarray | None = None):
    """Finite-difference comparison of flattened gradients G (S, E) for the samples `rows` (their
    indices, or a slice), read from `ov`.
    Returns (error (S,), got (S, K), estimate (S, K), tolerance (S, K)): per element for the full
    check (K = E, in gradient units), per direction for the directional one (<g, u> units).
    `slack` (S, E): the rounding-probe allowance of each gradient entry."""
    h, est = ov.fd_steps[rows], ov.fd_estimate[rows]
    slack = np.zeros_like(G) if slack is None else slack
    fd_error = FD_SAFETY * ov.fd_truncation[rows] + ov.fd_rounding[rows]
    finite = np.isfinite(G).all(axis=1)
    if case.fd_mode == "full":
        parts = case.grad_offsets
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


def fd_verdict(case: Case, got, est, tol, error: float, bound: float) -> Verdict:
    """The verdict of one sample's failed finite-difference check (rows of fd_errors)."""
    diff = np.abs(got - est)
    bad = ~(diff <= tol)
    j = _worst_entry(np.where(np.isfinite(diff), diff / tol, np.inf))
    excess = float(diff[j] / tol[j]) if np.isfinite(diff[j]) and tol[j] > 0 else np.inf
    return Verdict(False, error, _fd_message(case, got, est, tol, error, bound, bad, j), excess)


def _fd_message(case: Case, got, est, tol, error: float, bound: float, bad, j: int) -> str:
    if case.fd_mode == "directional":
        return (f"{', '.join(case.grad_names)} vs finite differences along {len(est)} random "
                f"directions ({case.n_diff_elements} elements): {int(bad.sum())} of {len(est)} "
                f"off; worst direction {j}: <g, u> = {float(got[j])!r}, finite differences "
                f"{float(est[j])!r} +- {tol[j]:.2e}; normwise error {error:.2e}. A directional "
                "check cannot point at an entry: test_matches_jax can")
    parts = case.grad_offsets
    k = int(np.searchsorted(parts, j, side="right") - 1)
    arg = case.diff_args[k]
    idx = np.unravel_index(j - parts[k], arg.shape) if arg.shape else ()
    return (f"d{arg.name} vs finite differences: {int(bad[parts[k]:parts[k + 1]].sum())} of "
            f"{parts[k + 1] - parts[k]} entries off; worst at {_fmt_index(idx)}: got "
            f"{float(got[j])!r}, finite differences {float(est[j])!r} +- {tol[j]:.2e} (their "
            f"estimated error plus {bound:.1e} x scale); normwise error {error:.2e}")


def probe_scale(dtype) -> float:
    """What one unit of the rounding probe (in float32 units) allows an implementation in `dtype`."""
    return PROBE_SLACK * float(np.finfo(dtype).eps) / float(np.finfo(np.float32).eps)



def judge(case: Case, ids: list, run: BlockRun, ov: oracles.OracleValues, bound: float,
          repro, probe: float) -> list[SampleResult]:
    """The four verdicts of each sample of a block from what the implementation returned and what
    the worker observed (`run`) and the oracle values of the same samples; `repro(check, i)` is
    the line that reproduces sample i's check; `probe` scales the oracles' rounding probe into
    per-entry slack (probe_scale)."""
    def slack(arrays, take):
        return tuple(probe * p[take] for p in arrays) if arrays else None

    def note(check, i, message):
        return f"{ids[i]}: {message}\n{repro(check, i)}"

    def failed(check, i, v):
        v.message = note(check, i, v.message)
        return v

    def judged(check, rows, ok, errors, explain):
        """Verdicts for the samples `rows`; `explain(j)`, the failed verdict of the j-th, is
        built only on failure."""
        verdicts = list(map(Verdict, ok.tolist(), errors.tolist()))
        for j in np.flatnonzero(~ok).tolist():
            verdicts[j] = failed(check, rows[j], explain(j))
        return dict(zip(rows, verdicts))

    def unusable(check, usable, what):
        """Failed verdicts where the outputs or gradients cannot be compared."""
        return {int(i): Verdict(False, message=note(check, i, f"no usable {what}: "
                                                   + "; ".join(run.problems.get(i, []))))
                for i in np.flatnonzero(~usable)}

    def against(check, label, names, values, usable, what, oracle, probes):
        """Verdicts of the samples whose values are usable, against `oracle` values, in one
        vectorized comparison; (rows, take, got, slack, verdicts): `take` indexes those rows, a
        slice (no copies) where every row is usable."""
        at = np.flatnonzero(usable)
        rows = at.tolist()
        take = slice(0, len(rows)) if len(rows) == len(usable) else at
        verdicts = unusable(check, usable, what)
        if not rows:
            return rows, take, None, None, verdicts
        got = tuple(v[take] for v in values)
        expected = tuple(o[take] for o in oracle)
        extra = slack(probes, take)
        errors = normwise_errors(got, expected).max(axis=1)
        verdicts |= judged(check, rows, within(got, expected, extra, bound), errors,
                           lambda j: compare(label, names, tuple(g[j] for g in got),
                                             tuple(e[j] for e in expected), bound,
                                             None if extra is None else
                                             tuple(x[j] for x in extra)))
        return rows, take, got, extra, verdicts

    *_, forward = against("forward", "the reference forward", case.outputs, run.outputs,
                               run.outputs_ok, "output", ov.outputs, ov.probe_outputs)
    rows, take, got, extra, jax_v = against("jax", "jax.vjp", case.grad_names, run.grads,
                                      run.grads_ok, "gradients", ov.grads, ov.probe_grads)
    fd_v = unusable("fd", run.grads_ok, "gradients")
    if rows:
        G = np.concatenate([_rows(g) for g in got], axis=1)
        flat = None if extra is None else np.concatenate([_rows(x) for x in extra], axis=1)
        error, fd_got, est, tol = fd_errors(case, G, ov, take, bound, flat)
        ok = np.all(np.abs(fd_got - est) <= tol, axis=1)     # every entry within its bound
        fd_v |= judged("fd", rows, ok, error, lambda j: fd_verdict(
            case, fd_got[j], est[j], tol[j], error[j], bound))

    behaved = list(map(Verdict, repeat(True, len(ids))))
    for i, said in run.problems.items():
        if said:
            behaved[i] = Verdict(False, message=note("behaved", i, "; ".join(said)))
    at = range(len(ids))
    return list(map(SampleResult, ids, behaved, map(forward.__getitem__, at),
                    map(jax_v.__getitem__, at), map(fd_v.__getitem__, at)))
