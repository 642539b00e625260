"""Rounding noise: a JAX function evaluated with a random relative error put on the result of
every operation that rounds, the way float32 arithmetic would put one there.

Why: the oracles' rounding probe (oracles._rounding_probe) says how much rounding a sample's
computation can suffer, per entry, so an entry that cancels (a sum of large terms that nearly or
exactly cancel) is not held to a bound in units of its own small value. Running the reference in
float32 measures one rounding of one algorithm, the reference's, and that can be exact where
another correct algorithm is not: a bias before batchnorm on a batch whose rows are all equal has
a gradient of exactly 0 in JAX's vjp (float32 and float64), while the notes' staged backward sums
four terms of 70 to 1.4e-14 (fc_net_batchnorm-s43624); a softmax row at p = 1 - 1e-5 rounds in
the handwritten float32 code and not, by luck, in JAX's (fc_net_dropout-s76437; the one-ulp nudge
of the inputs does not move that rounding either). Perturbing every intermediate independently
shows what the terms of the computation are, whatever the luck of one evaluation or the structure
of one algorithm: the size of rounding noise that any evaluation of the same terms can carry.

How: the function is traced to a jaxpr and interpreted operation by operation (JAX has no hook to
put something after every primitive; an interpreter over the jaxpr is the documented way to
transform one), each floating result of a rounding operation multiplied by (1 + u r), u float32's
unit roundoff and r from a fixed table of uniform draws in [-1, 1] (an offset per operation and
per loop iteration, so the errors are independent). Operations that only move or select values
(reshape, slice, select, max, negation, ...) are exact in floating point and get no noise. Calls
(jit, custom_jvp/vjp) are interpreted inside; a scan is run as a scan of its interpreted body, a
fresh offset each iteration, a cond as a switch of its interpreted branches; any other primitive
holding a jaxpr runs as it is, noise on its result only (`uncovered` lists them: in the catalogue
only trace_a_xinv's linear solve, and a test keeps it so).
"""

from __future__ import annotations

import jax
import jax.extend as jex
import jax.numpy as jnp
import numpy as np
from jax import lax

UNIT_ROUNDOFF_32 = float(np.finfo(np.float32).eps) / 2   # float32's largest relative rounding error
TABLE_WIDTH = 2**12      # noise entries a result uses at most; a larger result repeats them
TABLE_PERIOD = 4093      # offsets are taken modulo this prime: operation k starts at k * 7919
TABLE_SEED = 20261202

# Primitives whose floating result is one of their inputs' values, moved, selected or with its sign
# changed: no rounding happens in them.
EXACT = frozenset({
    "reshape", "broadcast_in_dim", "transpose", "squeeze", "expand_dims", "slice", "dynamic_slice",
    "dynamic_update_slice", "gather", "concatenate", "pad", "select_n", "neg", "abs", "max", "min",
    "sign", "copy", "copy_p", "reduce_max", "reduce_min", "argmax", "argmin", "stop_gradient", "rev",
    "iota", "floor", "ceil", "round", "clamp", "sort", "convert_element_type", "reduce_precision",
    "select_and_gather_add", "real", "imag", "broadcast", "optimization_barrier", "scatter", "split",
    "tile", "reduce_window_max", "reduce_window_min",
})
CALLS = ("jaxpr", "call_jaxpr", "fun_jaxpr")   # the parameter holding an inlinable call's body
INLINED = frozenset({"pjit", "jit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call",
                     "custom_vjp_call_jaxpr", "remat", "checkpoint"})


def _closed(j):
    return j if isinstance(j, jex.core.ClosedJaxpr) else jex.core.ClosedJaxpr(j, ())


def _call_body(eqn):
    """The body of an inlinable call, else None."""
    if eqn.primitive.name not in INLINED:
        return None
    return next((_closed(eqn.params[k]) for k in CALLS if k in eqn.params), None)


def _inner(eqn):
    """Every jaxpr in an equation's parameters (a scatter's update_jaxpr only says how it
    combines, it is not a body)."""
    for k, v in eqn.params.items():
        if k == "update_jaxpr":
            continue
        for j in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(j, (jex.core.ClosedJaxpr, jex.core.Jaxpr)):
                yield _closed(j).jaxpr


def _walk(jaxpr):
    for eqn in jaxpr.eqns:
        yield eqn
        for j in _inner(eqn):
            yield from _walk(j)


