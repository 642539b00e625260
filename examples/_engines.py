"""What the engine adapters in examples/ share: binding, and the catalogue's math for NumPy-like engines.

`bind(namespace, ops, pair, loss)` gives every op of an adapter's table its CS231n names
(`<op>_forward` / `<op>_backward`, `conv_forward_naive`, `batchnorm_backward_alt`, a loss op's
`<op>`) and its differentiable inputs, both read from the catalogue's records (`Case.functions`,
`Case.args`), so that no adapter spells out 88 names or argument positions. `pair(fn, diff)` and
`loss(fn, diff)` are the engine's own wrappers: they run `fn` on the engine's arrays and ask the
engine's autodiff for the gradients of the inputs at positions `diff`.

`numpy_like_ops(E)` writes the catalogue's math once against a NumPy-like namespace `E.np`
(jax.numpy, autograd.numpy, mygrad; torch and tinygrad through a small shim of NumPy's names)
plus the few functions whose names differ between those engines (relu, sigmoid, log_softmax,
conv, max pooling, label picking, ...). Where an engine has its own layer
(a conv, a max pool, a ReLU) the adapter passes that one in: a kink convention or a bug is then the
engine's, which is what the adapters are for. This module imports no engine.

`bind` also composes, from whatever table it is given, the sandwich layers of layer_utils.py
(`sandwiches`: affine_relu = relu after affine, ..., with the adapter's own layers, so torch's
conv_bn_relu calls F.conv2d and F.batch_norm) and the model classes of classifiers/
(`model_classes`: TwoLayerNet, FullyConnectedNet, ThreeLayerConvNet, CaptioningRNN with the
skeletons' constructors and `params`; `model.loss(X, y)` is the engine's forward of the
parameters under the adapter's `loss` wrapper, so the grads dict is the engine's autodiff of the
loss wrt every parameter). A table without every layer they need (micrograd's) gets neither.
"""
from __future__ import annotations

import numpy as np

# The catalogue's records by gradref's installed name (the checkout's `cases`, mapped by the
# editable install too), so that an adapter loads under `gradref report` wherever gradref is.
from gradref.cases import CASES
from gradref.cases.spec import Arg
# The model classes' constructors are the reference's (the skeletons' own __init__): they only
# draw the initial parameters, which gradref replaces; every loss below is the engine's.
from gradref.handwritten import cnn, fc_net, neural_net, rnn

EPS = 1e-5   # the catalogue's eps of every normalization (CS231n's and makemore's default)


def differentiable(case) -> tuple[int, ...]:
    """Positions (among all arguments, Static ones included) of the inputs that get a gradient."""
    return tuple(i for i, a in enumerate(case.args) if isinstance(a, Arg) and a.diff)


def bind(namespace: dict, ops: dict, pair, loss) -> None:
    """Define in `namespace` the functions of every case whose op is in `ops`, then the sandwich
    layers and the model classes composed of the table's layers (where it has them all)."""
    ops = {**ops, **sandwiches(ops)}
    classes = model_classes(ops, loss)
    made = {}
    for case in CASES:
        if case.model is not None:
            qualified = f"{case.model.module}.{case.model.cls}"
            if qualified in classes:   # by the skeleton module's name: two TwoLayerNet classes
                namespace[qualified] = classes[qualified]
            continue
        if case.op not in ops:
            continue
        if case.op not in made:
            wrap = loss if case.style == "loss" else pair
            made[case.op] = wrap(ops[case.op], differentiable(case))
        fns = made[case.op] if case.style == "pair" else (made[case.op],)
        for name, fn in zip(case.functions, fns):
            namespace[name] = fn


def dropout_mask(dropout_param, shape):
    """Inverted dropout's mask 1(u < p) / p from the assignment's np.random.seed(seed)."""
    u = np.random.RandomState(dropout_param["seed"]).rand(*shape)
    return (u < dropout_param["p"]) / dropout_param["p"]


