"""Group C, sandwich layers: cs231n/layer_utils.py (assignment 2), mirroring handwritten/layer_utils.py.

Called by the skeleton's names (`affine_relu_forward`, `conv_relu_pool_backward`, ...), so a
student's layer_utils.py is checked as it is. `affine_bn_relu` and `affine_ln_relu` are not in
the skeleton: they are the sandwiches students most often add for FullyConnectedNet, with the
signature most write (`affine_bn_relu_forward(x, w, b, gamma, beta, bn_param)`). Each reference
composes group C's layer references in jax.numpy.

Kinks: a sandwich ends in a ReLU (and conv_relu_pool in a max-pool), so the samplers keep every
ReLU input, and every positive window's top two values, farther from each other than the finite
differences reach. How far a sample is: the gap divided by how fast it can move when every input
moves by at most 1 (a first-order bound, `sensitivity` below). Goldens at the kink make a unit's
pre-activation exactly 0 (a zero column of w and a zero bias, or gamma = beta = 0 after a
normalization): ReLU'(0) = 0 gives that unit no gradient; JAX's maximum would give it half.
Expected numbers: each case's JAX reference (whose jnp.where ReLU has derivative 0 at 0 and whose
reduce_window max-pool routes a tie to the first maximum, the conventions themselves), pasted.
"""

import numpy as np

from . import layers
from .spec import Arg, Case, Golden, Mutant, Normal, Static, elements

CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
BN_TRAIN = {"mode": "train"}
EPS = layers.EPS


# --- references --------------------------------------------------------------------------------

def affine_relu(x, w, b):
    return layers.relu(layers.affine(x, w, b))


def affine_bn_relu(x, w, b, gamma, beta, bn_param):
    return layers.relu(layers.batchnorm(layers.affine(x, w, b), gamma, beta, bn_param))


def affine_ln_relu(x, w, b, gamma, beta, ln_param):
    return layers.relu(layers.layernorm(layers.affine(x, w, b), gamma, beta, ln_param))


def conv_relu(x, w, b, conv_param):
    return layers.relu(layers.conv(x, w, b, conv_param))


def conv_bn_relu(x, w, b, gamma, beta, conv_param, bn_param):
    return layers.relu(layers.spatial_batchnorm(layers.conv(x, w, b, conv_param), gamma, beta,
                                                bn_param))


def conv_relu_pool(x, w, b, conv_param, pool_param):
    return layers.max_pool(layers.relu(layers.conv(x, w, b, conv_param)), pool_param)


# --- kinks: NumPy forwards with first-order bounds on how fast each kink gap moves ---------------
# The full finite-difference check moves one input coordinate at a time, by at most its step;
# `s` bounds how far each value moves per unit of that step, whichever coordinate moves (the
# largest partial derivative). The distance to a kink is gap / s; the samplers keep it beyond the
# FD reach. These cases have at most FD_FULL_MAX_ELEMENTS inputs, so the full check applies.

def affine_sensitivity(x, w, s_x=None):
    """a = x~ w + b. A coordinate of w or b moves a[n, j] by at most max(|x[n]|, 1); one of x
    itself by |w[d, j]|; an upstream coordinate that moves each x entry by <= s_x, by
    s_x sum_d |w[d, j]|."""
    x_row = x.reshape(x.shape[0], -1)
    a = x_row @ w
    via_x = np.abs(w).max(axis=0) if s_x is None else np.max(s_x) * np.abs(w).sum(axis=0)
    s = np.maximum(via_x[None, :], np.maximum(np.abs(x_row).max(axis=1, keepdims=True), 1.0))
    return a, s


def norm_sensitivity(a, s_a, gamma, axes):
    """an = gamma (a - mean) / std + beta over `axes`: moving a by <= s_a moves xhat by
    <= (2 + max xhat^2) max(s_a) / std (the mean and the variance move too); gamma moves an by
    |xhat|, beta by 1."""
    mean = a.mean(axis=axes, keepdims=True)
    std = np.sqrt(a.var(axis=axes, keepdims=True) + EPS)
    xhat = (a - mean) / std
    top = np.abs(xhat).max(axis=axes, keepdims=True)
    via_a = np.abs(gamma) * (2.0 + top**2) * np.max(s_a) / std
    return gamma * xhat, np.maximum(via_a, np.maximum(np.abs(xhat), 1.0))


