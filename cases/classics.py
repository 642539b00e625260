"""The records of handwritten/classics.py: D5-D11, D13, D14, the classics beyond CS231n (makemore,
Karpathy's blog, the DL book, log-sum-exp and softmax, regression losses).

Each reference is the math of the source in jax.numpy, written without looking at handwritten/.
Golden values are the catalogue's (float64, upstream gradient 1). Where a source's golden point
has other shapes than the random case, a small case of the golden's shapes carries it
(sigmoid_bce_1, logsumexp_123, xor_net_book).
"""

import jax
import jax.numpy as jnp
import numpy as np

from .conventions import abs_sign, relu_clear
from .spec import (Arg, Case, Drawn, Golden, Integers, Magnitude, Mutant, Normal, Static,
                   planted_in)

SCALAR = ()


def _margin(U, A, B, extra=0.0):
    """How far (max-norm change of A and B) U = A B (+ c) is from a zero entry, to first order:
    moving A and B by h moves U[i, j] by up to h (sum_k |A[i, k]| + sum_k |B[k, j]| + extra)."""
    reach = np.abs(A).sum(1)[:, None] + np.abs(B).sum(0)[None, :] + extra
    return float(np.min(np.abs(U) / reach))


def _bits(rng, shape):
    return rng.integers(0, 2, size=shape).astype(np.float64)


BITS = Drawn(_bits, "{0., 1.}")


def _shifted_normal(rng, shape):
    return 1.0 + 2.0 * rng.standard_normal(shape)


# --- references ---------------------------------------------------------------------------------

def _makemore_batchnorm(h, gain, bias):
    return gain * (h - h.mean(0)) / jnp.sqrt(jnp.var(h, axis=0, ddof=1) + 1e-5) + bias


def _makemore_cross_entropy(logits, Yb):
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, Yb[:, None], axis=1))


def _xor_net(X, W, c, w, b):
    return jax.nn.relu(X @ W + c) @ w + b


def _mlp_cross_entropy(X, W1, W2, y, lam):
    logp = jax.nn.log_softmax(jax.nn.relu(X @ W1) @ W2, axis=-1)
    nll = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
    return nll + lam * (jnp.sum(W1**2) + jnp.sum(W2**2))


def _sigmoid_bce(z, y):
    return -(y * jax.nn.log_sigmoid(z) + (1 - y) * jax.nn.log_sigmoid(-z))


def _logsumexp(x):
    return jax.scipy.special.logsumexp(x, axis=-1)


def _logistic_regression(w, X, y, lam):
    s = X @ w
    return jnp.mean(_sigmoid_bce(s, y)) + 0.5 * lam * jnp.sum(w**2)


def _huber(x, y, delta):
    a = jnp.abs(x - y)
    m = jnp.minimum(a, delta)
    return jnp.sum(0.5 * m**2 + delta * (a - m))


def _cosine_similarity(x, y):
    return jnp.sum(x * y, -1) / (jnp.linalg.norm(x, axis=-1) * jnp.linalg.norm(y, axis=-1))


# --- golden inputs and shared arguments ----------------------------------------------------------

XOR_BOOK = {"X": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
            "W": [[1.0, 1.0], [1.0, 1.0]], "c": [0.0, -1.0], "w": [1.0, -2.0], "b": 0.0}

MAKEMORE_BN_ARGS = (Arg("hprebn", (8, 5), Drawn(_shifted_normal, "1 + N(0, 2^2)")),
                    Arg("bngain", (1, 5), Normal(1.0)), Arg("bnbias", (1, 5), Normal(1.0)))

MAKEMORE_CE_ARGS = (Arg("logits", (8, 5), Normal(1.5)), Arg("Yb", (8,), Integers(0, 5), diff=False))

MAKEMORE_CE_NOTES = ("no kink convention: logits.max has ties (a row's argmax changes), but the "
                     "max path's net gradient is zero either way, so the loss is smooth there")

# --- goldens of more than a few lines, by case (each record below names its own) -----------------

RELU_LAYER_GOLDENS = (
    Golden({"W": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]],
            "x": [1.0, 0.0, -1.0]},
           {"out": [1.0, 0.0, 0.0, 0.0], "dW": [[1.0, 0.0, -1.0], [0.0, 0.0, 0.0],
                                              [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
            "dx": [1.0, 0.0, 0.0]},
           "W x = [1, 0, -1, 0]: the two units at 0 get no gradient (ReLU'(0) = 0)",
           exact=True, at_kink=True),
)

