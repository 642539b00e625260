"""Group D1-D4: the scalar expressions of Karpathy's micrograd (lecture, README, tests).

Every op is a CS231n-style pair:

    out, cache = <op>_forward(*inputs)
    grads      = <op>_backward(dout, cache)   # one gradient per input, in input order

Every input here is differentiable. The ops are elementwise, so they accept scalars or arrays of
one common shape. Forward lines are numbered `# (k)` in the order micrograd builds its graph (one
step per `Value` node); the backward walks the same steps in reverse, each line tagged with the
step it differentiates, and uses `+=` wherever a value forks, as micrograd's `grad +=` does.
NumPy only.
"""


import numpy as np

from ._numerics import _underflow_ok

__all__ = [
    "micrograd_expr_forward", "micrograd_expr_backward",
    "tanh_neuron_forward", "tanh_neuron_backward",
    "tanh_neuron_exp_forward", "tanh_neuron_exp_backward",
    "micrograd_readme_forward", "micrograd_readme_backward",
    "micrograd_sanity_forward", "micrograd_sanity_backward",
]


# --- D1: L = (a b + c) f, the lecture's first expression graph. --------------------------------
# a=2, b=-3, c=10, f=-2: L = -8; da = 6, db = -4, dc = -2, df = 4.

def micrograd_expr_forward(a, b, c, f):
    e = a * b                                                     # (1)
    d = e + c                                                     # (2)
    L = d * f                                                     # (3)
    return L, (a, b, d, f)


def micrograd_expr_backward(dout, cache):
    a, b, d, f = cache
    dL = dout
    dd = f * dL                                                   # (3) dL/dd = f
    df = d * dL                                                   # (3) dL/df = d
    de = 1.0 * dd                                                 # (2) plus routes
    dc = 1.0 * dd                                                 # (2)
    da = b * de                                                   # (1) de/da = b
    db = a * de                                                   # (1) de/db = a
    return da, db, dc, df


# --- D2: the lecture's neuron, o = tanh(x1 w1 + x2 w2 + b). -------------------------------------
# x=(2,0), w=(-3,1), b=6.8813735870195432: o = 1/sqrt(2); dx1=-1.5, dw1=1, dx2=0.5, dw2=0, db=0.5.
# tanh'(n) = 1 - o^2, taken from the output. (1 - o^2 gives 0.49999999999999978 where JAX's
# tanh derivative gives 0.50000000000000011: compare with a tolerance.)

def tanh_neuron_forward(x1, x2, w1, w2, b):
    x1w1 = x1 * w1                                                # (1)
    x2w2 = x2 * w2                                                # (2)
    x1w1x2w2 = x1w1 + x2w2                                        # (3)
    n = x1w1x2w2 + b                                              # (4) cell body raw activation
    o = np.tanh(n)                                                # (5)
    return o, (x1, x2, w1, w2, o)


def tanh_neuron_backward(dout, cache):
    x1, x2, w1, w2, o = cache
    do = dout
    dn = (1 - o**2) * do                                          # (5) tanh' = 1 - tanh^2
    dx1w1x2w2 = 1.0 * dn                                          # (4) plus routes
    db = 1.0 * dn                                                 # (4)
    dx1w1 = 1.0 * dx1w1x2w2                                       # (3)
    dx2w2 = 1.0 * dx1w1x2w2                                       # (3)
    dx2 = w2 * dx2w2                                              # (2) times swaps
    dw2 = x2 * dx2w2                                              # (2)
    dx1 = w1 * dx1w1                                              # (1)
    dw1 = x1 * dx1w1                                              # (1)
    return dx1, dx2, dw1, dw2, db


# --- D2': the same neuron with tanh rebuilt from exp, division, plus and minus. ------------------
# The lecture writes e = exp(2n), o = (e - 1) / (e + 1), which overflows (inf/inf = nan) once
# 2n > 709. Here e = exp(-2|n|) <= 1 and o = s (1 - e) / (1 + e) with s = +1 for n >= 0, -1 for
# n < 0: the same function, built from the same gates, finite for every n. Chaining the gates
# gives 4e / (1 + e)^2 = 1 - tanh^2(n), also at n = 0 (where s = +1 carries d|n|/dn = 1).

