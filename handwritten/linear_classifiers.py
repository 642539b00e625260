"""Group C, C5-C6: the linear classifiers of CS231n assignment 1 (linear_svm.py, softmax.py).

Loss-style ops with the assignment's signatures:

    loss, dW = svm_loss_naive(W, X, y, reg)         # and svm_loss_vectorized
    loss, dW = softmax_loss_naive(W, X, y, reg)     # and softmax_loss_vectorized

W (D, C), X (N, D), y (N,) integer labels, reg a float. Conventions of the assignment: scores
S = X W; the data loss is averaged over N; the penalty is reg * sum(W^2), so its gradient is
2 reg W (not 0.5 reg, which the 2024+ fc_net uses). SVM margin delta = 1; at the kink m = 0
the gradient takes 1(m > 0) = 0. The naive versions loop as the assignment does.
"""

import numpy as np

__all__ = [
    "svm_loss_naive", "svm_loss_vectorized",
    "softmax_loss_naive", "softmax_loss_vectorized",
]


# --- C5: multiclass SVM, L = (1/N) sum_i sum_{j != y_i} max(0, s_j - s_{y_i} + 1) + reg sum W^2. ---

def svm_loss_naive(W, X, y, reg):
    dW = np.zeros_like(W)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)                                      # (1) s = x_i W
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1          # (2) note delta = 1
            if margin > 0:                                        # (3) max(0, m): gradient 1(m > 0)
                loss += margin                                    # (3)
                dW[:, j] += X[i]                                  # (1) ds_j/dW[:, j] = x_i
                dW[:, y[i]] -= X[i]                               # (2) s_{y_i} forks into every margin: +=
    loss /= num_train                                             # (4) average over N
    dW /= num_train                                               # (4)
    loss += reg * np.sum(W * W)                                   # (5) penalty
    dW += 2 * reg * W                                             # (5) d(reg W^2)/dW = 2 reg W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X.dot(W)                                             # (1) (N, C)
    correct = scores[rows, y][:, None]                            # (2) s_{y_i}, (N, 1)
    margins = np.maximum(0, scores - correct + 1)                 # (3) delta = 1
    margins[rows, y] = 0                                          # (4) only j != y_i
    loss = margins.sum() / N                                      # (5) average over N
    loss += reg * np.sum(W * W)                                   # (6) penalty
    # backward
    dmargins = np.full(margins.shape, 1.0 / N, dtype=W.dtype)                    # (5)
    dmargins[rows, y] = 0                                         # (4) the j = y_i terms are dropped
    dscores = (margins > 0) * dmargins                            # (3) 1(m > 0); 0 at the kink
    dscores[rows, y] -= dscores.sum(axis=1)                       # (2) s_{y_i} forks into every margin
    dW = X.T.dot(dscores)                                         # (1) (D, N)(N, C)
    dW += 2 * reg * W                                             # (6) W forks into the penalty: +=
    return loss, dW


# --- C6: softmax classifier, L = -(1/N) sum_i log p_{i, y_i} + reg sum W^2. ----------------------
# Shift the scores by their max before exponentiating: p is unchanged, exp never overflows.

def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)                                      # (1) s = x_i W
        scores = scores - np.max(scores)                          # (2) shift by the max
        log_sum = np.log(np.sum(np.exp(scores)))
        loss += log_sum - scores[y[i]]                            # (3) -log p_{y_i}
        for j in range(num_classes):
            p_j = np.exp(scores[j] - log_sum)
            dW[:, j] += (p_j - (j == y[i])) * X[i]                # (3)-(1) (p_j - 1(j = y_i)) x_i
    loss /= num_train                                             # (4) average over N
    dW /= num_train                                               # (4)
    loss += reg * np.sum(W * W)                                   # (5) penalty
    dW += 2 * reg * W                                             # (5) d(reg W^2)/dW = 2 reg W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X.dot(W)                                             # (1) (N, C)
    shifted = scores - np.max(scores, axis=1, keepdims=True)      # (2) shift by the max
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))  # (3) log p
    loss = -np.sum(log_probs[rows, y]) / N                        # (4) average over N
    loss += reg * np.sum(W * W)                                   # (5) penalty
    # backward
    dscores = np.exp(log_probs)                                   # (3)-(2) p; the shift gets no net gradient
    dscores[rows, y] -= 1                                         # (4) p - onehot(y)
    dscores /= N                                                  # (4)
    dW = X.T.dot(dscores)                                         # (1)
    dW += 2 * reg * W                                             # (5) W forks into the penalty: +=
    return loss, dW