XOR_NET_GOLDENS = (
    Golden({"X": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, -1.0],
                  [-1.0, 2.0]],
            "W": [[1.0, 1.0, -1.0], [1.0, -1.0, 0.5]], "c": [0.0, -1.0, 0.5],
            "w": [1.0, -2.0, 0.5], "b": 0.25},
           {"out": [0.5, 1.75, 1.25, 2.25, -2.75, 2.5],
            "dX": [[-0.5, 0.25],
                   [0.5, 1.25],
                   [1.0, 1.0],
                   [1.0, 1.0],
                   [-1.0, 3.0],
                   [0.5, 1.25]],
            "dW": [[3.0, -4.0, -0.5],
                   [3.0, 2.0, 1.5]],
            "dc": [5.0, -2.0, 1.5],
            "dw": [6.0, 2.0, 4.0],
            "db": 6.0},
           "U = X W + c is exactly 0 at (0, 0), (2, 1), (3, 2): ReLU'(0) = 0 gives "
           "them no gradient (jnp.maximum would give dc = [5.5, -3, 1.75])",
           exact=True, at_kink=True),
)

XOR_NET_BOOK_GOLDENS = (
    Golden(XOR_BOOK,
           {"out": [0.0, 1.0, 1.0, 0.0], "dX": [[0, 0], [1, 1], [1, 1], [-1, -1]],
            "dW": [[2, -2], [2, -2]], "dc": [3, -2], "dw": [4, 1], "db": 4.0},
           "the book's solution solves XOR; U = X W + c = [[0, -1], [1, 0], [1, 0], "
           "[2, 1]] has three entries ON the kink: ReLU'(0) = 0 gives them no gradient",
           exact=True, at_kink=True),
)

MLP_CROSS_ENTROPY_GOLDENS = (
    Golden({"X": [[2.0, -1.0, -2.0, -1.0], [0.0, 2.0, 0.0, -2.0],
                  [-1.0, 1.0, 2.0, 1.0], [2.0, -2.0, 2.0, -2.0],
                  [0.0, -1.0, -1.0, 1.0]],
            "W1": [[-0.5, 0.0, -0.5, -1.0, 0.5, 0.0], [0.5, 0.5, 1.0, 0.0, -0.5, 0.5],
                   [1.0, 1.0, 1.0, 0.5, -0.5, -0.5],
                   [-1.0, -1.0, -0.5, -0.5, 0.0, 0.0]],
            "W2": [[0.5, 1.0, 0.75], [0.5, 1.0, -0.5], [1.0, 1.0, -0.5],
                   [0.0, 0.25, 0.5], [0.5, -1.0, 0.0], [-1.0, 1.0, -0.75]],
            "y": [1, 2, 1, 2, 1]},
           {"out": 6.144343354089135,
            "dX": [[0.13140417085152895, -0.31635147026567234, 0.05354312856261442,
                    0.0],
                   [-0.12447637678127267, 0.6484255720554306, 0.44986367589254644,
                    -0.4738193407819542],
                   [0.010774495760252138, -0.0110972668998495, -0.024559622829814717,
                    0.024421292341415844],
                   [-0.07027080337632793, 0.20501947389464742, 0.35116842580051005,
                    -0.29229790381172527],
                   [0.1151323041323361, -0.1151323041323361, -0.1151323041323361,
                    0.0]],
            "dW1": [[-0.04369354393377467, 0.5499305634033288, -0.09972333902320227,
                     -0.1947164999861731, 0.39013459545097673, -0.7397891976565735],
                    [0.14264823838089496, 0.1490176614285417, 0.7997155754849026,
                     -0.10580421190569185, -0.35759086201259105, 1.165709494847618],
                    [0.22419046451806723, 0.7171229194131763, 0.19944667804640454,
                     0.08943299997234617, -1.0913633796259272, 0.6397891976565735],
                    [-0.3552611505133456, -1.3488787882351991, -0.7002688974384981,
                     -0.004762788121962, 0.2029383545167534, -0.3259202971910446]],
            "dW2": [[0.25192408781139836, 1.0424141125663893, -0.8443382003777876],
                    [0.29434245321259367, 1.1974453901000353, -1.291787843312629],
                    [0.26708735700900776, 0.7323515574990971, -0.6994389145081048],
                    [0.033021672689588985, 0.21669907848751335, -0.09972075117710236],
                    [0.6224674598159425, -0.708310688636776, -0.014156771179166569],
                    [-0.12693998904851858, 0.30355722933336726, -0.3266172402848487]]},
           "U1 = X W1 is exactly 0 at (3, 2), (3, 3), (4, 5): ReLU'(0) = 0 gives "
           "them no gradient, lam = 0.1", at_kink=True),
)

