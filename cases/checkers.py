"""Other gradient checks, run on the same implementation and the same samples as gradref's, for
`gradref reliability`'s head to head and the benchmarks (cases/bench.py):

  gradcheck     torch.autograd.gradcheck (slow or fast mode) of the op wrapped in an
                autograd.Function whose forward and backward are the implementation's pair
  check_grads   jax.test_util.check_grads(order=1, modes=("rev",)) of the op wrapped as a
                jax.custom_vjp over pure_callback
  cs231n        the CS231n assignments' own check: eval_numerical_gradient_array (h = 1e-5) per
                input, then rel_error against the backward, passing below the notebooks' 1e-7
  sum_style     tinygrad's test style: forward and the backward of out.sum() (dout = ones)
                against a second autodiff (jax.vjp of the case's reference), with tinygrad's
                tolerances

Each takes an `Op` (one implementation's op for one case as a function of its differentiable
inputs, the rest fixed by the sample) and a sample, and says whether the op passes. Anything the
op raises is a failure, as it would stop the tool's user.
"""

from __future__ import annotations

import functools
import logging

import jax
import jax.numpy as jnp
import numpy as np

from . import oracles
from .calls import _as_dtype, _static_copy    # the check's own copies of inputs and parameters
from .spec import Arg, Case


class Op:
    """An implementation's op for one case, called as the other tools call an op: forward(*xs)
    -> (out, cache) and backward(dout, cache) -> one gradient per x, where xs are the
    differentiable inputs; the other inputs come from the sample set with `at`, Static
    parameters as fresh copies per call (as gradref passes them). A loss-style op's "cache" is
    its gradients, which backward scales by the upstream gradient."""

    def __init__(self, case: Case, fns: tuple, dtype=np.float64):
        if len(case.outputs) != 1:
            raise LookupError(f"{case.name}: the other checkers take ops of one output")
        self.case, self.fns, self.dtype = case, fns, np.dtype(dtype)
        self.sample = None

    def at(self, sample) -> "Op":
        self.sample = sample
        return self

    def inputs(self) -> list:
        """The sample's differentiable inputs in the op's dtype (fresh copies)."""
        return [self.sample.arrays[a.name].astype(self.dtype) for a in self.case.diff_args]

    def _args(self, xs) -> list:
        it = iter(xs)
        args = []
        for a in self.case.args:
            if not isinstance(a, Arg):
                args.append(_static_copy(a.value, self.dtype))
            elif a.diff:
                args.append(next(it))
            else:
                args.append(_as_dtype(self.sample.arrays[a.name], self.dtype))
        return args

    def _grads(self, grads) -> tuple:
        """One gradient per differentiable input, in order, from a tuple, a dict or one array."""
        if isinstance(grads, dict):
            return tuple(grads[a.name] for a in self.case.diff_args)
        return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)

    def forward(self, *xs):
        result = self.fns[0](*self._args(xs))
        if self.case.style == "loss":
            return result[0], self._grads(result[1])
        return result

    def backward(self, dout, cache) -> tuple:
        if self.case.style == "loss":
            return tuple(g * dout for g in cache)
        return self._grads(self.fns[1](dout, cache))


def _failed_on_error(fn):
    """A check that raises (the op raised, or returned what the tool cannot take) fails."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return bool(fn(*args, **kwargs))
        except Exception:
            return False
    return run


# --- torch.autograd.gradcheck ---------------------------------------------------------------------

def torch_function(op: Op):
    """The op as a torch autograd.Function, NumPy inside, as PyTorch's "extending with NumPy"
    pattern writes it (tensors handed over with .numpy(), no copies)."""
    import torch

    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            out, ctx.cache = op.forward(*(x.detach().numpy() for x in xs))
            return torch.from_numpy(np.array(out))

        @staticmethod
        def backward(ctx, dout):
            return tuple(torch.from_numpy(np.array(g)) for g in op.backward(dout.numpy(), ctx.cache))
    return Fn.apply


@_failed_on_error
def gradcheck(op: Op, fast: bool = False) -> bool:
    """torch.autograd.gradcheck with its defaults (eps 1e-6, atol 1e-5, rtol 1e-3), in the op's
    dtype: the documented tolerances, "designed for input of double precision"."""
    import torch
    xs = tuple(torch.from_numpy(x).requires_grad_() for x in op.inputs())
    return torch.autograd.gradcheck(torch_function(op), xs, fast_mode=fast, raise_exception=False)


# --- jax.test_util.check_grads ----------------------------------------------------------------------

def as_jax(op: Op):
    """The op as a JAX function of its differentiable inputs: a custom_vjp whose forward and
    backward call the NumPy pair through pure_callback, jitted once per op; the callbacks read
    the current sample (op.at) when they run, so one compilation serves every sample."""
    case = op.case
    out_shape = jax.ShapeDtypeStruct(oracles.output_shapes(case)[0], op.dtype)
    grad_shapes = tuple(jax.ShapeDtypeStruct(a.shape, op.dtype) for a in case.diff_args)
    # A failing op's traceback would be logged by JAX on every call; the check's verdict says it.
    logging.getLogger("jax._src.callback").setLevel(logging.CRITICAL)

    def numpy(*arrays):
        """Writable NumPy copies of the callback's (immutable) JAX arrays: an op that writes into
        its dout is judged by what check_grads sees of it, not stopped by JAX's immutability."""
        return [np.array(a) for a in arrays]

    @jax.custom_vjp
    def f(*xs):
        return jax.pure_callback(lambda *a: np.asarray(op.forward(*numpy(*a))[0]), out_shape, *xs)

    def f_fwd(*xs):
        return f(*xs), xs

    def f_bwd(xs, dout):
        def grads(dout, *a):
            a = numpy(*a)
            return tuple(np.asarray(g) for g in op.backward(np.array(dout), op.forward(*a)[1]))
        return jax.pure_callback(grads, grad_shapes, dout, *xs)

    f.defvjp(f_fwd, f_bwd)
    return jax.jit(f)


