"""A scalar autograd engine in the micrograd style, behind the CS231n convention.

    gradref report --impl examples/micrograd_engine.py

`Value` is a float with a gradient and the closure that propagates it; `backward()` walks the
graph in reverse topological order. The ops below build a graph from shape-() arrays, return
the output as a NumPy scalar with the graph as the cache, and read the leaves' gradients after
seeding the output with dout. Only the scalar cases of group A are here; the rest is reported
as not implemented. An engine plugs in exactly like a layers file.
"""
import math

import numpy as np


class Value:
    def __init__(self, data, children=()):
        self.data, self.grad = float(data), 0.0
        self._prev, self._backward = children, lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = Value(self.data**k, (self,))

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def maximum(self, other):
        """max(a, b); a tie goes to the first input (a subgradient, as np.argmax routes it)."""
        out = Value(max(self.data, other.data), (self, other))

        def _backward():
            self.grad += (self.data >= other.data) * out.grad
            other.grad += (other.data > self.data) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        return ((-self).exp() + 1) ** -1

    def backward(self, seed=1.0):
        topo, seen = [], set()

        def build(v):
            if id(v) not in seen:
                seen.add(id(v))
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        for v in topo:
            v.grad = 0.0
        self.grad = float(seed)
        for v in reversed(topo):
            v._backward()

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1


def _scalar_op(fn):
    """`<op>_forward`/`<op>_backward` for a function of Values; every input is differentiable."""
    def forward(*args):
        leaves = [Value(a) for a in args]
        out = fn(*leaves)
        dtype = np.asarray(args[0]).dtype
        return np.asarray(out.data, dtype=dtype), (leaves, out, dtype)

    def backward(dout, cache):
        leaves, out, dtype = cache
        out.backward(float(dout))
        grads = tuple(np.asarray(v.grad, dtype=dtype) for v in leaves)
        return grads[0] if len(grads) == 1 else grads
    return forward, backward


multiply_forward, multiply_backward = _scalar_op(lambda x, y: x * y)
max_gate_forward, max_gate_backward = _scalar_op(lambda x, y: x.maximum(y))
chain_rule_forward, chain_rule_backward = _scalar_op(lambda x, y, z: (x + y) * z)
staged_forward, staged_backward = _scalar_op(
    lambda x, y: (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2))
patterns_circuit_forward, patterns_circuit_backward = _scalar_op(
    lambda x, y, z, w: 2.0 * (x * y + z.maximum(w)))