LOGSUMEXP_123_GOLDENS = (
    Golden({"x": [1.0, 2.0, 3.0]},
           {"out": 3.4076059644443801,
            "dx": [0.090030573170380462, 0.24472847105479761, 0.6652409557748219]},
           "x = [1, 2, 3]: the gradient is softmax(x)"),
    Golden({"x": [-np.inf, 0.0, 0.0]}, {"out": np.log(2.0), "dx": [0.0, 0.5, 0.5]},
           "a -inf entry (a masked logit) gets gradient 0", exact=True),
)


CASES = (
    # D5 makemore part 4: BatchNorm with Bessel's variance, atom by atom and fused.
    Case(
        name="makemore_batchnorm", op="makemore_batchnorm",
        source="D5 makemore part 4: BatchNorm backward atom by atom (Bessel 1/(n-1) variance)",
        args=MAKEMORE_BN_ARGS,
        reference=_makemore_batchnorm,
        notes="eps = 1e-5 (the forward's default); n = 8 >= 3 keeps the normalisation tame",
    ),
    Case(
        name="makemore_batchnorm_fused", op="makemore_batchnorm",
        backward="makemore_batchnorm_backward_fused",
        source="D5 makemore part 4: the fused BatchNorm backward, one line for dhprebn",
        args=MAKEMORE_BN_ARGS,
        reference=_makemore_batchnorm,
        notes="the same forward as makemore_batchnorm, checked with the fused backward",
    ),
    Case(
        name="makemore_cross_entropy", op="makemore_cross_entropy",
        source="D5 makemore part 4: cross-entropy atom by atom (max, exp, sum, 1/sum, log, -mean)",
        args=MAKEMORE_CE_ARGS,
        reference=_makemore_cross_entropy,
        notes=MAKEMORE_CE_NOTES,
    ),
    Case(
        name="makemore_cross_entropy_fused", op="makemore_cross_entropy",
        backward="makemore_cross_entropy_backward_fused",
        source="D5 makemore part 4: the fused cross-entropy backward (softmax - onehot) / n",
        args=MAKEMORE_CE_ARGS,
        reference=_makemore_cross_entropy,
        notes=MAKEMORE_CE_NOTES,
    ),
    # D6 "Yes you should understand backprop".
    Case(
        name="sigmoid_layer", op="sigmoid_layer",
        source="D6 Karpathy, Yes you should understand backprop: z = sigma(W x)",
        args=(Arg("W", (4, 3), Normal(1.0)), Arg("x", (3,), Normal(1.0))),
        reference=lambda W, x: jax.nn.sigmoid(W @ x),
    ),
    Case(
        name="relu_layer", op="relu_layer",
        source="D6 Karpathy, Yes you should understand backprop: z = max(0, W x)",
        args=(Arg("W", (4, 3), Normal(1.0)), Arg("x", (3,), Normal(1.0))),
        reference=lambda W, x: jax.nn.relu(W @ x),
        kink=relu_clear(),
        kink_distance=lambda W, x: _margin(W @ x[:, None], W, x[:, None]),
        goldens=RELU_LAYER_GOLDENS,
    ),
    # D7 DL book 6.1: XOR.
    Case(
        name="xor_net", op="xor_net", source="D7 DL book 6.1: f(x) = w^T max(0, W^T x + c) + b",
        args=(Arg("X", (6, 2), Normal(1.0)), Arg("W", (2, 3), Normal(1.0)),
              Arg("c", (3,), Normal(1.0)), Arg("w", (3,), Normal(1.0)),
              Arg("b", SCALAR, Normal(1.0))),
        reference=_xor_net,
        kink=relu_clear(),
        kink_distance=lambda X, W, c, w, b: _margin(X @ W + c, X, W, extra=1.0),
        goldens=XOR_NET_GOLDENS,
    ),
    Case(
        name="xor_net_book", op="xor_net",
        source="D7 DL book 6.1 at the book's shapes: 4 points, 2 hidden units",
        args=(Arg("X", (4, 2), Normal(1.0)), Arg("W", (2, 2), Normal(1.0)),
              Arg("c", (2,), Normal(1.0)), Arg("w", (2,), Normal(1.0)),
              Arg("b", SCALAR, Normal(1.0))),
        reference=_xor_net,
        kink=relu_clear(),
        kink_distance=lambda X, W, c, w, b: _margin(X @ W + c, X, W, extra=1.0),
        goldens=XOR_NET_BOOK_GOLDENS,
    ),
    # D8 DL book 6.5.7.
    Case(
        name="mlp_cross_entropy", op="mlp_cross_entropy",
        source="D8 DL book 6.5.7: ReLU MLP, cross-entropy, weight decay lam (||W1||^2 + ||W2||^2)",
        args=(Arg("X", (5, 4), Normal(1.0)), Arg("W1", (4, 6), Normal(1.0)),
              Arg("W2", (6, 3), Normal(0.5)), Arg("y", (5,), Integers(0, 3), diff=False),
              Static("lam", 0.1)),
        reference=_mlp_cross_entropy,
        kink=relu_clear("U1 = X W1"),
        kink_distance=lambda X, W1, W2, y, lam: _margin(X @ W1, X, W1),
        goldens=MLP_CROSS_ENTROPY_GOLDENS,
        notes="weight decay lam ||W||^2 (gradient 2 lam W, the book's convention); mean over N",
    ),
    # D9 DL book 6.2.2.
    Case(
        name="sigmoid_bce", op="sigmoid_bce",
        source="D9 DL book 6.2.2: sigmoid + binary cross-entropy as softplus((1 - 2y) z)",
        args=(Arg("z", (6,), Normal(3.0)), Arg("y", (6,), BITS, diff=False)),
        reference=_sigmoid_bce,
        notes="elementwise, no reduction",
    ),
    Case(
        name="sigmoid_bce_1", op="sigmoid_bce",
        source="D9 DL book 6.2.2 at the catalogue's scalar point",
        args=(Arg("z", SCALAR, Normal(3.0)), Arg("y", SCALAR, BITS, diff=False)),
        reference=_sigmoid_bce,
        goldens=(Golden({"z": 1.0, "y": 1.0},
                        {"out": 0.31326168751822286, "dz": -0.2689414213699951},
                        "z = 1, y = 1: J = softplus(-1), dJ/dz = sigma(1) - 1"),),
    ),
    # D10 log-sum-exp.
    Case(
        name="logsumexp", op="logsumexp", source="D10 log-sum-exp over the last axis",
        args=(Arg("x", (3, 5), Normal(3.0)),),
        reference=_logsumexp,
    ),
    Case(
        name="logsumexp_123", op="logsumexp",
        source="D10 log-sum-exp at the catalogue's shape (3,)",
        args=(Arg("x", (3,), Normal(3.0)),),
        reference=_logsumexp,
        goldens=LOGSUMEXP_123_GOLDENS,
    ),
    # D11 logistic regression.
    Case(
        name="logistic_regression", op="logistic_regression",
        source="D11 logistic regression with weight decay 0.5 lam ||w||^2",
        args=(Arg("w", (4,), Normal(1.0)), Arg("X", (7, 4), Normal(1.0), diff=False),
              Arg("y", (7,), BITS, diff=False), Static("lam", 0.3)),
        reference=_logistic_regression,
        notes="decay 0.5 lam ||w||^2 (gradient lam w); mean over N",
    ),
    # D13 softmax: the backward is a Jacobian-vector product.
    Case(
        name="softmax_jvp", op="softmax_jvp",
        source="D13 softmax over the last axis: J^T g = p * (g - <g, p>)",
        args=(Arg("x", (3, 5), Normal(3.0)),),
        reference=lambda x: jax.nn.softmax(x, axis=-1),
    ),
    # D14 regression losses and normalisations.
    Case(
        name="l1_loss", op="l1_loss", source="D14 L1 loss sum |x - y|",
        args=(Arg("x", (6,), Normal(2.0)), Arg("y", (6,), Normal(2.0), diff=False)),
        reference=lambda x, y: jnp.sum(abs_sign(x - y)),
        kink="sign(0) = 0 at x = y (np.sign's; conventions.abs_sign; jnp.abs would give 1). "
             "Samples keep |x - y| clear.",
        kink_distance=lambda x, y: float(np.min(np.abs(x - y))),
        goldens=(Golden({"x": [0.0, 1.0, -2.0, 3.0, 0.5, -1.0], "y": [0.0, 0.0, 0.0, 3.0, 1.0, -1.0]},
                        {"out": 3.5, "dx": [0.0, 1.0, -1.0, 0.0, -1.0, 0.0]},
                        "entries with x = y get sign(0) = 0", exact=True, at_kink=True),),
    ),
    Case(
        name="huber_loss", op="huber_loss", source="D14 Huber loss (delta = 1.5), summed",
        args=(Arg("x", (8,), Normal(2.0)), Arg("y", (8,), Normal(2.0), diff=False),
              Static("delta", 1.5)),
        reference=_huber,
        kink="C^1, not C^2: the gradient clip(r, -delta, delta) is continuous but has corners at "
             "|r| = delta, where finite differences lose their h^4 accuracy (the 10,000-sample "
             "soak failed twice there); samples keep ||x - y| - delta| clear of the steps, and "
             "at a corner the gradient is delta sign(r) from either side",
        kink_distance=lambda x, y, delta: np.min(np.abs(np.abs(x - y) - delta)),
        goldens=(Golden({"x": [1.5, -1.5, 0.5, 3.0, 0.0, 0.0, 0.0, -0.25], "y": [0.0] * 8},
                        {"out": 5.78125, "dx": [1.5, -1.5, 0.5, 1.5, 0.0, 0.0, 0.0, -0.25]},
                        "at the corners |r| = delta the gradient is +-delta"),),
    ),
    Case(
        name="mse_loss", op="mse_loss", source="D14 MSE, the mean over all x.size entries",
        args=(Arg("x", (2, 3), Normal(2.0)), Arg("y", (2, 3), Normal(2.0), diff=False)),
        reference=lambda x, y: jnp.mean((x - y) ** 2),
    ),
    Case(
        name="cosine_similarity", op="cosine_similarity",
        source="D14 cosine similarity over the last axis",
        args=(Arg("x", (3, 4), Magnitude(0.5, 2.0)), Arg("y", (3, 4), Magnitude(0.5, 2.0))),
        reference=_cosine_similarity,
        notes="entries |.| >= 0.5 keep the norms >= 1 (at norm 0 JAX's gradient is nan)",
    ),
    Case(
        name="normalize", op="normalize", source="D14 x / ||x|| over the last axis",
        args=(Arg("x", (3, 4), Magnitude(0.5, 2.0)),),
        reference=lambda x: x / jnp.linalg.norm(x, axis=-1, keepdims=True),
        notes="entries |.| >= 0.5 keep the norm >= 1 (at norm 0 JAX's gradient is nan)",
    ),
)