def conv_sensitivity(x, w, b, conv_param):
    """a = conv(x, w) + b: a coordinate of x moves a by <= max |w|, of w by <= max |x|, of b by 1."""
    s, p = conv_param["stride"], conv_param["pad"]
    F, C, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::s, ::s]
    a = np.einsum("nchwkl,fckl->nfhw", win, w) + b[None, :, None, None]
    return a, max(np.abs(w).max(), np.abs(x).max(), 1.0)


def relu_gap(z, s):
    return float(np.min(np.abs(z) / s))


def pool_gap(r, s, pool_param):
    """Half the gap between the top two values of each window whose maximum is positive (a window
    of zeros after the ReLU passes no gradient whichever way its tie goes), over the bound s."""
    windows = layers.pool_windows(r, pool_param)
    reach = layers.pool_windows(np.broadcast_to(s, r.shape), pool_param).max(axis=-1)
    top2 = np.sort(windows, axis=-1)[..., -2:]
    gap = (top2[..., 1] - top2[..., 0]) / (2 * reach)
    return float(np.min(np.where(top2[..., 1] > 0, gap, np.inf), initial=np.inf))


def affine_relu_kink(x, w, b):
    a, s = affine_sensitivity(x, w)
    return relu_gap(a + b, s)


def affine_norm_relu_kink(axis):
    def distance(x, w, b, gamma, beta, norm_param):
        a, s = affine_sensitivity(x, w)
        an, s_n = norm_sensitivity(a + b, s, gamma, axis)
        return relu_gap(an + beta, s_n)
    return distance


def conv_relu_kink(x, w, b, conv_param):
    a, s = conv_sensitivity(x, w, b, conv_param)
    return relu_gap(a, s)


def conv_bn_relu_kink(x, w, b, gamma, beta, conv_param, bn_param):
    a, s = conv_sensitivity(x, w, b, conv_param)
    an, s_n = norm_sensitivity(a, s, gamma[None, :, None, None], (0, 2, 3))
    return relu_gap(an + beta[None, :, None, None], s_n)


def conv_relu_pool_kink(x, w, b, conv_param, pool_param):
    a, s = conv_sensitivity(x, w, b, conv_param)
    return min(relu_gap(a, s), pool_gap(np.maximum(a, 0.0), s, pool_param))


STUDENTS_OWN = ("layer_utils.py has no such sandwich: students add it, with signatures of their "
                "own; this one is the most common")
RELU_KINK = ("relu'(0) = 0: a unit whose input is exactly 0 passes no gradient (jnp.maximum "
             "would give 0.5); samples keep every ReLU input clear of 0")
POOL_KINK = (RELU_KINK + "; a max-pool tie goes to the window's first maximum in row-major "
             "order, and samples keep each positive window's top two values apart")


# --- goldens at the kink: inputs from a formula, one unit (or channel) exactly at 0 ---------------

def ramp(shape, lo, hi):
    """np.linspace(lo, hi) over the array, as the notebooks fill their test inputs."""
    return np.linspace(lo, hi, num=elements(shape)).reshape(shape)


def zero_unit(w, b, j):
    """Column j of w and b[j] zero: that unit's pre-activation is exactly 0 for every example."""
    w, b = w.copy(), b.copy()
    w[..., j] = 0.0
    b[j] = 0.0
    return w, b


def _affine_kink_inputs(x_shape, w_shape):
    w, b = zero_unit(ramp(w_shape, -0.7, 0.5), ramp(w_shape[-1:], -0.2, 0.3), 1)
    return {"x": ramp(x_shape, -1.1, 1.3).tolist(), "w": w.tolist(), "b": b.tolist()}


def _conv_kink_inputs(x_shape, w_shape):
    w, b = ramp(w_shape, -0.6, 0.5), ramp(w_shape[:1], -0.1, 0.2)
    w[1], b[1] = 0.0, 0.0          # filter 1: its whole output channel is exactly 0
    return {"x": ramp(x_shape, -1.2, 1.0).tolist(), "w": w.tolist(), "b": b.tolist()}


AFFINE_KINK_IN = _affine_kink_inputs((3, 2, 2), (4, 3))
NORM_KINK_IN = dict(_affine_kink_inputs((5, 4), (4, 3)),
                    gamma=[1.5, 0.0, -0.75], beta=[0.25, 0.0, -0.5])
