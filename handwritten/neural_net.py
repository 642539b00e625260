"""Group C, C7: the two-layer net of CS231n assignment 1, 2019 edition (neural_net.py).

    net = TwoLayerNet(input_size, hidden_size, output_size, std=1e-4)
    scores = net.loss(X)                 # y is None: the forward pass only
    loss, grads = net.loss(X, y, reg)    # grads["W1"], grads["b1"], grads["W2"], grads["b2"]

Architecture: affine - ReLU - affine - softmax, X (N, D), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
Conventions of the 2019 assignment: loss averaged over N, penalty reg * (sum W1^2 + sum W2^2)
(gradient 2 reg W; the biases are not penalised), ReLU'(0) = 0. This is what the golden loss
1.30378789133 of the toy model needs; the 2024+ fc_net uses 0.5 reg instead.

The same loss as a plain loss-style function, for a checker that calls functions:

    loss, (dW1, db1, dW2, db2) = two_layer_net_loss(W1, b1, W2, b2, X, y, reg)
"""

import numpy as np

__all__ = ["TwoLayerNet", "two_layer_net_loss"]


def two_layer_net_loss(W1, b1, W2, b2, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    h1 = X.dot(W1) + b1                                           # (1) first affine
    a1 = np.maximum(0, h1)                                        # (2) ReLU
    scores = a1.dot(W2) + b2                                      # (3) second affine
    shifted = scores - np.max(scores, axis=1, keepdims=True)      # (4) shift by the max
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))  # (5) log p
    loss = -np.sum(log_probs[rows, y]) / N                        # (6) average over N
    loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))             # (7) penalty, reg (not 0.5 reg)
    # backward
    dscores = np.exp(log_probs)                                   # (5)-(4) p; the shift gets no net gradient
    dscores[rows, y] -= 1                                         # (6) p - onehot(y)
    dscores /= N                                                  # (6)
    dW2 = a1.T.dot(dscores)                                       # (3) (H, N)(N, C)
    db2 = dscores.sum(axis=0)                                     # (3)
    da1 = dscores.dot(W2.T)                                       # (3)
    dh1 = (h1 > 0) * da1                                          # (2) ReLU' = 1(h > 0), 0 at the kink
    dW1 = X.T.dot(dh1)                                            # (1)
    db1 = dh1.sum(axis=0)                                         # (1)
    dW2 += 2 * reg * W2                                           # (7) W2 forks into the penalty: +=
    dW1 += 2 * reg * W1                                           # (7) W1 forks into the penalty: +=
    return loss, (dW1, db1, dW2, db2)


class TwoLayerNet(object):
    """A two-layer fully-connected net, initialised as the assignment does it (global np.random)."""

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params["W1"] = std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        if y is None:                                             # steps (1)-(3) only
            return np.maximum(0, X.dot(W1) + b1).dot(W2) + b2
        loss, (dW1, db1, dW2, db2) = two_layer_net_loss(W1, b1, W2, b2, X, y, reg)
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        return loss, grads

    def predict(self, X):
        return np.argmax(self.loss(X), axis=1)
