"""Group C, classifiers and recurrent layers: C5-C7 (assignment 1) and C16-C22 (assignment 3).

The ops are called by their skeleton names (svm_loss_naive, rnn_step_forward, ...), so a student's
linear_svm.py, softmax.py or rnn_layers.py is checked as it is. Each reference is the op's math in
jax.numpy (jax.nn, lax.scan), written without looking at handwritten/.

Conventions (the assignments'): the classifiers' data loss is a mean over N and the penalty is
reg * sum(W^2), gradient 2 reg W (the 2024+ fc_net uses 0.5 reg; B6 below does too); SVM delta = 1
and slope 0 at a margin of exactly 0; ReLU'(0) = 0; temporal_softmax_loss sums over t and divides
by N (not N T, not sum(mask)). Shapes are chosen so that each planted bug shows: C != D, T >= 2,
D != H, more words than vocabulary entries (repeated indices), masks with padding.
"""

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import conventions
from .spec import Arg, Case, Drawn, Golden, Integers, Model, Mutant, Normal, Static

REG = 0.1   # the classifiers' regularization strength in the random cases: 2 reg W is visible

SVM_KINK = ("a margin of exactly 0: the hinge max(0, m) takes slope 1(m > 0) = 0 there "
            "(the assignment's `if margin > 0`; conventions.hinge); JAX's maximum would give 0.5")
RELU_KINK = ("ReLU'(0) = 0: a hidden pre-activation of exactly 0 passes no gradient "
             "(the assignment's (h > 0)); jnp.maximum would give 0.5")


# --- references --------------------------------------------------------------------------------

def _picked(log_p, y):
    """log_p[n, y[n]] along the last axis, for any leading shape."""
    return jnp.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]


def svm_loss(W, X, y, reg):
    """(1/N) sum_i sum_{j != y_i} max(0, s_ij - s_iy_i + 1) + reg sum W^2, s = X W."""
    S = X @ W
    margins = conventions.hinge(S - _picked(S, y)[:, None] + 1.0)
    others = 1.0 - jax.nn.one_hot(y, W.shape[1], dtype=S.dtype)
    return jnp.sum(margins * others) / X.shape[0] + reg * jnp.sum(W**2)


def softmax_loss(W, X, y, reg):
    """-(1/N) sum_i log softmax(x_i W)_{y_i} + reg sum W^2."""
    return -jnp.mean(_picked(jax.nn.log_softmax(X @ W, axis=1), y)) + reg * jnp.sum(W**2)


def two_layer_net(W1, b1, W2, b2, X, y, reg):
    """affine - ReLU - affine - softmax loss, penalty reg (sum W1^2 + sum W2^2)."""
    scores = jax.nn.relu(X @ W1 + b1) @ W2 + b2
    return (-jnp.mean(_picked(jax.nn.log_softmax(scores, axis=1), y))
            + reg * (jnp.sum(W1**2) + jnp.sum(W2**2)))


def rnn_step(x, prev_h, Wx, Wh, b):
    return jnp.tanh(x @ Wx + prev_h @ Wh + b)


def _over_time(step, carry, x):
    """Run `step(carry, x_t) -> (carry, h_t)` over x (N, T, D); return h (N, T, H)."""
    _, hs = lax.scan(step, carry, jnp.swapaxes(x, 0, 1))
    return jnp.swapaxes(hs, 0, 1)


def rnn(x, h0, Wx, Wh, b):
    def step(h, x_t):
        h = rnn_step(x_t, h, Wx, Wh, b)
        return h, h
    return _over_time(step, h0, x)


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    """Gates stacked i, f, o, g in the 4H columns (the assignment's; PyTorch's is i, f, g, o)."""
    i, f, o, g = jnp.split(x @ Wx + prev_h @ Wh + b, 4, axis=1)
    next_c = jax.nn.sigmoid(f) * prev_c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(next_c), next_c


def lstm(x, h0, Wx, Wh, b):
    def step(hc, x_t):
        h, c = lstm_step(x_t, *hc, Wx, Wh, b)
        return (h, c), h
    return _over_time(step, (h0, jnp.zeros_like(h0)), x)


def temporal_softmax_loss(x, y, mask):
    """-(1/N) sum_{n,t} mask[n,t] log softmax(x[n,t])_{y[n,t]}."""
    return -jnp.sum(mask * _picked(jax.nn.log_softmax(x, axis=-1), y)) / x.shape[0]


