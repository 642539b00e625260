"""The oracles: a case's JAX reference forward, `jax.vjp` of it, and finite differences of it.

All in float64, in one function per case, vmapped over samples and compiled once, ahead of time,
for one fixed chunk of samples (block_size), so thousands of samples cost one compilation and a
few vectorized calls. `prefetch` compiles on a background thread while the caller draws samples
and runs the implementation; `executable` hands over the compiled function.

Finite differences estimate, for each direction u (a basis vector times h_i for the full check,
a random +-1 vector times h for the directional one), the derivative of
    phi(t) = <dout, f(x + t u)>
at t = 0 from central differences D(t) at t = 1, 1/2, 1/4 and two Richardson steps
    R1 = (4 D(1/2) - D(1)) / 3,    R2 = (4 D(1/4) - D(1/2)) / 3      (both exact up to t^4).
R2 is the estimate; |R2 - R1| (dominated by R1's t^4 term, 16x R2's) over-estimates its truncation
error, and 6 * FD_COND * eps * sum|dout f| bounds its rounding error (D(1/4) carries 4x the
rounding of D(1)). The implementation's <g, u> is compared with R2 within their sum.
"""

from __future__ import annotations

import atexit
import functools
import queue
import threading
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .spec import Arg, Case, CaseError, Integers, elements
from . import rounding_noise
from .tolerance import FD_COND, FD_DIRECTIONS, PROBE_SLACK, fd_steps

jax.config.update("jax_enable_x64", True)

# Samples go through the compiled oracles in chunks of a fixed size per case, so 20 samples and
# 10,000 share one compilation: up to CHUNK_SAMPLES, while the chunk's FD points stay within
# CHUNK_FLOATS floats. Small inputs go 1024 at a time (a call's fixed cost, ~0.1 ms, spread
# thin); large ones a few at a time (a 20-sample run pads its last chunk with little waste).
CHUNK_SAMPLES = 1024
CHUNK_FLOATS = 2**20
# Compile for compile time where inputs are small: most of a default run is compiling each case's
# oracles once, and small inputs run fast anyway. LLVM optimization off and XLA's classic loop
# emitters instead of its newer fusion emitters cut a case's compilation 3-4x (staged 0.32 ->
# 0.08 s, lstm 1.5 -> 0.39 s); the compiled code runs up to 2.5x slower, which only long soaks
# notice. Above FAST_COMPILE_MAX_ELEMENTS differentiable elements running costs more than
# compiling (matmul at 10^5 elements: the FD oracle took 33.5 forwards' time with these options,
# 19.7 without), so large cases compile with XLA's defaults.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}
FAST_COMPILE_MAX_ELEMENTS = 2**14


def compiler_options(case: Case) -> dict:
    return FAST_COMPILE if case.n_diff_elements <= FAST_COMPILE_MAX_ELEMENTS else {}


EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
# The rounding probe's evaluations with rounding noise on every operation (_rounding_probe): the
# largest of 4 draws is below a fifth of the noise's spread about once in 1,600 entries (a draw's
# gap is about normal, P(|z| < 0.2) = 0.16), and PROBE_SLACK's factor of 16 covers that.
PROBE_DRAWS = 4


def call_reference(case: Case, diff: tuple, nondiff: tuple) -> tuple:
    """Call the case's reference with its positional arguments; always return a tuple of outputs."""
    diff_it, nondiff_it = iter(diff), iter(nondiff)
    args = []
    for a in case.args:
        if isinstance(a, Arg):
            args.append(next(diff_it) if a.diff else next(nondiff_it))
        else:
            args.append(a.value)
    out = case.reference(*args)
    outs = tuple(out) if len(case.outputs) > 1 else (out,)
    if len(outs) != len(case.outputs):
        raise CaseError(f"case {case.name!r}: reference returned {len(outs)} outputs, "
                        f"declared {len(case.outputs)} {case.outputs}")
    return outs


def _abstract(a: Arg):
    dtype = jnp.int64 if isinstance(a.domain, Integers) else jnp.float64
    return jax.ShapeDtypeStruct(tuple(a.shape), dtype)


@functools.lru_cache(maxsize=None)
def output_shapes(case: Case) -> tuple:
    diff = tuple(_abstract(a) for a in case.arrays if a.diff)
    nondiff = tuple(_abstract(a) for a in case.arrays if not a.diff)
    try:
        outs = jax.eval_shape(lambda d, n: call_reference(case, d, n), diff, nondiff)
    except CaseError:
        raise
    except Exception as e:
        raise CaseError(f"case {case.name!r}: the reference cannot be traced at the declared "
                        f"shapes: {type(e).__name__}: {e}") from e
    if case.style == "loss" and outs[0].shape != ():
        raise CaseError(f"case {case.name!r}: a loss must be a scalar, reference gives {outs[0].shape}")
    return tuple(tuple(o.shape) for o in outs)


