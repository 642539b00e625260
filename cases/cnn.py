"""Group C, model classes: cs231n/classifiers/cnn.py (assignment 2), mirroring handwritten/cnn.py.

ThreeLayerConvNet(input_dim, num_filters, filter_size, hidden_dim, num_classes, weight_scale,
reg, dtype), loss(X, y): conv - relu - 2x2 max pool - affine - relu - affine - softmax, the
convolution keeping the spatial size (stride 1, pad (filter_size - 1) / 2); penalty
0.5 reg sum W^2. Called in the model call style (fc_net.py); no state besides the
parameters. Kinks: the convolution's ReLU, the pool's ties among positive values, the hidden
ReLU; their golden zeroes filter 1 (its channel is 0 everywhere: every window ties at 0 and passes
no gradient). The notebook's own check of this class is a loss near log(10) on random data and a
gradient check: no number to pin.
"""

import jax.numpy as jnp
import numpy as np

from . import layers
from .fc_net import linear_kink_distance, wave
from .layer_utils import CONV, POOL, conv_relu_pool
from .spec import Arg, Case, Golden, Integers, Model, Mutant, Normal

C, H, W, F, HH, M, K, N = 2, 4, 4, 3, 3, 4, 3, 3    # input (C, H, W), filters, hidden, classes, N
REG = 0.1


def three_layer_convnet(W1, b1, W2, b2, W3, b3, X, y):
    p1 = conv_relu_pool(X, W1, b1, CONV, POOL)
    h2 = layers.relu(layers.affine(p1, W2, b2))
    scores = layers.affine(h2, W3, b3)
    penalty = 0.5 * REG * (jnp.sum(W1 * W1) + jnp.sum(W2 * W2) + jnp.sum(W3 * W3))
    return layers.softmax_loss(scores, y) + penalty


def convnet_gaps(W1, b1, W2, b2, W3, b3, X, y):
    """Every kink gap: the conv's ReLU inputs, each positive 2x2 window's top-two gap, the hidden
    ReLU inputs."""
    a = layers.conv(X, W1, b1, CONV)
    r = jnp.maximum(a, 0.0)
    win = r.reshape(N, F, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, F, -1, 4)
    top2 = jnp.sort(win, axis=-1)[..., -2:]
    pool_gap = jnp.where(top2[..., 1] > 0, top2[..., 1] - top2[..., 0], 1.0)
    hidden = top2[..., 1].reshape(N, -1) @ W2 + b2
    return jnp.concatenate([a.ravel(), pool_gap.ravel(), hidden.ravel()])


ARGS = (Arg("W1", (F, C, HH, HH), Normal(0.4)), Arg("b1", (F,), Normal(0.3)),
        Arg("W2", (F * (H // 2) * (W // 2), M), Normal(0.4)), Arg("b2", (M,), Normal(0.3)),
        Arg("W3", (M, K), Normal(0.5)), Arg("b3", (K,), Normal(0.3)),
        Arg("X", (N, C, H, W), Normal(), diff=False), Arg("y", (N,), Integers(0, K), diff=False))


def kink_inputs():
    """wave() parameters and X; filter 1 and its bias zero, so its channel is 0 everywhere."""
    out = {a.name: wave(a.shape, k) for k, a in enumerate(ARGS) if a.name != "y"}
    out["W1"][1], out["b1"][1] = 0.0, 0.0
    return {**{k: v.tolist() for k, v in out.items()}, "y": [0, 2, 1]}


KINK = ("ReLU'(0) = 0 after the convolution and in the hidden layer; a max-pool tie goes to the "
        "window's first maximum; samples keep every ReLU input and every positive window's top "
        "two values clear of each other")

CASES = (
    Case(
        name="three_layer_convnet", op="ThreeLayerConvNet",
        source="C12+C13+C1-C3 a2 cnn.py: ThreeLayerConvNet, 3x3 filters, reg = 0.1",
        args=ARGS, reference=three_layer_convnet, style="loss", outputs=("loss",), kink=KINK,
        kink_distance=linear_kink_distance(convnet_gaps, 6),
        goldens=(Golden(kink_inputs(), {"db1": [0.0282954622625, 0.0, 0.0]},
                        "filter 1 and b1[1] zero: its channel is 0, every window ties at 0 and "
                        "passes no gradient, db1[1] = 0", at_kink=True, digits=12),),
        model=Model("ThreeLayerConvNet", "cnn",
                    {"input_dim": (C, H, W), "num_filters": F, "filter_size": HH, "hidden_dim": M,
                     "num_classes": K, "weight_scale": 1e-1, "reg": REG, "dtype": np.float64},
                    ("X", "y"), "no state besides the parameters; a fresh model per sample"),
        notes="the skeleton's conv_relu_pool and affine_relu sandwiches; W2 is (F H/2 W/2, M); "
              "penalty 0.5 reg sum W^2, gradient reg W; biases unpenalised"),
)

CNN = "ThreeLayerConvNet"
MUTANTS = (
    Mutant("three_layer_convnet", CNN, 'grads["W2"] += self.reg * W2', "pass",
           "dW2 misses the penalty's reg W2", kind="dropped path"),
    Mutant("three_layer_convnet", CNN,
           'dp1, grads["W2"], grads["b2"] = affine_relu_backward(dh2, cache2)',
           'dp1, grads["W2"], grads["b2"] = affine_backward(dh2, cache2[0])',
           "the hidden ReLU skipped in the backward", kind="wrong formula"),
    Mutant("three_layer_convnet", CNN, "np.sum(W1 * W1) + np.sum(W2 * W2)", "np.sum(W2 * W2)",
           "the penalty misses W1 (its gradient keeps reg W1)", kind="dropped path"),
)
