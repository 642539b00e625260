"""Group C, layers: the CS231n assignment layers C1-C4 and C8-C15 (cs231n/layers.py, a1 and a2).

The ops are called by their skeleton names, so a student's layers.py is checked as it is. Each
reference is the layer's math in jax.numpy (jax.nn, lax.conv_general_dilated, lax.reduce_window),
written without looking at handwritten/. Shapes are chosen so that each planted bug shows: x with
more than 2 dims for affine, N != D for layernorm, overlapping windows for conv and max-pool, a
pad-0 conv, C > 1 and H W > 1 for the spatial norms, test-mode cases for batchnorm and dropout.
Goldens: B5 and B8 of the linear-classification notes, as cases with one example (N = 1).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import conventions
from .spec import Arg, Case, Golden, Integers, Mutant, Normal, Static, planted_in

EPS = 1e-5   # the skeletons' default eps for every normalization


# --- references --------------------------------------------------------------------------------

def _normalized(x, axes):
    """(x - mean) / sqrt(var + eps) over `axes`, biased variance (1/M), as in the assignment."""
    mean = jnp.mean(x, axis=axes, keepdims=True)
    return (x - mean) / jnp.sqrt(jnp.var(x, axis=axes, keepdims=True) + EPS)


def _channel(v):
    """A per-channel vector (C,) broadcast against (N, C, H, W)."""
    return v[None, :, None, None]


def picked(log_p, y):
    """log_p[n, y[n]] along the last axis, for any leading shape (the classifiers' and the
    temporal softmax's correct-class entries)."""
    return jnp.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]


def affine(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


def relu(x):
    return jnp.where(x > 0, x, 0.0)


def softmax_loss(x, y):
    log_p = jax.nn.log_softmax(x, axis=1)
    return -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))


def svm_loss(x, y):
    margins = conventions.hinge(x - jnp.take_along_axis(x, y[:, None], axis=1) + 1.0)
    others = 1.0 - jax.nn.one_hot(y, x.shape[1], dtype=x.dtype)
    return jnp.sum(margins * others) / x.shape[0]


def batchnorm(x, gamma, beta, bn_param):
    if bn_param["mode"] == "test":   # the running statistics are constants
        xhat = (x - bn_param["running_mean"]) / jnp.sqrt(bn_param["running_var"] + EPS)
    else:
        xhat = _normalized(x, 0)
    return gamma * xhat + beta


def layernorm(x, gamma, beta, ln_param):
    return gamma * _normalized(x, 1) + beta


def dropout_mask(dropout_param, shape):
    """The mask of inverted dropout, 1(u < p) / p, from the assignment's np.random.seed(seed)."""
    u = np.random.RandomState(dropout_param["seed"]).rand(*shape)
    return (u < dropout_param["p"]) / dropout_param["p"]


def dropout(x, dropout_param):
    if dropout_param["mode"] == "test":
        return x
    return x * dropout_mask(dropout_param, x.shape)


def conv(x, w, b, conv_param):
    """Patches of x (N, C HH WW, H', W') times the flattened filters. Not lax.conv_general_dilated
    on x and w: vmapped over w (one filter bank per finite-difference step) that becomes a grouped
    convolution, 100 times slower on CPU."""
    s, p = conv_param["stride"], conv_param["pad"]
    patches = lax.conv_general_dilated_patches(x, w.shape[2:], (s, s), [(p, p), (p, p)],
                                               dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                               precision=lax.Precision.HIGHEST)
    return jnp.einsum("npij,fp->nfij", patches, w.reshape(w.shape[0], -1)) + _channel(b)


def max_pool(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, ph, pw), (1, 1, s, s), "VALID")


def spatial_batchnorm(x, gamma, beta, bn_param):
    return _channel(gamma) * _normalized(x, (0, 2, 3)) + _channel(beta)


