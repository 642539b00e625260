"""A case's computation as a circuit, read off its JAX reference: gates, wires, values, gradients.

The notes draw backprop as a circuit: each gate a node, each wire carrying its forward value (in
green above it) and the gradient flowing back along it (in red below it). The same picture falls
out of the case's `jax.numpy` reference: `jax.make_jaxpr` lists its primitive operations (gates)
and the variables between them (wires). Evaluating the jaxpr forward gives every wire's value;
walking it backward, each gate's local gradient is `jax.vjp` of that one primitive, so a wire's
gradient is exactly what its consumer sends back along it. Where a value forks into two gates,
each wire carries its own share and the input's total is their sum: the notes' `+=`.

Calls the reference made through a named function (`jax.nn.relu`, `jax.nn.log_softmax`) stay one
gate with that name, as they read in the reference. No drawing here: cases/draw.py draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.extend.core as jcore
import numpy as np

from .oracles import call_reference
from .spec import Case


@dataclass
class Node:
    id: str
    kind: str              # "input", "gate" or "output"
    label: str             # the input's or output's name, or the gate's symbol (`*`, `σ`, `relu`)
    value: np.ndarray      # an input's or output's value; a gate's (first) output value
    grad: np.ndarray | None = None   # an input's total gradient; an output's upstream gradient
    diff: bool = True      # an input that gets a gradient (labels and masks do not)


@dataclass
class Wire:
    src: str
    dst: str
    value: np.ndarray
    grad: np.ndarray | None   # what `dst` sends back along this wire; None where none flows


@dataclass
class Circuit:
    case: Case
    nodes: list = field(default_factory=list)
    wires: list = field(default_factory=list)

    @property
    def inputs(self) -> list:
        return [n for n in self.nodes if n.kind == "input"]

    @property
    def gates(self) -> list:
        return [n for n in self.nodes if n.kind == "gate"]


# How the notes write a gate; other primitives keep JAX's name (`cos`, `conv_general_dilated`).
SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "neg": "*-1", "max": "max", "min": "min",
    "exp": "exp", "log": "log", "logistic": "σ", "tanh": "tanh", "sqrt": "sqrt", "rsqrt": "1/sqrt",
    "dot_general": "dot", "reduce_sum": "sum", "reduce_max": "max", "transpose": "T",
    "broadcast_in_dim": "broadcast", "convert_element_type": "convert", "abs": "abs",
    "sign": "sign", "select_n": "select", "stop_gradient": "stop_gradient", "square": "^2",
}
INFIX = {"add", "sub", "mul", "div", "max", "min"}


def _gate_label(eqn) -> str:
    """The notes' way: `*`, `σ`, `1/x`, `^2`; a constant operand written in, as in `*2` or `+1`."""
    name = eqn.primitive.name
    if "name" in eqn.params and isinstance(eqn.params["name"], str):   # jit, custom_jvp_call
        return eqn.params["name"]
    if name == "integer_pow":
        return "1/x" if eqn.params["y"] == -1 else f"^{eqn.params['y']}"
    if name == "slice":
        return "[" + ", ".join(f"{a}:{b}" for a, b in zip(eqn.params["start_indices"],
                                                       eqn.params["limit_indices"])) + "]"
    symbol = SYMBOLS.get(name, name)
    literals = [v for v in eqn.invars if isinstance(v, jcore.Literal)]
    if name in INFIX and len(literals) == 1 and np.ndim(literals[0].val) == 0:
        c = f"{float(literals[0].val):g}"
        return f"{c}{symbol}" if isinstance(eqn.invars[0], jcore.Literal) else f"{symbol}{c}"
    return symbol


def _bind(eqn):
    """The primitive of `eqn` as a function of its operands (as jax.core.eval_jaxpr calls it)."""
    params = eqn.primitive.get_bind_params(eqn.params)

    def call(*operands):
        with eqn.ctx.manager:
            out = eqn.primitive.bind(*operands, **params)
        return tuple(out) if eqn.primitive.multiple_results else (out,)
    return call


