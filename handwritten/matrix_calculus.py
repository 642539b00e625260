"""Group D12: the Matrix Cookbook identities, one op per identity.

Every op is a CS231n-style pair:

    out, cache = <op>_forward(*inputs)
    grads      = <op>_backward(dout, cache)   # one gradient per input, in input order

The output is a scalar and every input is differentiable; each gradient has the shape of its
input (the "gradient layout": d f / d X[i, j] sits at [i, j], so d tr(AX)/dX = A^T, not A).
Random samples use non-symmetric A: with a symmetric A the bugs (A + A^T) x -> 2 A x and
A^T -> A go unseen. Square X that gets inverted is well-conditioned (e.g. 3 I + 0.3 randn);
log det wants det X > 0 (e.g. positive definite). NumPy only.
"""

import numpy as np

__all__ = [
    "trace_ax_forward", "trace_ax_backward",
    "trace_xta_forward", "trace_xta_backward",
    "quadratic_form_forward", "quadratic_form_backward",
    "trace_xaxt_forward", "trace_xaxt_backward",
    "log_det_forward", "log_det_backward",
    "trace_a_xinv_forward", "trace_a_xinv_backward",
    "least_squares_forward", "least_squares_backward",
]


# --- f = tr(A X), A (m, n), X (n, m): df/dX = A^T, df/dA = X^T. ---------------------------------

def trace_ax_forward(A, X):
    f = np.trace(A.dot(X))                                        # (1)
    return f, (A, X)


def trace_ax_backward(dout, cache):
    A, X = cache
    dA = X.T * dout                                               # (1) d tr(AX)/dA = X^T
    dX = A.T * dout                                               # (1) d tr(AX)/dX = A^T
    return dA, dX


# --- f = tr(X^T A), X and A (m, n): df/dX = A, df/dA = X. ----------------------------------------

def trace_xta_forward(X, A):
    f = np.trace(X.T.dot(A))                                      # (1)
    return f, (X, A)


def trace_xta_backward(dout, cache):
    X, A = cache
    dX = A * dout                                                 # (1) d tr(X^T A)/dX = A
    dA = X * dout                                                 # (1) d tr(X^T A)/dA = X
    return dX, dA


# --- f = x^T A x, x (n,), A (n, n): df/dx = (A + A^T) x, df/dA = x x^T. --------------------------

def quadratic_form_forward(x, A):
    Ax = A.dot(x)                                                 # (1)
    f = x.dot(Ax)                                                 # (2)
    return f, (x, A, Ax)


def quadratic_form_backward(dout, cache):
    x, A, Ax = cache
    dAx = x * dout                                                # (2) d(x . Ax)/dAx = x
    dx = Ax * dout                                                # (2) d(x . Ax)/dx = Ax
    dx += A.T.dot(dAx)                                            # (1) fork on x: += A^T x
    dA = np.outer(dAx, x)                                         # (1) d(Ax)/dA: outer with x
    return dx, dA


# --- f = tr(X A X^T), X (m, n), A (n, n): df/dX = X (A + A^T), df/dA = X^T X. -------------------

def trace_xaxt_forward(X, A):
    XA = X.dot(A)                                                 # (1)
    f = np.sum(XA * X)                                            # (2) tr(XA X^T) = sum (XA) * X
    return f, (X, A, XA)


def trace_xaxt_backward(dout, cache):
    X, A, XA = cache
    dXA = X * dout                                                # (2)
    dX = XA * dout                                                # (2) X A
    dX += dXA.dot(A.T)                                            # (1) fork on X: += X A^T
    dA = X.T.dot(dXA)                                             # (1) X^T X
    return dX, dA


# --- f = log det X, X (n, n) with det X > 0: df/dX = X^-T. ---------------------------------------
# The forward is log|det X| (slogdet), whose gradient is X^-T for any invertible X; on the domain
# det X > 0 it is log det X.

def log_det_forward(X):
    sign, f = np.linalg.slogdet(X)                                # (1)
    return f, X


def log_det_backward(dout, cache):
    X = cache
    dX = np.linalg.inv(X).T * dout                                # (1) d log det X/dX = X^-T
    return dX


# --- f = tr(A X^-1), A, X (n, n): df/dA = X^-T, df/dX = -(X^-1 A X^-1)^T. ------------------------

def trace_a_xinv_forward(A, X):
    Xinv = np.linalg.inv(X)                                       # (1)
    f = np.trace(A.dot(Xinv))                                     # (2)
    return f, (A, Xinv)


def trace_a_xinv_backward(dout, cache):
    A, Xinv = cache
    dA = Xinv.T * dout                                            # (2) d tr(A Y)/dA = Y^T
    dXinv = A.T * dout                                            # (2) d tr(A Y)/dY = A^T
    dX = -Xinv.T.dot(dXinv).dot(Xinv.T)                           # (1) dY = -Y dX Y
    return dA, dX


# --- f = ||A x - b||^2, A (m, n), x (n,), b (m,): df/dx = 2 A^T (Ax - b). ------------------------

def least_squares_forward(A, x, b):
    r = A.dot(x) - b                                              # (1) residual
    f = r.dot(r)                                                  # (2)
    return f, (A, x, r)


def least_squares_backward(dout, cache):
    A, x, r = cache
    dr = 2 * r * dout                                             # (2) d ||r||^2/dr = 2 r
    dA = np.outer(dr, x)                                          # (1)
    dx = A.T.dot(dr)                                              # (1) 2 A^T (Ax - b)
    db = -dr                                                      # (1)
    return dA, dx, db
