"""The records of handwritten/neural_net.py: C7, assignment 1's (2019) TwoLayerNet, as its loss
function (two_layer_net_loss) and as the class (the model call style, spec.Model).

The reference is the net's math in jax.numpy, written without looking at handwritten/.
Conventions (the 2019 assignment's): the data loss is a mean over N, the penalty
reg (sum W1^2 + sum W2^2), gradient 2 reg W (not the 0.5 reg of fc_net); ReLU'(0) = 0.
"""

from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from .conventions import relu_hidden
from .layers import picked
from .linear_classifiers import REG
from .spec import Arg, Case, Golden, Integers, Model, Mutant, Normal, Static, planted_in


# --- reference ----------------------------------------------------------------------------------

def two_layer_net(W1, b1, W2, b2, X, y, reg):
    """affine - ReLU - affine - softmax loss, penalty reg (sum W1^2 + sum W2^2)."""
    scores = jax.nn.relu(X @ W1 + b1) @ W2 + b2
    return (-jnp.mean(picked(jax.nn.log_softmax(scores, axis=1), y))
            + reg * (jnp.sum(W1**2) + jnp.sum(W2**2)))


# --- kink distance: how far (max-norm over the differentiable inputs) to the nearest kink ----

def relu_hidden_kink(W1, b1, W2, b2, X, y, reg):
    """A hidden pre-activation x_i w_j + b_j moves by at most ||x_i||_1 + 1 per unit change
    (the labels and reg move no kink)."""
    h = X @ W1 + b1
    return float(np.min(np.abs(h) / (np.abs(X).sum(axis=1, keepdims=True) + 1.0)))


# --- the notebook's toy model -------------------------------------------------------------------

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
# Expected numbers: a jax.numpy forward that spells the convention out (jnp.where(h > 0, h, 0) for
# ReLU, whose jax.grad is 0 at exactly 0), pasted as printed.

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


# --- the function and the class share shapes and the reference ---------------------------------

def net_case(name, source, shapes, domains, reg, **kw):
    (D, H, C, N), (w, x) = shapes, domains
    return Case(
        name=name, op="two_layer_net_loss", source=source,
        args=(Arg("W1", (D, H), Normal(w)), Arg("b1", (H,), Normal(w)),
              Arg("W2", (H, C), Normal(w)), Arg("b2", (C,), Normal(w)),
              Arg("X", (N, D), Normal(x), diff=False), Arg("y", (N,), Integers(0, C), diff=False),
              Static("reg", reg)),
        reference=two_layer_net, style="loss", outputs=("loss",),
        kink=relu_hidden(), kink_distance=relu_hidden_kink,
        notes="TwoLayerNet.loss(X, y, reg) as a function; mean over N; penalty "
              "reg (sum W1^2 + sum W2^2), gradient 2 reg W (the 2019 assignment; not 0.5 reg); "
              "biases unpenalised", **kw)


CASES = (
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
)


NET_EDITS = (
    ("dh1 = (h1 > 0) * da1", "dh1 = (a1 >= 0) * da1", "ReLU mask 1(a >= 0) passes every unit",
     "wrong formula"),
    ("dW1 += 2 * reg * W1", "dW1 += reg * W1", "0.5 reg convention for W1", "missing scale"),
    ("db1 = dh1.sum(axis=0)", "db1 = da1.sum(axis=0)", "db1 skips the ReLU", "wrong formula"),
)

MUTANTS = (
    # C7 two-layer net
    *planted_in(("two_layer_net_loss", "two_layer_net_toy"), "two_layer_net_loss", *NET_EDITS),
    Mutant("two_layer_net_class", "neural_net.TwoLayerNet",
           "two_layer_net_loss(W1, b1, W2, b2, X, y, reg)",
           "two_layer_net_loss(W1, b1, W2, b2, X, y, 0.0)", "reg not passed on: no penalty",
           kind="dropped path"),
    Mutant("two_layer_net_class", "neural_net.TwoLayerNet",
           "two_layer_net_loss(W1, b1, W2, b2, X, y, reg)",
           "two_layer_net_loss(W1, b1, W2, b2, X, y, 0.5 * reg)",
           "0.5 reg (the fc_net convention) passed to the 2019 loss", kind="missing scale"),
)
