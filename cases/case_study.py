"""Group B: the notes' smaller examples (B2, B5-B9) as ops: forks, the one-vector losses of the
linear-classification notes and the case study's two-layer net.

Each reference is the math of the notes in jax.numpy, written without looking at handwritten/.
Golden values are the catalogue's (float64, upstream gradient 1). Conventions: B6 penalises
0.5 reg sum W^2 (gradient reg W, the case study's; C5-C7 use reg sum W^2) and takes ReLU'(0) = 0;
the hinge of B7 and B8 takes slope 0 at a margin of exactly 0; one score vector, no mean.
"""

import jax
import jax.numpy as jnp
import numpy as np

from . import conventions
from .neural_net import relu_hidden_kink
from .spec import Arg, Case, Golden, Integers, Mutant, Normal, Static, Uniform, planted_in

SCALAR = ()
MODERATE = ("a saturated softmax (p_y = 1 - 5e-5 in a soak with scores of order 3) has a loss "
            "log(1 + tiny) whose rounding the finite differences cannot resolve, and a VJP that "
            "cancels to 1e-5 of its terms")
DELTA = 10.0   # B7's margin in the notes' worked example

# B8: the linear-classification figure (cat image x, scores s = W x + b, class 2 is correct).
B8 = {"W": np.array([[0.01, -0.05, 0.1, 0.05], [0.7, 0.2, 0.05, 0.16], [0.0, -0.45, -0.2, 0.03]]),
      "b": np.array([0.0, 0.2, -0.3]), "x": np.array([-15.0, 22.0, -44.0, 56.0]), "y": 2}
B8_SVM_DS = np.array([0.0, 1.0, -1.0])
B8_SOFTMAX_DS = np.array([0.015449315676073572, 0.63116335360470921, -0.64661266928078265])


# --- references --------------------------------------------------------------------------------

def cross_entropy(f, y):
    """-log softmax(f)_y for one score vector."""
    return -jax.nn.log_softmax(f)[y]


def hinge(s, y, delta):
    """sum_{j != y} max(0, s_j - s_y + delta) for one score vector."""
    margins = conventions.hinge(s - s[y] + delta)
    return jnp.sum(jnp.where(jnp.arange(s.shape[0]) == y, 0.0, margins))


def case_study_net(W, b, W2, b2, X, y, reg):
    """ReLU hidden layer, softmax, mean over N, penalty 0.5 reg (sum W^2 + sum W2^2)."""
    scores = jax.nn.relu(X @ W + b) @ W2 + b2
    log_p = jax.nn.log_softmax(scores, axis=1)
    data = -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))
    return data + 0.5 * reg * (jnp.sum(W**2) + jnp.sum(W2**2))


# --- kink distances ----------------------------------------------------------------------------

def _margins(s, y, delta):
    """|s_j - s_y + delta| for j != y (inf at y)."""
    m = np.abs(s - s[y] + delta)
    m[y] = np.inf
    return m


def hinge_kink(s, y, delta):
    """Moving s by h moves s_j - s_y by up to 2h."""
    return float(np.min(_margins(s, y, delta)) / 2.0)


def linear_hinge_kink(W, b, x, y):
    """s_j = w_j x + b_j moves by up to h (||x||_1 + 1); a margin by twice that."""
    return float(np.min(_margins(W @ x + b, y, 1.0)) / (2.0 * (np.abs(x).sum() + 1.0)))


def _linear_case(name, source, loss, *goldens, **kw):
    return Case(
        name=name, op=name, source=source,
        args=(Arg("W", (3, 4), Normal(0.5)), Arg("b", (3,), Normal(0.5)),
              Arg("x", (4,), Uniform(-1.5, 1.5), diff=False),
              Arg("y", SCALAR, Integers(0, 3), diff=False)),
        reference=lambda W, b, x, y: loss(W @ x + b, y), style="loss", outputs=("loss",),
        goldens=goldens,
        notes="s = W x + b with W (C, D), C = 3 != D = 4; dW = ds x^T, db = ds; x and y get "
              "no gradient; scores of order 1"
              + (": " + MODERATE if loss is cross_entropy else ""), **kw)


