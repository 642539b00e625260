"""Group D5-D11, D13, D14: classic backward passes (makemore, Karpathy's blog, the DL book, ...).

Every op is a CS231n-style pair:

    out, cache = <op>_forward(*inputs)
    grads      = <op>_backward(dout, cache)   # one gradient per differentiable input, in order

A backward with one differentiable input returns that gradient alone. Inputs that get no
gradient (labels y, the weight decay lambda, Huber's delta) come after the differentiable ones;
each op's comment says which inputs get gradients. Forward lines are numbered `# (k)`; the
backward walks the same steps in reverse, each line tagged with the step it differentiates, with
`+=` wherever a value forks. Sigmoid, softplus, softmax and log-sum-exp are computed stably: no
overflow, no nan at inputs of magnitude 1000. NumPy only.
"""


import numpy as np

from ._numerics import _underflow_ok

__all__ = [
    "makemore_batchnorm_forward", "makemore_batchnorm_backward",
    "makemore_batchnorm_backward_fused",
    "makemore_cross_entropy_forward", "makemore_cross_entropy_backward",
    "makemore_cross_entropy_backward_fused",
    "sigmoid_layer_forward", "sigmoid_layer_backward",
    "relu_layer_forward", "relu_layer_backward",
    "xor_net_forward", "xor_net_backward",
    "mlp_cross_entropy_forward", "mlp_cross_entropy_backward",
    "sigmoid_bce_forward", "sigmoid_bce_backward",
    "logsumexp_forward", "logsumexp_backward",
    "logistic_regression_forward", "logistic_regression_backward",
    "softmax_jvp_forward", "softmax_jvp_backward",
    "l1_loss_forward", "l1_loss_backward",
    "huber_loss_forward", "huber_loss_backward",
    "mse_loss_forward", "mse_loss_backward",
    "cosine_similarity_forward", "cosine_similarity_backward",
    "normalize_forward", "normalize_backward",
]


def _sigmoid(x):
    # 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: e^(-|x|) never overflows.
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _softplus(x):
    # log(1 + e^x) = max(x, 0) + log(1 + e^(-|x|)): e^(-|x|) never overflows.
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _log_softmax(x):
    # x - logsumexp(x) over the last axis, shifted by the max so that exp never overflows.
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# --- D5: makemore part 4, the BatchNorm layer decomposed into atoms, then fused. ----------------
# hprebn (n, D), bngain (1, D), bnbias (1, D), all differentiable; eps = 1e-5.
# Bessel's correction: the variance divides by n - 1 (unlike CS231n's batchnorm, 1/n). The
# many-step backward walks every atom; the fused one is the lecture's closed form
#     dhprebn = bngain * bnvar_inv / n * (n d - sum d - n/(n-1) * bnraw * sum(d * bnraw)).
# Both must agree. n >= 2.

def makemore_batchnorm_forward(hprebn, bngain, bnbias, eps=1e-5):
    n = hprebn.shape[0]
    bnmeani = 1 / n * hprebn.sum(0, keepdims=True)                # (1) batch mean
    bndiff = hprebn - bnmeani                                     # (2)
    bndiff2 = bndiff**2                                           # (3)
    bnvar = 1 / (n - 1) * bndiff2.sum(0, keepdims=True)           # (4) Bessel: 1/(n-1)
    bnvar_inv = (bnvar + eps)**-0.5                               # (5)
    bnraw = bndiff * bnvar_inv                                    # (6)
    hpreact = bngain * bnraw + bnbias                             # (7)
    return hpreact, (bngain, bndiff, bnvar, bnvar_inv, bnraw, eps)


def makemore_batchnorm_backward(dout, cache):
    bngain, bndiff, bnvar, bnvar_inv, bnraw, eps = cache
    n = bndiff.shape[0]
    dhpreact = dout
    dbngain = (bnraw * dhpreact).sum(0, keepdims=True)            # (7) broadcast: sum over n
    dbnraw = bngain * dhpreact                                    # (7)
    dbnbias = dhpreact.sum(0, keepdims=True)                      # (7)
    dbndiff = bnvar_inv * dbnraw                                  # (6)
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdims=True)          # (6)
    dbnvar = (-0.5 * (bnvar + eps)**-1.5) * dbnvar_inv            # (5) d v^-1/2 = -1/2 v^-3/2
    dbndiff2 = 1 / (n - 1) * np.ones_like(bndiff) * dbnvar        # (4) sum spreads back
    dbndiff += (2 * bndiff) * dbndiff2                            # (3) fork on bndiff: +=
    dhprebn = 1.0 * dbndiff                                       # (2)
    dbnmeani = (-dbndiff).sum(0, keepdims=True)                   # (2)
    dhprebn += 1 / n * np.ones_like(bndiff) * dbnmeani            # (1) fork on hprebn: +=
    return dhprebn, dbngain, dbnbias