class NumpyLike:
    """The functions numpy_like_ops needs beyond `np`; an adapter overrides what its engine has.

    The defaults are written with `np` alone: log-softmax and logsumexp shifted by the row max,
    max pooling as the max over the stacked windows, convolution as a sum over the filter taps of
    strided slices (padding by concatenating zeros)."""

    def __init__(self, np_):
        self.np = np_

    def const(self, a, like):
        """NumPy data the forward uses as a constant (a mask, running statistics, zeros), in
        `like`'s dtype: a float64 constant would promote a float32 computation."""
        return np.asarray(a).astype(like.dtype)

    def pick(self, logp, y):
        """logp[..., y] along the last axis for every leading index: the label's log-probability."""
        y = np.asarray(y)
        return logp[tuple(np.indices(y.shape)) + (y,)]

    def rows(self, W, idx):
        """W[idx]: the rows of W at the integer indices idx (an embedding lookup)."""
        return W[np.asarray(idx)]

    def relu(self, x):
        return self.np.maximum(x, 0.0)

    def sigmoid(self, x):
        return 1.0 / (1.0 + self.np.exp(-x))

    def logsumexp(self, x):
        m = self.np.max(x, axis=-1, keepdims=True)
        return self.np.log(self.np.sum(self.np.exp(x - m), axis=-1)) + m[..., 0]

    def log_softmax(self, x):
        return x - self.logsumexp(x)[..., None]

    def softmax(self, x):
        return self.np.exp(self.log_softmax(x))

    def log_sigmoid(self, z):
        return -self.np.logaddexp(0.0, -z)

    def trace(self, M):
        return self.np.einsum("ii->", M)

    def log_det(self, X):
        return self.np.log(self.np.linalg.det(X))

    def inv(self, X):
        return self.np.linalg.inv(X)

    def windows(self, x, kh, kw, stride):
        """(N, C, H', W', kh kw): every kh x kw window of x at the stride, as strided slices."""
        N, C, H, W = x.shape
        Ho, Wo = 1 + (H - kh) // stride, 1 + (W - kw) // stride
        taps = [x[:, :, i:i + stride * (Ho - 1) + 1:stride, j:j + stride * (Wo - 1) + 1:stride]
                for i in range(kh) for j in range(kw)]
        return self.np.stack(taps, axis=-1)

    def pad(self, x, p):
        if p == 0:
            return x
        N, C, H, W = x.shape
        zeros = self.const(np.zeros((N, C, H, p)), x)
        x = self.np.concatenate([zeros, x, zeros], axis=3)
        zeros = self.const(np.zeros((N, C, p, W + 2 * p)), x)
        return self.np.concatenate([zeros, x, zeros], axis=2)

    def conv(self, x, w, b, stride, pad):
        F, C, kh, kw = w.shape
        patches = self.windows(self.pad(x, pad), kh, kw, stride)       # (N, C, H', W', kh kw)
        out = self.np.einsum("ncijk,fck->nfij", patches, self.np.reshape(w, (F, C, kh * kw)))
        return out + self.np.reshape(b, (1, F, 1, 1))

    def max_pool(self, x, ph, pw, stride):
        return self.np.max(self.windows(x, ph, pw, stride), axis=-1)


