"""The records of handwritten/micrograd_examples.py: D1-D4, micrograd's lecture and README.

Each reference is the math of the source in jax.numpy, written without looking at handwritten/:
scalar Values, as micrograd computes them. Golden values are the catalogue's (float64, upstream
gradient 1).
"""

import jax
import jax.numpy as jnp

from .conventions import relu_clear
from .spec import Arg, Case, Golden, Mutant, Normal, Uniform

SCALAR = ()


# --- references ---------------------------------------------------------------------------------

def _micrograd_readme(a, b):
    c = a + b
    d = a * b + b**3
    c = c + (c + 1)
    c = c + (1 + c + (-a))
    d = d + (d * 2 + jax.nn.relu(b + a))
    d = d + (3 * d + jax.nn.relu(b - a))
    e = c - d
    f = e**2
    return f / 2.0 + 10.0 / f


def _readme_distance(a, b):
    """The kinks of relu(b + a), relu(b - a) (each moves by 2h), and the pole of 10/f at
    f = e^2 = 0, e = 3a + 4b + 3 - 12 (ab + b^3) - 4 relu(b + a) - relu(b - a). A pole is no kink,
    but finite differences need it far away (their Taylor series in h/|e| must converge fast):
    its distance |e| / (|de/da| + |de/db|) counts 5 times shorter."""
    up, down = float(b + a > 0), float(b - a > 0)
    e = 3 * a + 4 * b + 3 - 12 * (a * b + b**3) - 4 * max(b + a, 0) - max(b - a, 0)
    slope = abs(3 - 12 * b - 4 * up + down) + abs(4 - 12 * a - 36 * b**2 - 4 * up - down)
    return min(abs(b + a) / 2, abs(b - a) / 2, abs(e) / slope / 5)


def _micrograd_sanity(x):
    z = 2 * x + 2 + x
    q = jax.nn.relu(z) + z * x
    h = jax.nn.relu(z * z)
    return h + q + q * x


# --- the lecture's neuron -----------------------------------------------------------------------

# |n| <= 4.1: past it tanh' = 1 - tanh^2 (JAX's derivative too) loses e^(2|n|)/4 ulps to
# cancellation, more than the bound allows (soak: N(0, 1) inputs gave n near 6, errors 4e-11).
TANH_NEURON_ARGS = tuple(Arg(n, SCALAR, Uniform(-1.2, 1.2)) for n in ("x1", "x2", "w1", "w2", "b"))

TANH_NEURON_GOLDEN = Golden(
    {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432},
    {"out": 0.70710678118654746, "dx1": -1.5, "dw1": 1.0, "dx2": 0.5, "dw2": 0.0, "db": 0.5},
    "the lecture's neuron: o = 1/sqrt(2), dn = 1 - o^2 = 0.5")

# --- goldens of more than a few lines, by case (each record below names its own) -----------------

MICROGRAD_README_GOLDENS = (
    Golden({"a": -4.0, "b": 2.0},
           {"out": 24.704081632653061, "da": 138.83381924198252,
            "db": 645.57725947521863}, "the README's printed g, a.grad, b.grad"),
    Golden({"a": 0.0, "b": 0.0},
           {"out": 5.611111111111111, "da": 6.777777777777778,
            "db": 9.037037037037036},
           "a = b = 0 puts both relu(b + a) and relu(b - a) at 0, ReLU'(0) = 0: "
           "e = c - d = 3, de/da = 3, de/db = 4, dg/de = e - 20/e^3 = 61/27, so "
           "g = 9/2 + 10/9, da = 61/9, db = 244/27 (jnp.maximum's 0.5 would give "
           "de/da = de/db = 1.5)",
           at_kink=True),
)