LN_KINK_IN = dict(_affine_kink_inputs((3, 5), (5, 4)),
                  gamma=[1.5, 0.0, -0.75, 0.5], beta=[0.25, 0.0, -0.5, 0.125])
CONV_KINK_IN = _conv_kink_inputs((2, 2, 4, 4), (3, 2, 3, 3))
CONV_BN_KINK_IN = dict(CONV_KINK_IN, gamma=[1.25, 0.0, -0.5], beta=[0.5, 0.0, 0.25])


def sandwich(name, source, args, reference, kink_distance, golden, notes, kink=RELU_KINK, **kw):
    return Case(name=name, op=name, source=source, args=args, reference=reference, kink=kink,
                kink_distance=kink_distance, goldens=(golden,), notes=notes, **kw)


X_CONV, W_CONV = Arg("x", (2, 2, 4, 4), Normal()), Arg("w", (3, 2, 3, 3), Normal(0.5))

CASES = (
    sandwich("affine_relu", "C1+C2 a2 layer_utils.py: affine - relu",
             (Arg("x", (3, 2, 2), Normal()), Arg("w", (4, 3), Normal()), Arg("b", (3,), Normal())),
             affine_relu, affine_relu_kink,
             Golden(AFFINE_KINK_IN, {"db": [2.0, 0.0, 3.0]},
                    "unit 1 has w[:, 1] = 0, b[1] = 0: its input is 0 for all 3 rows, db[1] = 0 "
                    "(db counts each unit's active rows)", at_kink=True),
             "the forward calls affine_forward then relu_forward; the backward relu_backward "
             "then affine_backward"),
    sandwich("affine_bn_relu", "C1+C8+C2 layer_utils.py (students' addition): affine - batchnorm "
             "- relu, train mode",
             (Arg("x", (5, 4), Normal()), Arg("w", (4, 3), Normal()), Arg("b", (3,), Normal()),
              Arg("gamma", (3,), Normal()), Arg("beta", (3,), Normal()),
              Static("bn_param", BN_TRAIN)),
             affine_bn_relu, affine_norm_relu_kink(0),
             Golden(NORM_KINK_IN, {"dbeta": [3.0, 0.0, 2.0]},
                    "gamma[1] = beta[1] = 0: unit 1 is 0 after the batchnorm, so it passes no "
                    "gradient", at_kink=True),
             "not in the skeleton; affine_bn_relu_forward(x, w, b, gamma, beta, bn_param); "
             "db is 0 (the batch mean absorbs b)", beyond_contract=STUDENTS_OWN),
    sandwich("affine_ln_relu", "C1+C10+C2 layer_utils.py (students' addition): affine - "
             "layernorm - relu",
             (Arg("x", (3, 5), Normal()), Arg("w", (5, 4), Normal()), Arg("b", (4,), Normal()),
              Arg("gamma", (4,), Normal()), Arg("beta", (4,), Normal()), Static("ln_param", {})),
             affine_ln_relu, affine_norm_relu_kink(1),
             Golden(LN_KINK_IN, {"dbeta": [1.0, 0.0, 0.0, 3.0]},
                    "gamma[1] = beta[1] = 0: unit 1 is 0 after the layernorm, so it passes no "
                    "gradient", at_kink=True),
             "not in the skeleton; affine_ln_relu_forward(x, w, b, gamma, beta, ln_param); "
             "statistics per example over its 4 features", beyond_contract=STUDENTS_OWN),
    sandwich("conv_relu", "C12+C2 a2 layer_utils.py: conv - relu, stride 1, pad 1",
             (X_CONV, W_CONV, Arg("b", (3,), Normal()), Static("conv_param", CONV)),
             conv_relu, conv_relu_kink,
             Golden(CONV_KINK_IN, {"db": [16.0, 0.0, 16.0]},
                    "filter 1 is zero with b[1] = 0: its channel is 0 everywhere, db[1] = 0",
                    at_kink=True),
             "the skeleton calls conv_forward_fast (fast_layers.py); the naive conv computes "
             "the same function"),
    sandwich("conv_bn_relu", "C12+C14+C2 a2 layer_utils.py: conv - spatial batchnorm - relu",
             (X_CONV, W_CONV, Arg("b", (3,), Normal()), Arg("gamma", (3,), Normal()),
              Arg("beta", (3,), Normal()), Static("conv_param", CONV), Static("bn_param", BN_TRAIN)),
             conv_bn_relu, conv_bn_relu_kink,
             Golden(CONV_BN_KINK_IN, {"dbeta": [16.0, 0.0, 17.0]},
                    "gamma[1] = beta[1] = 0: channel 1 is 0 after the batchnorm, dbeta[1] = 0",
                    at_kink=True),
             "conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param); db is 0 (the "
             "channel mean absorbs b)"),
    sandwich("conv_relu_pool", "C12+C2+C13 a2 layer_utils.py: conv - relu - 2x2 max pool",
             (X_CONV, W_CONV, Arg("b", (3,), Normal()), Static("conv_param", CONV),
              Static("pool_param", POOL)),
             conv_relu_pool, conv_relu_pool_kink,
             Golden(CONV_KINK_IN, {"db": [4.0, 0.0, 4.0]},
                    "filter 1 is zero with b[1] = 0: every window of its channel ties at 0 and "
                    "passes no gradient, db[1] = 0", at_kink=True),
             "ThreeLayerConvNet's first layer; the backward routes through the pool's switches, "
             "then the ReLU, then the convolution", kink=POOL_KINK),
)