@_underflow_ok
def tanh_neuron_exp_forward(x1, x2, w1, w2, b):
    x1w1 = x1 * w1                                                # (1)
    x2w2 = x2 * w2                                                # (2)
    x1w1x2w2 = x1w1 + x2w2                                        # (3)
    n = x1w1x2w2 + b                                              # (4)
    s = np.where(n >= 0, 1.0, -1.0)                               # (5) sign of n, no gradient
    m = s * n                                                     # (6) m = |n|
    e = np.exp(-2 * m)                                            # (7) e = exp(-2|n|) <= 1
    u = 1 - e                                                     # (8) numerator
    v = 1 + e                                                     # (9) denominator
    q = u / v                                                     # (10) q = tanh|n|
    o = s * q                                                     # (11) o = tanh n
    return o, (x1, x2, w1, w2, s, e, u, v)


@_underflow_ok
def tanh_neuron_exp_backward(dout, cache):
    x1, x2, w1, w2, s, e, u, v = cache
    do = dout
    dq = s * do                                                   # (11)
    du = (1 / v) * dq                                             # (10) d(u/v)/du = 1/v
    dv = (-u / v**2) * dq                                         # (10) d(u/v)/dv = -u/v^2
    de = 1.0 * dv                                                 # (9)
    de += -1.0 * du                                               # (8) fork on e: +=
    dm = (-2 * e) * de                                            # (7) d exp(-2m)/dm = -2 e
    dn = s * dm                                                   # (6) d|n|/dn = s
    dx1w1x2w2 = 1.0 * dn                                          # (4)
    db = 1.0 * dn                                                 # (4)
    dx1w1 = 1.0 * dx1w1x2w2                                       # (3)
    dx2w2 = 1.0 * dx1w1x2w2                                       # (3)
    dx2 = w2 * dx2w2                                              # (2)
    dw2 = x2 * dx2w2                                              # (2)
    dx1 = w1 * dx1w1                                              # (1)
    dw1 = x1 * dx1w1                                              # (1)
    return dx1, dx2, dw1, dw2, db


# --- D3: the micrograd README example. ---------------------------------------------------------
#     c = a + b;  d = a*b + b**3;  c += c + 1;  c += 1 + c + (-a)
#     d += d*2 + (b + a).relu();  d += 3*d + (b - a).relu()
#     e = c - d;  f = e**2;  g = f / 2.0;  g += 10.0 / f
# a=-4, b=2: g = 24.704081632653061, dg/da = 138.83381924198252, dg/db = 645.57725947521863.
# a and b fork into many nodes: every use adds its share (+=). ReLU'(0) = 0; samples keep
# b + a and b - a away from 0, and f away from 0.

def micrograd_readme_forward(a, b):
    c1 = a + b                                                    # (1) c = a + b
    ab = a * b                                                    # (2)
    b3 = b**3                                                     # (3)
    d1 = ab + b3                                                  # (4) d = a*b + b**3
    c1p1 = c1 + 1                                                 # (5)
    c2 = c1 + c1p1                                                # (6) c += c + 1
    opc2 = 1 + c2                                                 # (7)
    nega = -a                                                     # (8)
    t = opc2 + nega                                               # (9)
    c3 = c2 + t                                                   # (10) c += 1 + c + (-a)
    d1x2 = d1 * 2                                                 # (11)
    bpa = b + a                                                   # (12)
    r1 = np.maximum(bpa, 0)                                       # (13)
    u = d1x2 + r1                                                 # (14)
    d2 = d1 + u                                                   # (15) d += d*2 + (b+a).relu()
    d2x3 = 3 * d2                                                 # (16)
    bma = b - a                                                   # (17)
    r2 = np.maximum(bma, 0)                                       # (18)
    v = d2x3 + r2                                                 # (19)
    d3 = d2 + v                                                   # (20) d += 3*d + (b-a).relu()
    e = c3 - d3                                                   # (21)
    f = e**2                                                      # (22)
    g1 = f / 2.0                                                  # (23)
    h = 10.0 / f                                                  # (24)
    g = g1 + h                                                    # (25) g += 10.0 / f
    return g, (a, b, bpa, bma, e, f)


