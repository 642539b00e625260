"""Group C: the sandwich layers of CS231n `cs231n/layer_utils.py` (assignment 2).

A sandwich is a chain of layers with one forward and one backward, as the skeleton writes them:
the forward calls each layer's own `_forward` in order and keeps their caches; the backward calls
each layer's own `_backward` in reverse order, the upstream gradient of one being the downstream
gradient of the next (the chain rule, one layer at a time):

    out, cache = affine_relu_forward(x, w, b)         # (1) affine, (2) relu
    dx, dw, db = affine_relu_backward(dout, cache)    # (2) relu', then (1) affine'

The skeleton's `conv_relu*` sandwiches call `conv_forward_fast` / `max_pool_forward_fast`
(fast_layers.py, partly a compiled Cython extension); these call the naive layers, which compute
the same function. `affine_bn_relu` and `affine_ln_relu` are not in the skeleton: they are the
sandwiches most students add for FullyConnectedNet's normalization, with the signature most
write (the layers' arguments in the layers' order, the normalization's param dict last).
NumPy only, like the layers it calls.
"""

from .layers import (affine_backward, affine_forward, batchnorm_backward, batchnorm_forward,
                     conv_backward_naive, conv_forward_naive, layernorm_backward,
                     layernorm_forward, max_pool_backward_naive, max_pool_forward_naive,
                     relu_backward, relu_forward, spatial_batchnorm_backward,
                     spatial_batchnorm_forward)

__all__ = [
    "affine_relu_forward", "affine_relu_backward",
    "affine_bn_relu_forward", "affine_bn_relu_backward",
    "affine_ln_relu_forward", "affine_ln_relu_backward",
    "conv_relu_forward", "conv_relu_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward",
    "conv_relu_pool_forward", "conv_relu_pool_backward",
]


# --- affine - relu ------------------------------------------------------------------------------

def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)                         # (1) a = x~ w + b
    out, relu_cache = relu_forward(a)                             # (2) out = max(0, a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)                          # (2) da = dout 1(a > 0)
    dx, dw, db = affine_backward(da, fc_cache)                    # (1) dx = da w^T, dw = x~^T da
    return dx, dw, db


# --- affine - batchnorm - relu (FullyConnectedNet's hidden layer with normalization) -------------

def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    a, fc_cache = affine_forward(x, w, b)                         # (1) a = x~ w + b
    an, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)    # (2) an = gamma a^ + beta
    out, relu_cache = relu_forward(an)                            # (3) out = max(0, an)
    cache = (fc_cache, bn_cache, relu_cache)
    return out, cache


def affine_bn_relu_backward(dout, cache):
    fc_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)                         # (3) dan = dout 1(an > 0)
    da, dgamma, dbeta = batchnorm_backward(dan, bn_cache)         # (2) through the batch statistics
    dx, dw, db = affine_backward(da, fc_cache)                    # (1)
    return dx, dw, db, dgamma, dbeta


# --- affine - layernorm - relu ------------------------------------------------------------------

def affine_ln_relu_forward(x, w, b, gamma, beta, ln_param):
    a, fc_cache = affine_forward(x, w, b)                         # (1) a = x~ w + b
    an, ln_cache = layernorm_forward(a, gamma, beta, ln_param)    # (2) per example, over features
    out, relu_cache = relu_forward(an)                            # (3) out = max(0, an)
    cache = (fc_cache, ln_cache, relu_cache)
    return out, cache


def affine_ln_relu_backward(dout, cache):
    fc_cache, ln_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)                         # (3)
    da, dgamma, dbeta = layernorm_backward(dan, ln_cache)         # (2)
    dx, dw, db = affine_backward(da, fc_cache)                    # (1)
    return dx, dw, db, dgamma, dbeta


# --- conv - relu --------------------------------------------------------------------------------

def conv_relu_forward(x, w, b, conv_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)       # (1) a = x * w + b
    out, relu_cache = relu_forward(a)                             # (2) out = max(0, a)
    cache = (conv_cache, relu_cache)
    return out, cache


def conv_relu_backward(dout, cache):
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)                          # (2) da = dout 1(a > 0)
    dx, dw, db = conv_backward_naive(da, conv_cache)              # (1) conv with flipped filters
    return dx, dw, db


# --- conv - spatial batchnorm - relu ------------------------------------------------------------

def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)       # (1) a = x * w + b
    an, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)  # (2) per channel
    out, relu_cache = relu_forward(an)                            # (3) out = max(0, an)
    cache = (conv_cache, bn_cache, relu_cache)
    return out, cache


def conv_bn_relu_backward(dout, cache):
    conv_cache, bn_cache, relu_cache = cache
    dan = relu_backward(dout, relu_cache)                         # (3)
    da, dgamma, dbeta = spatial_batchnorm_backward(dan, bn_cache)  # (2)
    dx, dw, db = conv_backward_naive(da, conv_cache)              # (1)
    return dx, dw, db, dgamma, dbeta


# --- conv - relu - 2x2 max pool (ThreeLayerConvNet's first layer) -------------------------------

def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    a, conv_cache = conv_forward_naive(x, w, b, conv_param)       # (1) a = x * w + b
    s, relu_cache = relu_forward(a)                               # (2) s = max(0, a)
    out, pool_cache = max_pool_forward_naive(s, pool_param)       # (3) out = max over windows
    cache = (conv_cache, relu_cache, pool_cache)
    return out, cache


def conv_relu_pool_backward(dout, cache):
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_naive(dout, pool_cache)                # (3) routed to each window's max
    da = relu_backward(ds, relu_cache)                            # (2) da = ds 1(a > 0)
    dx, dw, db = conv_backward_naive(da, conv_cache)              # (1)
    return dx, dw, db
