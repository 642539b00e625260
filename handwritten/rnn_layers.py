"""Group C, C16-C22: the recurrent layers of CS231n assignment 3 (rnn_layers.py).

Names, argument orders and return values are those of the assignment skeleton, so a student's
own rnn_layers.py runs against the suite as it is:

    next_h, cache         = rnn_step_forward(x, prev_h, Wx, Wh, b)
    dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
    loss, dx              = temporal_softmax_loss(x, y, mask)

Shapes: x (N, D) for one step, (N, T, D) for a sequence; h (N, H); Wx (D, H) or (D, 4H) for the
LSTM; Wh (H, H) or (H, 4H); b (H,) or (4H,). The LSTM gates are stacked in the order i, f, o, g
(PyTorch uses i, f, g, o). Weights are shared across time steps: their gradients add over t.
"""

import numpy as np

__all__ = [
    "rnn_step_forward", "rnn_step_backward",
    "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward",
    "sigmoid",
    "lstm_step_forward", "lstm_step_backward",
    "lstm_forward", "lstm_backward",
    "temporal_affine_forward", "temporal_affine_backward",
    "temporal_softmax_loss",
]


# --- C16: one step of a vanilla RNN, next_h = tanh(x Wx + prev_h Wh + b). -------------------------

def rnn_step_forward(x, prev_h, Wx, Wh, b):
    a = x.dot(Wx) + prev_h.dot(Wh) + b                            # (1) pre-activation (N, H)
    next_h = np.tanh(a)                                           # (2)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = (1 - next_h**2) * dnext_h                                # (2) tanh' = 1 - tanh^2, from the output
    dx = da.dot(Wx.T)                                             # (1) dim. analysis: (N,H)(H,D)
    dprev_h = da.dot(Wh.T)                                        # (1)
    dWx = x.T.dot(da)                                             # (1) (D,N)(N,H)
    dWh = prev_h.T.dot(da)                                        # (1)
    db = da.sum(axis=0)                                           # (1) b is broadcast over N: sum
    return dx, dprev_h, dWx, dWh, db


# --- C17: a vanilla RNN over a whole sequence, h0 -> h[:, 0] -> ... -> h[:, T-1]. -----------------
# dh holds only the upstream gradient of each h[:, t] (from the loss); the gradient that h[:, t]
# receives through step t+1 is carried backwards in dprev_h and added to it (h[:, t] forks).

def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=np.result_type(x, h0, Wx, Wh, b))
    caches = []
    prev_h = h0
    for t in range(T):                                            # (t) one step per time index
        prev_h, cache_t = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache_t)
    return h, caches


def rnn_backward(dh, cache):
    caches = cache
    N, T, H = dh.shape
    _, _, Wx, Wh, _ = caches[0]
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx = np.zeros_like(Wx, dtype=dh.dtype)
    dWh = np.zeros_like(Wh, dtype=dh.dtype)
    db = np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)                    # nothing flows in after step T-1
    for t in reversed(range(T)):                                  # (t) walk the steps in reverse
        dh_t = dh[:, t, :] + dprev_h                              # (t) fork on h[:, t]: loss + step t+1
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh_t, caches[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t                                              # (t) shared weights: add over t
        dWh += dWh_t                                              # (t)
        db += db_t                                                # (t)
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


# --- C20: word embedding, out[n, t] = W[x[n, t]]. ----------------------------------------------
# The integer indices x get no gradient. A word that occurs several times receives the sum of its
# upstream gradients: np.add.at accumulates, a fancy-index `dW[x] += dout` keeps only one of them.

def word_embedding_forward(x, W):
    out = W[x]                                                    # (1) row lookup (N, T, D)
    cache = (x, W)
    return out, cache


def word_embedding_backward(dout, cache):
    x, W = cache
    dW = np.zeros_like(W, dtype=dout.dtype)
    np.add.at(dW, x, dout)                                        # (1) repeated indices: +=
    return dW


# --- the logistic sigmoid, numerically stable (as the assignment's sigmoid). ----------------------

def sigmoid(x):
    # 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: e^(-|x|) never overflows.
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


# --- C18: one LSTM step, gates stacked i, f, o, g in the 4H columns of Wx, Wh, b. ----------------

def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b                            # (1) activation vector (N, 4H)
    i = sigmoid(a[:, 0 * H:1 * H])                                # (2) input gate
    f = sigmoid(a[:, 1 * H:2 * H])                                # (3) forget gate
    o = sigmoid(a[:, 2 * H:3 * H])                                # (4) output gate
    g = np.tanh(a[:, 3 * H:4 * H])                                # (5) block input
    next_c = f * prev_c + i * g                                   # (6) cell state
    tanh_c = np.tanh(next_c)                                      # (7)
    next_h = o * tanh_c                                           # (8) hidden state
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = tanh_c * dnext_h                                         # (8)
    dtanh_c = o * dnext_h                                         # (8)
    dc = 1.0 * dnext_c                                            # (6) next_c flows on to the next step
    dc += (1 - tanh_c**2) * dtanh_c                               # (7) fork on next_c: +=, tanh' = 1 - tanh^2
    df = prev_c * dc                                              # (6)
    dprev_c = f * dc                                              # (6)
    di = g * dc                                                   # (6)
    dg = i * dc                                                   # (6)
    dai = i * (1 - i) * di                                        # (2) sigma' = sigma (1 - sigma)
    daf = f * (1 - f) * df                                        # (3)
    dao = o * (1 - o) * do                                        # (4)
    dag = (1 - g**2) * dg                                         # (5) tanh' = 1 - tanh^2
    da = np.concatenate([dai, daf, dao, dag], axis=1)             # (2)-(5) same order i, f, o, g
    dx = da.dot(Wx.T)                                             # (1) as in the RNN step
    dprev_h = da.dot(Wh.T)                                        # (1)
    dWx = x.T.dot(da)                                             # (1)
    dWh = prev_h.T.dot(da)                                        # (1)
    db = da.sum(axis=0)                                           # (1)
    return dx, dprev_h, dprev_c, dWx, dWh, db


# --- C19: an LSTM over a whole sequence; c0 = 0 and is not an input. ---------------------------

def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=np.result_type(x, h0, Wx, Wh, b))
    caches = []
    prev_h = h0
    prev_c = np.zeros_like(h0)                                    # the initial cell state is zero
    for t in range(T):                                            # (t)
        prev_h, prev_c, cache_t = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache_t)
    return h, caches