def makemore_batchnorm_backward_fused(dout, cache):
    bngain, bndiff, bnvar, bnvar_inv, bnraw, eps = cache
    n = bndiff.shape[0]
    dbngain = (bnraw * dout).sum(0, keepdims=True)                # (7)
    dbnbias = dout.sum(0, keepdims=True)                          # (7)
    dhprebn = bngain * bnvar_inv / n * (                          # (6)-(1) in one line
        n * dout - dout.sum(0) - n / (n - 1) * bnraw * (dout * bnraw).sum(0))
    return dhprebn, dbngain, dbnbias


# --- D5: makemore part 4, the cross-entropy loss decomposed into atoms, then fused. -------------
# logits (n, C) differentiable; Yb (n,) integer labels in [0, C) get no gradient. Returns the
# scalar loss -mean_i log softmax(logits)[i, Yb[i]]. The atoms are the lecture's, so the forward
# is stable against overflow (the max is subtracted) but not underflow: a label whose probability
# rounds to 0 gives log 0 = -inf (use softmax_loss for logits of magnitude 1000). logits forks
# into norm_logits and logit_maxes, counts into probs and counts_sum: += at both. The max path
# carries zero net gradient, dlogit_maxes = -sum_j dnorm_logits = -(sum_j p_j - 1) dout / n = 0,
# up to rounding, so ties in the max (either argmax) change nothing. The fused backward is
#     dlogits = (softmax(logits) - onehot(Yb)) / n * dout.

def makemore_cross_entropy_forward(logits, Yb):
    n = logits.shape[0]
    logit_maxes = logits.max(1, keepdims=True)                    # (1) row max, for stability
    norm_logits = logits - logit_maxes                            # (2)
    counts = np.exp(norm_logits)                                  # (3)
    counts_sum = counts.sum(1, keepdims=True)                     # (4)
    counts_sum_inv = counts_sum**-1                               # (5)
    probs = counts * counts_sum_inv                               # (6) softmax
    logprobs = np.log(probs)                                      # (7)
    loss = -logprobs[np.arange(n), Yb].mean()                     # (8) mean NLL of the labels
    return loss, (logits, Yb, counts, counts_sum, counts_sum_inv, probs)


def makemore_cross_entropy_backward(dout, cache):
    logits, Yb, counts, counts_sum, counts_sum_inv, probs = cache
    n = logits.shape[0]
    dlogprobs = np.zeros_like(probs)                              # (8) only the labels' entries
    dlogprobs[np.arange(n), Yb] = -1.0 / n * dout                 # (8) d -mean = -1/n
    dprobs = (1.0 / probs) * dlogprobs                            # (7) d log p = 1/p
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdims=True)     # (6) broadcast: sum over C
    dcounts = counts_sum_inv * dprobs                             # (6)
    dcounts_sum = (-counts_sum**-2) * dcounts_sum_inv             # (5) d s^-1 = -s^-2
    dcounts += np.ones_like(counts) * dcounts_sum                 # (4) fork on counts: +=
    dnorm_logits = counts * dcounts                               # (3) d e^x = e^x
    dlogits = 1.0 * dnorm_logits                                  # (2)
    dlogit_maxes = (-dnorm_logits).sum(1, keepdims=True)          # (2) = 0 up to rounding
    onehot_max = np.zeros_like(logits)                            # (1) max routes to its argmax
    onehot_max[np.arange(n), logits.argmax(1)] = 1.0              # (1)
    dlogits += onehot_max * dlogit_maxes                          # (1) fork on logits: +=
    return dlogits


def makemore_cross_entropy_backward_fused(dout, cache):
    logits, Yb, counts, counts_sum, counts_sum_inv, probs = cache
    n = logits.shape[0]
    dlogits = probs.copy()                                        # (8)-(1): softmax(logits)
    dlogits[np.arange(n), Yb] -= 1                                # minus onehot(Yb)
    dlogits *= dout / n                                           # mean over n
    return dlogits