# --- kink distances: how far (max-norm over the differentiable inputs) to the nearest kink -------

def svm_kink(W, X, y):
    """A margin m_ij = x_i (w_j - w_y) + 1 moves by at most 2 ||x_i||_1 per unit change of W."""
    rows = np.arange(len(y))
    S = X @ W
    m = S - S[rows, y][:, None] + 1.0
    m[rows, y] = np.inf
    return float(np.min(np.abs(m) / (2.0 * np.abs(X).sum(axis=1, keepdims=True))))


def relu_hidden_kink(W1, b1, W2, b2, X, y):
    """A hidden pre-activation x_i w_j + b_j moves by at most ||x_i||_1 + 1 per unit change."""
    h = X @ W1 + b1
    return float(np.min(np.abs(h) / (np.abs(X).sum(axis=1, keepdims=True) + 1.0)))


# --- domains -----------------------------------------------------------------------------------

def padded_mask(rng, shape):
    """Captions padded with <NULL>: row n is 1 for its first L_n steps, L_n uniform in [1, T)."""
    N, T = shape
    lengths = rng.integers(1, T, size=(N, 1))
    return (np.arange(T)[None, :] < lengths).astype(np.float64)


def toy_model():
    """The 2019 notebook's init_toy_model (np.random.seed(0), std=1e-1) and init_toy_data
    (np.random.seed(1)): RandomState(seed) draws what np.random.seed(seed) then randn draws."""
    r = np.random.RandomState(0)
    W1 = 1e-1 * r.randn(4, 10)
    W2 = 1e-1 * r.randn(10, 3)
    X = 10 * np.random.RandomState(1).randn(5, 4)
    return {"W1": W1, "b1": np.zeros(10), "W2": W2, "b2": np.zeros(3), "X": X,
            "y": np.array([0, 1, 2, 2, 1])}


# --- goldens at the kink: binary fractions, so every kink value is computed exactly -------------
# Expected numbers: a jax.numpy forward that spells the convention out (jnp.where(m > 0, m, 0) for
# the hinge, jnp.where(h > 0, h, 0) for ReLU, whose jax.grad is 0 at exactly 0), pasted as printed.

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

NET_AT_KINK = Golden(
    {"W1": [[0.0, 0.0, 0.5, 1.0, -1.0], [-1.0, 1.0, 1.0, -0.5, -0.5], [1.0, 0.0, -0.5, 1.0, -0.5],
            [0.0, 0.5, 0.0, -1.0, -1.0]],
     "b1": [1.0, 0.5, 1.0, 0.0, 1.0],
     "W2": [[1.0, -1.0, 0.5], [-0.5, 0.0, 1.0], [-0.5, 0.5, -0.75], [-0.5, 1.0, -0.25],
            [0.0, -0.5, -0.75]],
     "b2": [0.0, 0.25, 0.0],
     "X": [[-1.0, 0.0, 1.0, -2.0], [-1.0, -2.0, 0.0, 2.0], [-2.0, -1.0, 0.0, 2.0],
           [-1.0, 0.0, -1.0, -2.0], [1.0, -2.0, -1.0, 0.0], [0.0, -2.0, 2.0, 1.0]],
     "y": [2, 1, 1, 2, 2, 1]},
    {"loss": 6.2150546590543145,
     "dW1": [[-0.9475895795426299, 0.06501977143974857, 0.01516257025667489, 0.19580576482328038,
              -0.4952518970073915],
             [-1.9265618949151941, 0.2325098857198743, 0.2, 0.44158259268771227,
              -0.5112705251409541],
             [0.842997572462588, 0.0, -0.18483742974332512, -0.2853672995796899,
              -0.1921989181180559],
             [1.4870474336211394, 0.03498022856025143, -0.16967485948665023, -0.40114817980034145,
              -0.3718655463722745]],
     "db1": [1.0755394578058755, -0.03250988571987429, 0.08483742974332512, -0.29260759013278775,
             0.44903701561743353],
     "dW2": [[2.220924924411106, -1.8230909753187363, -0.29783394909236927],
             [-0.03423322431898944, -0.08239522066157871, 0.21662844498056816],
             [0.019514704837096233, 0.14396700282724084, -0.31348170766433714],
             [0.6278501139120202, -0.10179369825753537, -0.4760564156544848],
             [1.6114659331025774, -0.2628410768013142, -1.5986248563012633]],
     "db2": [0.834748638378828, -0.43464799119609887, -0.4001006471827291]},
    "X W1 + b1 is exactly 0 at (0, 2), (3, 0), (3, 3), (4, 2), (5, 4): those units pass no "
    "gradient (ReLU'(0) = 0), reg = 0.1", at_kink=True)

