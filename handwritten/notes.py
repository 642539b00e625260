"""Group A: the worked examples of CS231n "Backpropagation, Intuitions" (optimization-2).

Every op is a CS231n-style pair:

    out, cache = <op>_forward(*inputs)
    grads      = <op>_backward(dout, cache)   # one gradient per differentiable input, in order

A backward with a single differentiable input returns that gradient alone (as `relu_backward`
does in the assignments). Forward lines carry the notes' step numbers `# (k)`; the backward walks
the same steps in reverse, each line tagged with the step it differentiates, and uses `+=`
wherever a value forks. NumPy only: this is the hand-derived opinion that JAX is checked against.
"""

import numpy as np

__all__ = [
    "multiply_forward", "multiply_backward",
    "add_forward", "add_backward",
    "max_gate_forward", "max_gate_backward",
    "chain_rule_forward", "chain_rule_backward",
    "reciprocal_forward", "reciprocal_backward",
    "add_const_forward", "add_const_backward",
    "exp_forward", "exp_backward",
    "scale_forward", "scale_backward",
    "sigmoid_forward", "sigmoid_backward",
    "sigmoid_neuron_forward", "sigmoid_neuron_backward",
    "staged_forward", "staged_backward",
    "patterns_circuit_forward", "patterns_circuit_backward",
    "matmul_forward", "matmul_backward",
]


# --- A1: f = x * y. The multiply gate swaps its inputs: df/dx = y, df/dy = x. -----------------

def multiply_forward(x, y):
    f = x * y                                                     # (1)
    return f, (x, y)


def multiply_backward(dout, cache):
    x, y = cache
    dx = y * dout                                                 # (1) df/dx = y
    dy = x * dout                                                 # (1) df/dy = x
    return dx, dy


# --- A2: f = x + y. The add gate distributes dout unchanged to both inputs. --------------------

def add_forward(x, y):
    f = x + y                                                     # (1)
    return f, None


def add_backward(dout, cache):
    dx = 1.0 * dout                                               # (1) df/dx = 1
    dy = 1.0 * dout                                               # (1) df/dy = 1
    return dx, dy


# --- A3: f = max(x, y). The max gate routes dout to the larger input. -------------------------
# Kink convention: at a tie x == y the gradient goes to x, (1, 0), as np.argmax routes a tie.
# Any split (a, 1 - a) is a subgradient (jnp.maximum takes 0.5/0.5); both inputs getting dout,
# (1, 1), is not: along (1, 1) max grows at rate 1. Random samples stay away from ties.

def max_gate_forward(x, y):
    f = np.maximum(x, y)                                          # (1)
    return f, (x, y)


def max_gate_backward(dout, cache):
    x, y = cache
    dx = (x >= y) * dout                                          # (1) df/dx = 1(x >= y)
    dy = (y > x) * dout                                           # (1) df/dy = 1(y > x): a tie
                                                                  #     goes to x, a subgradient
    return dx, dy


# --- A4: f = (x + y) * z, the chain rule on the notes' first circuit. --------------------------

def chain_rule_forward(x, y, z):
    q = x + y                                                     # (1) q becomes 3
    f = q * z                                                     # (2) f becomes -12
    return f, (q, z)


def chain_rule_backward(dout, cache):
    q, z = cache
    # backprop through f = q * z
    dz = q * dout                                                 # (2) df/dz = q
    dq = z * dout                                                 # (2) df/dq = z
    # backprop through q = x + y: the multiplication here is the chain rule
    dx = 1.0 * dq                                                 # (1) dq/dx = 1
    dy = 1.0 * dq                                                 # (1) dq/dy = 1
    return dx, dy, dz


# --- A5: the unary gates of the sigmoid circuit. -----------------------------------------------
# The constants c and a are parameters of the gate, not inputs: they get no gradient.

def reciprocal_forward(x):
    f = 1.0 / x                                                   # (1)
    return f, x


def reciprocal_backward(dout, cache):
    x = cache
    dx = (-1.0 / x**2) * dout                                     # (1) d(1/x)/dx = -1/x^2
    return dx


def add_const_forward(x, c):
    f = c + x                                                     # (1)
    return f, None


def add_const_backward(dout, cache):
    dx = 1.0 * dout                                               # (1) d(c + x)/dx = 1
    return dx


def exp_forward(x):
    f = np.exp(x)                                                 # (1)
    return f, f


def exp_backward(dout, cache):
    f = cache
    dx = f * dout                                                 # (1) d(e^x)/dx = e^x
    return dx


def scale_forward(x, a):
    f = a * x                                                     # (1)
    return f, a


def scale_backward(dout, cache):
    a = cache
    dx = a * dout                                                 # (1) d(ax)/dx = a
    return dx