CASES = (
    # D1-D4 micrograd: scalar Values, as micrograd computes them.
    Case(
        name="micrograd_expr", op="micrograd_expr", source="D1 micrograd lecture: L = (ab + c) f",
        args=(Arg("a", SCALAR, Normal(2.0)), Arg("b", SCALAR, Normal(2.0)),
              Arg("c", SCALAR, Normal(2.0)), Arg("f", SCALAR, Normal(2.0))),
        reference=lambda a, b, c, f: (a * b + c) * f,
        goldens=(Golden({"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0},
                        {"out": -8.0, "da": 6.0, "db": -4.0, "dc": -2.0, "df": 4.0},
                        "the lecture's graph: L = -8", exact=True),),
    ),
    Case(
        name="tanh_neuron", op="tanh_neuron",
        source="D2 micrograd lecture: o = tanh(x1 w1 + x2 w2 + b)",
        args=TANH_NEURON_ARGS,
        reference=lambda x1, x2, w1, w2, b: jnp.tanh(x1 * w1 + x2 * w2 + b),
        goldens=(TANH_NEURON_GOLDEN,),
        notes="1 - o^2 gives dn = 0.49999999999999978 where JAX gives 0.50000000000000011: "
              "both within the golden tolerance",
    ),
    Case(
        name="tanh_neuron_exp", op="tanh_neuron_exp",
        source="D2 micrograd lecture: the same neuron with tanh built from exp",
        args=TANH_NEURON_ARGS,
        reference=lambda x1, x2, w1, w2, b: jnp.tanh(x1 * w1 + x2 * w2 + b),
        goldens=(TANH_NEURON_GOLDEN,),
        notes="built stably as s (1 - e) / (1 + e), e = exp(-2|n|), s = sign n",
    ),
    Case(
        name="micrograd_readme", op="micrograd_readme", source="D3 micrograd README example",
        args=(Arg("a", SCALAR, Normal(2.0)), Arg("b", SCALAR, Normal(2.0))),
        reference=_micrograd_readme,
        kink=relu_clear("b + a and b - a") + " f = (c - d)^2, the "
        "pole of 10/f, is kept 5 times farther from 0.",
        kink_distance=_readme_distance,
        goldens=MICROGRAD_README_GOLDENS,
    ),
    Case(
        name="micrograd_sanity", op="micrograd_sanity",
        source="D4 micrograd test_sanity_check: z = 3x + 2, y = relu(z^2) + q + qx",
        args=(Arg("x", SCALAR, Normal(2.0)),),
        reference=_micrograd_sanity,
        kink=relu_clear("z = 3x + 2"),
        kink_distance=lambda x: abs(3 * x + 2) / 3,
        goldens=(Golden({"x": -4.0}, {"out": -20.0, "dx": 46.0},
                        "the test's x = -4: y = -20, dy/dx = 46", exact=True),),
    ),
)


# Planted bugs: the default run of each case must reject every one (tests/meta/test_mutants.py).
MUTANTS = (
    # D1
    Mutant("micrograd_expr", "micrograd_expr_backward", "dd = f * dL", "dd = dL",
           "drops the factor f", kind="missing scale"),
    Mutant("micrograd_expr", "micrograd_expr_backward", "db = a * de", "db = b * de",
           "multiply does not swap", kind="wrong formula"),
    # D2
    Mutant("tanh_neuron", "tanh_neuron_backward", "dn = (1 - o**2) * do", "dn = (1 - o) * do",
           "tanh' taken as 1 - o", kind="wrong formula"),
    Mutant("tanh_neuron", "tanh_neuron_backward", "dx2 = w2 * dx2w2", "dx2 = x2 * dx2w2",
           "multiply does not swap", kind="wrong formula"),
    Mutant("tanh_neuron_exp", "tanh_neuron_exp_backward", "de += -1.0 * du", "de = -1.0 * du",
           "= instead of += at the e fork", kind="fork overwrite"),
    Mutant("tanh_neuron_exp", "tanh_neuron_exp_backward", "dm = (-2 * e) * de",
           "dm = (-e) * de", "d exp(-2m)/dm without the 2", kind="missing scale"),
    # D3
    Mutant("micrograd_readme", "micrograd_readme_backward", "df += (1 / 2.0) * dg1",
           "df = (1 / 2.0) * dg1", "= instead of += at the f fork", kind="fork overwrite"),
    Mutant("micrograd_readme", "micrograd_readme_backward", "da += -1.0 * dnega",
           "da += 1.0 * dnega", "negation passes the gradient unchanged", kind="sign"),
    # D4
    Mutant("micrograd_sanity", "micrograd_sanity_backward", "dz = z * dzz", "dz = 2 * z * dzz",
           "z*z counted three times", kind="missing scale"),
    Mutant("micrograd_sanity", "micrograd_sanity_backward", "dq += 1.0 * dhq", "dq = 1.0 * dhq",
           "= instead of += at the q fork", kind="fork overwrite"),
)
