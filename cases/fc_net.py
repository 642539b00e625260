"""Group C, model classes: cs231n/classifiers/fc_net.py, mirroring handwritten/fc_net.py.

The model call style (spec.Model): the checker constructs the implementation's class with the
notebooks' kind of constructor arguments (small dims, dtype=np.float64, a dropout seed), sets
`model.params` to the sample's values and calls `model.loss(X, y)`; the loss and every entry of
`grads` are judged against an independent jax.numpy loss of the parameters, as every case.

  TwoLayerNet        assignment 1 (2020+) fc_net.py: TwoLayerNet(input_dim, hidden_dim,
                     num_classes, weight_scale, reg), loss(X, y); penalty 0.5 reg sum W^2
  FullyConnectedNet  assignment 2 fc_net.py: FullyConnectedNet(hidden_dims, input_dim,
                     num_classes, dropout_keep_ratio, normalization, reg, weight_scale, dtype,
                     seed), loss(X, y); {affine - [norm] - relu - [dropout]} x (L - 1) - affine -
                     softmax; penalty 0.5 reg sum_l W_l^2

Non-parameter state, as the assignment defines it: `loss(X, y)` with labels is train mode, so
batchnorm normalizes with the batch's statistics (the running statistics it updates in
`bn_params` do not enter the loss; every sample constructs a fresh model, so none carry over);
dropout reseeds NumPy's generator from dropout_param["seed"] in every dropout layer (the
notebooks' seed=123 makes the masks deterministic), mask = 1(u < p) / p with
u = np.random.rand(N, H) after np.random.seed(seed), the same in the reference.

Goldens: the two-layer net's notebook check (FullyConnectedNets.ipynb until 2019,
two_layer_net.ipynb since 2020: N, D, H, C = 3, 5, 50, 7, linspace parameters, asserting the
loss 3.4702243556 and, with reg = 1.0, 26.5948426952 within 1e-10; printed to 11 digits, checked
within one unit of the last). Each model also has a golden at the ReLU's kink: a hidden unit with
a zero weight column and a zero bias (after a normalization: gamma = beta = 0) has input exactly
0 on every example, so it passes no gradient; expected numbers from the JAX reference, whose
jnp.where ReLU has derivative 0 at 0, pasted.
"""

import jax
import jax.numpy as jnp
import numpy as np

from . import layers
from .layer_utils import ramp
from .spec import Arg, Case, Golden, Integers, Model, Mutant, Normal, elements, planted_in

RELU_KINK = ("ReLU'(0) = 0: a hidden unit whose input is exactly 0 passes no gradient "
             "(jnp.maximum would give 0.5); samples keep every hidden pre-activation clear of 0")
DROPOUT_SEED = 123      # the notebooks' gradient checks construct with seed=123


# --- references: the model's loss as a function of its parameters -------------------------------

def penalty(reg, weights):
    return 0.5 * reg * sum(jnp.sum(w * w) for w in weights)


def two_layer_net(reg):
    def loss(W1, b1, W2, b2, X, y):
        scores = layers.affine(layers.relu(layers.affine(X, W1, b1)), W2, b2)
        return layers.softmax_loss(scores, y) + penalty(reg, (W1, W2))
    return loss


def param_names(n_layers, normalization):
    names = []
    for i in range(1, n_layers + 1):
        names += [f"W{i}", f"b{i}"]
        if normalization and i < n_layers:
            names += [f"gamma{i}", f"beta{i}"]
    return tuple(names)


def fc_net(hidden_dims, normalization, keep, reg):
    """{affine - [norm] - relu - [dropout]} x (L - 1) - affine - softmax, + 0.5 reg sum W^2."""
    L = len(hidden_dims) + 1
    names = param_names(L, normalization)

    def loss(*args):
        p = dict(zip(names, args))
        X, y = args[len(names):]
        h = X
        for i in range(1, L):
            h = layers.affine(h, p[f"W{i}"], p[f"b{i}"])
            if normalization == "batchnorm":
                h = layers.batchnorm(h, p[f"gamma{i}"], p[f"beta{i}"], {"mode": "train"})
            if normalization == "layernorm":
                h = layers.layernorm(h, p[f"gamma{i}"], p[f"beta{i}"], {})
            h = layers.relu(h)
            if keep != 1:
                h = h * layers.dropout_mask({"p": keep, "seed": DROPOUT_SEED}, h.shape)
        scores = layers.affine(h, p[f"W{L}"], p[f"b{L}"])
        return layers.softmax_loss(scores, y) + penalty(reg, [p[f"W{i}"] for i in range(1, L + 1)])
    return loss


# --- kinks: every hidden pre-activation, over how fast one parameter moves it --------------------

