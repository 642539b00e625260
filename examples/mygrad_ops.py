"""MyGrad behind the CS231n convention: forwards on mygrad.Tensor, gradients by Tensor.backward.

    gradref report --impl examples/mygrad_ops.py [--dtype float32]

The math is written once for the NumPy-like engines (examples/_engines.py); here it runs on
mygrad's NumPy-like functions with MyGrad's own layers: mygrad.nnet's relu, sigmoid, logsoftmax,
softmax, conv_nd and max_pool. The forward wraps the differentiable inputs as Tensors (the
others stay NumPy constants) and keeps them and the outputs as the cache; the backward calls
`out.backward(dout)` (for two outputs, the sum of <dout_i, out_i>) and reads each input's `.grad`.

The sandwich layers and the model classes are composed of these layers in examples/_engines.py
(a model's grads: `loss.backward()` and each parameter's `.grad`).

Not defined, because MyGrad 2.5 cannot express them: log_det and trace_a_xinv (mygrad.linalg has
only `norm`: no determinant, no inverse, no solve).
"""
import mygrad as mg
import numpy as np
from mygrad import nnet

from _engines import NumpyLike, bind, numpy_like_ops


class MyGradMath(NumpyLike):
    relu = staticmethod(nnet.relu)
    sigmoid = staticmethod(nnet.sigmoid)

    def log_softmax(self, x):
        return nnet.logsoftmax(x, axis=-1)

    def softmax(self, x):
        return nnet.softmax(x, axis=-1)

    def conv(self, x, w, b, stride, pad):
        return nnet.conv_nd(x, w, stride=stride, padding=pad) + mg.reshape(b, (1, -1, 1, 1))

    def max_pool(self, x, ph, pw, stride):
        return nnet.max_pool(x, (ph, pw), stride)


OPS = numpy_like_ops(MyGradMath(mg))
del OPS["log_det"], OPS["trace_a_xinv"]   # no determinant or inverse in MyGrad (docstring)


def _tensors(args, diff):
    return [mg.tensor(a) if i in diff else a for i, a in enumerate(args)]


def _pair(fn, diff):
    def forward(*args):
        args = _tensors(args, diff)
        out = fn(*args)
        outs = out if isinstance(out, tuple) else (out,)
        return (*(np.array(o.data) for o in outs), ([args[i] for i in diff], outs))

    def backward(*douts_and_cache):
        *douts, (inputs, outs) = douts_and_cache
        if len(outs) == 1:
            outs[0].backward(douts[0])
        else:
            sum(mg.sum(o * d) for o, d in zip(outs, douts)).backward()
        grads = tuple(np.array(t.grad) for t in inputs)
        return grads[0] if len(grads) == 1 else grads
    return forward, backward


def _loss(fn, diff):
    def op(*args):
        args = _tensors(args, diff)
        loss = fn(*args)
        loss.backward()
        grads = tuple(np.array(args[i].grad) for i in diff)
        return np.array(loss.data), grads[0] if len(grads) == 1 else grads
    return op


bind(globals(), OPS, _pair, _loss)