TOY_AT_KINK = Golden(
    {"W1": [[1.0, 0.5, 0.0, -0.5, -0.5, -1.0, -1.0, -1.0, -1.0, 1.0],
            [0.5, 1.0, 0.0, 0.5, 1.0, 0.5, 0.5, 0.0, 0.0, 1.0],
            [-0.5, 1.0, 0.5, -1.0, -0.5, 1.0, 0.0, -1.0, 0.5, 0.5],
            [1.0, -1.0, -1.0, 1.0, -1.0, 0.0, -1.0, -0.5, 0.0, 0.0]],
     "b1": [0.0, -1.0, -1.0, -1.0, -1.0, 0.5, 0.0, 0.5, -0.5, 0.5],
     "W2": [[-0.25, -0.5, -0.25], [0.0, 0.5, 1.0], [-1.0, 1.0, 0.0], [-0.25, 0.5, 0.25],
            [-0.5, -0.5, 0.5], [0.25, 0.0, -0.25], [0.5, -0.25, -0.5], [1.0, -0.5, -0.5],
            [0.5, 0.25, -1.0], [-1.0, -0.25, 0.75]],
     "b2": [0.0, 0.25, -0.25],
     "X": [[1.0, -1.0, 0.0, 2.0], [2.0, 2.0, -1.0, 1.0], [2.0, 1.0, 2.0, 1.0],
           [1.0, -1.0, 2.0, -2.0], [0.0, 1.0, 2.0, 0.0]],
     "y": [0, 2, 2, 0, 0]},
    {"loss": 3.927982066276329,
     "dW1": [[0.0853710438170178, 0.19572074347560742, 0.3058391651163975, -0.0488978770336976,
              -0.05, -0.17286037173780372, -0.27321145750196507, -0.1, -0.1, 0.5438749971686115],
             [0.06145300768858455, 0.1296425053661541, -0.3058391651163975, 0.051102122966302406,
              0.1, 0.03517874731692297, 0.03752740478412929, 0.0, -0.24747042115371745,
              -0.0526910610487725],
             [-0.049839760348562655, 0.7460286746486225, 0.6616783302327951, -0.10055106148315121,
              -0.05, -0.22301433732431128, -0.7177910204396016, -0.1, -0.4449408423074349,
              1.147651026953457],
             [0.0732968892245144, -0.39385441820989275, -0.711678330232795, 0.10055106148315121,
              -0.1, 0.1469272091049464, 0.24642291500393013, -0.05, 0.0, -0.07493141644449441]],
     "db1": [-0.013777355652822607, 0.3230143373243113, 0.3058391651163975, 0.0005510614831512018,
             0.0, -0.16150716866215564, -0.3588955102198008, 0.0, -0.24747042115371745,
             0.7525473772448922],
     "dW2": [[-0.39505748248832595, 0.09274273175957685, 0.20231475072874913],
             [-0.8884133352410273, 0.38808340520573087, 0.6503299300352964],
             [-0.49947399804970316, 0.31220433218309196, 0.18726966586661123],
             [-0.0248598291584647, 0.0524845876156754, 0.02237524154278931],
             [-0.05, -0.05, 0.05],
             [-0.7583866135417072, 0.21350052204691888, 0.5448860914947884],
             [-0.1471470484317774, 0.045797173287507965, 0.07634987514426946],
             [0.1, -0.05, -0.05],
             [-0.047278548919351626, 0.04274609024173498, -0.020467541322383348],
             [-0.9594884940259248, 0.262821726326355, 0.6466667676995699]],
     "db2": [-0.5424292265321135, 0.19670376918630636, 0.3457254573458071]},
    "X W1 + b1 is exactly 0 at (0, 3), (1, 1), (4, 2): those units pass no gradient "
    "(ReLU'(0) = 0), reg = 0.05", at_kink=True)


# --- case builders: the naive and vectorized classifiers share shapes and references -----------