def forward_and_vjp(case: Case):
    """f(diff, nondiff, douts) -> (outputs, gradients): the reference forward and jax.vjp of it,
    unbatched and not jitted (the benchmarks and the other checkers jit it themselves)."""
    def f(diff, nondiff, douts):
        outs, pullback = jax.vjp(lambda *d: call_reference(case, d, nondiff), *diff)
        return outs, pullback(tuple(douts))
    return f


def _phi(case, diff, nondiff, douts):
    outs = call_reference(case, diff, nondiff)
    return sum(jnp.vdot(d, o) for d, o in zip(douts, outs))


def _one_sample(case, diff, nondiff, douts, directions):
    """The three oracles of one sample (the reference forward, jax.vjp of it, FD of it) and the
    rounding probe: how far the same computation moves when done in float32."""
    outs, pullback = jax.vjp(lambda *d: call_reference(case, d, nondiff), *diff)
    grads = pullback(tuple(douts))
    probe = _rounding_probe(case, diff, nondiff, douts, outs, grads)
    fd = _one_fd(case, diff, nondiff, douts, directions, outs, probe[2])
    return outs, grads, fd, probe


def _f32(xs):
    return tuple(x.astype(jnp.float32) if jnp.issubdtype(x.dtype, jnp.floating) else x for x in xs)


def _rounding_probe(case, diff, nondiff, douts, outs, grads):
    """How much rounding this particular computation can suffer at each entry of the forward,
    the vjp and <dout, f> (cancellation, conditioning), which a bound in units of roundoff times
    max|value| cannot see; in float32 units (compare.probe_scale rescales it). The larger of two
    looks at it, each one look at the noise (PROBE_SLACK in cases/tolerance.py is the factor over
    it): the reference run in float32 (float32_gaps) and in float64 with float32-sized rounding
    noise on every operation (noise_gaps)."""
    return jax.tree_util.tree_map(jnp.maximum, float32_gaps(case, diff, nondiff, douts, outs, grads),
                                  noise_gaps(case, diff, nondiff, douts, outs, grads))


def _gaps(douts, outs, grads, outs_x, grads_x):
    """(outputs, gradients, <dout, f>) |x - exact| per entry, 0 where x is not finite."""
    gap = lambda a_x, a: jnp.where(jnp.isfinite(a_x), jnp.abs(a_x.astype(a.dtype) - a), 0.0)  # noqa: E731
    phi_of = lambda os: sum(jnp.vdot(d.astype(o.dtype), o) for d, o in zip(douts, os))  # noqa: E731
    return (tuple(gap(a, b) for a, b in zip(outs_x, outs)),
            tuple(gap(a, b) for a, b in zip(grads_x, grads)), gap(phi_of(outs_x), phi_of(outs)))


def _largest(tree):
    return jax.tree_util.tree_map(lambda x: x.max(axis=0), tree)


def float32_gaps(case, diff, nondiff, douts, outs, grads):
    """|float32 - float64| of the reference at the float32 inputs and at the inputs moved by one
    float32 ulp in alternating directions, the larger (one evaluation can land near the exact
    value by luck, the moved one shows the sensitivity to the inputs whatever the luck); zero
    where the reference cannot run in float32."""
    def nudged(x):   # x (1 +- eps32), signs alternating over the flattened entries
        signs = jnp.where(jnp.arange(x.size) % 2 == 0, 1.0, -1.0).reshape(x.shape)
        return (x * (1 + EPS32 * signs)).astype(x.dtype)

    def at(d32):
        outs32, pullback32 = jax.vjp(lambda *d: call_reference(case, d, _f32(nondiff)), *d32)
        grads32 = pullback32(tuple(d.astype(o.dtype) for d, o in zip(douts, outs32)))
        return _gaps(douts, outs, grads, outs32, grads32)

    try:   # both points in one vmapped evaluation: one copy of the float32 graph to compile
        return _largest(jax.vmap(at)(tuple(jnp.stack([x, nudged(x)]) for x in _f32(diff))))
    except Exception:   # a reference that insists on float64 somewhere
        return (tuple(jnp.zeros_like(o) for o in outs), tuple(jnp.zeros_like(g) for g in grads),
                jnp.zeros(()))


