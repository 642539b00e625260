"""JAX behind the CS231n convention: jax.numpy forwards, gradients by jax.vjp. The control column:
the catalogue's oracles are JAX too, so anything but a pass here is a fault of the adapter or of
gradref, not of an engine.

    gradref report --impl examples/jax_ops.py [--dtype float32]

The math is written once for the NumPy-like engines (examples/_engines.py); here it runs on
jax.numpy with JAX's own layers: jax.nn.relu, sigmoid, log_softmax, softmax, log_sigmoid,
jax.scipy.special.logsumexp, lax.conv_general_dilated and lax.reduce_window (what flax's conv and
max_pool call). The forward returns the output and keeps jax.vjp's pullback as the cache; the
backward calls it with dout. Conventions at kinks are JAX's own primitives' (jnp.maximum and
jnp.abs), not the catalogue's conventions.py, so the "at kinks" column shows where they differ.

The sandwich layers and the model classes are composed of these layers in examples/_engines.py;
a model's grads are jax.value_and_grad of its loss wrt every parameter.

Every case of the catalogue is expressible and defined.
"""
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from _engines import NumpyLike, bind, numpy_like_ops

# Without x64 JAX silently computes float64 inputs in float32; gradref turns it on too.
jax.config.update("jax_enable_x64", True)


class JaxMath(NumpyLike):
    relu = staticmethod(jax.nn.relu)
    sigmoid = staticmethod(jax.nn.sigmoid)
    log_sigmoid = staticmethod(jax.nn.log_sigmoid)
    trace = staticmethod(jnp.trace)

    def log_softmax(self, x):
        return jax.nn.log_softmax(x, axis=-1)

    def softmax(self, x):
        return jax.nn.softmax(x, axis=-1)

    def logsumexp(self, x):
        return jax.scipy.special.logsumexp(x, axis=-1)

    def conv(self, x, w, b, stride, pad):
        out = lax.conv_general_dilated(x, w, (stride, stride), [(pad, pad), (pad, pad)],
                                       dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                       precision=lax.Precision.HIGHEST)
        return out + b[None, :, None, None]

    def max_pool(self, x, ph, pw, stride):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, ph, pw), (1, 1, stride, stride),
                                 "VALID")


def _inputs(args, diff):
    """Float arrays as JAX arrays (the differentiable ones become vjp's primals); integer labels
    and indices stay NumPy, as indices."""
    return [jnp.asarray(a) if isinstance(a, np.ndarray) and (i in diff or a.dtype.kind == "f")
            else a for i, a in enumerate(args)]


def _closure(fn, args, diff):
    def f(*d):
        merged = list(args)
        for i, v in zip(diff, d):
            merged[i] = v
        return fn(*merged)
    return f, [args[i] for i in diff]


def _numpy(x):
    return np.array(x)   # a copy, of the dtype JAX computed in


def _pair(fn, diff):
    def forward(*args):
        f, primals = _closure(fn, _inputs(args, diff), diff)
        out, pullback = jax.vjp(f, *primals)
        outs = out if isinstance(out, tuple) else (out,)
        return (*map(_numpy, outs), (pullback, isinstance(out, tuple)))

    def backward(*douts_and_cache):
        *douts, (pullback, several) = douts_and_cache
        douts = tuple(map(jnp.asarray, douts))
        grads = tuple(map(_numpy, pullback(douts if several else douts[0])))
        return grads[0] if len(grads) == 1 else grads
    return forward, backward


def _loss(fn, diff):
    def op(*args):
        f, primals = _closure(fn, _inputs(args, diff), diff)
        loss, grads = jax.value_and_grad(f, argnums=tuple(range(len(diff))))(*primals)
        grads = tuple(map(_numpy, grads))
        return _numpy(loss), grads[0] if len(grads) == 1 else grads
    return op


bind(globals(), numpy_like_ops(JaxMath(jnp)), _pair, _loss)