def _is_float(x) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def trace(case: Case, arrays: dict, douts: tuple) -> Circuit:
    """The circuit of `case` at the inputs `arrays` (by name), with upstream gradients `douts`
    (one per output): every wire's value and gradient, every input's total gradient."""
    diff = tuple(np.asarray(arrays[a.name], dtype=np.float64) for a in case.diff_args)
    nondiff = tuple(np.asarray(arrays[a.name]) for a in case.arrays if not a.diff)
    closed = jax.make_jaxpr(lambda d, nd: call_reference(case, d, nd))(diff, nondiff)
    jaxpr = closed.jaxpr

    # forward: every variable's value; `made_by[var]` is the node that produced it
    values, made_by = {}, {}
    circuit = Circuit(case)
    order = list(case.diff_args) + [a for a in case.arrays if not a.diff]
    for var, arg, x in zip(jaxpr.invars, order, diff + nondiff):
        values[var], made_by[var] = x, f"in_{arg.name}"
        circuit.nodes.append(Node(f"in_{arg.name}", "input", arg.name, x, diff=arg.diff))
    for k, (var, c) in enumerate(zip(jaxpr.constvars, closed.consts)):
        values[var], made_by[var] = np.asarray(c), f"const{k}"
        circuit.nodes.append(Node(f"const{k}", "input", f"const {k}", np.asarray(c), diff=False))

    def read(v):
        return v.val if isinstance(v, jcore.Literal) else values[v]

    gates = []
    for k, eqn in enumerate(jaxpr.eqns):
        outs = _bind(eqn)(*(read(v) for v in eqn.invars))
        for v, o in zip(eqn.outvars, outs):
            if not isinstance(v, jcore.DropVar):
                values[v], made_by[v] = np.asarray(o), f"g{k}"
        gates.append(Node(f"g{k}", "gate", _gate_label(eqn), np.asarray(outs[0])))

    # backward: each gate's vjp, in reverse; `sent[(k, i)]` is what gate k sends to operand i
    cotangent = {}
    for v, d in zip(jaxpr.outvars, douts):
        if not isinstance(v, jcore.Literal):
            cotangent[v] = cotangent.get(v, 0.0) + np.asarray(d, dtype=np.float64)
    sent = {}
    for k in reversed(range(len(jaxpr.eqns))):
        eqn = jaxpr.eqns[k]
        cts = [cotangent.get(v) if not isinstance(v, jcore.DropVar) else None for v in eqn.outvars]
        operands = [read(v) for v in eqn.invars]
        wrt = [i for i, v in enumerate(eqn.invars)
               if not isinstance(v, jcore.Literal) and _is_float(operands[i])]
        float_outs = [i for i, v in enumerate(eqn.outvars)
                      if np.issubdtype(v.aval.dtype, np.floating)]   # the ones with gradients
        if not wrt or all(cts[i] is None for i in float_outs):
            continue

        def local(*xs, eqn=eqn, operands=operands, wrt=wrt, float_outs=float_outs):
            full = list(operands)
            for i, x in zip(wrt, xs):
                full[i] = x
            outs = _bind(eqn)(*full)
            return tuple(outs[i] for i in float_outs)

        primal_outs, vjp = jax.vjp(local, *(operands[i] for i in wrt))
        back = vjp(tuple(np.zeros(np.shape(o), np.asarray(o).dtype) if cts[i] is None else cts[i]
                         for i, o in zip(float_outs, primal_outs)))
        for i, g in zip(wrt, back):
            g = np.asarray(g, dtype=np.float64)
            sent[(k, i)] = g
            v = eqn.invars[i]
            cotangent[v] = cotangent[v] + g if v in cotangent else g

    # the picture: inputs, gates, outputs; a wire from each variable's maker to each consumer
    circuit.nodes.extend(gates)
    for k, eqn in enumerate(jaxpr.eqns):
        for i, v in enumerate(eqn.invars):
            if not isinstance(v, jcore.Literal):
                circuit.wires.append(Wire(made_by[v], f"g{k}", values[v], sent.get((k, i))))
    for name, v, d in zip(case.outputs, jaxpr.outvars, douts):
        value = np.asarray(read(v))
        circuit.nodes.append(Node(f"out_{name}", "output", name, value, np.asarray(d)))
        if not isinstance(v, jcore.Literal):
            circuit.wires.append(Wire(made_by[v], f"out_{name}", value, np.asarray(d)))
    for node, var in zip(circuit.inputs, jaxpr.invars):
        if node.diff:
            node.grad = cotangent.get(var, np.zeros_like(node.value))
    return circuit


def input_gradients(circuit: Circuit) -> dict:
    """{'dx': total gradient of x, ...} in the case's order of gradients."""
    return {f"d{n.label}": n.grad for n in circuit.inputs if n.diff}