def _case_study_at_kink():
    """All-zero first layer: every hidden unit sits at the ReLU kink, the scores are b2 = 0.
    With ReLU'(0) = 0 no gradient reaches W and b; dW2 is the penalty's reg W2 alone and db2 the
    mean of p - 1(y) = 1/3 - (class count)/N."""
    W2 = np.arange(15.0).reshape(5, 3) / 10
    reg = 0.1
    inputs = {"W": np.zeros((2, 5)), "b": np.zeros((1, 5)), "W2": W2, "b2": np.zeros((1, 3)),
              "X": np.array([[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0], [2.0, 1.0], [0.0, -1.0],
                             [1.5, 2.5]]), "y": np.array([0, 0, 0, 1, 1, 2])}
    expect = {"loss": np.log(3.0) + 0.5 * reg * np.sum(W2**2), "dW": np.zeros((2, 5)),
              "db": np.zeros((1, 5)), "dW2": reg * W2, "db2": [[-1 / 6, 0.0, 1 / 6]]}
    return Golden(inputs, expect, "ReLU'(0) = 0: a zero first layer gets no data gradient",
                  at_kink=True)


# --- goldens of more than a few lines, by case (each record below names its own) -----------------

SOFTMAX_CROSS_ENTROPY_GOLDENS = (
    Golden({"f": np.log([0.2, 0.3, 0.5]).tolist(), "y": 1},
           {"loss": -np.log(0.3), "df": [0.2, -0.7, 0.5]},
           "dL/df = p - 1(y): p = [0.2, 0.3, 0.5], y = 1 gives [0.2, -0.7, 0.5]"),
    Golden({"f": [0.0, 0.0, 0.0], "y": 0},
           {"loss": np.log(3.0), "df": [-2 / 3, 1 / 3, 1 / 3]},
           "equal scores: the initial loss -log(1/3) = 1.1"),
)


