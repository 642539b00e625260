"""Group A: every worked example of CS231n "Backpropagation, Intuitions" (optimization-2).

Each reference is the math of the notes in jax.numpy, written without looking at handwritten/.
Golden values are the catalogue's (float64, upstream gradient 1).
"""

import jax
import jax.numpy as jnp

from .conventions import max_tie, max_to_first
from .spec import Arg, Case, Golden, Magnitude, Mutant, Normal, Uniform

SCALAR = ()

# --- goldens of more than a few lines, by case (each record below names its own) -----------------

MAX_GATE_GOLDENS = (
    Golden({"x": 4.0, "y": 2.0}, {"out": 4.0, "dx": 1.0, "dy": 0.0},
           "max routes the gradient to the larger input"),
    Golden({"x": 3.0, "y": 3.0}, {"out": 3.0, "dx": 1.0, "dy": 0.0},
           "at a tie the gradient goes to the first input",
           at_kink=True),
)

SIGMOID_NEURON_GOLDENS = (
    Golden({"w": [2.0, -3.0, -3.0], "x": [-1.0, -2.0]},
           {"out": 0.7310585786300049,
            "dx": [0.3932238664829637, -0.5898357997244456],
            "dw": [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185]},
           "the source notebook's printed dx and dw", exact=True),
)

SIGMOID_GOLDENS = (
    Golden({"x": [1.0, 0.0, -1000.0, 1000.0]},
           {"out": [0.7310585786300049, 0.5, 0.0, 1.0],
            "dx": [0.19661193324148185, 0.25, 0.0, 0.0]},
           "0.73 -> about 0.2; saturated at +-1000 the simplified sigma (1 - sigma) "
           "gives 0 where e^x / (1 + e^x)^2 gives nan"),
)

PATTERNS_CIRCUIT_GOLDENS = (
    Golden({"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0},
           {"out": -20.0, "dx": -8.0, "dy": 6.0, "dz": 2.0, "dw": 0.0},
           "add distributes, max routes, multiply swaps"),
    Golden({"x": 3.0, "y": -4.0, "z": 1.0, "w": 1.0},
           {"out": -22.0, "dz": 2.0, "dw": 0.0},
           "at a max tie the gradient goes to the first input",
           at_kink=True),
)


CASES = (
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
        reference=lambda x, y: max_to_first(x, y),
        kink=max_tie(),
        kink_distance=lambda x, y: abs(x - y) / 2,   # each input moves by h: x - y by 2h
        goldens=MAX_GATE_GOLDENS,
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
        args=(Arg("w", (3,), Uniform(-2, 2)), Arg("x", (2,), Uniform(-1, 1))),
        reference=lambda w, x: jax.nn.sigmoid(jnp.dot(w[:2], x) + w[2]),
        notes="|dot| <= 6 by construction: deep in saturation (1 - f) f, computed from f as the "
              "notes do, loses relative precision (float32 at |dot| ~ 9 keeps no digit)",
        goldens=SIGMOID_NEURON_GOLDENS,
    ),
    Case(
        name="sigmoid", op="sigmoid", source="A7 optimization-2: sigma'(x) = sigma (1 - sigma)",
        args=(Arg("x", (4,), Uniform(-6, 6)),),
        reference=jax.nn.sigmoid,
        notes="random samples stay out of deep saturation (see sigmoid_neuron); the goldens at "
              "+-1000 check that saturation gives 0, not nan",
        goldens=SIGMOID_GOLDENS,
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
        reference=lambda x, y, z, w: 2.0 * (x * y + max_to_first(z, w)),
        kink=max_tie("z", "w"),
        kink_distance=lambda x, y, z, w: abs(z - w) / 2,
        goldens=PATTERNS_CIRCUIT_GOLDENS,
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
        args=(Arg("W", (10, 5000), Normal()), Arg("X", (5000, 10), Normal())),
        reference=lambda W, X: W @ X,
    ),
)