def spatial_groupnorm(x, gamma, beta, G, gn_param):
    xg = x.reshape(x.shape[0], G, -1)
    return gamma * _normalized(xg, 2).reshape(x.shape) + beta


# --- kinks: the max-norm distance of a sample from the nearest non-differentiable point ----------

def relu_kink(x):
    return np.min(np.abs(x))


def svm_kink(x, y):
    """min over j != y of |margin_j| / 2: x_j and x_y each move by h, the margin by 2h."""
    rows = np.arange(x.shape[0])
    margins = x - x[rows, y][:, None] + 1.0
    margins[rows, y] = np.inf
    return np.min(np.abs(margins)) / 2


def pool_windows(x, pool_param):
    """Every pooling window of x, flattened: (N, C, H', W', ph * pw)."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))
    windows = windows[:, :, ::s, ::s]
    return windows.reshape(windows.shape[:4] + (ph * pw,))


def max_pool_kink(x, pool_param):
    """Half the smallest gap between a window's max and its runner-up (both move by h)."""
    top2 = np.sort(pool_windows(x, pool_param), axis=-1)[..., -2:]
    return np.min(top2[..., 1] - top2[..., 0]) / 2


RELU_KINK = "relu'(0) = 0 (jax.nn.relu's convention; jnp.maximum(x, 0) would give 0.5)"
SVM_KINK = ("delta = 1; a margin of exactly 0 has slope 0 (conventions.hinge; JAX's maximum "
            "splits it, 0.5); "
            "samples keep every margin j != y clear of 0")
POOL_KINK = ("ties go to the first maximum of the window in row-major order (np.argmax, and "
             "lax.reduce_window's gradient); a `window == max` mask gives every tie the gradient")
BN_NOTES = "biased variance 1/N, eps = 1e-5; the cache is opaque (the skeleton leaves it free)"


# --- the cases ---------------------------------------------------------------------------------

BN_TRAIN = {"mode": "train"}
BN_TEST = {"mode": "test", "running_mean": np.array([0.5, -1.0, 0.0, 2.0]),
           "running_var": np.array([1.5, 0.25, 4.0, 0.8])}
DROPOUT_TRAIN = {"mode": "train", "p": 0.6, "seed": 231}
DROPOUT_TEST = {"mode": "test", "p": 0.6, "seed": 231}

# B8 (linear-classify figure): s = W x + b for one image x; its SVM and softmax losses at y = 2.
# Goldens hold lists, not arrays: records are compared with == (conftest's goldens.index).
B8_W = np.array([[0.01, -0.05, 0.1, 0.05], [0.7, 0.2, 0.05, 0.16], [0.0, -0.45, -0.2, 0.03]])
B8_X = np.array([[-15.0, 22.0, -44.0, 56.0]])
B8_B = np.array([0.0, 0.2, -0.3])
B8_SCORES = (B8_X.dot(B8_W.T) + B8_B).tolist()   # [[-2.85, 0.86, 0.28]] in floating point
B8_DS = [[0.015449315676073572, 0.63116335360470921, -0.64661266928078265]]
B5_P = np.array([[0.2, 0.3, 0.5]])


# max_pool at ties: integers in {0, 1, 2}, so most 3x3 windows tie (one (5, 5) channel a line).
# Expected: each window's first maximum in row-major order (jnp.argmax over the flattened window,
# gathered, then jax.grad), the gradients adding where windows overlap.
POOL_TIES_X = np.array([
    2, 0, 0, 0, 0, 2, 2, 1, 0, 0, 0, 1, 1, 1, 0, 0, 2, 2, 0, 0, 1, 1, 2, 1, 1,
    1, 1, 1, 0, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2, 0, 2, 0, 0, 2, 2, 0, 0, 0, 0, 2,
    1, 1, 0, 1, 0, 2, 1, 0, 0, 2, 1, 1, 0, 0, 1, 1, 1, 2, 2, 0, 1, 1, 0, 0, 1,
    2, 0, 2, 1, 0, 1, 2, 2, 1, 0, 2, 0, 2, 2, 1, 2, 2, 0, 2, 1, 0, 1, 2, 1, 1,
    2, 1, 1, 0, 0, 2, 2, 0, 1, 2, 0, 0, 1, 1, 1, 1, 0, 1, 2, 0, 2, 0, 0, 2, 0,
    2, 0, 1, 2, 2, 1, 0, 0, 2, 1, 0, 2, 2, 2, 1, 2, 1, 1, 2, 1, 2, 1, 2, 2, 0,
], dtype=np.float64).reshape(2, 3, 5, 5).tolist()
POOL_TIES_OUT = np.array([
    2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
], dtype=np.float64).reshape(2, 3, 2, 2).tolist()
POOL_TIES_DX = np.array([
    1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0,
    1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
], dtype=np.float64).reshape(2, 3, 5, 5).tolist()