@_failed_on_error
def check_grads(op: Op, f) -> bool:
    """jax.test_util.check_grads(f, xs, order=1, modes=("rev",)) with its default tolerances;
    `f` is as_jax(op) (built once per op)."""
    from jax.test_util import check_grads as jax_check_grads
    jax_check_grads(f, tuple(op.inputs()), order=1, modes=("rev",))
    return True


# --- the CS231n assignments' check --------------------------------------------------------------
# eval_numerical_gradient_array and rel_error re-implemented from the CS231n assignments'
# cs231n/gradient_check.py and notebooks (Stanford CS231n, assignment 2; as in the copy at
# github.com/mantasu/cs231n, assignment2/cs231n/gradient_check.py). The notebooks print
# rel_error for each gradient and say what to expect: "For gradient checking, you should expect to
# see errors around 1e-7 or less" (FullyConnectedNets.ipynb); per layer they expect 1e-12 to 1e-8.
# 1e-7, the loosest they name for a correct layer, is the pass mark here.

CS231N_H = 1e-5
CS231N_THRESHOLD = 1e-7


def eval_numerical_gradient_array(f, x, df, h=CS231N_H):
    """Central differences of sum(f(x) * df) entry by entry, x perturbed in place (CS231n)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        pos = f(x).copy()
        x[ix] = oldval - h
        neg = f(x).copy()
        x[ix] = oldval
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def rel_error(x, y):
    """The CS231n notebooks' relative error: max |x - y| / max(1e-8, |x| + |y|), entry by entry."""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


@_failed_on_error
def cs231n(op: Op) -> bool:
    """As the notebooks check a layer: the numerical gradient of each input first (upstream
    gradient dout; a loss's is 1, which makes eval_numerical_gradient_array the notebooks'
    eval_numerical_gradient), then the backward, then rel_error below CS231N_THRESHOLD."""
    xs = op.inputs()
    dout = np.array(op.sample.douts[0], dtype=op.dtype)     # the notebook's own array
    numerical = []
    for k in range(len(xs)):
        def f(v, k=k):
            return np.asarray(op.forward(*xs[:k], v, *xs[k + 1:])[0])
        numerical.append(eval_numerical_gradient_array(f, xs[k].copy(), dout))
    out, cache = op.forward(*xs)
    analytic = op.backward(dout, cache)
    return all(rel_error(n, a) < CS231N_THRESHOLD for n, a in zip(numerical, analytic))


# --- tinygrad's test style: backward of out.sum() against a second autodiff ----------------------
# tinygrad's test/test_ops.py helper_test_op compares the forward (atol 1e-6, rtol 1e-3) and the
# gradients of out.sum() (atol 1e-4, rtol 1e-3) with PyTorch's, shapes and dtypes first.

SUM_STYLE_TOLERANCES = {"forward": (1e-6, 1e-3), "grad": (1e-4, 1e-3)}   # (atol, rtol)


@functools.lru_cache(maxsize=None)
def reference_vjp(case: Case):
    """jax.jit of the reference forward and its jax.vjp pullback: the second autodiff."""
    return jax.jit(oracles.forward_and_vjp(case))


def _allclose(got, expected, tolerances) -> bool:
    atol, rtol = tolerances
    got = np.asarray(got)
    return (got.shape == expected.shape and got.dtype == expected.dtype
            and np.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=False))


@_failed_on_error
def sum_style(op: Op) -> bool:
    case = op.case
    xs = op.inputs()
    nondiff = tuple(jnp.asarray(op.sample.arrays[a.name]) for a in case.arrays if not a.diff)
    out, cache = op.forward(*xs)
    ones = np.ones(oracles.output_shapes(case)[0], dtype=op.dtype)
    outs, grads = reference_vjp(case)(tuple(jnp.asarray(x) for x in xs), nondiff, (ones,))
    if not _allclose(out, np.asarray(outs[0]), SUM_STYLE_TOLERANCES["forward"]):
        return False
    return all(_allclose(g, np.asarray(r), SUM_STYLE_TOLERANCES["grad"])
               for g, r in zip(op.backward(ones, cache), grads))