def numpy_like_ops(E: NumpyLike) -> dict:
    """op name -> forward function of all the op's arguments (Static ones included), in E."""
    xp = E.np

    def normalized(x, axes, ddof=0):
        mean = xp.mean(x, axis=axes, keepdims=True)
        return (x - mean) / xp.sqrt(xp.var(x, axis=axes, keepdims=True, ddof=ddof) + EPS)

    def cross_entropy(scores, y):          # mean over the rows of -log softmax(scores)[y]
        return -xp.mean(E.pick(E.log_softmax(scores), y))

    def hinge_sum(scores, y, delta):       # sum over rows, j != y of max(0, s_j - s_y + delta)
        y = np.asarray(y)
        correct = E.pick(scores, y)[..., None]
        margins = xp.maximum(0.0, scores - correct + delta)
        others = E.const(np.arange(scores.shape[-1]) != y[..., None], margins)
        return xp.sum(margins * others)

    def batchnorm(x, gamma, beta, bn_param):
        if bn_param["mode"] == "test":
            mean, var = (E.const(bn_param[k], x) for k in ("running_mean", "running_var"))
            xhat = (x - mean) / xp.sqrt(var + EPS)
        else:
            xhat = normalized(x, 0)
        return gamma * xhat + beta

    def two_layer(W1, b1, W2, b2, X, y, reg, penalty):
        scores = xp.matmul(E.relu(xp.matmul(X, W1) + b1), W2) + b2
        return cross_entropy(scores, y) + penalty * reg * (xp.sum(W1 ** 2) + xp.sum(W2 ** 2))

    def rnn_step(x, h, Wx, Wh, b):
        return xp.tanh(xp.matmul(x, Wx) + xp.matmul(h, Wh) + b)

    def lstm_step(x, h, c, Wx, Wh, b):
        a = xp.matmul(x, Wx) + xp.matmul(h, Wh) + b
        H = h.shape[1]
        i, f, o, g = (a[:, k * H:(k + 1) * H] for k in range(4))
        c = E.sigmoid(f) * c + E.sigmoid(i) * xp.tanh(g)
        return E.sigmoid(o) * xp.tanh(c), c

    def rnn(x, h, Wx, Wh, b):
        hs = []
        for t in range(x.shape[1]):
            h = rnn_step(x[:, t, :], h, Wx, Wh, b)
            hs.append(h)
        return xp.stack(hs, axis=1)

    def lstm(x, h, Wx, Wh, b):
        c, hs = E.const(np.zeros(h.shape), x), []
        for t in range(x.shape[1]):
            h, c = lstm_step(x[:, t, :], h, c, Wx, Wh, b)
            hs.append(h)
        return xp.stack(hs, axis=1)

    def micrograd_readme(a, b):
        c = a + b
        d = a * b + b ** 3
        c = c + (c + 1)
        c = c + (1 + c + (-a))
        d = d + (d * 2 + E.relu(b + a))
        d = d + (3 * d + E.relu(b - a))
        e = c - d
        f = e ** 2
        return f / 2.0 + 10.0 / f

    def micrograd_sanity(x):
        z = 2 * x + 2 + x
        q = E.relu(z) + z * x
        h = E.relu(z * z)
        return h + q + q * x

    def tanh_exp(n):                       # tanh from exp, as the lecture builds it
        e = xp.exp(2 * n)
        return (e - 1) / (e + 1)

    def bce(z, y):
        return -(y * E.log_sigmoid(z) + (1 - y) * E.log_sigmoid(-z))

    def norm(x):
        return xp.sqrt(xp.sum(x * x, axis=-1, keepdims=True))

    def huber(x, y, delta):
        a = xp.abs(x - y)
        m = xp.minimum(a, delta)
        return xp.sum(0.5 * m ** 2 + delta * (a - m))

    ops = {
        # group A
        "multiply": lambda x, y: x * y,
        "add": lambda x, y: x + y,
        "max_gate": lambda x, y: xp.maximum(x, y),
        "chain_rule": lambda x, y, z: (x + y) * z,
        "reciprocal": lambda x: 1.0 / x,
        "add_const": lambda x, c: c + x,
        "exp": lambda x: xp.exp(x),
        "scale": lambda x, a: a * x,
        "sigmoid_neuron": lambda w, x: E.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2]),
        "sigmoid": lambda x: E.sigmoid(x),
        "staged": lambda x, y: (x + E.sigmoid(y)) / (E.sigmoid(x) + (x + y) ** 2),
        "patterns_circuit": lambda x, y, z, w: 2.0 * (x * y + xp.maximum(z, w)),
        "matmul": lambda W, X: xp.matmul(W, X),
        # group B
        "fork_sum": lambda a: a + a,
        "fork_product": lambda a, b: (a * b) * (a + b),
        "softmax_cross_entropy": lambda f, y: -E.pick(E.log_softmax(f), y),
        "case_study_net_loss": lambda W, b, W2, b2, X, y, reg: two_layer(W, b, W2, b2, X, y, reg, 0.5),
        "multiclass_svm_loss": lambda s, y, delta: hinge_sum(s, y, delta),
        "linear_svm_loss": lambda W, b, x, y: hinge_sum(xp.matmul(W, x) + b, y, 1.0),
        "linear_softmax_loss": lambda W, b, x, y: -E.pick(E.log_softmax(xp.matmul(W, x) + b), y),
        "stable_softmax": lambda f: E.softmax(f),
        # group C, layers
        "affine": lambda x, w, b: xp.matmul(xp.reshape(x, (x.shape[0], -1)), w) + b,
        "relu": lambda x: E.relu(x),
        "softmax_loss": cross_entropy,
        "svm_loss": lambda x, y: hinge_sum(x, y, 1.0) / x.shape[0],
        "batchnorm": batchnorm,
        "layernorm": lambda x, gamma, beta, ln_param: gamma * normalized(x, 1) + beta,
        "dropout": lambda x, p: x if p["mode"] == "test" else x * E.const(dropout_mask(p, x.shape), x),
        "conv": lambda x, w, b, p: E.conv(x, w, b, p["stride"], p["pad"]),
        "max_pool": lambda x, p: E.max_pool(x, p["pool_height"], p["pool_width"], p["stride"]),
        "spatial_batchnorm": lambda x, gamma, beta, bn_param: (
            xp.reshape(gamma, (1, -1, 1, 1)) * normalized(x, (0, 2, 3))
            + xp.reshape(beta, (1, -1, 1, 1))),
        "spatial_groupnorm": lambda x, gamma, beta, G, gn_param: (
            gamma * xp.reshape(normalized(xp.reshape(x, (x.shape[0], G, -1)), 2), x.shape) + beta),
        # group C, classifiers and recurrent layers
        "svm_loss_naive": lambda W, X, y, reg: (
            hinge_sum(xp.matmul(X, W), y, 1.0) / X.shape[0] + reg * xp.sum(W ** 2)),
        "softmax_loss_naive": lambda W, X, y, reg: (
            cross_entropy(xp.matmul(X, W), y) + reg * xp.sum(W ** 2)),
        "two_layer_net_loss": lambda W1, b1, W2, b2, X, y, reg: two_layer(W1, b1, W2, b2, X, y, reg, 1.0),
        "rnn_step": rnn_step,
        "rnn": rnn,
        "lstm_step": lstm_step,
        "lstm": lstm,
        "word_embedding": lambda x, W: E.rows(W, x),
        "temporal_affine": lambda x, w, b: xp.einsum("ntd,dm->ntm", x, w) + b,
        "temporal_softmax_loss": lambda x, y, mask: (
            -xp.sum(mask * E.pick(E.log_softmax(x), y)) / x.shape[0]),
        # group D
        "micrograd_expr": lambda a, b, c, f: (a * b + c) * f,
        "tanh_neuron": lambda x1, x2, w1, w2, b: xp.tanh(x1 * w1 + x2 * w2 + b),
        "tanh_neuron_exp": lambda x1, x2, w1, w2, b: tanh_exp(x1 * w1 + x2 * w2 + b),
        "micrograd_readme": micrograd_readme,
        "micrograd_sanity": micrograd_sanity,
        "makemore_batchnorm": lambda h, gain, bias: gain * normalized(h, 0, ddof=1) + bias,
        "makemore_cross_entropy": lambda logits, Yb: cross_entropy(logits, Yb),
        "sigmoid_layer": lambda W, x: E.sigmoid(xp.matmul(W, x)),
        "relu_layer": lambda W, x: E.relu(xp.matmul(W, x)),
        "xor_net": lambda X, W, c, w, b: xp.matmul(E.relu(xp.matmul(X, W) + c), w) + b,
        "mlp_cross_entropy": lambda X, W1, W2, y, lam: (
            cross_entropy(xp.matmul(E.relu(xp.matmul(X, W1)), W2), y)
            + lam * (xp.sum(W1 ** 2) + xp.sum(W2 ** 2))),
        "sigmoid_bce": bce,
        "logsumexp": lambda x: E.logsumexp(x),
        "logistic_regression": lambda w, X, y, lam: (
            xp.mean(bce(xp.matmul(X, w), y)) + 0.5 * lam * xp.sum(w ** 2)),
        "trace_ax": lambda A, X: E.trace(xp.matmul(A, X)),
        "trace_xta": lambda X, A: E.trace(xp.matmul(X.T, A)),
        "quadratic_form": lambda x, A: xp.matmul(xp.matmul(x, A), x),
        "trace_xaxt": lambda X, A: E.trace(xp.matmul(xp.matmul(X, A), X.T)),
        "log_det": lambda X: E.log_det(X),
        "trace_a_xinv": lambda A, X: E.trace(xp.matmul(A, E.inv(X))),
        "least_squares": lambda A, x, b: xp.sum((xp.matmul(A, x) - b) ** 2),
        "softmax_jvp": lambda x: E.softmax(x),
        "l1_loss": lambda x, y: xp.sum(xp.abs(x - y)),
        "huber_loss": huber,
        "mse_loss": lambda x, y: xp.mean((x - y) ** 2),
        "cosine_similarity": lambda x, y: xp.sum(x * y, axis=-1) / (norm(x) * norm(y))[..., 0],
        "normalize": lambda x: x / norm(x),
        # no case's op: the model classes' penalty, sum W^2
        "sum_squares": lambda w: xp.sum(w * w),
    }
    ops["svm_loss_vectorized"] = ops["svm_loss_naive"]          # one math, two skeleton names
    ops["softmax_loss_vectorized"] = ops["softmax_loss_naive"]
    return ops


