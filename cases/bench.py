"""What the benchmark suite (tests/bench/) times: thunks for one sample of a case, the batched
check with its compilation, the per-sample loops of other tools, and ad-hoc cases that grow.

Every function here returns a zero-argument callable whose call is the thing timed; anything
that should not be timed (drawing the sample, compiling) happens before it is returned.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from . import check, oracles, sampling
from .impl import Implementation, handwritten
from .spec import Arg, Case, Normal
from .tolerance import FD_DIRECTIONS


def one_sample(case: Case, seed: int = 0, index: int = 0):
    return check.samples(case, seed, index + 1, index)[0]


def call_args(case: Case, sample) -> list:
    """The implementation's positional arguments for a sample; Static values as fresh copies, as
    the check passes them (an op may update its bn_param: that must not reach another case)."""
    it = iter(sample.arrays.values())
    return [next(it) if isinstance(a, Arg) else check._static_copy(a.value, np.float64)
            for a in case.args]


def describe(case: Case) -> dict:
    """extra_info common to a case's benchmarks: shapes, dtype, FD mode."""
    return {"case": case.name, "dtype": "float64",
            "shapes": {a.name: list(a.shape) for a in case.arrays},
            "outputs": [list(s) for s in oracles.output_shapes(case)],
            "diff_elements": case.n_diff_elements, "fd_mode": case.fd_mode}


# --- which benchmarks a run makes --------------------------------------------------------------

def option(config, name, default):
    """An option of tests/bench/conftest.py, or its default where tests/bench was not named on
    the command line (pytest registers a sub-folder's options only then)."""
    return config.getoption(name, default)


def enabled(config) -> bool:
    disabled = config.getoption("benchmark_disable", False)
    return not disabled or config.getoption("benchmark_enable", False)


# The untimed default run smokes these (each benchmark kind once); compiling every case's
# benchmarks would cost the default run about a second per case.
SMOKE_CASES = ("staged", "matmul")


def chosen_cases(config) -> tuple:
    """The cases to benchmark: --case if given, all when timing, else SMOKE_CASES."""
    from . import catalogue, pytest_checks
    if config.getoption("case", None) or enabled(config):
        chosen = pytest_checks.settings(config)
        return chosen.cases if chosen else catalogue.CASES
    return tuple(catalogue.get(n) for n in SMOKE_CASES)


# --- one sample: the handwritten pair, the reference under jax.vjp, the FD oracle -------------

def handwritten_forward(case: Case, sample, impl: Implementation | None = None):
    fns, why = (impl or handwritten()).lookup(case)
    if fns is None:
        raise LookupError(why)
    args = call_args(case, sample)
    return lambda: fns[0](*args)


def handwritten_backward(case: Case, sample, impl: Implementation | None = None):
    """The backward alone, on the cache of one forward (pair style only)."""
    if case.style != "pair":
        raise LookupError(f"{case.name} is loss style: its one function returns loss and gradients")
    fns, why = (impl or handwritten()).lookup(case)
    if fns is None:
        raise LookupError(why)
    *_, cache = fns[0](*call_args(case, sample))
    douts = sample.douts
    return lambda: fns[1](*douts, cache)


def _split(case: Case, sample) -> tuple:
    diff = tuple(jnp.asarray(sample.arrays[a.name]) for a in case.diff_args)
    nondiff = tuple(jnp.asarray(sample.arrays[a.name]) for a in case.arrays if not a.diff)
    douts = tuple(jnp.asarray(d) for d in sample.douts)
    return diff, nondiff, douts


def _fwd_bwd(case: Case):
    def f(diff, nondiff, douts):
        outs, pullback = jax.vjp(lambda *d: oracles.call_reference(case, d, nondiff), *diff)
        return outs, pullback(douts)
    return f


def jit_vjp(case: Case, sample):
    """jax.jit of (forward, jax.vjp pullback) of the reference, compiled here, not when timed."""
    args = _split(case, sample)
    compiled = jax.jit(_fwd_bwd(case)).lower(*args).compile()
    return lambda: jax.block_until_ready(compiled(*args))


def eager_vjp(case: Case, sample):
    """jax.vjp of the reference, op by op (no jit)."""
    args, f = _split(case, sample), _fwd_bwd(case)
    return lambda: jax.block_until_ready(f(*args))


def fd_one(case: Case, sample):
    """The finite-difference oracle (Richardson, all directions) of one sample, compiled here."""
    diff, nondiff, douts = _split(case, sample)
    v = None if sample.directions is None else jnp.asarray(sample.directions)
    f = jax.jit(lambda d, n, g, u: oracles._one_fd(case, d, n, g, u),
                compiler_options=oracles.compiler_options(case))   # as the check compiles it
    compiled = f.lower(diff, nondiff, douts, v).compile()
    return lambda: jax.block_until_ready(compiled(diff, nondiff, douts, v))


def reference_forward(case: Case, sample):
    """The reference forward of one sample, jitted with the case's oracle compiler options (the
    unit FD evaluations are counted in)."""
    diff, nondiff, _ = _split(case, sample)
    f = jax.jit(lambda d, n: oracles.call_reference(case, d, n),
                compiler_options=oracles.compiler_options(case))
    compiled = f.lower(diff, nondiff).compile()
    return lambda: jax.block_until_ready(compiled(diff, nondiff))


def fd_evaluations(case: Case) -> int:
    """Forward evaluations of the FD oracle per sample: +-t u at t = 1, 1/2 and 1/4 for each of K
    directions, and one at x for the rounding estimate."""
    k = FD_DIRECTIONS if case.fd_mode == "directional" else case.n_diff_elements
    return 6 * k + 1


# --- verifying many samples: gradref's batched check and the loops of other tools --------------

