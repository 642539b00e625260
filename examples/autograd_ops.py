"""HIPS autograd behind the CS231n convention: autograd.numpy forwards, gradients by make_vjp.

    gradref report --impl examples/autograd_ops.py [--dtype float32]

The math is written once for the NumPy-like engines (examples/_engines.py); here it runs on
autograd.numpy, with autograd.scipy.special's expit and logsumexp. autograd has no ReLU, no
convolution and no pooling layer, so these are what its users write: ReLU as np.maximum(x, 0),
max pooling as np.max over the stacked windows, convolution as a sum of strided slices (and so the
kink conventions are those of autograd's maximum and max: a tie splits the gradient evenly).

The forward records the computation with autograd.make_vjp and keeps the pullback as the cache;
the backward calls it with dout. The sandwich layers and the model classes are composed of these
layers in examples/_engines.py (a model's grads: autograd.value_and_grad of its loss wrt every
parameter). Every case of the catalogue is expressible and defined.
"""
import autograd.builtins
import autograd.numpy as anp
import autograd.scipy.special as special
import numpy as np
from autograd import make_vjp, value_and_grad

from _engines import NumpyLike, bind, numpy_like_ops


class AutogradMath(NumpyLike):
    sigmoid = staticmethod(special.expit)
    trace = staticmethod(anp.trace)

    def logsumexp(self, x):
        return special.logsumexp(x, axis=-1)


def _closure(fn, args, diff):
    """fn as a function of the tuple of its differentiable inputs (autograd differentiates one
    argument; a tuple of arrays is one argument to it). Several outputs (lstm_step) come back as
    autograd's traced tuple: autograd does not see through a plain Python tuple of its boxes."""
    def f(d):
        merged = list(args)
        for i, v in zip(diff, d):
            merged[i] = v
        out = fn(*merged)
        return autograd.builtins.tuple(out) if isinstance(out, tuple) else out
    return f, tuple(args[i] for i in diff)


def _pair(fn, diff):
    def forward(*args):
        f, primals = _closure(fn, args, diff)
        pullback, out = make_vjp(f)(primals)
        several = isinstance(out, (tuple, list))
        outs = tuple(out) if several else (out,)
        return (*(np.array(o) for o in outs), (pullback, several))

    def backward(*douts_and_cache):
        *douts, (pullback, several) = douts_and_cache
        grads = tuple(np.array(g) for g in pullback(tuple(douts) if several else douts[0]))
        return grads[0] if len(grads) == 1 else grads
    return forward, backward


def _loss(fn, diff):
    def op(*args):
        f, primals = _closure(fn, args, diff)
        loss, grads = value_and_grad(f)(primals)
        grads = tuple(np.array(g) for g in grads)
        return np.array(loss), grads[0] if len(grads) == 1 else grads
    return op


bind(globals(), numpy_like_ops(AutogradMath(anp)), _pair, _loss)