# The a2 skeleton's batchnorm_backward is only ever called after a train-mode forward (the
# notebook checks it in train mode; the model's test-mode loss returns before any backward), so a
# faithful test-mode forward returns no cache.
BN_TEST_CONTRACT = ("the CS231n a2 notebook never calls the backward after a test-mode forward; "
                    "its skeleton leaves the test-mode cache None")


def batchnorm_case(name, source, bn_param, backward="", notes=BN_NOTES, beyond_contract=""):
    return Case(
        name=name, op="batchnorm", backward=backward, source=source,
        args=(Arg("x", (5, 4), Normal(2.0)), Arg("gamma", (4,), Normal()),
              Arg("beta", (4,), Normal()), Static("bn_param", bn_param)),
        reference=batchnorm, notes=notes, beyond_contract=beyond_contract,
    )


def conv_case(name, source, x_shape, w_shape, conv_param):
    return Case(
        name=name, op="conv", forward="conv_forward_naive", backward="conv_backward_naive",
        source=source,
        args=(Arg("x", x_shape, Normal()), Arg("w", w_shape, Normal()),
              Arg("b", (w_shape[0],), Normal()), Static("conv_param", conv_param)),
        reference=conv,
        notes="naive loops; H' = 1 + (H + 2 pad - HH) / stride; windows overlap (stride < HH)",
    )


def max_pool_case(name, source, x_shape, pool_param, goldens=()):
    return Case(
        name=name, op="max_pool", forward="max_pool_forward_naive",
        backward="max_pool_backward_naive", source=source,
        args=(Arg("x", x_shape, Normal()), Static("pool_param", pool_param)),
        reference=max_pool, kink=POOL_KINK,
        kink_distance=max_pool_kink, goldens=goldens,
        notes="overlapping windows (stride < pool size): the routed gradients add up",
    )


# --- goldens of more than a few lines, by case (each record below names its own) -----------------

RELU_GOLDENS = (
    Golden({"x": [[-2.0, -1.0, 0.0, 1.0], [0.0, 0.5, -0.5, 3.0],
                  [1e-300, -1e-300, 0.0, 2.0]]},
           {"out": [[0.0, 0.0, 0.0, 1.0], [0.0, 0.5, 0.0, 3.0],
                    [1e-300, 0.0, 0.0, 2.0]],
            "dx": [[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0],
                   [1.0, 0.0, 0.0, 1.0]]},
           "relu'(0) = 0; the tiniest positive input passes", at_kink=True),
)

SOFTMAX_LOSS_N1_GOLDENS = (
    Golden({"x": np.log(B5_P).tolist(), "y": [1]},
           {"loss": float(-np.log(0.3)), "dx": [[0.2, -0.7, 0.5]]},
           "B5: dL/df = p - 1(y), p = [0.2, 0.3, 0.5], y = 1"),
    Golden({"x": B8_SCORES, "y": [2]}, {"loss": 1.0401905694301092, "dx": B8_DS},
           "B8: the cat scores' softmax loss; dx is the figure's db"),
)