CASES = (
    Case(
        name="fork_sum", op="fork_sum", source="B2 optimization-2 / micrograd: b = a + a",
        args=(Arg("a", SCALAR, Uniform(-5, 5)),),
        reference=lambda a: a + a,
        goldens=(Golden({"a": 3.0}, {"out": 6.0, "da": 2.0},
                        "micrograd's b = a + a: da = 2, not 1 (gradients add at forks)"),),
    ),
    Case(
        name="fork_product", op="fork_product",
        source="B2 optimization-2 / micrograd: f = (a b)(a + b)",
        args=(Arg("a", SCALAR, Uniform(-5, 5)), Arg("b", SCALAR, Uniform(-5, 5))),
        reference=lambda a, b: (a * b) * (a + b),
        goldens=(Golden({"a": -2.0, "b": 3.0}, {"out": -6.0, "da": -3.0, "db": -8.0},
                        "micrograd: f = -6, da = -3, db = -8"),),
    ),
    Case(
        name="softmax_cross_entropy", op="softmax_cross_entropy",
        source="B5 neural-networks-case-study: softmax cross-entropy of one score vector",
        args=(Arg("f", (3,), Uniform(-3, 3)), Arg("y", SCALAR, Integers(0, 3), diff=False)),
        reference=cross_entropy, style="loss", outputs=("loss",),
        # lists, not arrays: conftest finds a golden's index by ==
        goldens=SOFTMAX_CROSS_ENTROPY_GOLDENS,
        notes="no mean: one example; y gets no gradient; scores in [-3, 3]: " + MODERATE,
    ),
    Case(
        name="case_study_net_loss", op="case_study_net_loss",
        source="B6 neural-networks-case-study: 2-layer ReLU net, softmax, 0.5 reg",
        args=(Arg("W", (2, 5), Normal()), Arg("b", (1, 5), Normal()), Arg("W2", (5, 3), Normal()),
              Arg("b2", (1, 3), Normal()), Arg("X", (6, 2), Normal(), diff=False),
              Arg("y", (6,), Integers(0, 3), diff=False), Static("reg", 0.1)),
        reference=case_study_net, style="loss", outputs=("loss",),
        kink=conventions.relu_hidden("dhidden[hidden <= 0] = 0"),
        kink_distance=relu_hidden_kink, goldens=(_case_study_at_kink(),),
        notes="the case study's shapes (2-D spiral points, biases (1, h)); penalty "
              "0.5 reg sum W^2, gradient reg W (not 2 reg W as in C5-C7); mean over N",
    ),
    Case(
        name="multiclass_svm_loss", op="multiclass_svm_loss",
        source="B7 optimization-1: multiclass SVM of one score vector, delta = 10",
        args=(Arg("s", (3,), Uniform(-12, 12)), Arg("y", SCALAR, Integers(0, 3), diff=False),
              Static("delta", DELTA)),
        reference=hinge, style="loss", outputs=("loss",),
        kink=conventions.hinge_margin(), kink_distance=hinge_kink,
        goldens=(Golden({"s": [13.0, -7.0, 11.0], "y": 0}, {"loss": 8.0, "ds": [-1.0, 0.0, 1.0]},
                        "the notes: s = [13, -7, 11], y = 0, delta = 10 gives L = 8"),
                 Golden({"s": [0.0, 10.0, 5.0], "y": 1}, {"loss": 5.0, "ds": [0.0, -1.0, 1.0]},
                        "margin of class 0 exactly 0: slope 0", at_kink=True)),
        notes="grad of s_y is minus the number of positive margins; delta gets no gradient",
    ),
    _linear_case("linear_svm_loss", "B8 linear-classify figure: SVM loss of s = W x + b",
                 lambda s, y: hinge(s, y, 1.0),
                 Golden(B8, {"loss": 1.5800000000000018, "db": B8_SVM_DS,
                             "dW": np.outer(B8_SVM_DS, B8["x"])},
                        "the cat scores -2.85, 0.86, 0.28: SVM loss 1.58 (float64 ...18)"),
                 Golden({"W": [[0.5, 0.0, -1.0, 0.25], [1.0, 0.5, 0.0, -0.5],
                               [0.0, -0.25, 0.5, 1.0]],
                         "b": [2.0, 4.5, 0.0], "x": [2.0, -1.0, 0.5, 4.0], "y": 2},
                        {"loss": 0.5, "db": [0.0, 1.0, -1.0],
                         "dW": [[0.0, 0.0, 0.0, 0.0], [2.0, -1.0, 0.5, 4.0],
                                [-2.0, 1.0, -0.5, -4.0]]},
                        "s = [3.5, 4, 4.5], y = 2: the margin of class 0 is exactly 0, slope 0 "
                        "(JAX's maximum would give db = [0.5, 1, -1.5])", at_kink=True),
                 kink=conventions.hinge_margin("1"), kink_distance=linear_hinge_kink),
    _linear_case("linear_softmax_loss", "B8 linear-classify figure: softmax loss of s = W x + b",
                 cross_entropy,
                 Golden(B8, {"loss": 1.0401905694301092, "db": B8_SOFTMAX_DS,
                             "dW": np.outer(B8_SOFTMAX_DS, B8["x"])},
                        "the cat scores: softmax loss 1.04, db = p - 1(y)")),
    Case(
        name="stable_softmax", op="stable_softmax",
        source="B9 linear-classify: softmax shifted by max f, rows of (N, C)",
        args=(Arg("f", (3, 4), Uniform(-3, 3)),),
        reference=lambda f: jax.nn.softmax(f, axis=-1),
        notes="over the last axis; N > 1 so a sum over the whole array shows; backward "
              "p (g - <g, p>) per row; f in [-3, 3]: " + MODERATE,
    ),
    Case(
        name="stable_softmax_b9", op="stable_softmax",
        source="B9 linear-classify: the notes' f = [123, 456, 789]",
        args=(Arg("f", (3,), Uniform(-3, 3)),),
        reference=lambda f: jax.nn.softmax(f, axis=-1),
        goldens=(Golden({"f": [123.0, 456.0, 789.0]},
                        {"out": np.exp([-666.0, -333.0, 0.0]), "df": [0.0, 0.0, 0.0]},
                        "shifted to [-666, -333, 0] (naive e^f / sum e^f gives nan); p sums to "
                        "1, so an upstream gradient of ones gives df = 0"),),
        notes="random samples in [-3, 3]: " + MODERATE,
    ),
)