# --- A7: the sigmoid gate, sigma(x) = 1 / (1 + e^-x). -----------------------------------------
# sigma'(x) = sigma (1 - sigma), taken from the output: the unsimplified e^x / (1 + e^x)^2
# gives nan at x = -1000, the simplified form gives 0.

def _stable_sigmoid(x):
    # 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: e^(-|x|) never overflows.
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_forward(x):
    s = _stable_sigmoid(x)                                        # (1)
    return s, s


def sigmoid_backward(dout, cache):
    s = cache
    dx = ((1 - s) * s) * dout                                     # (1) sigma' = (1 - sigma) sigma
    return dx


# --- A6: a 2-d neuron with a sigmoid, f = sigma(w0 x0 + w1 x1 + w2). ----------------------------

def sigmoid_neuron_forward(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]                        # (1)
    f = 1.0 / (1 + np.exp(-dot))                                  # (2) sigmoid function
    return f, (w, x, f)


def sigmoid_neuron_backward(dout, cache):
    w, x, f = cache
    ddot = (1 - f) * f * dout                                     # (2) sigma' = (1 - f) f
    dx = np.stack([w[0] * ddot, w[1] * ddot])                     # (1) backprop into x
    dw = np.stack([x[0] * ddot, x[1] * ddot, 1.0 * ddot])         # (1) backprop into w
    return dw, dx


# --- A8: staged computation, f = (x + sigma(y)) / (sigma(x) + (x + y)^2). ------------------------
# x and y each feed several stages: their gradients add at the forks (+=).

def staged_forward(x, y):
    sigy = 1.0 / (1 + np.exp(-y))                                 # (1) sigmoid in numerator
    num = x + sigy                                                # (2) numerator
    sigx = 1.0 / (1 + np.exp(-x))                                 # (3) sigmoid in denominator
    xpy = x + y                                                   # (4)
    xpysqr = xpy**2                                               # (5)
    den = sigx + xpysqr                                           # (6) denominator
    invden = 1.0 / den                                            # (7)
    f = num * invden                                              # (8) done!
    return f, (sigy, num, sigx, xpy, den, invden)


def staged_backward(dout, cache):
    sigy, num, sigx, xpy, den, invden = cache
    # backprop f = num * invden
    dnum = invden * dout                                          # (8)
    dinvden = num * dout                                          # (8)
    # backprop invden = 1.0 / den
    dden = (-1.0 / (den**2)) * dinvden                            # (7)
    # backprop den = sigx + xpysqr
    dsigx = (1) * dden                                            # (6)
    dxpysqr = (1) * dden                                          # (6)
    # backprop xpysqr = xpy**2
    dxpy = (2 * xpy) * dxpysqr                                    # (5)
    # backprop xpy = x + y
    dx = (1) * dxpy                                               # (4)
    dy = (1) * dxpy                                               # (4)
    # backprop sigx = 1.0 / (1 + exp(-x))
    dx += ((1 - sigx) * sigx) * dsigx                             # (3) fork on x: +=
    # backprop num = x + sigy
    dx += (1) * dnum                                              # (2) fork on x: +=
    dsigy = (1) * dnum                                            # (2)
    # backprop sigy = 1.0 / (1 + exp(-y))
    dy += ((1 - sigy) * sigy) * dsigy                             # (1) fork on y: +=
    return dx, dy


# --- A9: gradient flow patterns, f = 2 (x y + max(z, w)). ---------------------------------------
# add distributes, max routes, multiply swaps. A max tie goes to z, as in the max gate.

def patterns_circuit_forward(x, y, z, w):
    xy = x * y                                                    # (1) multiply gate
    m = np.maximum(z, w)                                          # (2) max gate
    s = xy + m                                                    # (3) add gate
    f = 2.0 * s                                                   # (4) scale by 2
    return f, (x, y, z, w)


def patterns_circuit_backward(dout, cache):
    x, y, z, w = cache
    ds = 2.0 * dout                                               # (4)
    dxy = 1.0 * ds                                                # (3) add distributes
    dm = 1.0 * ds                                                 # (3)
    dz = (z >= w) * dm                                            # (2) max routes
    dw = (w > z) * dm                                             # (2) a tie goes to z
    dx = y * dxy                                                  # (1) multiply swaps
    dy = x * dxy                                                  # (1)
    return dx, dy, dz, dw


# --- A10: vectorized matrix multiply, D = W X. ---------------------------------------------------
# Dimension analysis: dW must have W's shape (5, 10), so it is dD (5, 3) times X^T (3, 10).

def matmul_forward(W, X):
    D = W.dot(X)                                                  # (1)
    return D, (W, X)


def matmul_backward(dout, cache):
    W, X = cache
    dD = dout
    dW = dD.dot(X.T)                                              # (1) .T gives the transpose
    dX = W.T.dot(dD)                                              # (1)
    return dW, dX
