"""Group C: the CS231n assignment layers (assignments 1 and 2, 2019-2026 skeletons).

Names, argument order, parameter dicts and return values are those of the skeletons'
`cs231n/layers.py`, so a student's file and this one are interchangeable:

    out, cache = <op>_forward(x, ..., param)
    grads      = <op>_backward(dout, cache)      # one gradient per differentiable input
    loss, dx   = softmax_loss(x, y)              # loss layers return the loss and dx

Where the skeleton fixes the cache (affine, relu, dropout, conv, max-pool) this file uses exactly
that cache; elsewhere the skeleton leaves it to the student, and the checker must treat it as
opaque. Forward lines carry step numbers `# (k)`; the backward walks the same steps in reverse,
each line tagged with the step it differentiates, with `+=` wherever a value forks. No op writes
into its inputs or into `dout`; batchnorm replaces (never edits in place) the running statistics
in `bn_param`, as the assignment does.

Kink conventions: relu'(0) = 0; the SVM hinge has slope 0 at margin 0; max-pool gives a tie to
the first maximum of its window in row-major order (as `np.argmax` does).
NumPy only: this is the hand-derived opinion that JAX is checked against.
"""

import numpy as np

__all__ = [
    "affine_forward", "affine_backward",
    "relu_forward", "relu_backward",
    "softmax_loss", "svm_loss",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward",
    "dropout_forward", "dropout_backward",
    "conv_forward_naive", "conv_backward_naive",
    "max_pool_forward_naive", "max_pool_backward_naive",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
]


# --- C1: affine layer, out = x~ w + b with x~ = x flattened to (N, D). ---------------------------
# Dimension analysis: dw must be (D, M) like w, so it is x~^T (D, N) times dout (N, M).

def affine_forward(x, w, b):
    x_row = x.reshape(x.shape[0], -1)                             # (1) x~: one row per example
    out = x_row.dot(w) + b                                        # (2) out = x~ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    x_row = x.reshape(x.shape[0], -1)                             # (1) x~, recomputed
    db = np.sum(dout, axis=0)                                     # (2) b is added to all N rows
    dw = x_row.T.dot(dout)                                        # (2) dw = x~^T dout
    dx_row = dout.dot(w.T)                                        # (2) dx~ = dout w^T
    dx = dx_row.reshape(x.shape)                                  # (1) un-flatten to x's shape
    return dx, dw, db


# --- C2: ReLU, out = max(0, x). ------------------------------------------------------------------
# Kink convention: relu'(0) = 0 (as jax.nn.relu; jnp.maximum(x, 0) would give 0.5).

def relu_forward(x):
    out = np.maximum(0, x)                                        # (1)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)                                           # (1) relu'(x) = 1(x > 0)
    return dx


# --- C3: softmax loss, L = -1/N sum_i log p_{i, y_i}, p = softmax(x) row-wise. ---------------------
# Shifting each row by its max leaves p unchanged and keeps e^f from overflowing.

def softmax_loss(x, y):
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)                # (1) f = x - max_j x_j
    exp_shifted = np.exp(shifted)                                 # (2) e^f, all in (0, 1]
    sum_exp = np.sum(exp_shifted, axis=1, keepdims=True)          # (3) sum_j e^f_j, in [1, C]
    log_probs = shifted - np.log(sum_exp)                         # (4) log p = f - log sum e^f
    loss = -np.sum(log_probs[np.arange(N), y]) / N                # (5) mean of -log p_y
    # backward
    probs = exp_shifted / sum_exp                                 # (4) p_j = e^f_j / sum e^f
    dshifted = probs.copy()                                       # (4)-(2) dL_i/df_j = p_j - 1(j = y_i)
    dshifted[np.arange(N), y] -= 1.0                              # (4)
    dshifted /= N                                                 # (5) the loss is a mean over N
    dx = dshifted                                                 # (1) the max's path gets sum_j dshifted_j = 0
    return loss, dx


# --- C4: multiclass SVM loss, L = 1/N sum_i sum_{j != y_i} max(0, x_ij - x_iy + 1). -----------------
# Kink convention: a margin of exactly 0 has slope 0 (JAX's max splits it, 0.5).