SVM_LOSS_GOLDENS = (
    Golden({"x": [[1.0, 0.0, 2.0, 1.0, -1.0], [0.0, 0.0, 0.0, 0.0, 0.0],
                  [2.0, 3.0, 1.0, 2.0, 0.0], [-1.0, 0.5, -0.5, -1.5, 0.5]],
            "y": [0, 3, 1, 4]},
           {"loss": 2.0, "dx": [[-0.5, 0.0, 0.25, 0.25, 0.0],
                                [0.25, 0.25, 0.25, -1.0, 0.25],
                                [0.0, 0.0, 0.0, 0.0, 0.0],
                                [0.0, 0.25, 0.0, 0.0, -0.25]]},
           "four margins exactly 0 (rows 0, 2, 2, 3): slope 0; row 2 has no "
           "positive margin, so dx = 0 there", at_kink=True),
)

SVM_LOSS_N1_GOLDENS = (
    Golden({"x": B8_SCORES, "y": [2]},
           {"loss": 1.5800000000000018, "dx": [[0.0, 1.0, -1.0]]},
           "B8: the cat scores' hinge loss 1.58"),
    Golden({"x": [[0.0, 1.0, 2.0]], "y": [2]}, {"loss": 0.0, "dx": [[0.0, 0.0, 0.0]]},
           "margin of class 1 exactly 0: slope 0", at_kink=True),
)