# Planted bugs: the default run of each case must reject every one (tests/meta/test_mutants.py).
MUTANTS = (
    # D5
    Mutant("makemore_batchnorm", "makemore_batchnorm_backward",
           "dbndiff2 = 1 / (n - 1) * np.ones_like(bndiff) * dbnvar",
           "dbndiff2 = 1 / n * np.ones_like(bndiff) * dbnvar", "1/n where the forward has Bessel's",
           kind="missing scale"),
    Mutant("makemore_batchnorm", "makemore_batchnorm_backward",
           "dbndiff += (2 * bndiff) * dbndiff2", "dbndiff = (2 * bndiff) * dbndiff2",
           "= instead of += at the bndiff fork", kind="fork overwrite"),
    Mutant("makemore_batchnorm_fused", "makemore_batchnorm_backward_fused",
           "n * dout - dout.sum(0) - n / (n - 1) * bnraw * (dout * bnraw).sum(0))",
           "n * dout - dout.sum(0) - bnraw * (dout * bnraw).sum(0))",
           "the fused form without Bessel's n/(n-1)", kind="missing scale"),
    Mutant("makemore_batchnorm_fused", "makemore_batchnorm_backward_fused",
           "dbngain = (bnraw * dout).sum(0, keepdims=True)",
           "dbngain = (bndiff * dout).sum(0, keepdims=True)", "dbngain uses the unnormalised x",
           kind="wrong formula"),
    Mutant("makemore_cross_entropy", "makemore_cross_entropy_backward",
           "dcounts += np.ones_like(counts) * dcounts_sum",
           "dcounts = np.ones_like(counts) * dcounts_sum", "= instead of += at the counts fork",
           kind="fork overwrite"),
    Mutant("makemore_cross_entropy", "makemore_cross_entropy_backward",
           "dlogprobs[np.arange(n), Yb] = -1.0 / n * dout", "dlogprobs[np.arange(n), Yb] = -dout",
           "the mean's 1/n dropped", kind="missing scale"),
    Mutant("makemore_cross_entropy", "makemore_cross_entropy_backward",
           "dcounts_sum = (-counts_sum**-2) * dcounts_sum_inv",
           "dcounts_sum = (-counts_sum**-1) * dcounts_sum_inv", "d s^-1 taken as -s^-1",
           kind="wrong formula"),
    Mutant("makemore_cross_entropy_fused", "makemore_cross_entropy_backward_fused",
           "dlogits *= dout / n", "dlogits *= dout", "the mean's 1/n dropped",
           kind="missing scale"),
    Mutant("makemore_cross_entropy_fused", "makemore_cross_entropy_backward_fused",
           "dlogits = probs.copy()", "dlogits = counts.copy()",
           "unnormalised counts instead of the softmax", kind="wrong formula"),
    # D6
    Mutant("sigmoid_layer", "sigmoid_layer_backward", "ds = (z * (1 - z)) * dout",
           "ds = (1 - z) * dout", "sigma' taken as 1 - sigma", kind="wrong formula"),
    Mutant("sigmoid_layer", "sigmoid_layer_backward", "dx = W.T.dot(ds)", "dx = W.T.dot(dout)",
           "dx skips the sigmoid", kind="wrong formula"),
    Mutant("relu_layer", "relu_layer_backward", "ds = (s > 0) * dout", "ds = (dout > 0) * dout",
           "gates on dout instead of the pre-activation", kind="wrong formula"),
    Mutant("relu_layer", "relu_layer_backward", "dx = W.T.dot(ds)", "dx = W.T.dot(dout)",
           "dx skips the ReLU", kind="wrong formula"),
    Mutant("relu_layer", "relu_layer_backward", "ds = (s > 0) * dout", "ds = (s >= 0) * dout",
           "relu'(0) = 1, another subgradient", kind="kink convention",
           expect="convention differs"),
    # D7
    *planted_in(("xor_net", "xor_net_book"), "xor_net_backward",
                ("db = np.sum(dout)", "db = np.mean(dout)",
                 "db averages over the rows", "missing scale")),
    *planted_in(("xor_net", "xor_net_book"), "xor_net_backward",
                ("dc = dU.sum(0)", "dc = dH.sum(0)", "dc skips the ReLU", "wrong formula")),
    # D8
    Mutant("mlp_cross_entropy", "mlp_cross_entropy_backward", "dW1 = (2 * lam * W1) * dout",
           "dW1 = (lam * W1) * dout", "decay gradient lam W1, not 2 lam W1", kind="missing scale"),
    Mutant("mlp_cross_entropy", "mlp_cross_entropy_backward", "G *= dJ_mle / N",
           "G *= dJ_mle", "forgets the mean over N", kind="missing scale"),
    # D9
    *planted_in(("sigmoid_bce", "sigmoid_bce_1"), "sigmoid_bce_backward",
                ("da = _sigmoid(a) * dout", "da = _sigmoid(-a) * dout",
                 "softplus' taken as sigma(-a)", "wrong formula")),
    *planted_in(("sigmoid_bce", "sigmoid_bce_1"), "sigmoid_bce_backward",
                ("dz = (1 - 2 * y) * da", "dz = da", "drops the label's sign 1 - 2y", "sign")),
    # D10
    *planted_in(("logsumexp", "logsumexp_123"), "logsumexp_backward",
                ("ds = (1 / s) * dout[..., None]", "ds = 1.0 * dout[..., None]",
                 "d log s/ds taken as 1", "wrong formula")),
    *planted_in(("logsumexp", "logsumexp_123"), "logsumexp_backward",
                ("dx = e * de", "dx = (e / s) * de", "divides by s twice", "wrong formula")),
    # D11
    Mutant("logistic_regression", "logistic_regression_backward", "dw = (lam * w) * dout",
           "dw = (2 * lam * w) * dout", "decay gradient 2 lam w for 0.5 lam ||w||^2",
           kind="missing scale"),
    Mutant("logistic_regression", "logistic_regression_backward",
           "ds = (_sigmoid(s) - y) * dnll", "ds = (y - _sigmoid(s)) * dnll",
           "residual with the wrong sign", kind="sign"),
    # D13
    Mutant("softmax_jvp", "softmax_jvp_backward", "dx = p * (dout - gp)",
           "dx = p * (1 - p) * dout", "only the Jacobian's diagonal", kind="dropped path"),
    Mutant("softmax_jvp", "softmax_jvp_backward",
           "gp = np.sum(dout * p, axis=-1, keepdims=True)", "gp = np.sum(dout * p)",
           "<g, p> summed over every row", kind="wrong axis"),
    Mutant("softmax_jvp", "softmax_jvp_backward", "dx = p * (dout - gp)",
           "dout -= gp; dx = p * dout", "in place: dout -= <g, p> writes into dout",
           kind="in-place write"),
    # D14
    Mutant("l1_loss", "l1_loss_backward", "dr = np.sign(r) * dout", "dr = r * dout",
           "d|r| taken as r", kind="wrong formula"),
    Mutant("l1_loss", "l1_loss_backward", "dr = np.sign(r) * dout",
           "dr = np.sign(r) / r.size * dout", "mean where the loss sums", kind="missing scale"),
    Mutant("l1_loss", "l1_loss_backward", "dr = np.sign(r) * dout",
           "dr = np.where(r >= 0, 1.0, -1.0) * dout", "sign(0) = 1, another subgradient",
           kind="kink convention", expect="convention differs"),
    Mutant("huber_loss", "huber_loss_backward", "dr = np.clip(r, -delta, delta) * dout",
           "dr = np.clip(r, -1, 1) * dout", "clips at 1, not delta", kind="wrong formula"),
    Mutant("huber_loss", "huber_loss_backward", "dr = np.clip(r, -delta, delta) * dout",
           "dr = np.sign(r) * delta * dout", "the linear branch everywhere", kind="wrong formula"),
    Mutant("mse_loss", "mse_loss_backward", "dr = (2 * r / r.size) * dout",
           "dr = (r / r.size) * dout", "drops the 2", kind="missing scale"),
    Mutant("mse_loss", "mse_loss_backward", "dr = (2 * r / r.size) * dout",
           "dr = (2 * r / r.shape[0]) * dout", "mean over the rows only", kind="wrong axis"),
    Mutant("cosine_similarity", "cosine_similarity_backward",
           "dx = (dxh - xh * np.sum(xh * dxh, axis=-1, keepdims=True)) / nx", "dx = dxh / nx",
           "dx without the projection", kind="dropped path"),
    Mutant("cosine_similarity", "cosine_similarity_backward",
           "dy = (dyh - yh * np.sum(yh * dyh, axis=-1, keepdims=True)) / ny",
           "dy = (dyh - yh * np.sum(yh * dyh, axis=-1, keepdims=True)) / nx",
           "dy divided by ||x||", kind="wrong formula"),
    Mutant("normalize", "normalize_backward",
           "dx = (dout - xh * np.sum(xh * dout, axis=-1, keepdims=True)) / nx", "dx = dout / nx",
           "without the projection", kind="dropped path"),
    Mutant("normalize", "normalize_backward",
           "dx = (dout - xh * np.sum(xh * dout, axis=-1, keepdims=True)) / nx",
           "dx = (dout - xh * np.sum(xh * dout)) / nx", "<x_hat, g> summed over every row",
           kind="wrong axis"),
)
