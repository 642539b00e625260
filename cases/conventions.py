"""The conventions at non-differentiable points, as jax.numpy expressions.

Where a case declares a gradient at a kink (the hinge takes slope 0 at a margin of exactly 0; |r|
takes sign(0) = 0; a max-gate tie goes to the first input), JAX's own primitives may pick another
(jnp.maximum splits a tie 0.5/0.5; jnp.abs gives 1 at 0). A reference written with these
functions has the source's value everywhere, JAX's gradient everywhere off the kink, and the
declared convention on it, so `jax.vjp` of the reference reproduces the sources' goldens
at their kinks too (tests/test_golden.py), and `gradref goldens` regenerates them.

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