def classifier_case(name, source, reference, **kw):
    return Case(
        name=name, op=name, source=source,
        args=(Arg("W", (5, 3), Normal()), Arg("X", (8, 5), Normal(), diff=False),
              Arg("y", (8,), Integers(0, 3), diff=False), Static("reg", REG)),
        reference=reference, style="loss", outputs=("loss",),
        notes="W (D, C) with C != D; mean over N; penalty reg sum W^2, gradient 2 reg W; "
              "X and y get no gradient", **kw)


def net_case(name, source, shapes, domains, reg, **kw):
    (D, H, C, N), (w, x) = shapes, domains
    return Case(
        name=name, op="two_layer_net_loss", source=source,
        args=(Arg("W1", (D, H), Normal(w)), Arg("b1", (H,), Normal(w)),
              Arg("W2", (H, C), Normal(w)), Arg("b2", (C,), Normal(w)),
              Arg("X", (N, D), Normal(x), diff=False), Arg("y", (N,), Integers(0, C), diff=False),
              Static("reg", reg)),
        reference=two_layer_net, style="loss", outputs=("loss",),
        kink=RELU_KINK, kink_distance=relu_hidden_kink,
        notes="TwoLayerNet.loss(X, y, reg) as a function; mean over N; penalty "
              "reg (sum W1^2 + sum W2^2), gradient 2 reg W (the 2019 assignment; not 0.5 reg); "
              "biases unpenalised", **kw)