# --- layer_utils.py's sandwiches and classifiers/' model classes, of an adapter's own layers ------

SANDWICH_LAYERS = ("affine", "relu", "batchnorm", "layernorm", "conv", "spatial_batchnorm",
                   "max_pool")
MODEL_LAYERS = SANDWICH_LAYERS + ("dropout", "softmax_loss", "two_layer_net_loss",
                                  "word_embedding", "rnn", "lstm", "temporal_affine",
                                  "temporal_softmax_loss", "sum_squares", "affine_relu",
                                  "conv_relu_pool")


def sandwiches(ops: dict) -> dict:
    """The sandwich layers of layer_utils.py, each the composition of the table's own layers (so
    torch's sandwiches call F.batch_norm and F.conv2d); none where the table lacks a layer."""
    if not set(SANDWICH_LAYERS) <= set(ops):
        return {}
    affine, relu, conv = ops["affine"], ops["relu"], ops["conv"]
    return {
        "affine_relu": lambda x, w, b: relu(affine(x, w, b)),
        "affine_bn_relu": lambda x, w, b, gamma, beta, bn_param: relu(
            ops["batchnorm"](affine(x, w, b), gamma, beta, bn_param)),
        "affine_ln_relu": lambda x, w, b, gamma, beta, ln_param: relu(
            ops["layernorm"](affine(x, w, b), gamma, beta, ln_param)),
        "conv_relu": lambda x, w, b, conv_param: relu(conv(x, w, b, conv_param)),
        "conv_bn_relu": lambda x, w, b, gamma, beta, conv_param, bn_param: relu(
            ops["spatial_batchnorm"](conv(x, w, b, conv_param), gamma, beta, bn_param)),
        "conv_relu_pool": lambda x, w, b, conv_param, pool_param: ops["max_pool"](
            relu(conv(x, w, b, conv_param)), pool_param),
    }


