"""PyTorch autograd behind the CS231n convention: gradref checks a framework like a layers file.

    pip install torch==2.13.0      # the CPU build
    gradref report --impl examples/torch_ops.py [--dtype float32]
    pytest --impl examples/torch_ops.py

Each forward builds a torch graph on tensors made from its NumPy inputs and returns the output as
NumPy, with the graph as the cache; each backward asks autograd for the vector-Jacobian product,
torch.autograd.grad(out, inputs, grad_outputs=dout). The dtype of the inputs is kept (float64, or
float32 under --dtype float32).

Where torch has the layer, the op is torch's own (torch.nn.functional's cross_entropy,
batch_norm, layer_norm, group_norm, conv2d, max_pool2d, embedding, l1_loss, huber_loss, mse_loss,
cosine_similarity, normalize, binary_cross_entropy_with_logits; torch.relu, sigmoid, logsumexp,
linalg.det and inv): these are what the column checks. The rest (the notes' gates, the SVM
losses, the RNN and LSTM, whose gate order i, f, o, g is the assignment's and not torch.nn.LSTM's
i, f, g, o) is the catalogue's math written once for NumPy-like engines (examples/_engines.py),
run on torch tensors through a small shim for the few names where torch differs from NumPy.

The sandwich layers (layer_utils.py) and the model classes (TwoLayerNet, FullyConnectedNet,
ThreeLayerConvNet, CaptioningRNN) are composed of these layers in examples/_engines.py, so they
call torch's own F.conv2d, F.batch_norm, F.layer_norm, F.cross_entropy and F.embedding; a model's
grads are torch.autograd.grad of its loss wrt every parameter.

Every case of the catalogue is expressible and defined. Conventions at kinks are torch's, not
the notes': at a tie of the max gate torch splits the gradient (0.5, 0.5) where the catalogue
routes it to the first input; the report's "at kinks" column says so, as another convention.
"""
import numpy as np
import torch
import torch.nn.functional as F

from _engines import EPS, NumpyLike, bind, numpy_like_ops


class TorchNumpy:
    """torch under NumPy's names and keywords where they differ (axis=, keepdims=, ddof=, a Python
    number as either operand of maximum); everything else is torch's own function."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def max(x, axis=None, keepdims=False):
        return torch.amax(x, dim=axis, keepdim=keepdims)

    @staticmethod
    def var(x, axis=None, keepdims=False, ddof=0):
        return torch.var(x, dim=axis, keepdim=keepdims, correction=ddof)

    @staticmethod
    def _tensors(a, b):
        like = a if torch.is_tensor(a) else b
        return tuple(torch.as_tensor(v, dtype=like.dtype) for v in (a, b))

    def maximum(self, a, b):
        return torch.maximum(*self._tensors(a, b))

    def minimum(self, a, b):
        return torch.minimum(*self._tensors(a, b))

    def logaddexp(self, a, b):
        return torch.logaddexp(*self._tensors(a, b))


class TorchMath(NumpyLike):
    relu = staticmethod(torch.relu)
    sigmoid = staticmethod(torch.sigmoid)
    log_sigmoid = staticmethod(F.logsigmoid)
    trace = staticmethod(torch.trace)

    def const(self, a, like):
        return torch.as_tensor(np.asarray(a), dtype=like.dtype)

    def log_softmax(self, x):
        return F.log_softmax(x, dim=-1)

    def softmax(self, x):
        return F.softmax(x, dim=-1)

    def logsumexp(self, x):
        return torch.logsumexp(x, dim=-1)

    def log_det(self, X):
        return torch.log(torch.linalg.det(X))

    def inv(self, X):
        return torch.linalg.inv(X)

    def conv(self, x, w, b, stride, pad):
        return F.conv2d(x, w, b, stride=stride, padding=pad)

    def max_pool(self, x, ph, pw, stride):
        return F.max_pool2d(x, (ph, pw), stride)


def _batchnorm(x, gamma, beta, bn_param):
    if bn_param["mode"] == "test":
        stats = [torch.as_tensor(bn_param[k], dtype=x.dtype) for k in ("running_mean", "running_var")]
        return F.batch_norm(x, *stats, gamma, beta, training=False, eps=EPS)
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS)


OPS = numpy_like_ops(TorchMath(TorchNumpy()))
OPS.update({   # torch's own layers and losses, where torch has them
    "softmax_cross_entropy": lambda f, y: F.cross_entropy(f, y),
    "linear_softmax_loss": lambda W, b, x, y: F.cross_entropy(W @ x + b, y),
    "softmax_loss": lambda x, y: F.cross_entropy(x, y),
    "softmax_loss_naive": lambda W, X, y, reg: F.cross_entropy(X @ W, y) + reg * torch.sum(W ** 2),
    "makemore_cross_entropy": lambda logits, Yb: F.cross_entropy(logits, Yb),
    "batchnorm": _batchnorm,
    "spatial_batchnorm": lambda x, gamma, beta, bn_param: _batchnorm(x, gamma, beta, bn_param),
    "layernorm": lambda x, gamma, beta, ln_param: F.layer_norm(x, x.shape[1:], gamma, beta, EPS),
    "spatial_groupnorm": lambda x, gamma, beta, G, gn_param: F.group_norm(
        x, G, eps=EPS) * gamma + beta,   # F.group_norm's weight is (C,); the skeleton's (1, C, 1, 1)
    "word_embedding": lambda x, W: F.embedding(x, W),
    "sigmoid_bce": lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
    "l1_loss": lambda x, y: F.l1_loss(x, y, reduction="sum"),
    "huber_loss": lambda x, y, delta: F.huber_loss(x, y, reduction="sum", delta=delta),
    "mse_loss": lambda x, y: F.mse_loss(x, y),
    "cosine_similarity": lambda x, y: F.cosine_similarity(x, y, dim=-1),
    "normalize": lambda x: F.normalize(x, dim=-1),
})
OPS["softmax_loss_vectorized"] = OPS["softmax_loss_naive"]


def _tensors(args, diff):
    """NumPy arrays as tensors (the differentiable ones tracked); Static parameters as they are."""
    return [torch.tensor(a, requires_grad=i in diff) if isinstance(a, np.ndarray) else a
            for i, a in enumerate(args)]


def _numpy(t):
    return t.detach().numpy().copy()


def _pair(fn, diff):
    def forward(*args):
        ts = _tensors(args, diff)
        out = fn(*ts)
        outs = out if isinstance(out, tuple) else (out,)
        return (*map(_numpy, outs), ([ts[i] for i in diff], outs))

    def backward(*douts_and_cache):
        *douts, (inputs, outs) = douts_and_cache
        # retain_graph: a backward is a function of its cache (gradref calls it twice, on the
        # same cache, to see that it answers the same)
        grads = torch.autograd.grad(outs, inputs, grad_outputs=[torch.tensor(d) for d in douts],
                                    retain_graph=True)
        grads = tuple(map(_numpy, grads))
        return grads[0] if len(grads) == 1 else grads
    return forward, backward


def _loss(fn, diff):
    def op(*args):
        ts = _tensors(args, diff)
        loss = fn(*ts)
        grads = tuple(map(_numpy, torch.autograd.grad(loss, [ts[i] for i in diff])))
        return _numpy(loss), grads[0] if len(grads) == 1 else grads
    return op


bind(globals(), OPS, _pair, _loss)