MUTANTS = (
    Mutant("affine_relu", "affine_relu_backward", "da = relu_backward(dout, relu_cache)",
           "da = dout", "the ReLU skipped in the backward", kind="wrong formula"),
    Mutant("affine_relu", "affine_relu_backward", "dx, dw, db = affine_backward(da, fc_cache)",
           "dx, dw, db = affine_backward(dout, fc_cache)",
           "affine_backward given dout, not the ReLU's gradient", kind="wrong formula"),
    Mutant("affine_bn_relu", "affine_bn_relu_backward",
           "da, dgamma, dbeta = batchnorm_backward(dan, bn_cache)",
           "da, dgamma, dbeta = batchnorm_backward(dout, bn_cache)",
           "batchnorm_backward given dout, skipping the ReLU", kind="wrong formula"),
    Mutant("affine_bn_relu", "affine_bn_relu_backward", "return dx, dw, db, dgamma, dbeta",
           "return dx, dw, db, dbeta, dgamma", "dgamma and dbeta swapped", kind="wrong index"),
    Mutant("affine_ln_relu", "affine_ln_relu_forward",
           "an, ln_cache = layernorm_forward(a, gamma, beta, ln_param)",
           "an, ln_cache = batchnorm_forward(a, gamma, beta, {'mode': 'train'})",
           "batch statistics instead of per-example ones", kind="wrong axis"),
    Mutant("conv_relu", "conv_relu_backward", "da = relu_backward(dout, relu_cache)",
           "da = dout", "the ReLU skipped in the backward", kind="wrong formula"),
    Mutant("conv_relu", "conv_relu_backward", "dx, dw, db = conv_backward_naive(da, conv_cache)",
           "dx, dw, db = conv_backward_naive(dout, conv_cache)",
           "the convolution's backward given dout, not the ReLU's gradient", kind="wrong formula"),
    Mutant("conv_bn_relu", "conv_bn_relu_backward", "return dx, dw, db, dgamma, dbeta",
           "return dx, dw, db, dbeta, dgamma", "dgamma and dbeta swapped", kind="wrong index"),
    Mutant("affine_ln_relu", "affine_ln_relu_backward", "return dx, dw, db, dgamma, dbeta",
           "return dx, dw, db, dbeta, dgamma", "dgamma and dbeta swapped", kind="wrong index"),
    Mutant("conv_bn_relu", "conv_bn_relu_backward",
           "da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)",
           "da, dgamma, dbeta = spatial_batchnorm_backward(dout, bn_cache)",
           "the batchnorm's backward given dout, skipping the ReLU", kind="wrong formula"),
    Mutant("conv_relu_pool", "conv_relu_pool_backward", "da = relu_backward(ds, relu_cache)",
           "da = ds", "the ReLU skipped in the backward", kind="wrong formula"),
    Mutant("conv_relu_pool", "conv_relu_pool_backward",
           "dx, dw, db = conv_backward_naive(da, conv_cache)",
           "dx, dw, db = conv_backward_naive(ds, conv_cache)",
           "the convolution's backward given the pool's gradient, skipping the ReLU",
           kind="wrong formula"),
)