class EngineModel:
    """A model class of classifiers/ on an engine: the constructor, `params` and state (dtype,
    dropout_param with its seed, bn_params) of the reference's class (handwritten/, the
    skeleton's signature), which each model below also subclasses, and a `loss(X, y)` of the
    engine's own: the engine's forward of the parameters, whose grads are the engine's autodiff
    of the loss wrt every parameter. model_classes() subclasses each with the adapter's layers
    (`layers`, the ops table with its sandwiches) and its loss wrapper (`engine_loss(fn, diff)`,
    as bind's `loss`).

    Only the training loss is adapted: `loss(X)` without labels (the skeleton's test-mode scores)
    raises, as no case calls it. Batchnorm's running statistics are not kept (they do not enter
    the train-mode loss)."""
    skeleton = ("", "")            # (module, class) of the assignment
    layers: dict = {}
    engine_loss = None

    def _loss(self, objective, *data):
        """objective({name: parameter}, *data) -> the loss, differentiated wrt every parameter."""
        names = tuple(self.params)

        def fn(*args):
            return objective(dict(zip(names, args)), *args[len(names):])
        value, grads = self.engine_loss(fn, tuple(range(len(names))))(
            *(self.params[k] for k in names), *data)
        return value, dict(zip(names, grads if len(names) > 1 else (grads,)))

    def _penalty(self, p, names):
        """0.5 reg sum W^2 over the named weights (the 2020+ skeletons' convention)."""
        return 0.5 * self.reg * sum(self.layers["sum_squares"](p[k]) for k in names)

    @staticmethod
    def _labelled(y):
        if y is None:
            raise NotImplementedError("this adapter's models compute the training loss only: "
                                      "loss(X, y)")


class NeuralNetTwoLayerNet(EngineModel, neural_net.TwoLayerNet):
    """neural_net.py (2019): reg is an argument of loss, the penalty reg sum W^2."""
    skeleton = ("neural_net", "TwoLayerNet")

    def loss(self, X, y=None, reg=0.0):
        self._labelled(y)
        net = self.layers["two_layer_net_loss"]
        return self._loss(lambda p, X, y: net(p["W1"], p["b1"], p["W2"], p["b2"], X, y, reg), X, y)