def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]                         # (1) s_y, one per row
    margins = np.maximum(0.0, x - correct + 1.0)                  # (2) m_j = max(0, s_j - s_y + 1)
    margins[np.arange(N), y] = 0.0                                # (3) j = y_i is not in the sum
    loss = np.sum(margins) / N                                    # (4) mean over N
    # backward
    dmargins = np.full(margins.shape, 1.0 / N, dtype=x.dtype)     # (4) dL/dm = 1/N
    dhinge = dmargins * (margins > 0)                             # (3)-(2) max(0, .)' = 1(m > 0), 0 at y
    dx = 1.0 * dhinge                                             # (2) d(s_j - s_y)/ds_j = 1
    dx[np.arange(N), y] -= np.sum(dhinge, axis=1)                 # (1) s_y forks into every margin
    return loss, dx


# --- C8: batch normalization, normalizing each feature over the N examples. ----------------------
# The staged graph of the assignment (biased variance 1/N, eps = 1e-5):
#   (1) mu = mean_n x   (2) xmu = x - mu   (3) sq = xmu^2   (4) var = mean_n sq
#   (5) sqrtvar = sqrt(var + eps)   (6) ivar = 1/sqrtvar   (7) xhat = xmu ivar
#   (8) gammax = gamma xhat   (9) out = gammax + beta
# x forks into (1) and (2); xmu forks into (3) and (7). At test time mu and var are the running
# statistics, constants, so only (2) and (5)-(9) remain. The running statistics are replaced in
# bn_param:  running = momentum * running + (1 - momentum) * sample.

def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    if mode == "train":
        mu = np.mean(x, axis=0)                                   # (1) mu = 1/N sum_n x
        xmu = x - mu                                              # (2)
        sq = xmu**2                                               # (3)
        var = np.mean(sq, axis=0)                                 # (4) biased: 1/N sum_n xmu^2
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        mu, var = running_mean, running_var                       # (1), (4) constants
        xmu = x - mu                                              # (2)
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    sqrtvar = np.sqrt(var + eps)                                  # (5)
    ivar = 1.0 / sqrtvar                                          # (6)
    xhat = xmu * ivar                                             # (7)
    gammax = gamma * xhat                                         # (8)
    out = gammax + beta                                           # (9)

    # Store the updated running means back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    cache = (mode, xhat, gamma, xmu, ivar, sqrtvar)
    return out, cache


def batchnorm_backward(dout, cache):
    mode, xhat, gamma, xmu, ivar, sqrtvar = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)                                  # (9) beta is added to all N rows
    dgammax = 1.0 * dout                                          # (9) add gate
    dgamma = np.sum(dgammax * xhat, axis=0)                       # (8) gamma is shared by all N rows
    dxhat = dgammax * gamma                                       # (8)
    divar = np.sum(dxhat * xmu, axis=0)                           # (7) ivar is shared by all N rows
    dxmu = dxhat * ivar                                           # (7) first branch of the fork at xmu
    if mode == "test":
        dx = 1.0 * dxmu                                           # (2) mu is a constant at test time
        return dx, dgamma, dbeta
    dsqrtvar = -1.0 / sqrtvar**2 * divar                          # (6) d(1/s)/ds = -1/s^2
    dvar = 0.5 / sqrtvar * dsqrtvar                               # (5) d sqrt(v + eps)/dv = 1/(2 sqrtvar)
    dsq = np.full(dout.shape, 1.0 / N) * dvar                     # (4) each row weighs 1/N in the mean
    dxmu += 2.0 * xmu * dsq                                       # (3) second branch of the fork at xmu
    dx = 1.0 * dxmu                                               # (2) first branch of the fork at x
    dmu = -np.sum(dxmu, axis=0)                                   # (2) mu is subtracted from all N rows
    dx += np.full(dout.shape, 1.0 / N) * dmu                      # (1) second branch of the fork at x
    return dx, dgamma, dbeta