# --- D6: "Yes you should understand backprop": a sigmoid layer and a ReLU layer. ----------------
# W (H, D), x (D,), both differentiable. dW = outer(z (1 - z) dz, x): sigma' <= 1/4, and it
# vanishes when the layer saturates (|Wx| large). ReLU: dW = outer(1(Wx > 0) dz, x), a dead
# unit (Wx <= 0) gets no gradient; ReLU'(0) = 0, samples keep Wx away from 0.

@_underflow_ok
def sigmoid_layer_forward(W, x):
    s = W.dot(x)                                                  # (1)
    z = _sigmoid(s)                                               # (2)
    return z, (W, x, z)


@_underflow_ok
def sigmoid_layer_backward(dout, cache):
    W, x, z = cache
    ds = (z * (1 - z)) * dout                                     # (2) sigma' = z (1 - z)
    dW = np.outer(ds, x)                                          # (1)
    dx = W.T.dot(ds)                                              # (1)
    return dW, dx


def relu_layer_forward(W, x):
    s = W.dot(x)                                                  # (1)
    z = np.maximum(0, s)                                          # (2)
    return z, (W, x, s)


def relu_layer_backward(dout, cache):
    W, x, s = cache
    ds = (s > 0) * dout                                           # (2) relu' = 1(s > 0)
    dW = np.outer(ds, x)                                          # (1)
    dx = W.T.dot(ds)                                              # (1)
    return dW, dx


# --- D7: DL book 6.1, the XOR network f(x) = w^T max(0, W^T x + c) + b. -------------------------
# X (N, 2) (one example per row), W (2, H), c (H,), w (H,), b scalar; all differentiable.
# With W = [[1,1],[1,1]], c = [0,-1], w = [1,-2], b = 0 the four corners give [0, 1, 1, 0]; there
# the pre-activations of (0,0) and (1,0)/(0,1) sit exactly on the ReLU kink. ReLU'(0) = 0
# (jax.nn.relu's convention); random samples keep X W + c away from 0.

def xor_net_forward(X, W, c, w, b):
    U = X.dot(W) + c                                              # (1) W^T x + c for each row
    H = np.maximum(0, U)                                          # (2)
    f = H.dot(w) + b                                              # (3)
    return f, (X, W, w, U, H)


def xor_net_backward(dout, cache):
    X, W, w, U, H = cache
    dH = np.outer(dout, w)                                        # (3)
    dw = H.T.dot(dout)                                            # (3)
    db = np.sum(dout)                                             # (3) b is added to every row
    dU = (U > 0) * dH                                             # (2) relu' = 1(U > 0)
    dX = dU.dot(W.T)                                              # (1)
    dW = X.T.dot(dU)                                              # (1)
    dc = dU.sum(0)                                                # (1)
    return dX, dW, dc, dw, db


# --- D8: DL book 6.5.7, a ReLU MLP with cross-entropy and weight decay (no biases). -------------
# X (N, D), W1 (D, H), W2 (H, C) get gradients; y int (N,) and lam (scalar) do not.
# J = mean_n(-log softmax(U2)[n, y_n]) + lam (||W1||^2 + ||W2||^2), so the decay adds 2 lam W.
# G = dJ/dU2 = (P - Y) / N;  G' = (G W2^T) * 1(U1 > 0);  dW1 = X^T G' + 2 lam W1.
# ReLU'(0) = 0; samples keep U1 away from 0.

@_underflow_ok
def mlp_cross_entropy_forward(X, W1, W2, y, lam):
    N = X.shape[0]
    U1 = X.dot(W1)                                                # (1)
    H = np.maximum(0, U1)                                         # (2)
    U2 = H.dot(W2)                                                # (3) unnormalized log probs
    logp = _log_softmax(U2)                                       # (4) stable log softmax
    J_mle = -logp[np.arange(N), y].mean()                         # (5) cross-entropy
    J = J_mle + lam * (np.sum(W1**2) + np.sum(W2**2))             # (6) weight decay
    return J, (X, W1, W2, U1, H, np.exp(logp), y, lam)


