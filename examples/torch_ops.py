"""PyTorch autograd behind the CS231n convention: gradref checks a framework like a layers file.

    gradref report --impl examples/torch_ops.py
    pytest --impl examples/torch_ops.py

Each forward builds a torch graph on copies of its NumPy inputs and returns the output as NumPy,
with the graph as the cache; each backward asks autograd for the vector-Jacobian product,
torch.autograd.grad(out, inputs, grad_outputs=dout). The dtype of the inputs is kept (float64, or
float32 under --dtype float32). The math is written once per op, as a torch function.

Conventions at kinks are torch's, not the notes': at a tie of the max gate torch splits the
gradient (0.5, 0.5) where the notes give (1, 1), so the kink goldens (`pytest --impl`) say so;
the random samples of `gradref report` keep clear of kinks and pass.
"""
import numpy as np
import torch


def _pair(fn, diff):
    """`<op>_forward`/`<op>_backward` for out = fn(*inputs), differentiable at positions `diff`."""
    def forward(*args):
        ts = [torch.tensor(np.asarray(a), requires_grad=i in diff) for i, a in enumerate(args)]
        out = fn(*ts)
        return out.detach().numpy().copy(), ([ts[i] for i in diff], out)

    def backward(dout, cache):
        inputs, out = cache
        grads = torch.autograd.grad(out, inputs, grad_outputs=torch.tensor(np.asarray(dout)))
        grads = tuple(g.numpy().copy() for g in grads)
        return grads[0] if len(grads) == 1 else grads
    return forward, backward


def _loss(fn):
    """`<op>(x, y) -> (loss, dx)` for loss = fn(x, y), differentiable in x."""
    def op(x, y):
        xt = torch.tensor(np.asarray(x), requires_grad=True)
        loss = fn(xt, torch.tensor(np.asarray(y)))
        (dx,) = torch.autograd.grad(loss, (xt,))
        return loss.detach().numpy().copy(), dx.numpy().copy()
    return op


# --- group A: the worked examples of the notes ---------------------------------------------------
multiply_forward, multiply_backward = _pair(lambda x, y: x * y, (0, 1))
add_forward, add_backward = _pair(lambda x, y: x + y, (0, 1))
max_gate_forward, max_gate_backward = _pair(torch.maximum, (0, 1))
chain_rule_forward, chain_rule_backward = _pair(lambda x, y, z: (x + y) * z, (0, 1, 2))
reciprocal_forward, reciprocal_backward = _pair(lambda x: 1.0 / x, (0,))
add_const_forward, add_const_backward = _pair(lambda x, c: c + x, (0,))
exp_forward, exp_backward = _pair(torch.exp, (0,))
scale_forward, scale_backward = _pair(lambda x, a: a * x, (0,))
sigmoid_neuron_forward, sigmoid_neuron_backward = _pair(
    lambda w, x: torch.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2]), (0, 1))
sigmoid_forward, sigmoid_backward = _pair(torch.sigmoid, (0,))
staged_forward, staged_backward = _pair(
    lambda x, y: (x + torch.sigmoid(y)) / (torch.sigmoid(x) + (x + y) ** 2), (0, 1))
patterns_circuit_forward, patterns_circuit_backward = _pair(
    lambda x, y, z, w: 2.0 * (x * y + torch.maximum(z, w)), (0, 1, 2, 3))
matmul_forward, matmul_backward = _pair(lambda W, X: W @ X, (0, 1))

# --- a few CS231n layers ------------------------------------------------------------------------
affine_forward, affine_backward = _pair(lambda x, w, b: x.reshape(x.shape[0], -1) @ w + b, (0, 1, 2))
relu_forward, relu_backward = _pair(torch.relu, (0,))
softmax_loss = _loss(lambda x, y: torch.nn.functional.cross_entropy(x, y))
