"""The records of handwritten/linear_classifiers.py: C5-C6, assignment 1's linear_svm.py and
softmax.py, naive (loops) and vectorized.

The ops are called by their skeleton names (svm_loss_naive, softmax_loss_vectorized, ...), so a
student's linear_svm.py and softmax.py are checked as they are. Each reference is the loss's math
in jax.numpy, written without looking at handwritten/. Conventions (the assignment's): the data
loss is a mean over N and the penalty is reg * sum(W^2), gradient 2 reg W (the 2024+ fc_net uses
0.5 reg; B6 does too); SVM delta = 1 and slope 0 at a margin of exactly 0. C != D, so a
transposed dW shows.
"""

import jax
import jax.numpy as jnp
import numpy as np

from . import conventions
from .layers import picked
from .spec import Arg, Case, Golden, Integers, Mutant, Normal, Static

REG = 0.1   # the classifiers' regularization strength in the random cases: 2 reg W is visible

SVM_KINK = ("a margin of exactly 0: the hinge max(0, m) takes slope 1(m > 0) = 0 there "
            "(the assignment's `if margin > 0`; conventions.hinge); JAX's maximum would give 0.5")


# --- references --------------------------------------------------------------------------------

def svm_loss(W, X, y, reg):
    """(1/N) sum_i sum_{j != y_i} max(0, s_ij - s_iy_i + 1) + reg sum W^2, s = X W."""
    S = X @ W
    margins = conventions.hinge(S - picked(S, y)[:, None] + 1.0)
    others = 1.0 - jax.nn.one_hot(y, W.shape[1], dtype=S.dtype)
    return jnp.sum(margins * others) / X.shape[0] + reg * jnp.sum(W**2)


def softmax_loss(W, X, y, reg):
    """-(1/N) sum_i log softmax(x_i W)_{y_i} + reg sum W^2."""
    return -jnp.mean(picked(jax.nn.log_softmax(X @ W, axis=1), y)) + reg * jnp.sum(W**2)


# --- kink distance: how far (max-norm over the differentiable inputs) to the nearest kink ----

def svm_kink(W, X, y, reg):
    """A margin m_ij = x_i (w_j - w_y) + 1 moves by at most 2 ||x_i||_1 per unit change of W."""
    rows = np.arange(len(y))
    S = X @ W
    m = S - S[rows, y][:, None] + 1.0
    m[rows, y] = np.inf
    return float(np.min(np.abs(m) / (2.0 * np.abs(X).sum(axis=1, keepdims=True))))


# --- the golden at the kink: binary fractions, so every kink value is computed exactly ----------
# Expected numbers: a jax.numpy forward that spells the convention out (jnp.where(m > 0, m, 0) for
# the hinge, whose jax.grad is 0 at exactly 0), pasted as printed.

SVM_AT_KINK = Golden(
    {"W": [[1.0, 0.5, 0.0], [-0.5, -0.5, -1.0], [-1.0, -1.0, -1.0], [1.0, 0.5, 1.0],
           [0.0, 0.5, 1.0]],
     "X": [[1, 1, 0, 0, 2], [-1, 2, 1, -2, -1], [2, 0, -2, 1, 1], [2, -2, -2, 2, -2],
           [0, -2, -1, 0, 0], [0, -2, -2, -2, -2], [1, 0, 1, -1, 1], [1, -1, 0, 2, 2]],
     "y": [0, 0, 0, 1, 2, 0, 0, 0]},
    {"loss": 2.9875,
     "dW": [[-0.175, -0.15, 0.625],
            [-0.35, 0.4, -0.45],
            [-0.575, 0.3, -0.325],
            [0.7, -0.775, 0.575],
            [-1.125, 0.85, 0.575]]},
    "six margins exactly 0 (rows 1, 2, 2, 4, 4, 5), ten positive: slope 0 at the six; "
    "JAX's maximum would give them 0.5", at_kink=True)


# --- the naive and vectorized classifiers share shapes and references ---------------------------

def classifier_case(name, source, reference, **kw):
    return Case(
        name=name, op=name, source=source,
        args=(Arg("W", (5, 3), Normal()), Arg("X", (8, 5), Normal(), diff=False),
              Arg("y", (8,), Integers(0, 3), diff=False), Static("reg", REG)),
        reference=reference, style="loss", outputs=("loss",),
        notes="W (D, C) with C != D; mean over N; penalty reg sum W^2, gradient 2 reg W; "
              "X and y get no gradient", **kw)


CASES = (
    classifier_case("svm_loss_naive", "C5 a1 linear_svm.py: multiclass SVM, loops", svm_loss,
                    kink=SVM_KINK, kink_distance=svm_kink, goldens=(SVM_AT_KINK,)),
    classifier_case("svm_loss_vectorized", "C5 a1 linear_svm.py: multiclass SVM, vectorized",
                    svm_loss, kink=SVM_KINK, kink_distance=svm_kink, goldens=(SVM_AT_KINK,)),
    classifier_case("softmax_loss_naive", "C6 a1 softmax.py: softmax classifier, loops",
                    softmax_loss),
    classifier_case("softmax_loss_vectorized", "C6 a1 softmax.py: softmax classifier, vectorized",
                    softmax_loss),
)


MUTANTS = (
    # C5 SVM
    Mutant("svm_loss_naive", "svm_loss_naive", "dW[:, y[i]] -= X[i]", "dW[:, y[i]] = -X[i]",
           "= instead of += at the correct-class fork", kind="fork overwrite"),
    Mutant("svm_loss_naive", "svm_loss_naive", "dW += 2 * reg * W", "dW += reg * W",
           "0.5 reg convention", kind="missing scale"),
    Mutant("svm_loss_vectorized", "svm_loss_vectorized", "dscores = (margins > 0) * dmargins",
           "dscores = (margins >= 0) * dmargins", "clipped margins pass the gradient",
           kind="wrong formula"),
    Mutant("svm_loss_vectorized", "svm_loss_vectorized",
           "np.full(margins.shape, 1.0 / N, dtype=W.dtype)",
           "np.full(margins.shape, 1.0, dtype=W.dtype)", "no mean over N", kind="missing scale"),
    Mutant("svm_loss_vectorized", "svm_loss_vectorized", "dscores[rows, y] -= dscores.sum(axis=1)",
           "dscores[rows, y] -= 1", "the correct class gets -1, not minus the count",
           kind="wrong formula"),
    # C6 softmax
    Mutant("softmax_loss_naive", "softmax_loss_naive", "dW[:, j] += (p_j - (j == y[i])) * X[i]",
           "dW[:, j] += p_j * X[i]", "forgets the -1 of the correct class", kind="dropped path"),
    Mutant("softmax_loss_naive", "softmax_loss_naive", "dW /= num_train", "pass",
           "no mean over N in the gradient", kind="missing scale"),
    Mutant("softmax_loss_vectorized", "softmax_loss_vectorized", "dscores /= N", "pass",
           "no mean over N in the gradient", kind="missing scale"),
    Mutant("softmax_loss_vectorized", "softmax_loss_vectorized", "dscores[rows, y] -= 1",
           "dscores[:, y] -= 1", "subtracts 1 from whole columns", kind="wrong index"),
)