def noise_gaps(case, diff, nondiff, douts, outs, grads):
    """|noisy - exact| over PROBE_DRAWS float64 evaluations of the reference and its vjp with
    float32-sized rounding noise on every operation (cases/rounding_noise.py), the largest: what
    the terms of the computation can carry, also where the reference's own algorithm is exact,
    or lucky, and another correct one is not."""
    noisy_outs, noisy_grads = rounding_noise.noisy_evaluations(
        forward_and_vjp(case), (diff, nondiff, douts), PROBE_DRAWS)
    return _largest(jax.vmap(lambda o, g: _gaps(douts, outs, grads, o, g))(noisy_outs, noisy_grads))


def _one_fd(case, diff, nondiff, douts, directions, outs=None, phi_gap=0.0):
    """Richardson-extrapolated central differences of <dout, f> along each direction * h
    (`outs`: the forward at the sample, when already computed; `phi_gap`: |float32 - float64|
    of <dout, f>, which raises the rounding bound where the forward cancels)."""
    z, unravel = ravel_pytree(diff)
    h = fd_steps(z, jnp)
    if directions is None:
        directions = jnp.eye(z.size, dtype=z.dtype)
    U = directions.astype(z.dtype) * h                                           # one step vector per row

    # All 6K points x +- t u (t = 1, 1/2, 1/4) in one vmapped evaluation: one copy of the
    # forward in the compiled graph, however many directions.
    t = jnp.array([1.0, -1.0, 0.5, -0.5, 0.25, -0.25], z.dtype)
    points = z + (t[:, None, None] * U[None]).reshape(-1, z.size)
    phis = jax.vmap(lambda zz: _phi(case, unravel(zz), nondiff, douts))(points).reshape(6, -1)
    d1, d2, d4 = ((phis[k] - phis[k + 1]) / (2.0 * t[k]) for k in (0, 2, 4))   # central differences
    r1 = (4.0 * d2 - d1) / 3.0                                   # the t^2 terms cancel
    r2 = (4.0 * d4 - d2) / 3.0
    truncation = jnp.abs(r2 - r1)                                # ~15x r2's own t^4 error
    outs = call_reference(case, diff, nondiff) if outs is None else outs
    phi_abs = sum(jnp.sum(jnp.abs(d * o)) for d, o in zip(douts, outs))
    noise = jnp.maximum(FD_COND * EPS64 * phi_abs, PROBE_SLACK * EPS64 / EPS32 * phi_gap)
    rounding = 6.0 * noise * jnp.ones_like(r2)
    richardson = r2
    return richardson, truncation, rounding, h


def _oracle_function(case: Case):
    """The three oracles of a case in one function, vmapped over samples, to be jitted."""
    if case.fd_mode == "directional":
        return jax.vmap(lambda d, n, g, v: _one_sample(case, d, n, g, v))
    return jax.vmap(lambda d, n, g: _one_sample(case, d, n, g, None))


def _chunk_specs(case: Case) -> tuple:
    """The argument shapes of one chunk: block_size(case) samples of (diff, nondiff, douts[,
    directions]); every sample count goes through this one compiled shape."""
    size = block_size(case)
    batched = lambda a: jax.ShapeDtypeStruct((size, *a.shape), a.dtype)  # noqa: E731
    diff = tuple(batched(_abstract(a)) for a in case.diff_args)
    nondiff = tuple(batched(_abstract(a)) for a in case.arrays if not a.diff)
    douts = tuple(jax.ShapeDtypeStruct((size, *s), jnp.float64) for s in output_shapes(case))
    if case.fd_mode == "directional":
        return diff, nondiff, douts, jax.ShapeDtypeStruct(
            (size, FD_DIRECTIONS, case.n_diff_elements), jnp.int8)
    return diff, nondiff, douts


def _compile(case: Case):
    return jax.jit(_oracle_function(case), compiler_options=compiler_options(case)).lower(
        *_chunk_specs(case)).compile()


# --- compiling ahead: one background thread compiles the cases asked for, in order, while the
# caller draws samples and runs the implementation (XLA compiles without holding the GIL). -------

class _Job:
    def __init__(self, case: Case):
        self.case, self.claimed, self.done = case, False, threading.Event()
        self.value = self.error = None


_jobs: dict = {}                      # case -> _Job
_queue: queue.Queue = queue.Queue()   # jobs for the background thread, in the order asked
_lock = threading.Lock()
_worker: threading.Thread | None = None


def _claim(job: _Job) -> bool:
    """True for the one thread that gets to compile the job."""
    with _lock:
        if job.claimed:
            return False
        job.claimed = True
        return True


def _run(job: _Job) -> None:
    try:
        job.value = _compile(job.case)
    except BaseException as e:        # raised again in the thread that asks for the result
        job.error = e
    job.done.set()


def _work() -> None:
    while (job := _queue.get()) is not None:
        if _claim(job):
            _run(job)


