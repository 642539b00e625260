"""tinygrad 0.14 behind the CS231n convention: forwards on tinygrad.Tensor, gradients by
Tensor.gradient.

    pip install tinygrad==0.14.0
    gradref report --impl examples/tinygrad_ops.py [--dtype float32]

tinygrad's CPU device compiles its kernels with clang (apt-get install clang): without it tinygrad
stops at its first kernel with `FileNotFoundError: ... 'clang'`.

The math is written once for the NumPy-like engines (examples/_engines.py); here it runs on
tinygrad Tensors through a small shim (NumPy's function names onto Tensor's methods), with
tinygrad's own relu, sigmoid, logsigmoid, log_softmax, softmax, logsumexp, conv2d, max_pool2d and
its Tensor indexing (labels, embedding rows). The forward makes a Tensor of each array input
(the dtype kept: float64 stays float64) and keeps the differentiable ones and the outputs as the
cache; the backward asks for the gradient of <dout, out> (summed over the outputs) with
`Tensor.gradient`.

The sandwich layers and the model classes are composed of these layers in examples/_engines.py
(a model's grads: `loss.gradient(*params)`).

Not defined, because tinygrad 0.14 cannot express them: log_det and trace_a_xinv (no
determinant, inverse or solve in tinygrad).
"""
import numpy as np
from tinygrad import Tensor

from _engines import NumpyLike, bind, numpy_like_ops


def _tensor(a, like=None):
    return a if isinstance(a, Tensor) else Tensor(np.asarray(a), dtype=like.dtype if like is not None else None)


class TinygradNumpy:
    """NumPy's function names (and axis=, keepdims=, ddof=) onto tinygrad's Tensor methods."""
    exp = staticmethod(Tensor.exp)
    log = staticmethod(Tensor.log)
    tanh = staticmethod(Tensor.tanh)
    sqrt = staticmethod(Tensor.sqrt)
    abs = staticmethod(Tensor.abs)
    einsum = staticmethod(Tensor.einsum)

    @staticmethod
    def maximum(a, b):   # a Python number as either operand; the order kept otherwise
        return a.maximum(b) if isinstance(a, Tensor) else b.maximum(a)

    @staticmethod
    def minimum(a, b):
        return a.minimum(b) if isinstance(a, Tensor) else b.minimum(a)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return x.sum(axis, keepdim=keepdims)

    @staticmethod
    def mean(x, axis=None, keepdims=False):
        return x.mean(axis, keepdim=keepdims)

    @staticmethod
    def var(x, axis=None, keepdims=False, ddof=0):
        return x.var(axis, keepdim=keepdims, correction=ddof)

    @staticmethod
    def max(x, axis=None, keepdims=False):
        return x.max(axis, keepdim=keepdims)

    @staticmethod
    def matmul(a, b):
        return a @ b

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def stack(ts, axis=0):
        return Tensor.stack(*ts, dim=axis)

    @staticmethod
    def concatenate(ts, axis=0):
        return ts[0].cat(*ts[1:], dim=axis)


class TinygradMath(NumpyLike):
    relu = staticmethod(Tensor.relu)
    sigmoid = staticmethod(Tensor.sigmoid)
    log_sigmoid = staticmethod(Tensor.logsigmoid)

    def const(self, a, like):
        return _tensor(np.asarray(a), like)

    def pick(self, logp, y):
        y = np.asarray(y)
        if y.ndim == 0:
            return logp[int(y)]
        return logp[tuple(Tensor(i) for i in np.indices(y.shape)) + (Tensor(y),)]

    def rows(self, W, idx):
        return W[Tensor(np.asarray(idx))]

    def log_softmax(self, x):
        return x.log_softmax(-1)

    def softmax(self, x):
        return x.softmax(-1)

    def logsumexp(self, x):
        return x.logsumexp(-1)

    def conv(self, x, w, b, stride, pad):
        return x.conv2d(w, b, stride=stride, padding=pad)

    def max_pool(self, x, ph, pw, stride):
        return x.max_pool2d((ph, pw), stride=stride)


OPS = numpy_like_ops(TinygradMath(TinygradNumpy()))
del OPS["log_det"], OPS["trace_a_xinv"]   # no determinant or inverse in tinygrad (docstring)


def _array(a):
    """A NumPy scalar as a 0-d array: Tensor() takes 0-d arrays, but of the NumPy scalars only
    np.float64 (a Python float subclass): Tensor(np.float32(1)) raises "can't create Tensor"."""
    return np.asarray(a) if isinstance(a, np.generic) else a


def _tensors(args, diff):
    """Float arrays as Tensors (Tensor.gradient needs no requires_grad); integer labels and
    indices stay NumPy, as indices; Static parameters as they are."""
    args = [_array(a) for a in args]
    return [Tensor(a) if i in diff or isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for i, a in enumerate(args)]


def _pair(fn, diff):
    def forward(*args):
        ts = _tensors(args, diff)
        out = fn(*ts)
        outs = out if isinstance(out, tuple) else (out,)
        return (*(o.numpy() for o in outs), ([ts[i] for i in diff], outs))

    def backward(*douts_and_cache):
        *douts, (inputs, outs) = douts_and_cache
        inner = sum((o * Tensor(_array(d))).sum() for o, d in zip(outs, douts))
        grads = tuple(g.numpy() for g in inner.gradient(*inputs))
        return grads[0] if len(grads) == 1 else grads
    return forward, backward


def _loss(fn, diff):
    def op(*args):
        ts = _tensors(args, diff)
        loss = fn(*ts)
        grads = loss.gradient(*(ts[i] for i in diff))
        # one schedule for the loss and all its gradients: realized one by one, each would
        # schedule the graph they share again (a model's 12-step LSTM: minutes, not seconds)
        loss.realize(*grads)
        grads = tuple(g.numpy() for g in grads)
        return loss.numpy(), grads[0] if len(grads) == 1 else grads
    return op


bind(globals(), OPS, _pair, _loss)
