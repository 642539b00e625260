"""At the kinks: is the implementation's gradient a subgradient there, and is it the declared one.

Random samples keep clear of kinks (cases/sampling.py). This check goes exactly onto them: the
points of a case's goldens that sit on a kink (kink_distance 0: ties, pre-activations and margins
of exactly 0, max-pool ties, x == y in L1, Huber's corners; exact binary fractions, so every
implementation lands on the kink in float64 and float32 alike), each with KINK_DOUTS random
upstream gradients (a loss keeps its upstream 1). Sample ids read `relu-k0`.

The math. Let phi(x) = <dout, f(x)> (piecewise smooth) and g the implementation's gradient of
phi at x. For a direction u the one-sided derivatives
    phi'(x; u) = lim_{t -> 0+} (phi(x + t u) - phi(x)) / t    and    -phi'(x; -u)
exist, and every element g of phi's (Clarke) subdifferential at x satisfies
    min(phi'(x; u), -phi'(x; -u))  <=  <g, u>  <=  max(phi'(x; u), -phi'(x; -u)).
At a kink between two smooth pieces with gradients a and b (ReLU, a max of two, a hinge, |r|),
the two one-sided derivatives along u are <a, u> and <b, u>, so the condition says that <g, u>
lies between them: g is in the segment [a, b] as seen along u, for convex and concave kinks alike
(the random dout turns one into the other). We estimate both one-sided derivatives by forward
differences D(t) = (phi(x + t u) - phi(x)) / t at t = 1, 1/2, 1/4 (u scaled by the FD steps h)
and Richardson extrapolation, R2 = (8 D(1/4) - 6 D(1/2) + D(1)) / 3 (exact up to t^3), with
|R2 - R1|, R1 = 2 D(1/2) - D(1), as its truncation estimate and 30 FD_COND eps sum|dout f| as its
rounding bound; <g, u> passes within FD_SAFETY times the truncation plus the rounding plus the
implementation's own rounding (rtol max|g| |u|_1).

The directions: every coordinate direction (e_i h_i), the all-ones direction (h) and
KINK_RANDOM_DIRECTIONS random +-1 directions (times h).

What it decides and what it only bounds. A kink in one coordinate (a ReLU input or pre-activation
of exactly 0 fed by one entry, |x_i - y_i| = 0) is decided by that coordinate's direction: the
interval is exactly the subdifferential's. A tie of two (max(x, y) at x == y) is decided by the
two coordinate directions together with the all-ones direction, which pins g_x + g_y (a tie
(0, 0) or (1, 1) fails there). Where several kinks meet at one point (a max-pool golden with
many tied windows, a hinge whose margins involve shared scores), the coordinate directions bound
each entry and the all-ones and random directions bound sums across the kinks: a wrong gradient
whose errors cancel in every checked sum would pass. Whether the gradient is the *declared*
element of the subdifferential is decided separately, by comparing it with jax.vjp of the case's
reference, which states the declared convention (cases/conventions.py).

Verdicts per kink sample: "passed" (consistent, and the declared convention), "convention
differs" (consistent, another element of the subdifferential: not a failure), "failed" (not a
subgradient, or the implementation misbehaved there).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from . import oracles
from .impl import Implementation
from .sampling import Sample, case_key
from .spec import Case
from .tolerance import (FD_COND, FD_SAFETY, KINK_DOUTS, KINK_PIECES, KINK_RANDOM_DIRECTIONS,
                        PIECE_STEP, fd_steps, rtol)

STATUSES = ("passed", "convention differs", "failed")   # worst last
NOT_REACHABLE = "no golden sits on the kink"
D_RICHARDSON_ROUNDING = 30.0   # R2's rounding in units of one evaluation's (see the docstring)


@dataclass
class KinkOracle:
    """What the reference says at one kink sample, per checked direction u_k (K,): the one-sided
    derivatives f'(x; u) (forward) and -f'(x; -u) (backward), the range of <a, u> over the
    smooth pieces a met around the point (low, high), the truncation estimate of the one-sided
    derivatives, their rounding bound (one number), and the declared gradient (E,)."""
    forward: np.ndarray
    backward: np.ndarray
    low: np.ndarray
    high: np.ndarray
    truncation: np.ndarray
    rounding: float
    declared: np.ndarray


@dataclass(slots=True)
class KinkVerdict:
    id: str
    status: str           # one of STATUSES
    message: str = ""     # why it is not "passed"


# --- kink samples --------------------------------------------------------------------------------

def points(case: Case) -> list:
    """(golden index, golden) of the case's goldens that sit exactly on a kink."""
    if not case.kink:
        return []
    from .check import golden_sample
    return [(k, g) for k, g in enumerate(case.goldens)
            if case.distance_to_kink(golden_sample(case, g).arrays) == 0]