CASES = (
    classifier_case("svm_loss_naive", "C5 a1 linear_svm.py: multiclass SVM, loops", svm_loss,
                    kink=SVM_KINK, kink_distance=svm_kink, goldens=(SVM_AT_KINK,)),
    classifier_case("svm_loss_vectorized", "C5 a1 linear_svm.py: multiclass SVM, vectorized",
                    svm_loss, kink=SVM_KINK, kink_distance=svm_kink, goldens=(SVM_AT_KINK,)),
    classifier_case("softmax_loss_naive", "C6 a1 softmax.py: softmax classifier, loops",
                    softmax_loss),
    classifier_case("softmax_loss_vectorized", "C6 a1 softmax.py: softmax classifier, vectorized",
                    softmax_loss),
    net_case("two_layer_net_loss", "C7 a1 (2019) neural_net.py: TwoLayerNet.loss",
             (4, 5, 3, 6), (1.0, 1.0), REG, goldens=(NET_AT_KINK,)),
    net_case("two_layer_net_toy", "C7 a1 (2019) two_layer_net.ipynb: the toy model 4-10-3, N = 5",
             (4, 10, 3, 5), (0.1, 10.0), 0.05,
             goldens=(Golden(toy_model(), {"loss": 1.3037878913298202},
                             "the notebook's toy loss 1.30378789133, reg = 0.05 (reg sum W^2)"),
                      TOY_AT_KINK)),
    # The class itself, in the model call style: TwoLayerNet(4, 10, 3, std=1e-1), params set to
    # the sample's, loss(X, y, reg) -> (loss, grads), grads keyed W1, b1, W2, b2.
    replace(net_case("two_layer_net_class", "C7 a1 (2019) neural_net.py: the TwoLayerNet class, "
                     "the notebook's toy model", (4, 10, 3, 5), (0.1, 10.0), 0.05,
                     goldens=(Golden(toy_model(), {"loss": 1.30378789133},
                                     "the notebook's toy loss, printed as 1.30378789133", digits=12),
                              TOY_AT_KINK)),
            op="TwoLayerNet",
            notes="the class itself: loss(X, y, reg) -> (loss, grads); mean over N; penalty "
                  "reg (sum W1^2 + sum W2^2), gradient 2 reg W (the 2019 assignment; not 0.5 "
                  "reg); biases unpenalised",
            model=Model("TwoLayerNet", "neural_net", {"input_size": 4, "hidden_size": 10,
                                                      "output_size": 3, "std": 1e-1},
                        ("X", "y", "reg"), "no state besides the parameters; reg is an argument "
                        "of loss, not of the constructor")),
    Case(
        name="rnn_step", op="rnn_step", source="C16 a3 rnn_layers.py: one vanilla RNN step",
        args=(Arg("x", (3, 4), Normal()), Arg("prev_h", (3, 5), Normal()),
              Arg("Wx", (4, 5), Normal(0.5)), Arg("Wh", (5, 5), Normal(0.5)),
              Arg("b", (5,), Normal(0.5))),
        reference=rnn_step,
        notes="tanh' taken from the output, 1 - next_h^2; D != H so transposes show",
    ),
    Case(
        name="rnn", op="rnn", source="C17 a3 rnn_layers.py: vanilla RNN over T = 3 steps",
        args=(Arg("x", (2, 3, 4), Normal()), Arg("h0", (2, 5), Normal()),
              Arg("Wx", (4, 5), Normal(0.5)), Arg("Wh", (5, 5), Normal(0.5)),
              Arg("b", (5,), Normal(0.5))),
        reference=rnn,
        notes="dh holds only the upstream gradient of each h[:, t]; the gradient through step "
              "t+1 is added to it; the shared weights' gradients add over t",
    ),
    Case(
        name="lstm_step", op="lstm_step", source="C18 a3 rnn_layers.py: one LSTM step",
        args=(Arg("x", (3, 4), Normal()), Arg("prev_h", (3, 2), Normal()),
              Arg("prev_c", (3, 2), Normal()), Arg("Wx", (4, 8), Normal(0.5)),
              Arg("Wh", (2, 8), Normal(0.5)), Arg("b", (8,), Normal(0.5))),
        reference=lstm_step, outputs=("next_h", "next_c"),
        notes="gates i, f, o, g; the backward takes both dnext_h and dnext_c: next_c forks "
              "into next_h and the next step",
    ),
    Case(
        name="lstm", op="lstm", source="C19 a3 rnn_layers.py: LSTM over T = 3 steps",
        args=(Arg("x", (2, 3, 4), Normal()), Arg("h0", (2, 3), Normal()),
              Arg("Wx", (4, 12), Normal(0.5)), Arg("Wh", (3, 12), Normal(0.5)),
              Arg("b", (12,), Normal(0.5))),
        reference=lstm,
        notes="c0 = 0 is not an input and the last cell state is not an output",
    ),
    Case(
        name="word_embedding", op="word_embedding",
        source="C20 a3 rnn_layers.py: word embedding, out[n, t] = W[x[n, t]]",
        args=(Arg("x", (3, 4), Integers(0, 5), diff=False), Arg("W", (5, 3), Normal())),
        reference=lambda x, W: jnp.take(W, x, axis=0),
        notes="12 words from a vocabulary of 5: every sample repeats an index (pigeonhole), so "
              "a fancy-index dW[x] += dout, which keeps one of the repeated gradients, fails; "
              "the indices get no gradient",
    ),
    Case(
        name="temporal_affine", op="temporal_affine",
        source="C21 a3 rnn_layers.py: affine layer at every time step",
        args=(Arg("x", (2, 3, 4), Normal()), Arg("w", (4, 5), Normal()), Arg("b", (5,), Normal())),
        reference=lambda x, w, b: jnp.einsum("ntd,dm->ntm", x, w) + b,
        notes="reshape to (N T, D) rows and use the affine layer; db sums over N and T",
    ),
    Case(
        name="temporal_softmax_loss", op="temporal_softmax_loss",
        source="C22 a3 rnn_layers.py: masked softmax loss over T steps",
        args=(Arg("x", (3, 4, 5), Normal(2.0)), Arg("y", (3, 4), Integers(0, 5), diff=False),
              Arg("mask", (3, 4), diff=False,
                  domain=Drawn(padded_mask, "0/1 padding: 1 for the first L_n in [1, T) steps"))),
        reference=temporal_softmax_loss, style="loss", outputs=("loss",),
        notes="summed over t, divided by N (not N T, not sum(mask)); the mask is a 0/1 float "
              "array with padding in every row and gets no gradient",
    ),
)


def _twice(cases, function, edits):
    """The same planted bugs for several cases of one function."""
    return tuple(Mutant(c, function, old, new, bug, kind=kind)
                 for c in cases for old, new, bug, kind in edits)