def linear_kink_distance(gaps, n_diff):
    """A kink_distance for a whole model: `gaps(*args)` (jax.numpy) returns every quantity whose
    zero is a kink (hidden ReLU inputs, max-pool runner-up gaps); the full finite-difference check
    moves one parameter at a time, so the distance is min over gaps of |g| / max_i |dg/dtheta_i|
    (first order; KINK_CLEARANCE covers the rest), the slopes from jax.jacfwd, compiled once.
    The differentiable arguments come first (the parameters), then X and y."""
    @jax.jit
    def measure(params, rest):
        g = gaps(*params, *rest)
        jac = jax.jacfwd(lambda ps: gaps(*ps, *rest))(params)
        slope = jnp.max(jnp.stack([jnp.abs(j).reshape(g.shape[0], -1).max(axis=1) for j in jac]),
                        axis=0)
        return g, slope

    def distance(*args):
        params = tuple(np.asarray(a, dtype=np.float64) for a in args[:n_diff])
        g, slope = measure(params, tuple(np.asarray(a) for a in args[n_diff:]))
        g, slope = np.asarray(g), np.asarray(slope)
        return float(np.min(np.abs(g) / np.maximum(slope, np.finfo(float).tiny), initial=np.inf))
    return distance


def fc_net_gaps(hidden_dims, normalization, keep):
    """(params..., X, y) -> every hidden ReLU input, flattened."""
    L = len(hidden_dims) + 1
    names = param_names(L, normalization)

    def gaps(*args):
        p = dict(zip(names, args))
        h = args[len(names)]
        h = h.reshape(h.shape[0], -1)
        out = []
        for i in range(1, L):
            a = h @ p[f"W{i}"] + p[f"b{i}"]
            if normalization:
                axis = 0 if normalization == "batchnorm" else 1
                a = p[f"gamma{i}"] * layers._normalized(a, axis) + p[f"beta{i}"]
            out.append(a.ravel())
            h = jnp.maximum(a, 0.0)
            if keep != 1:
                h = h * layers.dropout_mask({"p": keep, "seed": DROPOUT_SEED}, h.shape)
        return jnp.concatenate(out)
    return gaps


def fc_net_kink(hidden_dims, normalization, keep):
    n = len(param_names(len(hidden_dims) + 1, normalization))
    return linear_kink_distance(fc_net_gaps(hidden_dims, normalization, keep), n)


# --- goldens -----------------------------------------------------------------------------------

def notebook_two_layer_net(N=3, D=5, H=50, C=7):
    """two_layer_net.ipynb's fixed parameters and inputs (np.linspace), y = [0, 5, 1]."""
    return {"W1": ramp((D, H), -0.7, 0.3).tolist(), "b1": ramp((H,), -0.1, 0.9).tolist(),
            "W2": ramp((H, C), -0.3, 0.4).tolist(), "b2": ramp((C,), -0.9, 0.1).tolist(),
            "X": np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T.tolist(), "y": [0, 5, 1]}


def wave(shape, k):
    """0.6 cos(1.3 i + k) over the entries: a fixed input that is not a ramp (a layernorm of ramps
    is scale-free, and its gradient all but vanishes)."""
    return 0.6 * np.cos(1.3 * np.arange(elements(shape)) + k).reshape(shape)


def kink_inputs(case_args, unit=1, normalization=None):
    """Parameters and X from a formula (`wave`), hidden unit `unit` of layer 1 at exactly 0:
    W1[:, unit] = 0 and b1[unit] = 0, or gamma1[unit] = beta1[unit] = 0 after a normalization."""
    out = {}
    for k, a in enumerate(case_args):
        if isinstance(a.domain, Integers):
            out[a.name] = (np.arange(elements(a.shape)) % a.domain.hi).reshape(a.shape).tolist()
            continue
        v = wave(a.shape, k)
        if normalization and a.name in ("gamma1", "beta1"):
            v[unit] = 0.0
        if not normalization and a.name in ("W1", "b1"):
            v[..., unit] = 0.0
        out[a.name] = v.tolist()
    return out


# --- the cases ---------------------------------------------------------------------------------

def fc_args(D, hidden_dims, C, N, normalization):
    dims = [D] + list(hidden_dims) + [C]
    args = []
    for i in range(1, len(dims)):
        args += [Arg(f"W{i}", (dims[i - 1], dims[i]), Normal(0.6)), Arg(f"b{i}", (dims[i],), Normal(0.5))]
        if normalization and i < len(dims) - 1:
            args += [Arg(f"gamma{i}", (dims[i],), Normal(1.0)), Arg(f"beta{i}", (dims[i],), Normal(0.5))]
    return tuple(args) + (Arg("X", (N, D), Normal(), diff=False),
                          Arg("y", (N,), Integers(0, C), diff=False))


FC_DIMS = (5, (4, 3), 3, 4)   # D, hidden_dims, C, N: two hidden layers, N != D != C


