"""Group C: the fully-connected nets of `cs231n/classifiers/fc_net.py` (assignment 1 since 2020,
`TwoLayerNet`; assignment 2, `FullyConnectedNet`), as the skeletons define their classes:

    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, normalization="batchnorm",
                              dropout_keep_ratio=0.5, reg=0.1, dtype=np.float64, seed=231)
    scores = model.loss(X)                 # y is None: test mode, the scores only
    loss, grads = model.loss(X, y)         # train mode; grads["W1"], ..., grads["gamma1"], ...

Architecture, L = len(hidden_dims) + 1 layers:
    {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax
Conventions of these skeletons: data loss averaged over N (softmax_loss); penalty
0.5 reg sum_l sum W_l^2 (gradient reg W_l; the 2019 neural_net.py used reg, without the 0.5);
biases, gamma and beta are not penalised; ReLU'(0) = 0. Dropout keeps a unit with probability
`dropout_keep_ratio`; with `seed`, dropout_param["seed"] makes each dropout layer reseed NumPy's
generator, so the masks are the same in every call (the notebooks' gradient checks rely on it).
Batchnorm in train mode uses the batch's statistics; the running statistics it updates in
bn_params do not enter the train-mode loss.

The loss walks the layers' own forward functions in order and their backward functions in
reverse, as the assignment does; `TwoLayerNet` uses the sandwiches of layer_utils.py.
"""

import numpy as np

from .layer_utils import affine_relu_backward, affine_relu_forward
from .layers import (affine_backward, affine_forward, batchnorm_backward, batchnorm_forward,
                     dropout_backward, dropout_forward, layernorm_backward, layernorm_forward,
                     relu_backward, relu_forward, softmax_loss)

# TwoLayerNet is also the 2019 neural_net.py class's name: export only FullyConnectedNet by
# name; implementations expose this TwoLayerNet as fc_net.TwoLayerNet (cases/impl.py).
__all__ = ["FullyConnectedNet"]


class TwoLayerNet(object):
    """affine - relu - affine - softmax, assignment 1 (2020+) fc_net.py."""

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0):
        self.params = {}
        self.reg = reg
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)

    def loss(self, X, y=None):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        h, cache1 = affine_relu_forward(X, W1, b1)                # (1)-(2) h = max(0, X~ W1 + b1)
        scores, cache2 = affine_forward(h, W2, b2)                # (3) scores = h W2 + b2
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)                   # (4) mean over N
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))  # (5) 0.5 reg sum W^2
        grads = {}
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)  # (3)
        dX, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)  # (2)-(1)
        grads["W2"] += self.reg * W2                              # (5) W2 forks into the penalty: +=
        grads["W1"] += self.reg * W1                              # (5) W1 forks into the penalty: +=
        return loss, grads


class FullyConnectedNet(object):
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax."""

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0, weight_scale=1e-2,
                 dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = weight_scale * np.random.randn(dims[i - 1], dims[i])
            self.params[f"b{i}"] = np.zeros(dims[i])
            if self.normalization and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(dims[i])
                self.params[f"beta{i}"] = np.zeros(dims[i])

        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed
        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for i in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for i in range(self.num_layers - 1)]
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def _norm_forward(self, h, i):
        """Step (2) of hidden layer i: batchnorm, layernorm, or nothing."""
        gamma, beta = self.params.get(f"gamma{i}"), self.params.get(f"beta{i}")
        if self.normalization == "batchnorm":
            return batchnorm_forward(h, gamma, beta, self.bn_params[i - 1])
        if self.normalization == "layernorm":
            return layernorm_forward(h, gamma, beta, self.bn_params[i - 1])
        return h, None

    def _norm_backward(self, dh, cache):
        if self.normalization == "batchnorm":
            return batchnorm_backward(dh, cache)
        if self.normalization == "layernorm":
            return layernorm_backward(dh, cache)
        return dh, None, None

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        L = self.num_layers
        caches = {}
        h = X
        for i in range(1, L):
            W, b = self.params[f"W{i}"], self.params[f"b{i}"]
            h, caches[i, "affine"] = affine_forward(h, W, b)                  # (1) h W + b
            h, caches[i, "norm"] = self._norm_forward(h, i)                   # (2) normalize
            h, caches[i, "relu"] = relu_forward(h)                            # (3) max(0, .)
            if self.use_dropout:
                h, caches[i, "dropout"] = dropout_forward(h, self.dropout_param)  # (4) mask / p
        scores, caches[L, "affine"] = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])  # (5)
        if mode == "test":
            return scores

        loss, dscores = softmax_loss(scores, y)                                # (6) mean over N
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)                             # (7) 0.5 reg sum W^2
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[L, "affine"])  # (5)
        for i in reversed(range(1, L)):
            if self.use_dropout:
                dh = dropout_backward(dh, caches[i, "dropout"])               # (4) the same mask
            dh = relu_backward(dh, caches[i, "relu"])                         # (3) 1(h > 0)
            dh, dgamma, dbeta = self._norm_backward(dh, caches[i, "norm"])    # (2)
            if self.normalization:
                grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, caches[i, "affine"])  # (1)
        for i in range(1, L + 1):
            grads[f"W{i}"] += self.reg * self.params[f"W{i}"]                 # (7) W forks: +=
        return loss, grads