SOFTMAX_VJP = "df = p * (dout - np.sum(dout * p, axis=-1, keepdims=True))"

MUTANTS = (
    # B2 forks
    Mutant("fork_sum", "fork_sum_backward", "da += 1.0 * db", "da = 1.0 * db",
           "= instead of += at the fork", kind="fork overwrite"),
    Mutant("fork_sum", "fork_sum_backward", "da = 1.0 * db", "da = db",
           "da aliases dout, then += writes into it", kind="in-place write"),
    Mutant("fork_product", "fork_product_backward", "da += b * dd", "da = b * dd",
           "= instead of += at the fork on a", kind="fork overwrite"),
    Mutant("fork_product", "fork_product_backward", "dd = e * df", "dd = d * df",
           "multiply does not swap", kind="wrong formula"),
    # B5 cross-entropy
    Mutant("softmax_cross_entropy", "softmax_cross_entropy", "df = np.exp(log_p)",
           "df = np.exp(shifted)", "unnormalised p", kind="wrong formula"),
    Mutant("softmax_cross_entropy", "softmax_cross_entropy", "df[y] -= 1", "df[y] += 1",
           "p + 1(y)", kind="sign"),
    # B6 case-study net
    Mutant("case_study_net_loss", "case_study_net_loss", "dW2 += reg * W2", "dW2 += 2 * reg * W2",
           "2 reg W2 under the 0.5 reg penalty", kind="missing scale"),
    Mutant("case_study_net_loss", "case_study_net_loss", "dhidden[hidden_layer <= 0] = 0",
           "dhidden[hidden_layer < 0] = 0", "ReLU mask never applies (hidden >= 0 after max)",
           kind="wrong formula"),
    # B7 SVM of one vector
    Mutant("multiclass_svm_loss", "multiclass_svm_loss", "ds[y] -= np.sum(ds)", "ds[y] = -1",
           "s_y gets -1, not minus the count of positive margins", kind="wrong formula"),
    Mutant("multiclass_svm_loss", "multiclass_svm_loss", "ds = (margins > 0).astype(s.dtype)",
           "ds = margins.astype(s.dtype)", "the margins instead of their indicator",
           kind="wrong formula"),
    # B8 linear classifiers
    Mutant("linear_svm_loss", "linear_svm_loss", "dW = np.outer(ds, x)", "dW = np.outer(x, ds)",
           "transposed dW, (4, 3) for W (3, 4)", kind="transposed"),
    Mutant("linear_svm_loss", "linear_svm_loss", "db = 1.0 * ds", "db = np.ones_like(ds)",
           "db = 1 for every class", kind="ignored dout"),
    Mutant("linear_softmax_loss", "linear_softmax_loss", "dW = np.outer(ds, x)",
           "dW = ds[:, None] * W", "dW scales W, not x", kind="wrong formula"),
    Mutant("linear_softmax_loss", "linear_softmax_loss", "db = 1.0 * ds", "db = np.ones_like(ds)",
           "db = 1 for every class", kind="ignored dout"),
    # B9 stable softmax
    *planted_in(("stable_softmax", "stable_softmax_b9"), "stable_softmax_backward",
                (SOFTMAX_VJP, "df = p * (1 - p) * dout", "only the Jacobian's diagonal",
                 "dropped path"),
                (SOFTMAX_VJP, "df = p * (dout - np.sum(dout, axis=-1, keepdims=True))",
                 "<g, 1> instead of <g, p>", "wrong formula")),
    Mutant("stable_softmax", "stable_softmax_backward", SOFTMAX_VJP,
           "df = p * (dout - np.sum(dout * p))", "sums over the whole batch, not per row",
           kind="wrong axis"),
)