def lstm_backward(dh, cache):
    caches = cache
    N, T, H = dh.shape
    _, _, _, Wx, Wh, *_ = caches[0]
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx = np.zeros_like(Wx, dtype=dh.dtype)
    dWh = np.zeros_like(Wh, dtype=dh.dtype)
    db = np.zeros(4 * H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)                    # c[:, T-1] is not an output
    for t in reversed(range(T)):                                  # (t)
        dh_t = dh[:, t, :] + dprev_h                              # (t) fork on h[:, t]: loss + step t+1
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh_t, dprev_c, caches[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t                                              # (t) shared weights: add over t
        dWh += dWh_t                                              # (t)
        db += db_t                                                # (t)
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


# --- C21: an affine layer applied at every time step, out[n, t] = x[n, t] w + b. -------------------
# Cache (x, w, b, out) as in the assignment, which provides this layer.

def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    out = x.reshape(N * T, D).dot(w).reshape(N, T, M) + b         # (1) C1 on the (N*T, D) rows
    cache = (x, w, b, out)
    return out, cache


def temporal_affine_backward(dout, cache):
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dout_flat = dout.reshape(N * T, M)
    dx = dout_flat.dot(w.T).reshape(N, T, D)                      # (1) reshape back to x's shape
    dw = x.reshape(N * T, D).T.dot(dout_flat)                     # (1) (D, NT)(NT, M)
    db = dout_flat.sum(axis=0)                                    # (1) b is broadcast over N, T
    return dx, dw, db


# --- C22: softmax loss over T steps, masked, summed over t and averaged over N only. -------------
# L = -(1/N) sum_{n,t} mask[n,t] log p[n,t,y[n,t]]; dL/dx = mask (p - onehot(y)) / N.
# The log-probabilities come from the log-softmax (shift by max, subtract log-sum-exp), so they
# are finite: log(softmax) would give log(0) = -inf, and 0 * -inf = nan at masked entries.

def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    rows = np.arange(N * T)
    shifted = x_flat - np.max(x_flat, axis=1, keepdims=True)      # (1) shift by the max
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))  # (2) log p
    loss = -np.sum(mask_flat * log_probs[rows, y_flat]) / N       # (3) masked sum, / N
    # backward: (3)-(1) fused, d(-log p_y)/dx = p - onehot(y)
    dx_flat = np.exp(log_probs)                                   # (2) p
    dx_flat[rows, y_flat] -= 1                                    # (3) p - onehot(y)
    dx_flat *= mask_flat[:, None] / N                             # (3) mask, / N (not N*T, not sum(mask))
    if verbose:
        print("dx_flat: ", dx_flat.shape)
    dx = dx_flat.reshape(N, T, V)
    return loss, dx
