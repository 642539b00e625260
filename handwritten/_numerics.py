"""Numerical plumbing shared by the handwritten modules (none of it is math worth reading)."""

import functools

import numpy as np


def _underflow_ok(op):
    # Probabilities, sigmoids and their gradients round to 0 (or a subnormal) at inputs of
    # magnitude 1000: that is the correct double, not an error, so the underflow flag is
    # silenced for these ops (also under np.errstate(all='raise')). Overflow, invalid and
    # divide-by-zero still raise.
    @functools.wraps(op)
    def wrapped(*args, **kwargs):
        with np.errstate(under='ignore'):
            return op(*args, **kwargs)
    return wrapped
