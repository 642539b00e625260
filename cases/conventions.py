"""The conventions at non-differentiable points, as jax.numpy expressions.

Where a case declares a gradient at a kink (the hinge takes slope 0 at a margin of exactly 0; |r|
takes sign(0) = 0; a max-gate tie goes to the first input), JAX's own primitives may pick another
(jnp.maximum splits a tie 0.5/0.5; jnp.abs gives 1 at 0). A reference written with these
functions has the source's value everywhere, JAX's gradient everywhere off the kink, and the
declared convention on it, so `jax.vjp` of the reference reproduces the sources' goldens
at their kinks too (tests/meta/test_catalogue_goldens.py), and `gradref goldens` regenerates them.

Each is a jitted function so that it stays one named call in the reference's jaxpr: `gradref draw`
then shows the notes' one max gate, `max_to_first`, not the comparison and select inside (XLA
inlines the call when compiling, so the oracles compute the same).
"""

import jax
import jax.numpy as jnp


@jax.jit
def hinge(m):
    """max(0, m) with slope 1(m > 0): 0 at m = 0 (the notes' indicator, the assignments'
    `if margin > 0`). jnp.maximum(0, m) would give 0.5 there."""
    return jnp.where(m > 0, m, 0.0)


@jax.jit
def abs_sign(r):
    """|r| = sign(r) r, so d|r|/dr = sign(r): 0 at r = 0 (np.sign's convention). jnp.abs would
    give 1 there. (sign is piecewise constant: its own derivative is 0.)"""
    return jnp.sign(r) * r


@jax.jit
def max_to_first(x, y):
    """max(x, y) whose gradient goes whole to the first input at a tie: (1, 0), as np.argmax and
    max pooling route a tie. Any split (a, 1 - a), a in [0, 1], is a subgradient there (along
    (1, 1) max grows at rate 1); jnp.maximum takes (0.5, 0.5)."""
    return jnp.where(x >= y, x, y)


# --- the conventions in words: a case's `kink` text, parameterised by where the kink sits --------
# Each text is stated once; a case names its own inputs (`max_tie("z", "w")`), never edits
# another case's text.

def max_tie(x: str = "x", y: str = "y") -> str:
    """A max gate's tie x == y (max_to_first)."""
    return (f"ties {x} == {y}: the gradient goes to the first input, (1, 0), as np.argmax and max "
            "pooling route a tie (conventions.max_to_first). Any split (a, 1 - a) is a subgradient "
            "(jnp.maximum and torch take 0.5/0.5); giving both inputs the whole gradient, (1, 1), "
            f"is not: along (1, 1) max grows at rate 1, not 2. Samples keep |{x} - {y}| clear of "
            "the finite-difference steps.")


def hinge_margin(delta: str = "delta") -> str:
    """A hinge loss's margin s_j - s_y + delta of exactly 0 (hinge)."""
    return (f"a margin s_j - s_y + {delta} of exactly 0: slope 1(m > 0) = 0 (the notes' "
            "indicator; conventions.hinge); JAX's maximum would give 0.5")


def relu_hidden(mask: str = "(h > 0)") -> str:
    """A hidden layer's ReLU at 0, as the source's backward `mask` writes it."""
    return (f"ReLU'(0) = 0: a hidden pre-activation of exactly 0 passes no gradient "
            f"(the assignment's {mask}); jnp.maximum would give 0.5")


def relu_clear(where: str = "every pre-activation") -> str:
    """ReLU at 0 (jax.nn.relu's own convention), samples keeping `where` clear of it."""
    return f"ReLU'(0) = 0 (jax.nn.relu's convention too). Samples keep {where} clear of 0."