def samples(case: Case, seed: int = 0) -> list[Sample]:
    """KINK_DOUTS samples per kink point (one for a loss): its inputs, random upstream gradients
    from a generator seeded by (seed, case, point), ids `<case>-k<j>`."""
    from .check import golden_sample
    out = []
    for k, g in points(case):
        base = golden_sample(case, g)
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), case_key(case.name), 1, k]))
        for j in range(1 if case.style == "loss" else KINK_DOUTS):
            sign = 1.0 if j % 2 == 0 else -1.0     # all kinks of <dout, f> convex, then concave
            douts = base.douts if case.style == "loss" else tuple(
                sign * np.abs(rng.standard_normal(np.shape(d))) for d in base.douts)
            out.append(Sample(case, len(out), base.arrays, douts, None))
    return out


def rounded(s: Sample, t) -> Sample:
    """The sample as an implementation computing in dtype `t` receives it (float inputs and
    upstream gradients rounded to t, held as float64): the kink oracle is evaluated there, so a
    golden's 1e-300 that float32 rounds to 0 is judged on the kink it lands on."""
    r = lambda x: x.astype(t).astype(np.float64) if x.dtype.kind == "f" else x   # noqa: E731
    return Sample(s.case, s.index, {k: r(v) for k, v in s.arrays.items()},
                  tuple(r(d) for d in s.douts), s.directions)


def sample_id(case: Case, j: int) -> str:
    return f"{case.name}-k{j}"


def directions(case: Case, sample: Sample, seed: int) -> tuple:
    """(h, signs, W): h (E,) the FD steps; signs (R, E) the random +-1 checked directions; W (P,
    E) random +-1 times h, the ways off the kink to its pieces. step_vectors(h, signs) are the
    directions checked."""
    h = np.concatenate([fd_steps(sample.arrays[a.name]).ravel() for a in case.diff_args])
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), case_key(case.name), 2,
                                                        sample.index]))
    signs = 2 * rng.integers(0, 2, size=(KINK_RANDOM_DIRECTIONS + KINK_PIECES, h.size),
                             dtype=np.int8) - 1
    return h, signs[:KINK_RANDOM_DIRECTIONS], signs[KINK_RANDOM_DIRECTIONS:] * h