class FcNetTwoLayerNet(EngineModel, fc_net.TwoLayerNet):
    """fc_net.py (2020+ assignment 1): affine_relu - affine - softmax, 0.5 reg sum W^2."""
    skeleton = ("fc_net", "TwoLayerNet")

    def loss(self, X, y=None):
        self._labelled(y)
        L = self.layers

        def objective(p, X, y):
            scores = L["affine"](L["affine_relu"](X, p["W1"], p["b1"]), p["W2"], p["b2"])
            return L["softmax_loss"](scores, y) + self._penalty(p, ("W1", "W2"))
        return self._loss(objective, X, y)


class FullyConnectedNet(EngineModel, fc_net.FullyConnectedNet):
    """fc_net.py (assignment 2): {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) -
    affine - softmax; the dropout masks from dropout_param["seed"], as the reference's."""
    skeleton = ("fc_net", "FullyConnectedNet")

    def loss(self, X, y=None):
        self._labelled(y)
        L, n = self.layers, self.num_layers
        norm = {"batchnorm": L["batchnorm"], "layernorm": L["layernorm"]}.get(self.normalization)

        def objective(p, X, y):
            h = X
            for i in range(1, n):
                h = L["affine"](h, p[f"W{i}"], p[f"b{i}"])
                if norm is not None:
                    h = norm(h, p[f"gamma{i}"], p[f"beta{i}"], self.bn_params[i - 1])
                h = L["relu"](h)
                if self.use_dropout:
                    h = L["dropout"](h, self.dropout_param)
            scores = L["affine"](h, p[f"W{n}"], p[f"b{n}"])
            return L["softmax_loss"](scores, y) + self._penalty(
                p, [f"W{i}" for i in range(1, n + 1)])
        return self._loss(objective, X.astype(self.dtype), y)


class ThreeLayerConvNet(EngineModel, cnn.ThreeLayerConvNet):
    """cnn.py (assignment 2): conv_relu_pool - affine_relu - affine - softmax, the convolution
    keeping the spatial size (stride 1, pad (filter_size - 1) // 2), a 2x2 max pool."""
    skeleton = ("cnn", "ThreeLayerConvNet")

    def loss(self, X, y=None):
        self._labelled(y)
        L = self.layers
        conv_param = {"stride": 1, "pad": (self.params["W1"].shape[2] - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        def objective(p, X, y):
            p1 = L["conv_relu_pool"](X, p["W1"], p["b1"], conv_param, pool_param)
            scores = L["affine"](L["affine_relu"](p1, p["W2"], p["b2"]), p["W3"], p["b3"])
            return L["softmax_loss"](scores, y) + self._penalty(p, ("W1", "W2", "W3"))
        return self._loss(objective, X, y)


class CaptioningRNN(EngineModel, rnn.CaptioningRNN):
    """rnn.py (assignment 3): h0 = features W_proj + b_proj; the words captions[:, :-1]
    embedded, an RNN or LSTM, vocabulary scores, and the temporal softmax loss against
    captions[:, 1:] with <NULL> targets masked out (the masks made in NumPy: data, not math)."""
    skeleton = ("rnn", "CaptioningRNN")

    def loss(self, features, captions):
        L = self.layers
        words_in, words_out = captions[:, :-1], captions[:, 1:]
        mask = (words_out != self._null).astype(features.dtype)
        recurrence = L[self.cell_type]

        def objective(p, features, words_in, words_out, mask):
            h0 = L["affine"](features, p["W_proj"], p["b_proj"])
            x = L["word_embedding"](words_in, p["W_embed"])
            h = recurrence(x, h0, p["Wx"], p["Wh"], p["b"])
            scores = L["temporal_affine"](h, p["W_vocab"], p["b_vocab"])
            return L["temporal_softmax_loss"](scores, words_out, mask)
        return self._loss(objective, features, words_in, words_out, mask)


MODELS = (NeuralNetTwoLayerNet, FcNetTwoLayerNet, FullyConnectedNet, ThreeLayerConvNet,
          CaptioningRNN)


def model_classes(ops: dict, loss) -> dict:
    """"<module>.<class>" -> the model class on the engine whose layers are `ops` (its
    sandwiches included) and whose loss wrapper is `loss`; none where a layer is missing."""
    if loss is None or not set(MODEL_LAYERS) <= set(ops):
        return {}
    return {".".join(m.skeleton): type(m.skeleton[1], (m,), {
        "layers": ops, "engine_loss": staticmethod(loss), "__module__": m.skeleton[0]})
        for m in MODELS}