# --- C9: batch normalization backward, steps (7)-(1) fused into one line. ------------------------
# dx = gamma ivar / N (N dout - sum_n dout - xhat sum_n(dout xhat)); with N = 1, xhat = 0, dx = 0.
# Same cache as batchnorm_backward.

def batchnorm_backward_alt(dout, cache):
    mode, xhat, gamma, xmu, ivar, sqrtvar = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)                                  # (9) sum_n dout
    dgamma = np.sum(dout * xhat, axis=0)                          # (8) sum_n dout xhat
    if mode == "test":
        dx = gamma * ivar * dout                                  # (8)-(2) mu, var constants
        return dx, dgamma, dbeta
    dx = gamma * ivar / N * (N * dout - dbeta - xhat * dgamma)    # (7)-(1)
    return dx, dgamma, dbeta


# --- C10: layer normalization, normalizing each example over its D features. -----------------------
# Batchnorm's steps on x^T: statistics over axis 1, so the fused formula divides by D; gamma and
# beta are still per feature, so their gradients are still summed over N. Same in train and test,
# no running statistics.

def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = np.mean(x, axis=1, keepdims=True)                        # (1) mean over the D features
    xmu = x - mu                                                  # (2)
    var = np.mean(xmu**2, axis=1, keepdims=True)                  # (3)-(4) biased: 1/D sum_d xmu^2
    ivar = 1.0 / np.sqrt(var + eps)                               # (5)-(6)
    xhat = xmu * ivar                                             # (7)
    out = gamma * xhat + beta                                     # (8)-(9)
    cache = (xhat, gamma, ivar)
    return out, cache


def layernorm_backward(dout, cache):
    xhat, gamma, ivar = cache
    D = dout.shape[1]
    dbeta = np.sum(dout, axis=0)                                  # (9) beta is added to all N rows
    dgamma = np.sum(dout * xhat, axis=0)                          # (8) gamma is shared by all N rows
    dxhat = dout * gamma                                          # (8)
    dxhat_sum = np.sum(dxhat, axis=1, keepdims=True)              # (7)-(1) sum_d dxhat
    dxhat_xhat_sum = np.sum(dxhat * xhat, axis=1, keepdims=True)  # (7)-(1) sum_d dxhat xhat
    dx = ivar / D * (D * dxhat - dxhat_sum - xhat * dxhat_xhat_sum)  # (7)-(1) C9 over axis 1
    return dx, dgamma, dbeta


# --- C11: inverted dropout, p = probability of KEEPING a unit. ------------------------------------
# Train: mask = 1(u < p) / p, u ~ U[0, 1), so E[out] = x and test time is the identity.
# dropout_param['seed'] seeds NumPy's global generator (np.random.seed), as the assignment does,
# which makes the mask reproducible for gradient checks.

def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    if mode == "train":
        mask = ((np.random.rand(*x.shape) < p) / p).astype(x.dtype)  # (1) keep with prob. p, scale by 1/p
        out = x * mask                                            # (2)
    elif mode == "test":
        out = x.copy()                                            # (2) identity
    else:
        raise ValueError('Invalid forward dropout mode "%s"' % mode)

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param["mode"]
    if mode == "train":
        dx = dout * mask                                          # (2) d(x mask)/dx = mask, already / p
    elif mode == "test":
        dx = 1.0 * dout                                           # (2) identity
    else:
        raise ValueError('Invalid backward dropout mode "%s"' % mode)
    return dx


# --- C12: convolution, naive loops. ----------------------------------------------------------------
# out[n, f, i, j] = sum_{c, k, l} x_pad[n, c, i s + k, j s + l] w[f, c, k, l] + b[f],
# H' = 1 + (H + 2 pad - HH) // stride, W' likewise. Each output reads a window of x_pad and all
# of w[f]: both fork over the loop, so their gradients accumulate with +=; windows overlap when
# stride < HH. Backward is a convolution of dout with the flipped filters, written as scatters.

