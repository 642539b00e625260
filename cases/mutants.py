"""Mutants: plausible wrong backward passes, each a one-line edit of the handwritten source.

A mutant is the handwritten implementation with one function recompiled from its own source after
one textual substitution (`old` -> `new`, which must match exactly once). The suite's power is the
share of mutants its default run rejects; every mutant here must be caught.
"""

from __future__ import annotations

import inspect
import sys
import textwrap
from dataclasses import dataclass

from .impl import Implementation, handwritten
from .spec import CaseError


@dataclass(frozen=True)
class Mutant:
    case: str        # the case whose default run must reject it
    function: str    # the handwritten function it edits
    old: str         # the exact source text replaced (must occur once in the function)
    new: str
    bug: str         # the mistake it plays, in words

    @property
    def id(self) -> str:
        return f"{self.case}:{self.bug}"


def mutate(m: Mutant, base: Implementation | None = None) -> Implementation:
    """The base implementation (handwritten) with `m.function` replaced by its mutant."""
    base = base or handwritten()
    original = base.namespace.get(m.function)
    if original is None:
        raise CaseError(f"mutant {m.id!r}: {base.name} has no function {m.function!r}")
    source = textwrap.dedent(inspect.getsource(original))
    if source.count(m.old) != 1:
        raise CaseError(f"mutant {m.id!r}: {m.old!r} occurs {source.count(m.old)} times in "
                        f"{m.function}, not once; update the mutant to the current source")
    namespace = dict(vars(sys.modules[original.__module__]))
    exec(compile(source.replace(m.old, m.new), f"<mutant {m.id}>", "exec"), namespace)
    return base.with_replacement(m.function, namespace[m.function], f"mutant {m.id}",
                                 f" --mutant '{m.id}'")


def find(mutant_id: str) -> Mutant:
    for m in MUTANTS:
        if m.id == mutant_id:
            return m
    raise CaseError(f"no mutant {mutant_id!r}; list them with: gradref mutants")


MUTANTS: tuple[Mutant, ...] = (
    # A1 multiply
    Mutant("multiply", "multiply_backward", "dx = y * dout", "dx = x * dout",
           "no swap: dx = x dout"),
    Mutant("multiply", "multiply_backward", "dy = x * dout", "dy = x",
           "dy ignores dout"),
    # A2 add
    Mutant("add", "add_backward", "dx = 1.0 * dout", "dx = 1.0", "dx ignores dout"),
    Mutant("add", "add_backward", "dy = 1.0 * dout", "dy = 0.5 * dout",
           "dy halves the gradient"),
    # A3 max gate
    Mutant("max_gate", "max_gate_backward", "dx = (x >= y) * dout", "dx = (x <= y) * dout",
           "routes to the smaller input"),
    Mutant("max_gate", "max_gate_backward", "dy = (y >= x) * dout", "dy = dout",
           "routes to both inputs"),
    # A4 chain rule
    Mutant("chain_rule", "chain_rule_backward", "dx = 1.0 * dq", "dx = 1.0 * dout",
           "skips the chain rule through q"),
    Mutant("chain_rule", "chain_rule_backward", "dz = q * dout", "dz = z * dout",
           "dz = z, not q"),
    # A5 unary gates
    Mutant("reciprocal", "reciprocal_backward", "(-1.0 / x**2)", "(1.0 / x**2)",
           "sign of -1/x^2 dropped"),
    Mutant("reciprocal", "reciprocal_backward", "(-1.0 / x**2)", "(-1.0 / x)",
           "-1/x instead of -1/x^2"),
    Mutant("add_const", "add_const_backward", "dx = 1.0 * dout", "dx = 1.0",
           "ignores dout"),
    Mutant("add_const", "add_const_backward", "dx = 1.0 * dout", "dx = 0.0 * dout",
           "treats x as the constant"),
    Mutant("exp", "exp_backward", "dx = f * dout", "dx = f", "ignores dout"),
    Mutant("exp", "exp_backward", "dx = f * dout", "dx = dout", "derivative of e^x taken as 1"),
    Mutant("scale", "scale_backward", "dx = a * dout", "dx = dout", "drops the factor a"),
    Mutant("scale", "scale_backward", "dx = a * dout", "dx = a", "ignores dout"),
    # A6 sigmoid neuron
    Mutant("sigmoid_neuron", "sigmoid_neuron_backward", "ddot = (1 - f) * f * dout",
           "ddot = (1 - f) * f", "ignores dout"),
    Mutant("sigmoid_neuron", "sigmoid_neuron_backward", "1.0 * ddot])", "0.0 * ddot])",
           "no gradient for the bias w2"),
    Mutant("sigmoid_neuron", "sigmoid_neuron_backward", "[w[0] * ddot, w[1] * ddot]",
           "[x[0] * ddot, x[1] * ddot]", "dx uses x instead of w"),
    # A7 sigmoid
    Mutant("sigmoid", "sigmoid_backward", "dx = ((1 - s) * s) * dout", "dx = ((s - 1) * s) * dout",
           "sigma' with the wrong sign"),
    Mutant("sigmoid", "sigmoid_backward", "dx = ((1 - s) * s) * dout", "dx = s * dout",
           "sigma' taken as sigma"),
    # A8 staged: = instead of += at each fork, and two slips
    Mutant("staged", "staged_backward", "dx += ((1 - sigx) * sigx) * dsigx",
           "dx = ((1 - sigx) * sigx) * dsigx", "= instead of += at the sigx fork"),
    Mutant("staged", "staged_backward", "dx += (1) * dnum", "dx = (1) * dnum",
           "= instead of += at the num fork"),
    Mutant("staged", "staged_backward", "dy += ((1 - sigy) * sigy) * dsigy",
           "dy = ((1 - sigy) * sigy) * dsigy", "= instead of += at the sigy fork"),
    Mutant("staged", "staged_backward", "dden = (-1.0 / (den**2)) * dinvden",
           "dden = (1.0 / (den**2)) * dinvden", "1/x gate with the wrong sign"),
    Mutant("staged", "staged_backward", "dnum = invden * dout", "dnum = invden",
           "dnum ignores dout"),
    # A9 patterns circuit
    Mutant("patterns_circuit", "patterns_circuit_backward", "ds = 2.0 * dout", "ds = dout",
           "drops the factor 2"),
    Mutant("patterns_circuit", "patterns_circuit_backward", "dz = (z >= w) * dm", "dz = dm",
           "max distributes instead of routing"),
    Mutant("patterns_circuit", "patterns_circuit_backward", "dx = y * dxy", "dx = x * dxy",
           "multiply does not swap"),
    # A10 matmul
    Mutant("matmul", "matmul_backward", "dW = dD.dot(X.T)", "dW = X.dot(dD.T)",
           "transposed dW, (10, 5) for W (5, 10)"),
    Mutant("matmul", "matmul_backward", "dX = W.T.dot(dD)", "dX = W.T.dot(dD) / 3",
           "dX averaged over the batch of 3"),
    Mutant("matmul", "matmul_backward", "dD = dout", "dD = dout * 0 + 1",
           "ignores dout"),
)