@_underflow_ok
def mlp_cross_entropy_backward(dout, cache):
    X, W1, W2, U1, H, P, y, lam = cache
    N = X.shape[0]
    dJ_mle = 1.0 * dout                                           # (6)
    dW1 = (2 * lam * W1) * dout                                   # (6) d lam ||W||^2 = 2 lam W
    dW2 = (2 * lam * W2) * dout                                   # (6)
    G = P.copy()                                                  # (5)(4) softmax + CE: P - Y
    G[np.arange(N), y] -= 1                                       # (5) minus one-hot Y
    G *= dJ_mle / N                                               # (5) mean over N
    dW2 += H.T.dot(G)                                             # (3) fork on W2: +=
    dH = G.dot(W2.T)                                              # (3)
    dU1 = dH * (U1 > 0)                                           # (2) relu' = 1(U1 > 0)
    dW1 += X.T.dot(dU1)                                           # (1) fork on W1: +=
    dX = dU1.dot(W1.T)                                            # (1)
    return dX, dW1, dW2


# --- D9: DL book 6.2.2, sigmoid + binary cross-entropy as J = softplus((1 - 2y) z). -------------
# z (any shape) gets the gradient; y (same shape, labels in {0, 1}) does not. Elementwise, no
# reduction. softplus' = sigma, so dJ/dz = (1 - 2y) sigma((1 - 2y) z) = sigma(z) - y for y in
# {0, 1}. Never computes log(sigma(z)): at z = -1000 that is log 0. z=1, y=1: dz = -0.2689...

@_underflow_ok
def sigmoid_bce_forward(z, y):
    a = (1 - 2 * y) * z                                           # (1)
    J = _softplus(a)                                              # (2) stable softplus
    return J, (y, a)


@_underflow_ok
def sigmoid_bce_backward(dout, cache):
    y, a = cache
    da = _sigmoid(a) * dout                                       # (2) softplus' = sigma
    dz = (1 - 2 * y) * da                                         # (1)
    return dz


# --- D10: log-sum-exp over the last axis; its gradient is the softmax. ---------------------------
# x (..., K) differentiable; finite, or -inf entries with at least one finite entry per row (an
# -inf entry gets gradient 0). Shifted by the row max m; the max path carries zero net gradient:
# d/dm (log sum e^(x - m) + m) = -sum softmax + 1 = 0, so it is left out.
# x = [1, 2, 3]: 3.4076059644443801, gradient softmax(x).

@_underflow_ok
def logsumexp_forward(x):
    m = x.max(axis=-1, keepdims=True)                             # (1) row max (no gradient)
    e = np.exp(x - m)                                             # (2) every entry <= 1
    s = e.sum(axis=-1, keepdims=True)                             # (3) 1 <= s <= K
    out = (np.log(s) + m)[..., 0]                                 # (4)
    return out, (e, s)


@_underflow_ok
def logsumexp_backward(dout, cache):
    e, s = cache
    ds = (1 / s) * dout[..., None]                                # (4) d log s/ds = 1/s
    de = 1.0 * ds                                                 # (3) sum spreads back
    dx = e * de                                                   # (2) d e^(x-m)/dx = e^(x-m)
    return dx


# --- D11: logistic regression with weight decay 0.5 lam ||w||^2. --------------------------------
# w (D,) gets the gradient; X (N, D), y (N,) labels in [0, 1], lam scalar do not.
# J = mean_n(softplus(s_n) - y_n s_n) + 0.5 lam ||w||^2 with s = X w (softplus(s) - y s is the
# BCE of sigma(s), written stably). dJ/dw = X^T (sigma(Xw) - y) / N + lam w.

@_underflow_ok
def logistic_regression_forward(w, X, y, lam):
    s = X.dot(w)                                                  # (1) logits
    nll = _softplus(s) - y * s                                    # (2) -log p(y | x)
    J = nll.mean() + 0.5 * lam * w.dot(w)                         # (3)
    return J, (w, X, y, lam, s)


@_underflow_ok
def logistic_regression_backward(dout, cache):
    w, X, y, lam, s = cache
    N = X.shape[0]
    dnll = np.full(N, dout / N)                                   # (3) mean over N
    dw = (lam * w) * dout                                         # (3) d 0.5 lam ||w||^2 = lam w
    ds = (_sigmoid(s) - y) * dnll                                 # (2) softplus' = sigma
    dw += X.T.dot(ds)                                             # (1) fork on w: +=
    return dw


# --- D13: softmax over the last axis; its backward is the Jacobian-vector product. --------------
# x (..., K) differentiable. J = diag(p) - p p^T is symmetric, so J^T g = J g = p * (g - <g, p>):
# O(K) per row, the K x K Jacobian is never built.