def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (1) zero-pad H and W
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = x_pad[n, :, hs:hs + HH, ws:ws + WW]  # (2) receptive field
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]  # (3)
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, H_out, W_out = dout.shape

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (1) recomputed
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(dout, w))
    dw = np.zeros(w.shape, dtype=np.result_type(dout, x))
    db = np.sum(dout, axis=(0, 2, 3))                             # (3) b[f] is added at every (n, i, j)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = x_pad[n, :, hs:hs + HH, ws:ws + WW]  # (2)
                    dw[f] += window * dout[n, f, i, j]            # (3) w[f] forks over (n, i, j)
                    dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]  # (3)-(2) windows overlap
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]                   # (1) the padding is not an input
    return dx, dw, db


# --- C13: max pooling, naive loops. ----------------------------------------------------------------
# The max gate routes: each window's dout goes to its argmax (the "switch"). Tie convention: the
# first maximum of the window in row-major order, as np.argmax and lax.reduce_window's gradient;
# a `window == max` mask would give it to every tie, jnp.max splits it. Windows overlap when
# stride < pool size, so the routed gradients accumulate with +=.

def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride

    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = x[n, c, hs:hs + ph, ws:ws + pw]      # (1)
                    out[n, c, i, j] = np.max(window)              # (2)
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    N, C, H, W = x.shape
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    _, _, H_out, W_out = dout.shape

    dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * stride, j * stride
                    window = x[n, c, hs:hs + ph, ws:ws + pw]      # (1)
                    k, l = np.unravel_index(np.argmax(window), window.shape)  # (2) the switch, first max
                    dx[n, c, hs + k, ws + l] += dout[n, c, i, j]  # (2)-(1) max routes; overlaps add
    return dx


# --- C14: spatial batch normalization: batchnorm over the N*H*W positions of each channel. ---------
# (N, C, H, W) -> (N, H, W, C) -> (N*H*W, C), then C8/C9 as they are, then back.

def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    x_flat = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)        # (1) channels last, one row per position
    out_flat, cache = batchnorm_forward(x_flat, gamma, beta, bn_param)  # (2)
    out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)      # (3) back to (N, C, H, W)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dout_flat = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)  # (3) a permutation: its inverse
    dx_flat, dgamma, dbeta = batchnorm_backward_alt(dout_flat, cache)  # (2)
    dx = dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)        # (1)
    return dx, dgamma, dbeta


# --- C15: spatial group normalization: layernorm within each of G channel groups. -----------------
# Statistics per (n, group) over its M = C/G * H * W values; gamma, beta have shape (1, C, 1, 1)
# and their gradients keep it. Same in train and test, no running statistics.

def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    xg = x.reshape(N, G, -1)                                      # (1) one row per (n, group)
    mu = np.mean(xg, axis=2, keepdims=True)                       # (2)
    xmu = xg - mu                                                 # (3)
    var = np.mean(xmu**2, axis=2, keepdims=True)                  # (4) biased: 1/M sum xmu^2
    ivar = 1.0 / np.sqrt(var + eps)                               # (5)
    xhat = (xmu * ivar).reshape(N, C, H, W)                       # (6)
    out = gamma * xhat + beta                                     # (7) per-channel scale and shift
    cache = (G, xhat, gamma, ivar)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    G, xhat, gamma, ivar = cache
    N, C, H, W = dout.shape
    dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)           # (7) beta is added at every (n, h, w)
    dgamma = np.sum(dout * xhat, axis=(0, 2, 3), keepdims=True)   # (7) gamma is shared likewise
    dxhat = (dout * gamma).reshape(N, G, -1)                      # (7)-(6) grouped like xhat
    xhat_g = xhat.reshape(N, G, -1)
    M = dxhat.shape[2]                                            # values per group, C/G * H * W
    dxhat_sum = np.sum(dxhat, axis=2, keepdims=True)              # (5)-(2) sum over the group
    dxhat_xhat_sum = np.sum(dxhat * xhat_g, axis=2, keepdims=True)  # (5)-(2)
    dxg = ivar / M * (M * dxhat - dxhat_sum - xhat_g * dxhat_xhat_sum)  # (5)-(2) C9 per group
    dx = dxg.reshape(N, C, H, W)                                  # (1)
    return dx, dgamma, dbeta
