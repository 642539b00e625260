"""Group B: the notes' smaller examples (B2, B5-B9) as ops of the suite's conventions.

Pair ops (`out, cache = <op>_forward(...)`, `grads = <op>_backward(dout, cache)`):
    fork_sum        b = a + a                         (B2, micrograd: da = 2)
    fork_product    f = (a b)(a + b)                  (B2, micrograd: a=-2, b=3: da=-3, db=-8)
    stable_softmax  p = softmax(f), shifted by max f  (B9)
Loss-style ops (`loss, grads = <op>(...)`, a bare gradient when one input is differentiable):
    softmax_cross_entropy(f, y) -> L, df                         (B5, one score vector)
    multiclass_svm_loss(s, y, delta=1.0) -> L, ds                (B7, one score vector)
    linear_svm_loss(W, b, x, y) -> L, (dW, db)                   (B8, the linear-classify figure)
    linear_softmax_loss(W, b, x, y) -> L, (dW, db)               (B8)
    case_study_net_loss(W, b, W2, b2, X, y, reg) -> L, (dW, db, dW2, db2)   (B6)
The data (x, X, y) and the margin delta get no gradient.
"""

import numpy as np

__all__ = [
    "fork_sum_forward", "fork_sum_backward",
    "fork_product_forward", "fork_product_backward",
    "softmax_cross_entropy",
    "case_study_net_loss",
    "multiclass_svm_loss",
    "linear_svm_loss", "linear_softmax_loss",
    "stable_softmax_forward", "stable_softmax_backward",
]


# --- B2: gradients add at forks. b = a + a uses a twice, so da = 1 + 1 = 2 (not 1). -----------------

def fork_sum_forward(a):
    b = a + a                                                     # (1) a forks into both operands
    return b, None


def fork_sum_backward(dout, cache):
    db = dout
    da = 1.0 * db                                                 # (1) first operand
    da += 1.0 * db                                                # (1) fork on a: +=
    return da


# --- B2: f = (a b)(a + b), micrograd's d = a * b, e = a + b, f = d * e. ------------------------------

def fork_product_forward(a, b):
    d = a * b                                                     # (1)
    e = a + b                                                     # (2)
    f = d * e                                                     # (3)
    return f, (a, b, d, e)


def fork_product_backward(dout, cache):
    a, b, d, e = cache
    df = dout
    dd = e * df                                                   # (3) multiply swaps
    de = d * df                                                   # (3)
    da = 1.0 * de                                                 # (2) add distributes
    db = 1.0 * de                                                 # (2)
    da += b * dd                                                  # (1) fork on a: +=
    db += a * dd                                                  # (1) fork on b: +=
    return da, db


# --- B5: softmax cross-entropy on one score vector, L = -log p_y, dL/df = p - 1(y). ---------------
# With all scores equal, L = log C (about 1.1 for C = 3): the expected initial loss.

def softmax_cross_entropy(f, y):
    shifted = f - np.max(f)                                       # (1) shift by the max
    log_p = shifted - np.log(np.sum(np.exp(shifted)))             # (2) log p
    L = -log_p[y]                                                 # (3)
    df = np.exp(log_p)                                            # (3)-(1) p; the shift gets no net gradient
    df[y] -= 1                                                    # (3) p - 1(y)
    return L, df


# --- B6: the case study's 2-layer net, ReLU hidden layer, softmax, 0.5 reg W^2 per weight. -------
# Parameters named as in the case study: W (D, h), b (h,) or (1, h), W2 (h, K), b2 (K,) or (1, K).
# Scores are shifted by their max (the case study exponentiates raw scores).

def case_study_net_loss(W, b, W2, b2, X, y, reg):
    num_examples = X.shape[0]
    rows = np.arange(num_examples)
    hidden_layer = np.maximum(0, np.dot(X, W) + b)                # (1) ReLU activation
    scores = np.dot(hidden_layer, W2) + b2                        # (2)
    shifted = scores - np.max(scores, axis=1, keepdims=True)      # (3) shift by the max
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)  # (4) class probabilities
    log_probs = shifted - np.log(np.sum(exp_scores, axis=1, keepdims=True))
    data_loss = -np.sum(log_probs[rows, y]) / num_examples        # (5) average cross-entropy
    reg_loss = 0.5 * reg * np.sum(W * W) + 0.5 * reg * np.sum(W2 * W2)  # (6)
    loss = data_loss + reg_loss                                   # (7)
    # backward
    dscores = probs.copy()                                        # (5)-(3) p - 1(y), / N
    dscores[rows, y] -= 1                                         # (5)
    dscores /= num_examples                                       # (5)
    dW2 = np.dot(hidden_layer.T, dscores)                         # (2)
    db2 = np.sum(dscores, axis=0).reshape(np.shape(b2))           # (2) summed to b2's shape
    dhidden = np.dot(dscores, W2.T)                               # (2)
    dhidden[hidden_layer <= 0] = 0                                # (1) ReLU: a fresh array, 0 at h = 0
    dW = np.dot(X.T, dhidden)                                     # (1)
    db = np.sum(dhidden, axis=0).reshape(np.shape(b))             # (1)
    dW2 += reg * W2                                               # (6) d(0.5 reg W^2) = reg W
    dW += reg * W                                                 # (6)
    return loss, (dW, db, dW2, db2)


# --- B7: multiclass SVM on one score vector, L = sum_{j != y} max(0, s_j - s_y + delta). ---------
# Kink: at m = 0 the gradient takes 1(m > 0) = 0.

def multiclass_svm_loss(s, y, delta=1.0):
    margins = np.maximum(0, s - s[y] + delta)                     # (1)
    margins[y] = 0                                                # (2) only j != y
    L = np.sum(margins)                                           # (3)
    ds = (margins > 0).astype(s.dtype)                            # (3)-(1) 1(m_j > 0)
    ds[y] -= np.sum(ds)                                           # (1) s_y forks into every margin
    return L, ds


# --- B8: the linear-classifier figure, s = W x + b with W (C, D), x (D,), b (C,). ----------------
# Both losses reuse the one-vector ops above; dW = ds x^T, db = ds.

def linear_svm_loss(W, b, x, y):
    s = W.dot(x) + b                                              # (1) scores
    L, ds = multiclass_svm_loss(s, y, delta=1.0)                  # (2) hinge loss, delta = 1
    dW = np.outer(ds, x)                                          # (1)
    db = 1.0 * ds                                                 # (1)
    return L, (dW, db)


def linear_softmax_loss(W, b, x, y):
    s = W.dot(x) + b                                              # (1) scores
    L, ds = softmax_cross_entropy(s, y)                           # (2) cross-entropy
    dW = np.outer(ds, x)                                          # (1)
    db = 1.0 * ds                                                 # (1)
    return L, (dW, db)


# --- B9: the stable softmax over the last axis, p = e^(f - max f) / sum e^(f - max f). ------------
# The shift leaves p unchanged and keeps e^f from overflowing (naive e^789 = inf, inf/inf = nan).
# Backward: the vector-Jacobian product p (g - <g, p>), without building diag(p) - p p^T.

def stable_softmax_forward(f):
    shifted = f - np.max(f, axis=-1, keepdims=True)               # (1) the largest entry becomes 0
    e = np.exp(shifted)                                           # (2)
    p = e / np.sum(e, axis=-1, keepdims=True)                     # (3)
    return p, p


def stable_softmax_backward(dout, cache):
    p = cache
    df = p * (dout - np.sum(dout * p, axis=-1, keepdims=True))    # (3)-(1) the shift gets no net gradient
    return df
