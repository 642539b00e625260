"""Karpathy's micrograd (PyPI micrograd 0.1.0, micrograd.engine.Value) behind the CS231n convention.

    pip install micrograd==0.1.0
    gradref report --impl examples/micrograd_ops.py [--dtype float32]

micrograd is a scalar engine: a Value holds one number, and 0.1.0 has +, -, *, /, ** by a constant
and relu. So only the catalogue's scalar cases (inputs of shape ()) are here, and of those only the
ones these operations express. Left out: staged and sigmoid_bce_1 (they need exp or log),
tanh_neuron and tanh_neuron_exp (tanh or exp): micrograd 0.1.0's Value has neither (the lecture's
later engine adds them; the PyPI release does not). The array cases (the sandwich layers and the
model classes among them) are left to the array engines.
(examples/micrograd_engine.py is a different thing: a micrograd-style engine written here.)

max(x, y) is written as y + relu(x - y), the way one writes a max with micrograd's operations; so
at a tie it follows relu'(0) = 0 and routes the gradient to the second input.

Each Value is made from the input's own NumPy scalar (np.float64, or np.float32 under --dtype
float32) and micrograd's arithmetic keeps or changes its type as Python and NumPy decide: the
outputs and gradients are returned as micrograd left them, not cast. micrograd's backward()
seeds the output with 1 and adds into .grad (there is no zero_grad), so the backward builds the
graph afresh from the cached inputs, multiplies the output by dout and calls backward() on that:
each backward call is independent, and the gradient is still micrograd's.
"""
import numpy as np
from micrograd.engine import Value

from _engines import bind


def _max(x, y):
    return y + (x - y).relu()


OPS = {
    "multiply": lambda x, y: x * y,
    "max_gate": _max,
    "chain_rule": lambda x, y, z: (x + y) * z,
    "patterns_circuit": lambda x, y, z, w: 2.0 * (x * y + _max(z, w)),
    "fork_sum": lambda a: a + a,
    "fork_product": lambda a, b: (a * b) * (a + b),
    "micrograd_expr": lambda a, b, c, f: (a * b + c) * f,
}


def _micrograd_readme(a, b):   # the README's example, as written there
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def _micrograd_sanity(x):      # test_sanity_check, as written there
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    return y


OPS["micrograd_readme"] = _micrograd_readme
OPS["micrograd_sanity"] = _micrograd_sanity


def _values(args):
    return [Value(np.asarray(a)[()]) for a in args]   # the input's own NumPy scalar


def _pair(fn, diff):
    def forward(*args):
        return np.asarray(fn(*_values(args)).data), args

    def backward(dout, args):
        leaves = _values(args)
        (fn(*leaves) * Value(np.asarray(dout)[()])).backward()
        grads = tuple(np.asarray(leaves[i].grad) for i in diff)
        return grads[0] if len(grads) == 1 else grads
    return forward, backward


bind(globals(), OPS, _pair, loss=None)
