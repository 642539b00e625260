"""Group C: the three-layer convolutional net of `cs231n/classifiers/cnn.py` (assignment 2):

    model = ThreeLayerConvNet(input_dim=(C, H, W), num_filters=F, filter_size=3, hidden_dim=M,
                              num_classes=K, reg=0.1, dtype=np.float64)
    loss, grads = model.loss(X, y)          # grads["W1"], ..., grads["b3"]

Architecture: conv - relu - 2x2 max pool - affine - relu - affine - softmax. The convolution
keeps the spatial size (stride 1, pad (filter_size - 1) // 2), the pool halves it, so W2 is
(F H/2 W/2, M). Penalty 0.5 reg (sum W1^2 + sum W2^2 + sum W3^2), gradient reg W; biases
unpenalised; ReLU'(0) = 0; a max-pool tie goes to the window's first maximum. The loss uses the
sandwiches of layer_utils.py, as the skeleton suggests.
"""

import numpy as np

from .layer_utils import (affine_relu_backward, affine_relu_forward, conv_relu_pool_backward,
                          conv_relu_pool_forward)
from .layers import affine_backward, affine_forward, softmax_loss

__all__ = ["ThreeLayerConvNet"]


class ThreeLayerConvNet(object):
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax."""

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
        self.params = {}
        self.reg = reg
        self.dtype = dtype
        C, H, W = input_dim
        self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.params["b1"] = np.zeros(num_filters)
        self.params["W2"] = weight_scale * np.random.randn(num_filters * (H // 2) * (W // 2), hidden_dim)
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b3"] = np.zeros(num_classes)
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]
        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        p1, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)  # (1)-(3)
        h2, cache2 = affine_relu_forward(p1, W2, b2)              # (4)-(5) p1 flattened per example
        scores, cache3 = affine_forward(h2, W3, b3)               # (6)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)                   # (7) mean over N
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))  # (8)
        grads = {}
        dh2, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)         # (6)
        dp1, grads["W2"], grads["b2"] = affine_relu_backward(dh2, cache2)        # (5)-(4)
        dX, grads["W1"], grads["b1"] = conv_relu_pool_backward(dp1, cache1)      # (3)-(1)
        grads["W3"] += self.reg * W3                              # (8) each W forks into the penalty
        grads["W2"] += self.reg * W2                              # (8)
        grads["W1"] += self.reg * W1                              # (8)
        return loss, grads