@_underflow_ok
def softmax_jvp_forward(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))                 # (1) shift by the max
    p = e / e.sum(axis=-1, keepdims=True)                         # (2)
    return p, p


@_underflow_ok
def softmax_jvp_backward(dout, cache):
    p = cache
    gp = np.sum(dout * p, axis=-1, keepdims=True)                 # (2)(1) <g, p>
    dx = p * (dout - gp)                                          # (2)(1) (diag p - p p^T) g
    return dx


# --- D14: regression losses and normalizations. ---------------------------------------------------
# Reductions (as the catalogue's gradients): L1 and Huber sum over all entries, MSE averages
# over all N = x.size entries. x gets the gradient; the target y and delta do not.

# L1: J = sum |x - y|, dJ/dx = sign(x - y). Kink at x = y: sign(0) = 0 (the subgradient jnp.abs
# uses); samples keep |x - y| away from 0.

def l1_loss_forward(x, y):
    r = x - y                                                     # (1) residual
    J = np.sum(np.abs(r))                                         # (2)
    return J, r


def l1_loss_backward(dout, cache):
    r = cache
    dr = np.sign(r) * dout                                        # (2) d|r|/dr = sign r
    dx = 1.0 * dr                                                 # (1)
    return dx


# Huber (delta > 0): J = sum h(r), h = r^2/2 for |r| <= delta, delta (|r| - delta/2) beyond;
# dJ/dx = clip(r, -delta, delta), continuous (h is C^1; h'' jumps at |r| = delta, where the
# branch taken does not matter).

def huber_loss_forward(x, y, delta):
    r = x - y                                                     # (1)
    a = np.abs(r)
    J = np.sum(np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta)))  # (2)
    return J, (r, delta)


def huber_loss_backward(dout, cache):
    r, delta = cache
    dr = np.clip(r, -delta, delta) * dout                         # (2) h' = clip(r, -d, d)
    dx = 1.0 * dr                                                 # (1)
    return dx


# MSE: J = mean (x - y)^2 over all N = x.size entries, dJ/dx = 2 r / N.

def mse_loss_forward(x, y):
    r = x - y                                                     # (1)
    J = np.mean(r**2)                                             # (2)
    return J, r


def mse_loss_backward(dout, cache):
    r = cache
    dr = (2 * r / r.size) * dout                                  # (2) d mean r^2/dr = 2 r / N
    dx = 1.0 * dr                                                 # (1)
    return dx


# Cosine similarity over the last axis: c = <x, y> / (||x|| ||y||), x and y (..., K) both
# differentiable. dc/dx = (y_hat - c x_hat) / ||x||, the projection (I - x_hat x_hat^T)/||x||
# of y_hat. No eps: the domain keeps ||x||, ||y|| away from 0 (at 0 JAX's gradient is nan).

def cosine_similarity_forward(x, y):
    nx = np.sqrt(np.sum(x**2, axis=-1, keepdims=True))            # (1) ||x||
    ny = np.sqrt(np.sum(y**2, axis=-1, keepdims=True))            # (2) ||y||
    xh = x / nx                                                   # (3) x_hat
    yh = y / ny                                                   # (4) y_hat
    c = np.sum(xh * yh, axis=-1)                                  # (5)
    return c, (nx, ny, xh, yh)


def cosine_similarity_backward(dout, cache):
    nx, ny, xh, yh = cache
    dc = dout[..., None]
    dxh = yh * dc                                                 # (5)
    dyh = xh * dc                                                 # (5)
    dy = (dyh - yh * np.sum(yh * dyh, axis=-1, keepdims=True)) / ny  # (4)(2) projection
    dx = (dxh - xh * np.sum(xh * dxh, axis=-1, keepdims=True)) / nx  # (3)(1) projection
    return dx, dy


# Normalize over the last axis: x_hat = x / ||x||, x (..., K) differentiable.
# dx = (I - x_hat x_hat^T) g / ||x||: the radial part of g is removed. ||x|| away from 0.

def normalize_forward(x):
    nx = np.sqrt(np.sum(x**2, axis=-1, keepdims=True))            # (1) ||x||
    xh = x / nx                                                   # (2)
    return xh, (nx, xh)


def normalize_backward(dout, cache):
    nx, xh = cache
    dx = (dout - xh * np.sum(xh * dout, axis=-1, keepdims=True)) / nx  # (2)(1) projection
    return dx
