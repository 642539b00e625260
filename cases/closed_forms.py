"""Functions whose derivatives are known in closed form: the finite-difference oracle's own test
(tests/meta/test_fd_oracle.py) and its calibration (`gradref reliability`) measure its true error
on them, badly scaled inputs included."""

import jax.numpy as jnp
import numpy as np

from .impl import Implementation
from .spec import Arg, Case, Uniform

# (name, f in jax.numpy, f' in NumPy, domain): elementwise, so <dout, f(x)> has gradient dout f'(x)
KNOWN = [
    ("log_near_1e_3", jnp.log, lambda x: 1 / x, Uniform(1e-3, 2e-3)),
    ("reciprocal_near_1e_3", lambda x: 1 / x, lambda x: -1 / x**2, Uniform(1e-3, 2e-3)),
    ("cube_near_1e3", lambda x: x**3, lambda x: 3 * x**2, Uniform(1e3, 2e3)),
    ("sqrt_near_1e3", jnp.sqrt, lambda x: 0.5 / np.sqrt(x), Uniform(1e3, 2e3)),
    ("steep_exp", lambda x: jnp.exp(10 * x), lambda x: 10 * np.exp(10 * x), Uniform(-2, 2)),
    ("fast_sine", lambda x: jnp.sin(30 * x), lambda x: 30 * np.cos(30 * x), Uniform(-1, 1)),
    ("gaussian_bump", lambda x: jnp.exp(-x**2), lambda x: -2 * x * np.exp(-x**2), Uniform(-3, 3)),
]


def closed_form(name, f, df, domain, size=5, relative_error=0.0):
    """A case for f and an implementation returning dout * f'(x) * (1 + relative_error)."""
    case = Case(name=name, op="fn", source="closed form", args=(Arg("x", (size,), domain),),
                reference=f)
    case.validate()
    impl = Implementation("closed form", {
        "fn_forward": lambda x: (np.asarray(f(x), dtype=np.float64), x),
        "fn_backward": lambda dout, x: dout * df(x) * (1 + relative_error),
    })
    return case, impl


def exact_fd_target(df, samples, fd_steps: np.ndarray) -> np.ndarray:
    """(S, E): <grad, h_i e_i> = dout f'(x) h_i, the exact value of what the finite differences
    estimate along each element's step."""
    x = np.stack([s.arrays["x"] for s in samples])
    dout = np.stack([s.douts[0] for s in samples])
    return dout * df(x) * fd_steps