def forget_compilations(case: Case) -> None:
    """Drop the case's compiled oracles, every cached oracle value and drawn sample block, so the
    next check compiles, draws and evaluates again."""
    oracles.forget(case)
    check._blocks_cache.clear()
    sampling.draw_block.cache_clear()


def gradref_verify(case: Case, n: int, seed: int):
    """check_case on n samples (forward, jax.vjp and FD checks) from cold: compilation included."""
    impl = handwritten()

    def run():
        forget_compilations(case)
        result = check.check_case(case, impl, seed, n)
        assert result.status == "passed", result.failures()[:1]
        return result
    return run


def _loop_samples(case: Case, n: int, seed: int) -> list:
    if case.style != "pair" or any(not a.diff for a in case.arrays) or len(case.outputs) != 1:
        raise LookupError(f"{case.name}: the loops handle pair-style ops of differentiable arrays")
    return [one_sample(case, seed, i) for i in range(n)]


def _numpy_op(case: Case):
    """The handwritten op as forward(*arrays) -> (out, cache), backward(dout, cache) -> grads."""
    fns, why = handwritten().lookup(case)
    if fns is None:
        raise LookupError(why)
    statics = {i: a.value for i, a in enumerate(case.args) if not isinstance(a, Arg)}

    def forward(*arrays):
        it = iter(arrays)
        return fns[0](*[check._static_copy(statics[i], np.float64) if i in statics else next(it)
                        for i in range(len(case.args))])

    def backward(dout, cache):
        grads = fns[1](dout, cache)
        return grads if isinstance(grads, tuple) else (grads,)
    return forward, backward


def handwritten_as_jax(case: Case):
    """The handwritten NumPy pair as a JAX function (custom_vjp over pure_callback), so that
    jax.test_util.check_grads checks the same implementation gradref checks."""
    forward, backward = _numpy_op(case)
    out_shape = jax.ShapeDtypeStruct(oracles.output_shapes(case)[0], jnp.float64)
    grad_shapes = tuple(jax.ShapeDtypeStruct(a.shape, jnp.float64) for a in case.diff_args)

    @jax.custom_vjp
    def f(*xs):
        return jax.pure_callback(lambda *a: np.asarray(forward(*a)[0]), out_shape, *xs)

    def f_fwd(*xs):
        return f(*xs), xs

    def f_bwd(xs, dout):
        def grads(dout, *a):
            return tuple(np.asarray(g, dtype=np.float64) for g in backward(dout, forward(*a)[1]))
        return jax.pure_callback(grads, grad_shapes, dout, *xs)

    f.defvjp(f_fwd, f_bwd)
    return f


def check_grads_loop(case: Case, n: int, seed: int, what: str = "handwritten"):
    """jax.test_util.check_grads(order=1, modes=("rev",)) on each of n samples, of the handwritten
    op ("handwritten") or of the case's jnp reference under JAX autodiff ("reference")."""
    from jax.test_util import check_grads
    ss = _loop_samples(case, n, seed)
    f = handwritten_as_jax(case) if what == "handwritten" else (
        lambda *xs: oracles.call_reference(case, xs, ())[0])

    def run():
        for s in ss:
            check_grads(f, tuple(s.arrays.values()), order=1, modes=("rev",))
    return run


def gradcheck_loop(case: Case, n: int, seed: int):
    """torch.autograd.gradcheck on each of n samples of the handwritten op wrapped in an
    autograd.Function (its forward and backward are the NumPy pair). Needs torch."""
    import torch
    forward, backward = _numpy_op(case)

    class Op(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            out, ctx.cache = forward(*(x.detach().numpy() for x in xs))
            return torch.from_numpy(np.asarray(out, dtype=np.float64))

        @staticmethod
        def backward(ctx, dout):
            return tuple(torch.from_numpy(np.asarray(g, dtype=np.float64))
                         for g in backward(dout.numpy(), ctx.cache))

    ss = _loop_samples(case, n, seed)
    inputs = [tuple(torch.tensor(v, dtype=torch.float64, requires_grad=True)
                    for v in s.arrays.values()) for s in ss]

    def run():
        for xs in inputs:
            assert torch.autograd.gradcheck(Op.apply, xs)
    return run


# --- cases that grow: ad-hoc records, not in the catalogue ----------------------------------------

def square_matmul(elements: int) -> Case:
    """matmul with W (m, k), X (k, n), m = k = n, about `elements` input elements in all."""
    s = max(1, round(math.sqrt(elements / 2)))
    return Case(name=f"matmul_{2 * s * s}", op="matmul", source="scale benchmark",
                args=(Arg("W", (s, s), Normal()), Arg("X", (s, s), Normal())),
                reference=lambda W, X: W @ X)


def square_affine(elements: int) -> Case:
    """affine with x (N, D), w (D, M), b (M,), N = D = M, about `elements` input elements."""
    s = max(1, round((math.sqrt(1 + 8 * elements) - 1) / 4))   # 2 s^2 + s = elements
    return Case(name=f"affine_{2 * s * s + s}", op="affine", source="scale benchmark",
                args=(Arg("x", (s, s), Normal()), Arg("w", (s, s), Normal()),
                      Arg("b", (s,), Normal())),
                reference=lambda x, w, b: x.reshape(x.shape[0], -1) @ w + b)


def check_warm(case: Case, n: int = 1, seed: int = 0):
    """check_case on n samples with compiled oracles (compiled here), cached oracle values
    dropped each call: drawing, the implementation, the three oracles, the comparisons."""
    impl = handwritten()
    check.check_case(case, impl, seed, n)

    def run():
        check._blocks_cache.clear()
        result = check.check_case(case, impl, seed, n)
        assert result.status == "passed", result.failures()[:1]
    return run