def uncovered(closed) -> set:
    """Names of the primitives holding a jaxpr that the noise does not enter (their results get
    noise, their insides do not: while, custom_linear_solve, ...)."""
    return {e.primitive.name for e in _walk(closed.jaxpr) if any(True for _ in _inner(e))
            and _call_body(e) is None and e.primitive.name not in ENTERED}


def _largest_result(closed) -> int:
    sizes = [int(np.prod(v.aval.shape)) for e in _walk(closed.jaxpr) for v in e.outvars
             if hasattr(v.aval, "shape")]
    return max(sizes, default=1)


class _Noise:
    """Hands out the noise of one evaluation: `table` (TABLE_PERIOD + width,) draws in [-1, 1]."""

    def __init__(self, table, width: int):
        self.table, self.width, self.count = table, width, 0

    def perturb(self, x, step):
        """x (1 + u r), r the next operation's slice of the table (step: the loop iteration)."""
        if not jnp.issubdtype(x.dtype, jnp.floating) or x.size == 0:
            return x
        self.count += 1
        offset = (self.count * 7919 + step * 104729) % TABLE_PERIOD
        n = min(x.size, self.width)
        r = lax.dynamic_slice(self.table, (offset,), (n,))
        r = jnp.tile(r, -(-x.size // n))[:x.size].reshape(x.shape)
        return x * (1 + UNIT_ROUNDOFF_32 * r).astype(x.dtype)


def _evaluate(jaxpr, consts, args, noise: _Noise, step):
    env = {}
    read = lambda v: v.val if isinstance(v, jex.core.Literal) else env[v]   # noqa: E731
    for v, x in zip(jaxpr.constvars, consts):
        env[v] = x
    for v, x in zip(jaxpr.invars, args):
        env[v] = x
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        body = _call_body(eqn)
        if body is not None:
            outs = _evaluate(body.jaxpr, body.consts, ins, noise, step)
        elif eqn.primitive.name in ENTERED:
            outs = ENTERED[eqn.primitive.name](eqn, ins, noise, step)
        else:
            outs = eqn.primitive.bind(*ins, **eqn.primitive.get_bind_params(eqn.params))
            outs = list(outs) if eqn.primitive.multiple_results else [outs]
            if eqn.primitive.name not in EXACT:
                outs = [noise.perturb(x, step) for x in outs]
        for v, x in zip(eqn.outvars, outs):
            env[v] = x
    return [read(v) for v in jaxpr.outvars]


def _scan(eqn, ins, noise: _Noise, step):
    p = eqn.params
    nc, ncarry, body = p["num_consts"], p["num_carry"], p["jaxpr"]
    consts, init, xs = ins[:nc], ins[nc:nc + ncarry], ins[nc + ncarry:]
    first = noise.count

    def one(carry, t_x):
        t, x = t_x
        noise.count = first         # the same offsets each iteration, moved by the iteration
        out = _evaluate(body.jaxpr, body.consts, [*consts, *carry, *x], noise, step * 31 + t + 1)
        return out[:ncarry], out[ncarry:]

    carry, ys = lax.scan(one, list(init), (jnp.arange(p["length"]), list(xs)),
                         length=p["length"], reverse=p["reverse"])
    return [*carry, *ys]


def _cond(eqn, ins, noise: _Noise, step):
    """The interpreted branch the index picks (each branch its own offsets)."""
    def branch(b):
        return lambda *ops: _evaluate(b.jaxpr, b.consts, list(ops), noise, step)
    return lax.switch(ins[0], [branch(b) for b in eqn.params["branches"]], *ins[1:])


ENTERED = {"scan": _scan, "cond": _cond}


def noisy_evaluations(fun, args, draws: int):
    """`draws` evaluations of fun(*args) (arrays in, a pytree of arrays out), each with its own
    rounding noise, stacked on a leading axis. Deterministic: the same table every call."""
    closed, shape = jax.make_jaxpr(fun, return_shape=True)(*args)
    flat = jax.tree_util.tree_leaves(args)
    width = min(_largest_result(closed), TABLE_WIDTH)
    # drawn here, once, by NumPy: a constant of the compiled function (drawing it with
    # jax.random inside would cost every call more than the small cases' whole evaluation)
    tables = np.random.default_rng(TABLE_SEED).uniform(-1.0, 1.0, (draws, TABLE_PERIOD + width))

    def one(table):
        out = _evaluate(closed.jaxpr, closed.consts, flat, _Noise(table, width), 0)
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(shape), out)
    return jax.vmap(one)(tables)