NET_EDITS = (
    ("dh1 = (h1 > 0) * da1", "dh1 = (a1 >= 0) * da1", "ReLU mask 1(a >= 0) passes every unit",
     "wrong formula"),
    ("dW1 += 2 * reg * W1", "dW1 += reg * W1", "0.5 reg convention for W1", "missing scale"),
    ("db1 = dh1.sum(axis=0)", "db1 = da1.sum(axis=0)", "db1 skips the ReLU", "wrong formula"),
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
    # C7 two-layer net
    *_twice(("two_layer_net_loss", "two_layer_net_toy"), "two_layer_net_loss", NET_EDITS),
    Mutant("two_layer_net_class", "neural_net.TwoLayerNet",
           "two_layer_net_loss(W1, b1, W2, b2, X, y, reg)",
           "two_layer_net_loss(W1, b1, W2, b2, X, y, 0.0)", "reg not passed on: no penalty",
           kind="dropped path"),
    Mutant("two_layer_net_class", "neural_net.TwoLayerNet",
           "two_layer_net_loss(W1, b1, W2, b2, X, y, reg)",
           "two_layer_net_loss(W1, b1, W2, b2, X, y, 0.5 * reg)",
           "0.5 reg (the fc_net convention) passed to the 2019 loss", kind="missing scale"),
    # C16 RNN step
    Mutant("rnn_step", "rnn_step_backward", "da = (1 - next_h**2) * dnext_h",
           "da = (1 - np.tanh(next_h)**2) * dnext_h", "tanh' applied to the output again",
           kind="wrong formula"),
    Mutant("rnn_step", "rnn_step_backward", "dWh = prev_h.T.dot(da)", "dWh = next_h.T.dot(da)",
           "dWh from next_h, not prev_h", kind="wrong formula"),
    # C17 RNN
    Mutant("rnn", "rnn_backward", "dh_t = dh[:, t, :] + dprev_h", "dh_t = dh[:, t, :]",
           "drops the gradient from step t+1", kind="dropped path"),
    Mutant("rnn", "rnn_backward", "dWh += dWh_t", "dWh = dWh_t",
           "= instead of += for the shared Wh", kind="fork overwrite"),
    # C18 LSTM step
    Mutant("lstm_step", "lstm_step_backward", "da = np.concatenate([dai, daf, dao, dag], axis=1)",
           "da = np.concatenate([dai, daf, dag, dao], axis=1)", "PyTorch's gate order i, f, g, o",
           kind="wrong index"),
    Mutant("lstm_step", "lstm_step_backward", "dc += (1 - tanh_c**2) * dtanh_c",
           "dc = (1 - tanh_c**2) * dtanh_c", "= instead of += at the next_c fork",
           kind="fork overwrite"),
    Mutant("lstm_step", "lstm_step_backward", "dc = 1.0 * dnext_c", "dc = dnext_c",
           "dc aliases dnext_c, then += writes into it", kind="in-place write"),
    # C19 LSTM
    Mutant("lstm", "lstm_backward",
           "lstm_step_backward(dh_t, dprev_c, caches[t])",
           "lstm_step_backward(dh_t, np.zeros_like(dprev_c), caches[t])",
           "drops the cell-state gradient from step t+1", kind="dropped path"),
    Mutant("lstm", "lstm_backward", "db += db_t", "db = db_t", "= instead of += for the shared b",
           kind="fork overwrite"),
    # C20 word embedding
    Mutant("word_embedding", "word_embedding_backward", "np.add.at(dW, x, dout)", "dW[x] += dout",
           "fancy-index += keeps one of the repeated indices", kind="fork overwrite"),
    Mutant("word_embedding", "word_embedding_backward", "dW = np.zeros_like(W, dtype=dout.dtype)",
           "dW = np.zeros_like(W, dtype=x.dtype)", "an integer dW (x's dtype)", kind="dtype"),
    # C21 temporal affine
    Mutant("temporal_affine", "temporal_affine_backward", "db = dout_flat.sum(axis=0)",
           "db = dout.sum(axis=0)", "db summed over N only, shape (T, M)", kind="wrong axis"),
    Mutant("temporal_affine", "temporal_affine_backward",
           "dw = x.reshape(N * T, D).T.dot(dout_flat)", "dw = x[:, -1, :].T.dot(dout[:, -1, :])",
           "dw from the last step only", kind="dropped path"),
    # C22 temporal softmax loss
    Mutant("temporal_softmax_loss", "temporal_softmax_loss", "dx_flat *= mask_flat[:, None] / N",
           "dx_flat *= mask_flat[:, None] / (N * T)", "divides by N T", kind="missing scale"),
    Mutant("temporal_softmax_loss", "temporal_softmax_loss", "dx_flat *= mask_flat[:, None] / N",
           "dx_flat /= N", "ignores the mask in the gradient", kind="wrong formula"),
)
