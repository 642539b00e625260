"""The hand-derived reference implementation: NumPy only, CS231n calling convention.

    out, cache = <op>_forward(*inputs)
    grads      = <op>_backward(dout, cache)

Each module groups the ops of one source; `from handwritten import staged_forward` works for all.
"""

from .notes import *  # noqa: F401,F403  group A, the notes' worked examples
from .layers import *  # noqa: F401,F403  group C, the CS231n assignment layers