# Planted bugs: the default run of each case must reject every one (tests/meta/test_mutants.py).
MUTANTS = (
    # A1 multiply
    Mutant("multiply", "multiply_backward", "dx = y * dout", "dx = x * dout",
           "no swap: dx = x dout", kind="wrong formula"),
    Mutant("multiply", "multiply_backward", "dy = x * dout", "dy = x",
           "dy ignores dout", kind="ignored dout"),
    # A2 add
    Mutant("add", "add_backward", "dx = 1.0 * dout", "dx = 1.0", "dx ignores dout",
           kind="ignored dout"),
    Mutant("add", "add_backward", "dy = 1.0 * dout", "dy = 0.5 * dout",
           "dy halves the gradient", kind="missing scale"),
    # A3 max gate
    Mutant("max_gate", "max_gate_backward", "dx = (x >= y) * dout", "dx = (x <= y) * dout",
           "routes to the smaller input", kind="wrong formula"),
    Mutant("max_gate", "max_gate_backward", "dy = (y > x) * dout", "dy = dout",
           "routes to both inputs", kind="wrong formula"),
    Mutant("max_gate", "max_gate_backward", "dx = (x >= y) * dout", "dx = (x > y) * dout",
           "a tie gets (0, 0), not a subgradient", kind="kink convention"),
    Mutant("max_gate", "max_gate_backward", "dy = (y > x) * dout", "dy = (y >= x) * dout",
           "a tie gets (1, 1), not a subgradient", kind="kink convention"),
    # A4 chain rule
    Mutant("chain_rule", "chain_rule_backward", "dx = 1.0 * dq", "dx = 1.0 * dout",
           "skips the chain rule through q", kind="wrong formula"),
    Mutant("chain_rule", "chain_rule_backward", "dz = q * dout", "dz = z * dout",
           "dz = z, not q", kind="wrong formula"),
    # A5 unary gates
    Mutant("reciprocal", "reciprocal_backward", "(-1.0 / x**2)", "(1.0 / x**2)",
           "sign of -1/x^2 dropped", kind="sign"),
    Mutant("reciprocal", "reciprocal_backward", "(-1.0 / x**2)", "(-1.0 / x)",
           "-1/x instead of -1/x^2", kind="wrong formula"),
    Mutant("add_const", "add_const_backward", "dx = 1.0 * dout", "dx = 1.0",
           "ignores dout", kind="ignored dout"),
    Mutant("add_const", "add_const_backward", "dx = 1.0 * dout", "dx = 0.0 * dout",
           "treats x as the constant", kind="dropped path"),
    Mutant("exp", "exp_backward", "dx = f * dout", "dx = f", "ignores dout", kind="ignored dout"),
    Mutant("exp", "exp_backward", "dx = f * dout", "dx = dout", "derivative of e^x taken as 1",
           kind="wrong formula"),
    Mutant("exp", "exp_backward", "dx = f * dout", "dout *= f; dx = dout",
           "in place: dout *= f writes into dout", kind="in-place write"),
    Mutant("scale", "scale_backward", "dx = a * dout", "dx = dout", "drops the factor a",
           kind="missing scale"),
    Mutant("scale", "scale_backward", "dx = a * dout", "dx = a", "ignores dout",
           kind="ignored dout"),
    # A6 sigmoid neuron
    Mutant("sigmoid_neuron", "sigmoid_neuron_backward", "ddot = (1 - f) * f * dout",
           "ddot = (1 - f) * f", "ignores dout", kind="ignored dout"),
    Mutant("sigmoid_neuron", "sigmoid_neuron_backward", "1.0 * ddot])", "0.0 * ddot])",
           "no gradient for the bias w2", kind="dropped path"),
    Mutant("sigmoid_neuron", "sigmoid_neuron_backward", "[w[0] * ddot, w[1] * ddot]",
           "[x[0] * ddot, x[1] * ddot]", "dx uses x instead of w", kind="wrong formula"),
    # A7 sigmoid
    Mutant("sigmoid", "sigmoid_backward", "dx = ((1 - s) * s) * dout", "dx = ((s - 1) * s) * dout",
           "sigma' with the wrong sign", kind="sign"),
    Mutant("sigmoid", "sigmoid_backward", "dx = ((1 - s) * s) * dout", "dx = s * dout",
           "sigma' taken as sigma", kind="wrong formula"),
    Mutant("sigmoid", "sigmoid_backward", "dx = ((1 - s) * s) * dout",
           "dx = (((1 - s) * s) * dout).astype(np.float32)", "the gradient cast to float32",
           kind="dtype"),
    # A8 staged: = instead of += at each fork, and two slips
    Mutant("staged", "staged_backward", "dx += ((1 - sigx) * sigx) * dsigx",
           "dx = ((1 - sigx) * sigx) * dsigx", "= instead of += at the sigx fork",
           kind="fork overwrite"),
    Mutant("staged", "staged_backward", "dx += (1) * dnum", "dx = (1) * dnum",
           "= instead of += at the num fork", kind="fork overwrite"),
    Mutant("staged", "staged_backward", "dy += ((1 - sigy) * sigy) * dsigy",
           "dy = ((1 - sigy) * sigy) * dsigy", "= instead of += at the sigy fork",
           kind="fork overwrite"),
    Mutant("staged", "staged_backward", "dden = (-1.0 / (den**2)) * dinvden",
           "dden = (1.0 / (den**2)) * dinvden", "1/x gate with the wrong sign", kind="sign"),
    Mutant("staged", "staged_backward", "dnum = invden * dout", "dnum = invden",
           "dnum ignores dout", kind="ignored dout"),
    # A9 patterns circuit
    Mutant("patterns_circuit", "patterns_circuit_backward", "ds = 2.0 * dout", "ds = dout",
           "drops the factor 2", kind="missing scale"),
    Mutant("patterns_circuit", "patterns_circuit_backward", "dz = (z >= w) * dm", "dz = dm",
           "max distributes instead of routing", kind="wrong formula"),
    Mutant("patterns_circuit", "patterns_circuit_backward", "dx = y * dxy", "dx = x * dxy",
           "multiply does not swap", kind="wrong formula"),
    # A10 matmul
    Mutant("matmul", "matmul_backward", "dW = dD.dot(X.T)", "dW = X.dot(dD.T)",
           "transposed dW, (10, 5) for W (5, 10)", kind="transposed"),
    Mutant("matmul", "matmul_backward", "dX = W.T.dot(dD)", "dX = W.T.dot(dD) / 3",
           "dX averaged over the batch of 3", kind="missing scale"),
    Mutant("matmul", "matmul_backward", "dD = dout", "dD = dout * 0 + 1",
           "ignores dout", kind="ignored dout"),
)