def micrograd_readme_backward(dout, cache):
    a, b, bpa, bma, e, f = cache
    dg = dout
    dg1 = 1.0 * dg                                                # (25)
    dh = 1.0 * dg                                                 # (25)
    df = (-10.0 / f**2) * dh                                      # (24) d(10/f)/df = -10/f^2
    df += (1 / 2.0) * dg1                                         # (23) fork on f: +=
    de = (2 * e) * df                                             # (22)
    dc3 = 1.0 * de                                                # (21)
    dd3 = -1.0 * de                                               # (21)
    dd2 = 1.0 * dd3                                               # (20)
    dv = 1.0 * dd3                                                # (20)
    dd2x3 = 1.0 * dv                                              # (19)
    dr2 = 1.0 * dv                                                # (19)
    dbma = (bma > 0) * dr2                                        # (18) relu' = 1(x > 0)
    db = 1.0 * dbma                                               # (17)
    da = -1.0 * dbma                                              # (17)
    dd2 += 3 * dd2x3                                              # (16) fork on d2: +=
    dd1 = 1.0 * dd2                                               # (15)
    du = 1.0 * dd2                                                # (15)
    dd1x2 = 1.0 * du                                              # (14)
    dr1 = 1.0 * du                                                # (14)
    dbpa = (bpa > 0) * dr1                                        # (13) relu' = 1(x > 0)
    db += 1.0 * dbpa                                              # (12) fork on b: +=
    da += 1.0 * dbpa                                              # (12) fork on a: +=
    dd1 += 2 * dd1x2                                              # (11) fork on d1: +=
    dc2 = 1.0 * dc3                                               # (10)
    dt = 1.0 * dc3                                                # (10)
    dopc2 = 1.0 * dt                                              # (9)
    dnega = 1.0 * dt                                              # (9)
    da += -1.0 * dnega                                            # (8) fork on a: +=
    dc2 += 1.0 * dopc2                                            # (7) fork on c2: +=
    dc1 = 1.0 * dc2                                               # (6)
    dc1p1 = 1.0 * dc2                                             # (6)
    dc1 += 1.0 * dc1p1                                            # (5) fork on c1: +=
    dab = 1.0 * dd1                                               # (4)
    db3 = 1.0 * dd1                                               # (4)
    db += (3 * b**2) * db3                                        # (3) d b^3/db = 3 b^2
    da += b * dab                                                 # (2) times swaps
    db += a * dab                                                 # (2)
    da += 1.0 * dc1                                               # (1)
    db += 1.0 * dc1                                               # (1)
    return da, db


# --- D4: micrograd's test_sanity_check graph. ---------------------------------------------------
#     z = 2*x + 2 + x;  q = z.relu() + z*x;  h = (z*z).relu();  y = h + q + q*x
# x=-4: y = -20, dy/dx = 46. z = z*z feeds itself twice (dz += z dzz twice). ReLU'(0) = 0;
# samples keep z = 3x + 2 away from 0.

def micrograd_sanity_forward(x):
    z1 = 2 * x                                                    # (1)
    z2 = z1 + 2                                                   # (2)
    z = z2 + x                                                    # (3)
    rz = np.maximum(z, 0)                                         # (4)
    zx = z * x                                                    # (5)
    q = rz + zx                                                   # (6)
    zz = z * z                                                    # (7)
    h = np.maximum(zz, 0)                                         # (8)
    hq = h + q                                                    # (9)
    qx = q * x                                                    # (10)
    y = hq + qx                                                   # (11)
    return y, (x, z, q, zz)


def micrograd_sanity_backward(dout, cache):
    x, z, q, zz = cache
    dy = dout
    dhq = 1.0 * dy                                                # (11)
    dqx = 1.0 * dy                                                # (11)
    dq = x * dqx                                                  # (10)
    dx = q * dqx                                                  # (10)
    dh = 1.0 * dhq                                                # (9)
    dq += 1.0 * dhq                                               # (9) fork on q: +=
    dzz = (zz > 0) * dh                                           # (8) relu' = 1(x > 0)
    dz = z * dzz                                                  # (7) first factor of z*z
    dz += z * dzz                                                 # (7) second factor: +=
    drz = 1.0 * dq                                                # (6)
    dzx = 1.0 * dq                                                # (6)
    dz += x * dzx                                                 # (5)
    dx += z * dzx                                                 # (5) fork on x: +=
    dz += (z > 0) * drz                                           # (4) relu' = 1(x > 0)
    dz2 = 1.0 * dz                                                # (3)
    dx += 1.0 * dz                                                # (3) fork on x: +=
    dz1 = 1.0 * dz2                                               # (2)
    dx += 2 * dz1                                                 # (1) fork on x: +=
    return dx