def _stop() -> None:
    """At exit: drop the queued jobs, let the one being compiled finish."""
    while True:
        try:
            _queue.get_nowait()
        except queue.Empty:
            break
    _queue.put(None)
    _worker.join()


def prefetch(case: Case) -> _Job:
    """Start compiling the case's oracles in the background (once); returns its job."""
    global _worker
    with _lock:
        job = _jobs.get(case)
        if job is None:
            job = _jobs[case] = _Job(case)
            if _worker is None:
                _worker = threading.Thread(target=_work, name="gradref-compile", daemon=True)
                _worker.start()
                atexit.register(_stop)
            _queue.put(job)
        return job


def ready(case: Case) -> bool:
    """Whether the case's oracles are compiled (evaluate will not wait)."""
    job = _jobs.get(case)
    return job is not None and job.done.is_set()


def executable(case: Case):
    """The compiled oracles of the case: compiled here and now unless the background thread has
    them or is compiling them."""
    job = prefetch(case)
    if _claim(job):
        _run(job)
    job.done.wait()
    if job.error is not None:
        raise job.error
    return job.value


def forget(case: Case) -> None:
    """Drop the case's compiled oracles, so the next use compiles again (benchmarks of
    compilation; waits for a compilation in progress)."""
    with _lock:
        job = _jobs.pop(case, None)
    if job is not None and not _claim(job):
        job.done.wait()


def block_size(case: Case) -> int:
    """Samples per compiled call: the largest power of two up to CHUNK_SAMPLES whose FD points
    (6K per sample, each E + io floats) stay within CHUNK_FLOATS."""
    io = case.n_input_elements + sum(elements(s) for s in output_shapes(case))
    e = case.n_diff_elements
    k = FD_DIRECTIONS if case.fd_mode == "directional" else e
    size = CHUNK_SAMPLES
    while size > 1 and size * 6 * k * (e + io) > CHUNK_FLOATS:
        size //= 2
    return size


def _chunked(fn, batch_args: tuple, specs: tuple, n: int, size: int):
    """fn over the leading (sample) axis in chunks of one fixed size (the last padded by repeating
    its last sample), so every sample count reuses one compilation."""
    pieces = []
    for start in range(0, n, size):
        idx = np.arange(start, start + size).clip(max=n - 1)
        chunk = jax.tree_util.tree_map(lambda x, spec: np.asarray(x[idx], dtype=spec.dtype),
                                       batch_args, specs)
        out = fn(*chunk)
        keep = min(size, n - start)
        pieces.append(jax.tree_util.tree_map(lambda x: np.asarray(x)[:keep], out))
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs), *pieces)


@dataclass
class OracleValues:
    """Oracle values for a batch of samples; leading axis = sample."""
    outputs: tuple            # reference forward, one array (S, ...) per output
    grads: tuple              # jax.vjp, one array (S, ...) per differentiable input
    fd_estimate: np.ndarray   # (S, K): R along each direction
    fd_truncation: np.ndarray # (S, K)
    fd_rounding: np.ndarray   # (S, K)
    fd_steps: np.ndarray      # (S, E): h per differentiable element (flattened, in input order)
    directions: np.ndarray | None = None  # (S, K, E) int8 +-1 for the directional check
    probe_outputs: tuple = ()    # |float32 - float64| of each output, (S, ...) (see _rounding_probe)
    probe_grads: tuple = ()      # |float32 - float64| of each gradient, (S, ...)


def evaluate(case: Case, arrays: list[dict], douts: list[tuple], directions: list) -> OracleValues:
    """Run the three oracles on a batch of samples (float64 arrays by input name)."""
    stacked = {a.name: np.stack([s[a.name] for s in arrays]) for a in case.arrays}
    g = tuple(np.stack([d[k] for d in douts]) for k in range(len(case.outputs)))
    v = np.stack(directions) if case.fd_mode == "directional" else None
    return evaluate_stacked(case, stacked, g, v)


def evaluate_stacked(case: Case, arrays: dict, douts: tuple,
                     directions: np.ndarray | None) -> OracleValues:
    """The same for samples already stacked: (S, ...) per input and per output's upstream
    gradient, directions (S, K, E) for the directional check (else None)."""
    n = len(douts[0])
    diff = tuple(arrays[a.name] for a in case.diff_args)
    nondiff = tuple(arrays[a.name] for a in case.arrays if not a.diff)
    directional = case.fd_mode == "directional"
    args = (diff, nondiff, douts) + ((directions,) if directional else ())
    outputs, grads, fd_out, probe = _chunked(executable(case), args, _chunk_specs(case), n,
                                             block_size(case))
    return OracleValues(tuple(outputs), tuple(grads), *fd_out, directions=directions,
                        probe_outputs=tuple(probe[0]), probe_grads=tuple(probe[1]))