def step_vectors(h: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """(K, E), K = E + 1 + R: each coordinate (e_i h_i), all ones (h), each row of signs times h
    (the rule the vectors' `kinks` entries document)."""
    return np.concatenate([np.diag(h), h[None], signs * h])


def direction_name(case: Case, j: int) -> str:
    """How a message names direction j of `directions`."""
    n = case.n_diff_elements
    if j < n:
        parts = case.grad_offsets
        k = int(np.searchsorted(parts, j, side="right") - 1)
        arg = case.diff_args[k]
        idx = np.unravel_index(j - parts[k], arg.shape) if arg.shape else ()
        where = "[" + ", ".join(map(str, idx)) + "]" if idx else ""
        return f"the {arg.name}{where} axis"
    return "all ones" if j == n else f"random +-1 direction {j - n - 1}"


# --- the oracle: one-sided derivatives and the declared gradient, in JAX --------------------------

def _one_sided(case, diff, nondiff, douts, U, W):
    """(forward (K,), backward (K,), truncation (K, 2), rounding (), declared gradient (E,),
    pieces (P, E)): phi'(x; u_k), -phi'(x; -u_k) by Richardson-extrapolated forward differences,
    jax.vjp of the reference (the declared convention), and the gradients of the smooth pieces
    met a short step PIECE_STEP along each row of W (random +-1 times h) away from the kink."""
    z, unravel = ravel_pytree(diff)
    phi = lambda zz: oracles._phi(case, unravel(zz), nondiff, douts)   # noqa: E731
    t = jnp.array([1.0, 0.5, 0.25], z.dtype)
    both = jnp.concatenate([U, -U])                                     # (2K, E)
    pts = z + (t[:, None, None] * both[None]).reshape(-1, z.size)
    phis = jax.vmap(phi)(pts).reshape(3, -1)
    p0 = phi(z)
    d1, d2, d4 = ((phis[k] - p0) / t[k] for k in range(3))
    r1 = 2.0 * d2 - d1
    r2 = (8.0 * d4 - 6.0 * d2 + d1) / 3.0
    k = U.shape[0]
    pieces = jax.vmap(jax.grad(phi))(z + PIECE_STEP * W)                 # (P, E)
    outs, pullback = jax.vjp(lambda *d: oracles.call_reference(case, d, nondiff), *diff)
    declared, _ = ravel_pytree(pullback(tuple(douts)))
    noise = FD_COND * oracles.EPS64 * sum(jnp.sum(jnp.abs(d * o)) for d, o in zip(douts, outs))
    truncation = jnp.abs(r2 - r1)
    return (r2[:k], -r2[k:], jnp.stack([truncation[:k], truncation[k:]], axis=1),
            D_RICHARDSON_ROUNDING * noise, declared, pieces)


@functools.lru_cache(maxsize=None)
def _compiled(case: Case):
    return jax.jit(lambda d, n, g, u, w: _one_sided(case, d, n, g, u, w),
                   compiler_options=oracles.compiler_options(case))


def oracle(case: Case, sample: Sample, U: np.ndarray, W: np.ndarray) -> KinkOracle:
    diff = tuple(sample.arrays[a.name] for a in case.diff_args)
    nondiff = tuple(sample.arrays[a.name] for a in case.arrays if not a.diff)
    fwd, bwd, trunc, rounding, declared, pieces = (
        np.asarray(x) for x in _compiled(case)(diff, nondiff, sample.douts, U, W))
    along = pieces @ U.T                              # (P, K): <a_j, u_k> for each piece met
    return KinkOracle(fwd, bwd, along.min(axis=0), along.max(axis=0), trunc.max(axis=1),
                      float(rounding), declared)


# --- judging --------------------------------------------------------------------------------------

def judge(case: Case, sid: str, g: np.ndarray, U: np.ndarray, o: KinkOracle,
          bound: float) -> KinkVerdict:
    """The verdict for the implementation's flattened gradient `g` at one kink sample. Used for
    Python implementations and for results files from other languages alike."""
    fwd, bwd, declared = o.forward, o.backward, o.declared
    proj = U @ g
    lo = np.minimum(np.minimum(fwd, bwd), o.low)
    hi = np.maximum(np.maximum(fwd, bwd), o.high)
    tol = (FD_SAFETY * o.truncation + o.rounding
           + bound * np.abs(g).max(initial=0.0) * np.abs(U).sum(axis=1))
    outside = np.maximum(lo - tol - proj, proj - hi - tol)
    if np.any(~(outside <= 0)):
        j = int(np.argmax(np.where(np.isnan(outside), np.inf, outside)))
        n = np.abs(U[j]).max()     # messages in units of u / max|u|: along (1, 1), not (h, h)
        return KinkVerdict(sid, "failed", (
            f"{sid}: not a subgradient at the kink: along u = {direction_name(case, j)} (times "
            f"the FD steps), <g, u> = {proj[j] / n:.6g}, but the one-sided derivatives are "
            f"f'(x; u) = {fwd[j] / n:.6g} and -f'(x; -u) = {bwd[j] / n:.6g} (+- {tol[j] / n:.1e}); "
            f"{_differences(case, g, declared)}"))
    scale = max(np.abs(declared).max(initial=0.0), np.finfo(float).tiny)
    if np.abs(g - declared).max(initial=0.0) <= bound * scale:
        return KinkVerdict(sid, "passed")
    return KinkVerdict(sid, "convention differs", (
        f"{sid}: a subgradient, but not the declared one: {_differences(case, g, declared)}; "
        f"the case's convention: {case.kink}"))


def _differences(case: Case, g: np.ndarray, declared: np.ndarray, most: int = 3) -> str:
    """'dx[2] = 1 where the declared convention gives 0, ...' for the entries that differ most."""
    off = np.argsort(-np.abs(g - declared), kind="stable")[:most]
    names = []
    parts = case.grad_offsets
    for j in off:
        if np.abs(g[j] - declared[j]) <= 1e-12 * max(1.0, abs(declared[j])):
            break
        k = int(np.searchsorted(parts, j, side="right") - 1)
        arg = case.diff_args[k]
        idx = np.unravel_index(j - parts[k], arg.shape) if arg.shape else ()
        where = "[" + ", ".join(map(str, idx)) + "]" if idx else ""
        names.append(f"d{arg.name}{where} = {g[j]:.6g} where the declared convention gives "
                     f"{declared[j]:.6g}")
    return "; ".join(names) or "the gradient equals the declared one"


def check(case: Case, impl: Implementation, seed: int = 0, dtype: str = "float64",
          timeout: float | None = None) -> list:
    """The implementation at every kink sample of the case, through its worker: a KinkVerdict
    each ([] where the case has no kink on a golden, or the implementation lacks the op)."""
    from .check import DTYPES, reproduce
    ss = [rounded(s, DTYPES[dtype]) for s in samples(case, seed)]
    if not ss:
        return []
    ids = [sample_id(case, s.index) for s in ss]
    runs = run(case, impl, ss, ids, dtype, timeout)
    if runs is None:
        return []
    verdicts = []
    for s, sid, (grads, problems) in zip(ss, ids, runs):
        v = judge_point(case, grads, problems, s, sid, seed, DTYPES[dtype])
        if v.message:
            v.message += "\n" + reproduce("kink", sid, seed, impl, dtype)
        verdicts.append(v)
    return verdicts


def run(case: Case, impl: Implementation, ss: list, ids: list, dtype: str,
        timeout: float | None) -> list | None:
    """(gradients, problems) of the implementation at each sample (through its worker); None
    when it does not implement the case. A worker that crashed or hung is every sample's problem."""
    from .check import run_samples
    from .worker import DEFAULT_TIMEOUT, WorkerDied
    try:
        block, _ = run_samples(case, impl, ss, dtype, timeout or DEFAULT_TIMEOUT, ids)
    except WorkerDied as e:
        return [(None, [f"{e.status}: {e.reason}"]) for _ in ss]
    if block is None:
        return None
    return [block.sample(j)[1:] for j in range(len(ss))]


def judge_point(case: Case, grads, problems: list, s: Sample, sid: str, seed: int,
                t) -> KinkVerdict:
    """The verdict at one point on a kink (a kink sample, or a golden at its kink with upstream
    1) from the gradients the implementation returned there (computing in dtype `t`)."""
    if grads is None or problems:
        return KinkVerdict(sid, "failed", f"{sid}: " + "; ".join(problems))
    g = np.concatenate([np.ravel(x) for x in grads])
    h, signs, W = directions(case, s, seed)
    U = step_vectors(h, signs)
    return judge(case, sid, g, U, oracle(case, s, U, W), rtol(t))


def at_golden(case: Case, impl: Implementation, k: int) -> KinkVerdict:
    """The implementation at golden k of the case, on its kink (upstream 1), judged as a kink
    sample: is its gradient a subgradient there, and the golden's (declared) one."""
    from .check import golden_sample
    sid = f"{case.name}-g{k}"
    s = golden_sample(case, case.goldens[k])
    runs = run(case, impl, [s], [sid], "float64", None)
    if runs is None:
        from .impl import not_implemented
        return KinkVerdict(sid, "failed", f"{sid}: {not_implemented(impl.name, (), case)}")
    return judge_point(case, *runs[0], s, sid, 0, np.float64)


def worst(verdicts: list) -> str:
    """The case's kink status: the worst of its samples', "" where none was checked."""
    return max((v.status for v in verdicts), key=STATUSES.index, default="")