CASES = (
    Case(
        name="affine", op="affine", source="C1 a2 layers.py: affine layer, x (N, d1, d2) flattened",
        args=(Arg("x", (3, 2, 3), Normal()), Arg("w", (6, 4), Normal()), Arg("b", (4,), Normal())),
        reference=affine,
        notes="x is reshaped to (N, D) and dx reshaped back to x's shape",
    ),
    Case(
        name="affine_n1", op="affine", source="B8 linear-classify figure: the scores s = W x + b",
        args=(Arg("x", (1, 4), Normal(20.0)), Arg("w", (4, 3), Normal(0.2)),
              Arg("b", (3,), Normal(0.2))),
        reference=affine,
        goldens=(Golden({"x": B8_X.tolist(), "w": B8_W.T.tolist(), "b": B8_B.tolist()},
                        {"out": B8_SCORES, "db": [1.0, 1.0, 1.0],
                         "dx": [B8_W.sum(axis=0).tolist()], "dw": np.repeat(B8_X.T, 3, axis=1).tolist()},
                        "the figure's cat scores -2.85, 0.86, 0.28"),),
        notes="the CS231n layer holds W transposed: w = W^T (D, C)",
    ),
    Case(
        name="relu", op="relu", source="C2 a2 layers.py: ReLU",
        args=(Arg("x", (3, 4), Normal()),),
        reference=relu, kink=RELU_KINK, kink_distance=relu_kink,
        goldens=RELU_GOLDENS,
    ),
    Case(
        name="softmax_loss", op="softmax_loss", source="C3 a1/a2 layers.py: softmax loss",
        args=(Arg("x", (4, 5), Normal(2.0)), Arg("y", (4,), Integers(0, 5), diff=False)),
        reference=softmax_loss, style="loss", outputs=("loss",),
        notes="mean over N; integer labels y get no gradient; stable (shifted by the row max)",
    ),
    Case(
        name="softmax_loss_n1", op="softmax_loss",
        source="B5 case-study and B8 linear-classify: softmax loss of one example",
        args=(Arg("x", (1, 3), Normal()), Arg("y", (1,), Integers(0, 3), diff=False)),
        reference=softmax_loss, style="loss", outputs=("loss",),
        goldens=SOFTMAX_LOSS_N1_GOLDENS,
        notes="moderate logits: a loss near 0 is -log(1 + tiny), relative error eps / loss",
    ),
    Case(
        name="svm_loss", op="svm_loss", source="C4 a1/a2 layers.py: multiclass SVM loss",
        args=(Arg("x", (4, 5), Normal()), Arg("y", (4,), Integers(0, 5), diff=False)),
        reference=svm_loss, style="loss", outputs=("loss",),
        kink=SVM_KINK, kink_distance=svm_kink,
        goldens=SVM_LOSS_GOLDENS,
        notes="mean over N; integer labels y get no gradient",
    ),
    Case(
        name="svm_loss_n1", op="svm_loss", source="B8 linear-classify figure: SVM loss of one example",
        args=(Arg("x", (1, 3), Normal()), Arg("y", (1,), Integers(0, 3), diff=False)),
        reference=svm_loss, style="loss", outputs=("loss",),
        kink=SVM_KINK, kink_distance=svm_kink,
        goldens=SVM_LOSS_N1_GOLDENS,
    ),
    batchnorm_case("batchnorm", "C8 a2 layers.py: batchnorm, train mode, staged backward", BN_TRAIN),
    batchnorm_case("batchnorm_test", "C8 a2 layers.py: batchnorm, test mode (running statistics)",
                   BN_TEST, notes="mean and var are bn_param's running statistics: constants",
                   beyond_contract=BN_TEST_CONTRACT),
    batchnorm_case("batchnorm_alt", "C9 a2 layers.py: batchnorm_forward + batchnorm_backward_alt",
                   BN_TRAIN, backward="batchnorm_backward_alt"),
    batchnorm_case("batchnorm_alt_test", "C9 a2 layers.py: batchnorm_backward_alt in test mode",
                   BN_TEST, backward="batchnorm_backward_alt",
                   notes="mean and var are bn_param's running statistics: constants",
                   beyond_contract=BN_TEST_CONTRACT),
    Case(
        name="layernorm", op="layernorm", source="C10 a2 layers.py: layer normalization",
        args=(Arg("x", (3, 5), Normal(2.0)), Arg("gamma", (5,), Normal()),
              Arg("beta", (5,), Normal()), Static("ln_param", {})),
        reference=layernorm,
        notes="statistics per example over its D features (N != D here), eps = 1e-5; no running stats",
    ),
    Case(
        name="dropout", op="dropout", source="C11 a2 layers.py: inverted dropout, train mode",
        args=(Arg("x", (4, 5), Normal()), Static("dropout_param", DROPOUT_TRAIN)),
        reference=dropout,
        notes="p = probability of keeping a unit; mask = 1(u < p) / p from np.random.seed(seed)",
    ),
    Case(
        name="dropout_test", op="dropout", source="C11 a2 layers.py: inverted dropout, test mode",
        args=(Arg("x", (4, 5), Normal()), Static("dropout_param", DROPOUT_TEST)),
        reference=dropout,
        notes="inverted dropout scales at train time, so test time is the identity",
    ),
    conv_case("conv", "C12 a2 layers.py: naive convolution, stride 2, pad 1",
              (2, 3, 5, 7), (3, 3, 3, 3), {"stride": 2, "pad": 1}),
    conv_case("conv_pad0", "C12 a2 layers.py: naive convolution, stride 1, pad 0",
              (2, 2, 4, 5), (2, 2, 3, 2), {"stride": 1, "pad": 0}),
    max_pool_case("max_pool", "C13 a2 layers.py: naive max pooling, 3x3 windows, stride 2",
                  (2, 3, 5, 5), {"pool_height": 3, "pool_width": 3, "stride": 2},
                  goldens=(Golden({"x": POOL_TIES_X}, {"out": POOL_TIES_OUT, "dx": POOL_TIES_DX},
                                  "integers in {0, 1, 2}: 19 of the 24 windows tie; each routes "
                                  "to its first max, overlaps add (x[0, 1, 2, 2] gets 2)",
                                  at_kink=True),)),
    max_pool_case("max_pool_ties", "C13 a2 layers.py: naive max pooling, 2x2 windows, stride 1",
                  (1, 1, 3, 3), {"pool_height": 2, "pool_width": 2, "stride": 1},
                  goldens=(Golden({"x": [[[[1.0, 3.0, 3.0], [3.0, 3.0, 0.0], [0.0, 0.0, 0.0]]]]},
                                  {"out": [[[[3.0, 3.0], [3.0, 3.0]]]],
                                   "dx": [[[[0.0, 2.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]]},
                                  "every window ties: each routes to its first max", at_kink=True),)),
    Case(
        name="spatial_batchnorm", op="spatial_batchnorm",
        source="C14 a2 layers.py: spatial batchnorm, train mode",
        args=(Arg("x", (2, 3, 2, 3), Normal(2.0)), Arg("gamma", (3,), Normal()),
              Arg("beta", (3,), Normal()), Static("bn_param", BN_TRAIN)),
        reference=spatial_batchnorm,
        notes="per channel over the N H W positions; " + BN_NOTES,
    ),
    Case(
        name="spatial_groupnorm", op="spatial_groupnorm",
        source="C15 a2 layers.py: spatial group normalization, G = 2 groups of 2 channels",
        args=(Arg("x", (2, 4, 2, 3), Normal(2.0)), Arg("gamma", (1, 4, 1, 1), Normal()),
              Arg("beta", (1, 4, 1, 1), Normal()), Static("G", 2), Static("gn_param", {})),
        reference=spatial_groupnorm,
        notes="per (example, group) over C/G H W values, eps = 1e-5; gamma, beta (1, C, 1, 1)",
    ),
)


BN_DX_ALT = "dx = gamma * ivar / N * (N * dout - dbeta - xhat * dgamma)"

# Planted bugs: the default run of each case must reject every one (tests/meta/test_mutants.py).
MUTANTS = (
    # C1 affine
    Mutant("affine", "affine_backward", "db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)",
           "db averaged over the batch", kind="missing scale"),
    Mutant("affine", "affine_backward", "dx = dx_row.reshape(x.shape)", "dx = dx_row",
           "dx left flat, (N, D) for x (N, d1, d2)", kind="shape"),
    Mutant("affine", "affine_backward", "db = np.sum(dout, axis=0)",
           "db = np.sum(dout, axis=0, dtype=np.float32)", "db summed in float32", kind="dtype"),
    *planted_in(("affine", "affine_n1"), "affine_backward",
                ("dw = x_row.T.dot(dout)", "dw = dout.T.dot(x_row)", "transposed dw",
                 "transposed")),
    Mutant("affine", "affine_backward", "db = np.sum(dout, axis=0)",
           "db = np.sum(dout, axis=0, keepdims=True)", "db (1, M) for b (M,)", kind="shape"),
    Mutant("affine_n1", "affine_backward", "db = np.sum(dout, axis=0)", "db = np.sum(dout, axis=1)",
           "db summed over the wrong axis", kind="wrong axis"),
    # C2 relu
    Mutant("relu", "relu_backward", "dx = dout * (x > 0)", "dout[x < 0] = 0; dx = dout",
           "in place: dout[x < 0] = 0 writes into dout", kind="in-place write"),
    Mutant("relu", "relu_backward", "dx = dout * (x > 0)", "dx = dout * (x >= 0)",
           "relu'(0) = 1, another subgradient",
           kind="kink convention", expect="convention differs"),
    Mutant("relu", "relu_backward", "dx = dout * (x > 0)", "dx = dout * ((x > 0) + 2.0 * (x == 0))",
           "relu'(0) = 2, not a subgradient", kind="kink convention"),
    Mutant("relu", "relu_backward", "dx = dout * (x > 0)", "dx = 1.0 * (x > 0)",
           "ignores dout", kind="ignored dout"),
    # C3 softmax loss
    Mutant("softmax_loss", "softmax_loss", "dshifted /= N", "pass", "dx not divided by N",
           kind="missing scale"),
    Mutant("softmax_loss", "softmax_loss", "dshifted[np.arange(N), y] -= 1.0",
           "dshifted[:, y] -= 1.0", "subtracts 1 at every row's labels, not at (i, y_i)",
           kind="wrong index"),
    *planted_in(("softmax_loss", "softmax_loss_n1"), "softmax_loss",
                ("probs = exp_shifted / sum_exp", "probs = exp_shifted",
                 "p not normalized", "wrong formula")),
    Mutant("softmax_loss", "softmax_loss", "shifted = x - np.max(x, axis=1, keepdims=True)",
           "x -= np.max(x, axis=1, keepdims=True); shifted = x",
           "in place: x -= max shifts the caller's scores", kind="in-place write"),
    Mutant("softmax_loss_n1", "softmax_loss", "dx = dshifted", "dx = -dshifted",
           "the gradient of the log-likelihood, not of the loss", kind="sign"),
    # C4 svm loss
    *planted_in(("svm_loss", "svm_loss_n1"), "svm_loss",
                ("dx[np.arange(N), y] -= np.sum(dhinge, axis=1)",
                 "dx[np.arange(N), y] -= 1.0 / N", "s_y counted once, not once per active margin",
                 "wrong formula")),
    *planted_in(("svm_loss", "svm_loss_n1"), "svm_loss",
                ("dhinge = dmargins * (margins > 0)", "dhinge = dmargins",
                 "inactive margins pass the gradient", "wrong formula")),
    Mutant("svm_loss", "svm_loss", "dmargins = np.full(margins.shape, 1.0 / N, dtype=x.dtype)",
           "dmargins = np.ones(margins.shape)", "dx not divided by N", kind="missing scale"),
    # C8 batchnorm, staged
    Mutant("batchnorm", "batchnorm_backward", "dxmu += 2.0 * xmu * dsq", "dxmu = 2.0 * xmu * dsq",
           "= instead of += at the xmu fork", kind="fork overwrite"),
    Mutant("batchnorm", "batchnorm_backward", "dxmu += 2.0 * xmu * dsq",
           "xmu *= 2.0 * dsq; dxmu += xmu", "in place: scales the cache's xmu (right once)",
           kind="in-place write"),
    Mutant("batchnorm", "batchnorm_backward", "dgamma = np.sum(dgammax * xhat, axis=0)",
           "dgamma = np.sum(dgammax * xhat, axis=0, keepdims=True)", "dgamma (1, D) for gamma (D,)",
           kind="shape"),
    Mutant("batchnorm", "batchnorm_backward", "dsq = np.full(dout.shape, 1.0 / N) * dvar",
           "dsq = dvar", "the mean's 1/N dropped in the variance", kind="missing scale"),
    Mutant("batchnorm_test", "batchnorm_backward", 'if mode == "test":', "if False:",
           "test mode differentiates through the batch statistics", kind="wrong formula"),
    Mutant("batchnorm_test", "batchnorm_backward", "dxmu = dxhat * ivar", "dxmu = dxhat",
           "dx misses the factor 1 / sqrt(var + eps)", kind="missing scale"),
    # C9 batchnorm, fused
    Mutant("batchnorm_alt", "batchnorm_backward_alt", BN_DX_ALT,
           "dx = gamma * ivar / N * (N * dout - dbeta)", "the xhat sum(dout xhat) term dropped",
           kind="dropped path"),
    Mutant("batchnorm_alt", "batchnorm_backward_alt", BN_DX_ALT,
           "dx = gamma * ivar * (N * dout - dbeta - xhat * dgamma)", "the 1/N dropped",
           kind="missing scale"),
    Mutant("batchnorm_alt_test", "batchnorm_backward_alt", "dx = gamma * ivar * dout",
           "dx = gamma * dout", "test-mode dx misses the factor 1 / sqrt(var + eps)",
           kind="missing scale"),
    Mutant("batchnorm_alt_test", "batchnorm_backward_alt", 'if mode == "test":', "if False:",
           "test mode differentiates through the batch statistics", kind="wrong formula"),
    # C10 layernorm
    Mutant("layernorm", "layernorm_backward", "D = dout.shape[1]", "D = dout.shape[0]",
           "divides by N, not D", kind="wrong axis"),
    Mutant("layernorm", "layernorm_backward", "dxhat = dout * gamma", "dxhat = dout",
           "dx misses the factor gamma", kind="missing scale"),
    # C11 dropout
    Mutant("dropout", "dropout_backward", "dx = dout * mask", "dx = dout * (mask > 0)",
           "mask without the 1/p", kind="missing scale"),
    Mutant("dropout", "dropout_backward", "dx = dout * mask", "dout *= mask; dx = dout",
           "in place: dout *= mask writes into dout", kind="in-place write"),
    Mutant("dropout_test", "dropout_backward", "dx = 1.0 * dout", 'dx = dropout_param["p"] * dout',
           "test mode scales by p", kind="missing scale"),
    Mutant("dropout_test", "dropout_backward", "dx = 1.0 * dout", 'dx = dout / dropout_param["p"]',
           "test mode scales by 1/p as in training", kind="missing scale"),
    # C12 conv
    Mutant("conv_pad0", "conv_backward_naive", "dx = dx_pad[:, :, pad:pad + H, pad:pad + W]",
           "dx = dx_pad[:, :, pad:-pad, pad:-pad]", "un-pads with -pad, empty at pad 0",
           kind="shape"),
    Mutant("conv", "conv_backward_naive",
           "dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]",
           "dx_pad[n, :, hs:hs + HH, ws:ws + WW] = w[f] * dout[n, f, i, j]",
           "= instead of += where windows overlap", kind="fork overwrite"),
    *planted_in(("conv", "conv_pad0"), "conv_backward_naive",
                ("dw[f] += window * dout[n, f, i, j]", "dw[f] = window * dout[n, f, i, j]",
                 "= instead of += over the positions sharing w[f]", "fork overwrite")),
    # C13 max pool
    *planted_in(("max_pool", "max_pool_ties"), "max_pool_backward_naive",
                ("dx[n, c, hs + k, ws + l] += dout[n, c, i, j]",
                 "dx[n, c, hs + k, ws + l] = dout[n, c, i, j]",
                 "= instead of += where windows overlap", "fork overwrite")),
    *planted_in(("max_pool", "max_pool_ties"), "max_pool_backward_naive",
                ("dx[n, c, hs + k, ws + l] += dout[n, c, i, j]",
                 "dx[n, c, k, l] += dout[n, c, i, j]",
                 "the switch's offset within the window, not in x", "wrong index")),
    Mutant("max_pool", "max_pool_backward_naive",
           "dx = np.zeros(x.shape, dtype=np.result_type(dout, x))",
           "dx = np.zeros(x.shape, dtype=np.float32)", "dx accumulated in a float32 buffer",
           kind="dtype"),
    # C14 spatial batchnorm
    Mutant("spatial_batchnorm", "spatial_batchnorm_backward",
           "dout_flat = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)",
           "dout_flat = dout.reshape(N * H * W, C)", "dout reshaped without moving channels last",
           kind="transposed"),
    Mutant("spatial_batchnorm", "spatial_batchnorm_backward",
           "dx = dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "dx = dx_flat.reshape(N, C, H, W)",
           "dx reshaped without moving channels back", kind="transposed"),
    # C15 spatial groupnorm
    Mutant("spatial_groupnorm", "spatial_groupnorm_backward",
           "dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)", "dbeta = np.sum(dout, axis=(0, 2, 3))",
           "dbeta (C,) for beta (1, C, 1, 1)", kind="shape"),
    Mutant("spatial_groupnorm", "spatial_groupnorm_backward", "M = dxhat.shape[2]", "M = C // G",
           "group size C/G, not C/G H W", kind="wrong axis"),
)