def fc_net_case(name, source, normalization=None, keep=1, reg=0.0, notes=""):
    D, hidden, C, N = FC_DIMS
    args = fc_args(D, hidden, C, N, normalization)
    state = ["every sample constructs a fresh model; loss(X, y) is train mode"]
    if normalization == "batchnorm":
        state.append("batchnorm uses the batch's statistics (running statistics do not enter)")
    if keep != 1:
        state.append(f"dropout keeps units with p = {keep}; seed={DROPOUT_SEED} reseeds NumPy in "
                     "every dropout layer, so the masks are fixed")
    model = Model("FullyConnectedNet", "fc_net",
                  {"hidden_dims": list(hidden), "input_dim": D, "num_classes": C,
                   "dropout_keep_ratio": keep, "normalization": normalization, "reg": reg,
                   "weight_scale": 5e-2, "dtype": np.float64, "seed": DROPOUT_SEED},
                  ("X", "y"), "; ".join(state))
    golden = Golden(kink_inputs(args, normalization=normalization), KINK_EXPECT[name],
                    "hidden unit 1 of layer 1 sits exactly at the ReLU's kink on every example; "
                    "it passes no gradient", at_kink=True, digits=12)
    return Case(name=name, op="FullyConnectedNet", source=source, args=args,
                reference=fc_net(hidden, normalization, keep, reg), style="loss",
                outputs=("loss",), kink=RELU_KINK, kink_distance=fc_net_kink(hidden, normalization, keep),
                goldens=(golden,), model=model,
                notes=f"{model.state}; penalty 0.5 reg sum W^2 (reg = {reg:g}), gradient reg W; "
                      f"biases, gamma, beta unpenalised; {notes}".rstrip("; "))


def two_layer_case(name, source, reg, loss_golden):
    N, D, H, C = 3, 5, 50, 7
    args = (Arg("W1", (D, H), Normal(0.3)), Arg("b1", (H,), Normal(0.3)),
            Arg("W2", (H, C), Normal(0.3)), Arg("b2", (C,), Normal(0.3)),
            Arg("X", (N, D), Normal(2.0), diff=False), Arg("y", (N,), Integers(0, C), diff=False))
    return Case(
        name=name, op="TwoLayerNet", source=source, args=args, reference=two_layer_net(reg),
        style="loss", outputs=("loss",), kink=RELU_KINK,
        kink_distance=fc_net_kink((H,), None, 1), fd="full",
        goldens=(Golden(notebook_two_layer_net(), {"loss": loss_golden},
                        f"the notebook's linspace model, reg = {reg:g}", digits=11),
                 Golden(kink_inputs(args), KINK_EXPECT["two_layer_net_fc"],  # db1: reg changes dW only
                        "hidden unit 1 (W1[:, 1] = 0, "
                        "b1[1] = 0) sits at the ReLU's kink on every example: db1[1] = 0",
                        at_kink=True, digits=12)),
        model=Model("TwoLayerNet", "fc_net", {"input_dim": D, "hidden_dim": H, "num_classes": C,
                                              "weight_scale": 1e-3, "reg": reg}, ("X", "y"),
                    "no state besides the parameters; reg is a constructor argument"),
        notes="the 2020+ assignment 1 API; the notebook's dims N, D, H, C = 3, 5, 50, 7; "
              f"penalty 0.5 reg sum W^2 (reg = {reg:g}), gradient reg W; biases unpenalised")


# Goldens at the kink: the JAX reference's gradient at kink_inputs, printed to 12 digits (so
# compared within one unit of the 12th: rounding noise of 1e-14 between equal entries does
# not matter; the convention does: JAX's maximum would give the unit at 0 half its gradient).
KINK_EXPECT = {
    "two_layer_net_fc": {"db1": [
        0.310804715799, 0.0, 0.0, -0.139361882539, 0.0423929183623, 0.229383920802, 0.0, 0.0,
        -0.288052053801, 0.312641274291, -0.0601995219596, 0.0, 0.0, 0.108788880842,
        -0.00921008878895, -0.226239187012, 0.0, 0.0, 0.299598587126, -0.313618806151, 0.0, 0.0,
        0.148183653748, -0.0769903639007, -0.0240764931543, 0.0, 0.0, 0.0745499867557,
        -0.307770118955, 0.311063397654, 0.0, 0.0, -0.141106508164, 0.0443245444939,
        0.227688387606, 0.0, 0.0, -0.287274014472, 0.312474596345, -0.061586995905, 0.0, 0.0,
        0.110616085283, -0.0111594056298, -0.225934771086, 0.0, 0.0, 0.299014481928,
        -0.313659022988, 0.0
    ]},
    "fc_net": {"db1": [
        -0.00195832268933, 0.0, 0.0, 0.0122362830147
    ]},
    "fc_net_batchnorm": {"dbeta1": [
        0.0, 0.0, 0.0, -0.0432520088869
    ]},
    "fc_net_layernorm": {"dbeta1": [
        0.0, 0.0, -0.00380514004736, 0.0441093700594
    ]},
    "fc_net_dropout": {"db1": [
        -0.0236283666026, 0.0, 0.0, 0.0
    ]},
}

