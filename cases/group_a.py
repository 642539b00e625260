"""Group A: every worked example of CS231n "Backpropagation, Intuitions" (optimization-2).

Each reference is the math of the notes in jax.numpy, written without looking at handwritten/.
Golden values are the catalogue's (float64, upstream gradient 1).
"""

import jax
import jax.numpy as jnp

from .spec import Arg, Case, Golden, Magnitude, Normal, Uniform

SCALAR = ()

MAX_TIE = ("ties x == y: the notes give both inputs the gradient, (1, 1); jnp.maximum splits it "
           "(0.5, 0.5). Samples keep |x - y| clear of the finite-difference steps.")

GROUP_A = (
    Case(
        name="multiply", op="multiply", source="A1 optimization-2: the multiply gate f = xy",
        args=(Arg("x", SCALAR, Uniform(-5, 5)), Arg("y", SCALAR, Uniform(-5, 5))),
        reference=lambda x, y: x * y,
        goldens=(Golden({"x": 4.0, "y": -3.0}, {"out": -12.0, "dx": -3.0, "dy": 4.0},
                        "f = xy at x = 4, y = -3"),),
    ),
    Case(
        name="add", op="add", source="A2 optimization-2: the add gate f = x + y",
        args=(Arg("x", (2, 3), Normal(2.0)), Arg("y", (2, 3), Normal(2.0))),
        reference=lambda x, y: x + y,
    ),
    Case(
        name="max_gate", op="max_gate", source="A3 optimization-2: the max gate f = max(x, y)",
        args=(Arg("x", SCALAR, Uniform(-3, 3)), Arg("y", SCALAR, Uniform(-3, 3))),
        reference=lambda x, y: jnp.maximum(x, y),
        kink=MAX_TIE,
        kink_distance=lambda x, y: abs(x - y) / 2,   # each input moves by h: x - y by 2h
        goldens=(Golden({"x": 4.0, "y": 2.0}, {"out": 4.0, "dx": 1.0, "dy": 0.0},
                        "max routes the gradient to the larger input"),
                 Golden({"x": 3.0, "y": 3.0}, {"out": 3.0, "dx": 1.0, "dy": 1.0},
                        "at a tie both inputs get the gradient (the notes' convention)",
                        at_kink=True)),
    ),
    Case(
        name="chain_rule", op="chain_rule", source="A4 optimization-2: q = x + y, f = qz",
        args=(Arg("x", SCALAR, Uniform(-5, 5)), Arg("y", SCALAR, Uniform(-5, 5)),
              Arg("z", SCALAR, Uniform(-5, 5))),
        reference=lambda x, y, z: (x + y) * z,
        goldens=(Golden({"x": -2.0, "y": 5.0, "z": -4.0},
                        {"out": -12.0, "dx": -4.0, "dy": -4.0, "dz": 3.0},
                        "the source notebook: dfdx = dfdy = -4.0", exact=True),),
    ),
    Case(
        name="reciprocal", op="reciprocal", source="A5 optimization-2: the 1/x gate",
        args=(Arg("x", (3,), Magnitude(0.5, 3.0)),),   # away from the pole at 0
        reference=lambda x: 1.0 / x,
        goldens=(Golden({"x": [1.37, -2.0, 0.5]}, {"out": [1 / 1.37, -0.5, 2.0],
                                                   "dx": [-1 / 1.37**2, -0.25, -4.0]},
                        "-1/x^2: the figure's 1.37 gets -0.53"),),
    ),
    Case(
        name="add_const", op="add_const", source="A5 optimization-2: the c + x gate",
        args=(Arg("x", (3,), Normal(2.0)), Arg("c", SCALAR, Uniform(-3, 3), diff=False)),
        reference=lambda x, c: c + x,
        notes="c is a parameter of the gate: it gets no gradient",
    ),
    Case(
        name="exp", op="exp", source="A5 optimization-2: the e^x gate",
        args=(Arg("x", (3,), Uniform(-4, 4)),),
        reference=lambda x: jnp.exp(x),
    ),
    Case(
        name="scale", op="scale", source="A5 optimization-2: the ax gate",
        args=(Arg("x", (3,), Normal(2.0)), Arg("a", SCALAR, Uniform(-3, 3), diff=False)),
        reference=lambda x, a: a * x,
        notes="a is a parameter of the gate: it gets no gradient",
    ),
    Case(
        name="sigmoid_neuron", op="sigmoid_neuron",
        source="A6 optimization-2: a 2-d neuron, f = sigma(w0 x0 + w1 x1 + w2)",
        args=(Arg("w", (3,), Normal(2.0)), Arg("x", (2,), Normal(2.0))),
        reference=lambda w, x: jax.nn.sigmoid(jnp.dot(w[:2], x) + w[2]),
        goldens=(Golden({"w": [2.0, -3.0, -3.0], "x": [-1.0, -2.0]},
                        {"out": 0.7310585786300049,
                         "dx": [0.3932238664829637, -0.5898357997244456],
                         "dw": [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185]},
                        "the source notebook's printed dx and dw", exact=True),),
    ),
    Case(
        name="sigmoid", op="sigmoid", source="A7 optimization-2: sigma'(x) = sigma (1 - sigma)",
        args=(Arg("x", (4,), Uniform(-8, 8)),),
        reference=jax.nn.sigmoid,
        goldens=(Golden({"x": [1.0, 0.0, -1000.0, 1000.0]},
                        {"out": [0.7310585786300049, 0.5, 0.0, 1.0],
                         "dx": [0.19661193324148185, 0.25, 0.0, 0.0]},
                        "0.73 -> about 0.2; saturated at +-1000 the simplified sigma (1 - sigma) "
                        "gives 0 where e^x / (1 + e^x)^2 gives nan"),),
    ),
    Case(
        name="staged", op="staged",
        source="A8 optimization-2: staged computation f = (x + sigma(y)) / (sigma(x) + (x + y)^2)",
        args=(Arg("x", SCALAR, Uniform(-4, 4)), Arg("y", SCALAR, Uniform(-4, 4))),
        reference=lambda x, y: (x + jax.nn.sigmoid(y)) / (jax.nn.sigmoid(x) + (x + y) ** 2),
        goldens=(Golden({"x": 3.0, "y": -4.0},
                        {"out": 1.5456448841066441, "dx": 2.0595697955721652,
                         "dy": 1.5922327514838093}, "the catalogue's A8 golden"),),
    ),
    Case(
        name="patterns_circuit", op="patterns_circuit",
        source="A9 optimization-2: gradient flow patterns f = 2 (xy + max(z, w))",
        args=(Arg("x", SCALAR, Uniform(-5, 5)), Arg("y", SCALAR, Uniform(-5, 5)),
              Arg("z", SCALAR, Uniform(-5, 5)), Arg("w", SCALAR, Uniform(-5, 5))),
        reference=lambda x, y, z, w: 2.0 * (x * y + jnp.maximum(z, w)),
        kink=MAX_TIE.replace("x == y", "z == w").replace("|x - y|", "|z - w|"),
        kink_distance=lambda x, y, z, w: abs(z - w) / 2,
        goldens=(Golden({"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0},
                        {"out": -20.0, "dx": -8.0, "dy": 6.0, "dz": 2.0, "dw": 0.0},
                        "add distributes, max routes, multiply swaps"),
                 Golden({"x": 3.0, "y": -4.0, "z": 1.0, "w": 1.0},
                        {"out": -22.0, "dz": 2.0, "dw": 2.0},
                        "at a max tie both inputs get the gradient (the notes' convention)",
                        at_kink=True)),
    ),
    Case(
        name="matmul", op="matmul", source="A10 optimization-2: vectorized D = W X",
        args=(Arg("W", (5, 10), Normal()), Arg("X", (10, 3), Normal())),
        reference=lambda W, X: W @ X,
        notes="dimension analysis: dW = dD X^T has W's shape, dX = W^T dD has X's",
    ),
    Case(
        name="matmul_large", op="matmul",
        source="A10 at scale: 10^5 input elements, finite differences along random directions",
        args=(Arg("W", (200, 250), Normal()), Arg("X", (250, 200), Normal())),
        reference=lambda W, X: W @ X,
    ),
)
