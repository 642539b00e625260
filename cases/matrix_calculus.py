"""The records of handwritten/matrix_calculus.py: D12, the Matrix Cookbook's derivatives.

Each reference is the identity's left-hand side in jax.numpy, written without looking at
handwritten/. A is never symmetric (Normal), so A -> A^T slips show; X is well conditioned where
it is inverted.
"""

import jax.numpy as jnp
import numpy as np

from .spec import Arg, Case, Drawn, Mutant, Normal


def _well_conditioned(rng, shape):
    """3 I + 0.3 N(0, 1): eigenvalues near 3, so det > 0 and X^-1 is tame (redraw otherwise)."""
    while True:
        X = 3.0 * np.eye(shape[0]) + 0.3 * rng.standard_normal(shape)
        if np.linalg.det(X) > 0 and np.linalg.cond(X) < 10:
            return X


WELL_CONDITIONED = Drawn(_well_conditioned, "3 I + 0.3 N(0, 1), det > 0, cond < 10")

CASES = (
    # D12 the Matrix Cookbook. A is never symmetric (Normal), so A -> A^T slips show.
    Case(
        name="trace_ax", op="trace_ax", source="D12 Matrix Cookbook: d tr(AX)/dX = A^T",
        args=(Arg("A", (3, 4), Normal(1.0)), Arg("X", (4, 3), Normal(1.0))),
        reference=lambda A, X: jnp.trace(A @ X),
    ),
    Case(
        name="trace_xta", op="trace_xta", source="D12 Matrix Cookbook: d tr(X^T A)/dX = A",
        args=(Arg("X", (3, 4), Normal(1.0)), Arg("A", (3, 4), Normal(1.0))),
        reference=lambda X, A: jnp.trace(X.T @ A),
    ),
    Case(
        name="quadratic_form", op="quadratic_form",
        source="D12 Matrix Cookbook: d x^T A x/dx = (A + A^T) x",
        args=(Arg("x", (4,), Normal(1.0)), Arg("A", (4, 4), Normal(1.0))),
        reference=lambda x, A: x @ A @ x,
    ),
    Case(
        name="trace_xaxt", op="trace_xaxt",
        source="D12 Matrix Cookbook: d tr(X A X^T)/dX = X (A + A^T)",
        args=(Arg("X", (3, 4), Normal(1.0)), Arg("A", (4, 4), Normal(1.0))),
        reference=lambda X, A: jnp.trace(X @ A @ X.T),
    ),
    Case(
        name="log_det", op="log_det", source="D12 Matrix Cookbook: d log det X/dX = X^-T",
        args=(Arg("X", (4, 4), WELL_CONDITIONED),),
        reference=lambda X: jnp.log(jnp.linalg.det(X)),
    ),
    Case(
        name="trace_a_xinv", op="trace_a_xinv",
        source="D12 Matrix Cookbook: d tr(A X^-1)/dX = -(X^-1 A X^-1)^T",
        args=(Arg("A", (4, 4), Normal(1.0)), Arg("X", (4, 4), WELL_CONDITIONED)),
        reference=lambda A, X: jnp.trace(A @ jnp.linalg.inv(X)),
    ),
    Case(
        name="least_squares", op="least_squares",
        source="D12 Matrix Cookbook: d ||Ax - b||^2/dx = 2 A^T (Ax - b)",
        args=(Arg("A", (5, 3), Normal(1.0)), Arg("x", (3,), Normal(1.0)),
              Arg("b", (5,), Normal(1.0))),
        reference=lambda A, x, b: jnp.sum((A @ x - b) ** 2),
    ),
)


# Planted bugs: the default run of each case must reject every one (tests/meta/test_mutants.py).
MUTANTS = (
    # D12
    Mutant("trace_ax", "trace_ax_backward", "dX = A.T * dout", "dX = A * dout",
           "layout: A where A^T belongs (shape (3, 4) for X (4, 3))", kind="transposed"),
    Mutant("trace_ax", "trace_ax_backward", "dA = X.T * dout", "dA = X.T", "dA ignores dout",
           kind="ignored dout"),
    Mutant("trace_xta", "trace_xta_backward", "dX = A * dout", "dX = A.T * dout",
           "layout: A^T where A belongs", kind="transposed"),
    Mutant("trace_xta", "trace_xta_backward", "dA = X * dout", "dA = X", "dA ignores dout",
           kind="ignored dout"),
    Mutant("quadratic_form", "quadratic_form_backward", "dx += A.T.dot(dAx)", "dx += A.dot(dAx)",
           "2 A x: A taken as symmetric", kind="transposed"),
    Mutant("quadratic_form", "quadratic_form_backward", "dA = np.outer(dAx, x)",
           "dA = np.outer(x, x)", "dA ignores dout", kind="ignored dout"),
    Mutant("trace_xaxt", "trace_xaxt_backward", "dX += dXA.dot(A.T)", "dX += dXA.dot(A)",
           "2 X A: A taken as symmetric", kind="transposed"),
    Mutant("trace_xaxt", "trace_xaxt_backward", "dA = X.T.dot(dXA)", "dA = X.T.dot(X)",
           "dA ignores dout", kind="ignored dout"),
    Mutant("log_det", "log_det_backward", "dX = np.linalg.inv(X).T * dout",
           "dX = np.linalg.inv(X) * dout", "X^-1 where X^-T belongs", kind="transposed"),
    Mutant("log_det", "log_det_backward", "dX = np.linalg.inv(X).T * dout",
           "dX = np.linalg.inv(X).T", "ignores dout", kind="ignored dout"),
    Mutant("trace_a_xinv", "trace_a_xinv_backward", "dX = -Xinv.T.dot(dXinv).dot(Xinv.T)",
           "dX = Xinv.T.dot(dXinv).dot(Xinv.T)", "d X^-1 without the minus", kind="sign"),
    Mutant("trace_a_xinv", "trace_a_xinv_backward", "dXinv = A.T * dout", "dXinv = A * dout",
           "A where A^T belongs", kind="transposed"),
    Mutant("least_squares", "least_squares_backward", "dr = 2 * r * dout", "dr = r * dout",
           "d ||r||^2 taken as r", kind="missing scale"),
    Mutant("least_squares", "least_squares_backward", "db = -dr", "db = dr",
           "db with the wrong sign", kind="sign"),
)