A2 = "a2 (2020+) fc_net.py: FullyConnectedNet"
CASES = (
    two_layer_case("two_layer_net_fc", "C7 a1 (2020+) fc_net.py: TwoLayerNet, reg = 0", 0.0,
                   3.4702243556),
    two_layer_case("two_layer_net_fc_reg", "C7 a1 (2020+) fc_net.py: TwoLayerNet, reg = 1.0", 1.0,
                   26.5948426952),
    fc_net_case("fc_net", f"C1-C3 {A2}, two hidden layers, reg = 0.1", reg=0.1),
    fc_net_case("fc_net_batchnorm", f"C1-C3+C8 {A2}, batchnorm, reg = 0.1", "batchnorm", reg=0.1),
    fc_net_case("fc_net_layernorm", f"C1-C3+C10 {A2}, layernorm, reg = 0.1", "layernorm", reg=0.1),
    fc_net_case("fc_net_dropout", f"C1-C3+C11 {A2}, dropout (keep 0.6, seed {DROPOUT_SEED})",
                keep=0.6),
)

FC = "FullyConnectedNet"
NORM_THEN_RELU = ('            h, caches[i, "norm"] = self._norm_forward(h, i)                   # (2) normalize\n'
                  '            h, caches[i, "relu"] = relu_forward(h)                            # (3) max(0, .)')
RELU_THEN_NORM = ('            h, caches[i, "relu"] = relu_forward(h)                            # (3) max(0, .)\n'
                  '            h, caches[i, "norm"] = self._norm_forward(h, i)                   # (2) normalize')
REG_GRAD = '        for i in range(1, L + 1):\n            grads[f"W{i}"] += self.reg'
DROPOUT_BACK = 'dh = dropout_backward(dh, caches[i, "dropout"])'

MUTANTS = (
    Mutant("two_layer_net_fc_reg", "fc_net.TwoLayerNet", 'grads["W1"] += self.reg * W1', "pass",
           "dW1 misses the penalty's reg W1", kind="dropped path"),
    Mutant("two_layer_net_fc_reg", "fc_net.TwoLayerNet", 'grads["W2"] += self.reg * W2',
           'grads["W2"] += 2 * self.reg * W2', "2 reg W2 (the 2019 convention) with the 0.5 reg penalty",
           kind="missing scale"),
    Mutant("two_layer_net_fc", "fc_net.TwoLayerNet",
           'dX, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)',
           'dX, grads["W1"], grads["b1"] = affine_backward(dh, cache1[0])',
           "the hidden ReLU skipped in the backward", kind="wrong formula"),
    Mutant("fc_net", FC, REG_GRAD, REG_GRAD.replace("L + 1", "L"), "the last layer's dW misses reg W",
           kind="dropped path"),
    Mutant("fc_net", FC, "loss += 0.5 * self.reg * np.sum(W * W)", "loss += self.reg * np.sum(W * W)",
           "penalty reg sum W^2 with gradient reg W", kind="missing scale"),
    Mutant("fc_net_batchnorm", FC, NORM_THEN_RELU, RELU_THEN_NORM,
           "batchnorm applied after the ReLU instead of before", kind="wrong formula"),
    Mutant("fc_net_layernorm", FC, NORM_THEN_RELU, RELU_THEN_NORM,
           "layernorm applied after the ReLU instead of before", kind="wrong formula"),
    *planted_in(("fc_net_batchnorm", "fc_net_layernorm"), FC,
                ('grads[f"gamma{i}"], grads[f"beta{i}"] = dgamma, dbeta',
                 'grads[f"gamma{i}"], grads[f"beta{i}"] = dbeta, dgamma',
                 "dgamma and dbeta swapped", "wrong index")),
    Mutant("two_layer_net_fc", "fc_net.TwoLayerNet", "h, cache1 = affine_relu_forward(X, W1, b1)",
           "h, cache1 = affine_relu_forward(X, W1, 0 * b1)", "b1 left out of the forward",
           kind="wrong formula"),
    Mutant("fc_net_dropout", FC, DROPOUT_BACK,
           'dh = dh * (np.random.rand(*dh.shape) < self.dropout_param["p"]) / self.dropout_param["p"]',
           "dropout mask not reused in the backward: a fresh one drawn", kind="wrong formula"),
    Mutant("fc_net_dropout", FC, DROPOUT_BACK, "dh = 1.0 * dh",
           "the dropout mask not applied in the backward", kind="wrong formula"),
)
