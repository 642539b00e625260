"""The records of handwritten/rnn_layers.py: C16-C22, assignment 3's rnn_layers.py.

The ops are called by their skeleton names (rnn_step_forward, lstm_backward, ...), so a student's
rnn_layers.py is checked as it is. Each reference is the op's math in jax.numpy (jax.nn,
lax.scan), written without looking at handwritten/. Conventions (the assignment's):
temporal_softmax_loss sums over t and divides by N (not N T, not sum(mask)). Shapes are chosen so
that each planted bug shows: T >= 2, D != H, more words than vocabulary entries (repeated
indices), masks with padding.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .layers import picked
from .spec import Arg, Case, Drawn, Integers, Mutant, Normal


# --- references --------------------------------------------------------------------------------

def rnn_step(x, prev_h, Wx, Wh, b):
    return jnp.tanh(x @ Wx + prev_h @ Wh + b)


def _over_time(step, carry, x):
    """Run `step(carry, x_t) -> (carry, h_t)` over x (N, T, D); return h (N, T, H)."""
    _, hs = lax.scan(step, carry, jnp.swapaxes(x, 0, 1))
    return jnp.swapaxes(hs, 0, 1)


def rnn(x, h0, Wx, Wh, b):
    def step(h, x_t):
        h = rnn_step(x_t, h, Wx, Wh, b)
        return h, h
    return _over_time(step, h0, x)


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    """Gates stacked i, f, o, g in the 4H columns (the assignment's; PyTorch's is i, f, g, o)."""
    i, f, o, g = jnp.split(x @ Wx + prev_h @ Wh + b, 4, axis=1)
    next_c = jax.nn.sigmoid(f) * prev_c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(next_c), next_c


def lstm(x, h0, Wx, Wh, b):
    def step(hc, x_t):
        h, c = lstm_step(x_t, *hc, Wx, Wh, b)
        return (h, c), h
    return _over_time(step, (h0, jnp.zeros_like(h0)), x)


def temporal_softmax_loss(x, y, mask):
    """-(1/N) sum_{n,t} mask[n,t] log softmax(x[n,t])_{y[n,t]}."""
    return -jnp.sum(mask * picked(jax.nn.log_softmax(x, axis=-1), y)) / x.shape[0]


# --- domains -----------------------------------------------------------------------------------

def padded_mask(rng, shape):
    """Captions padded with <NULL>: row n is 1 for its first L_n steps, L_n uniform in [1, T)."""
    N, T = shape
    lengths = rng.integers(1, T, size=(N, 1))
    return (np.arange(T)[None, :] < lengths).astype(np.float64)


CASES = (
    Case(
        name="rnn_step", op="rnn_step", source="C16 a3 rnn_layers.py: one vanilla RNN step",
        args=(Arg("x", (3, 4), Normal()), Arg("prev_h", (3, 5), Normal()),
              Arg("Wx", (4, 5), Normal(0.5)), Arg("Wh", (5, 5), Normal(0.5)),
              Arg("b", (5,), Normal(0.5))),
        reference=rnn_step,
        notes="tanh' taken from the output, 1 - next_h^2; D != H so transposes show",
    ),
    Case(
        name="rnn", op="rnn", source="C17 a3 rnn_layers.py: vanilla RNN over T = 3 steps",
        args=(Arg("x", (2, 3, 4), Normal()), Arg("h0", (2, 5), Normal()),
              Arg("Wx", (4, 5), Normal(0.5)), Arg("Wh", (5, 5), Normal(0.5)),
              Arg("b", (5,), Normal(0.5))),
        reference=rnn,
        notes="dh holds only the upstream gradient of each h[:, t]; the gradient through step "
              "t+1 is added to it; the shared weights' gradients add over t",
    ),
    Case(
        name="lstm_step", op="lstm_step", source="C18 a3 rnn_layers.py: one LSTM step",
        args=(Arg("x", (3, 4), Normal()), Arg("prev_h", (3, 2), Normal()),
              Arg("prev_c", (3, 2), Normal()), Arg("Wx", (4, 8), Normal(0.5)),
              Arg("Wh", (2, 8), Normal(0.5)), Arg("b", (8,), Normal(0.5))),
        reference=lstm_step, outputs=("next_h", "next_c"),
        notes="gates i, f, o, g; the backward takes both dnext_h and dnext_c: next_c forks "
              "into next_h and the next step",
    ),
    Case(
        name="lstm", op="lstm", source="C19 a3 rnn_layers.py: LSTM over T = 3 steps",
        args=(Arg("x", (2, 3, 4), Normal()), Arg("h0", (2, 3), Normal()),
              Arg("Wx", (4, 12), Normal(0.5)), Arg("Wh", (3, 12), Normal(0.5)),
              Arg("b", (12,), Normal(0.5))),
        reference=lstm,
        notes="c0 = 0 is not an input and the last cell state is not an output",
    ),
    Case(
        name="word_embedding", op="word_embedding",
        source="C20 a3 rnn_layers.py: word embedding, out[n, t] = W[x[n, t]]",
        args=(Arg("x", (3, 4), Integers(0, 5), diff=False), Arg("W", (5, 3), Normal())),
        reference=lambda x, W: jnp.take(W, x, axis=0),
        notes="12 words from a vocabulary of 5: every sample repeats an index (pigeonhole), so "
              "a fancy-index dW[x] += dout, which keeps one of the repeated gradients, fails; "
              "the indices get no gradient",
    ),
    Case(
        name="temporal_affine", op="temporal_affine",
        source="C21 a3 rnn_layers.py: affine layer at every time step",
        args=(Arg("x", (2, 3, 4), Normal()), Arg("w", (4, 5), Normal()), Arg("b", (5,), Normal())),
        reference=lambda x, w, b: jnp.einsum("ntd,dm->ntm", x, w) + b,
        notes="reshape to (N T, D) rows and use the affine layer; db sums over N and T",
    ),
    Case(
        name="temporal_softmax_loss", op="temporal_softmax_loss",
        source="C22 a3 rnn_layers.py: masked softmax loss over T steps",
        args=(Arg("x", (3, 4, 5), Normal(2.0)), Arg("y", (3, 4), Integers(0, 5), diff=False),
              Arg("mask", (3, 4), diff=False,
                  domain=Drawn(padded_mask, "0/1 padding: 1 for the first L_n in [1, T) steps"))),
        reference=temporal_softmax_loss, style="loss", outputs=("loss",),
        notes="summed over t, divided by N (not N T, not sum(mask)); the mask is a 0/1 float "
              "array with padding in every row and gets no gradient",
    ),
)


MUTANTS = (
    # C16 RNN step
    Mutant("rnn_step", "rnn_step_backward", "da = (1 - next_h**2) * dnext_h",
           "da = (1 - np.tanh(next_h)**2) * dnext_h", "tanh' applied to the output again",
           kind="wrong formula"),
    Mutant("rnn_step", "rnn_step_backward", "dWh = prev_h.T.dot(da)", "dWh = next_h.T.dot(da)",
           "dWh from next_h, not prev_h", kind="wrong formula"),
    # C17 RNN
    Mutant("rnn", "rnn_backward", "dh_t = dh[:, t, :] + dprev_h", "dh_t = dh[:, t, :]",
           "drops the gradient from step t+1", kind="dropped path"),
    Mutant("rnn", "rnn_backward", "dWh += dWh_t", "dWh = dWh_t",
           "= instead of += for the shared Wh", kind="fork overwrite"),
    # C18 LSTM step
    Mutant("lstm_step", "lstm_step_backward", "da = np.concatenate([dai, daf, dao, dag], axis=1)",
           "da = np.concatenate([dai, daf, dag, dao], axis=1)", "PyTorch's gate order i, f, g, o",
           kind="wrong index"),
    Mutant("lstm_step", "lstm_step_backward", "dc += (1 - tanh_c**2) * dtanh_c",
           "dc = (1 - tanh_c**2) * dtanh_c", "= instead of += at the next_c fork",
           kind="fork overwrite"),
    Mutant("lstm_step", "lstm_step_backward", "dc = 1.0 * dnext_c", "dc = dnext_c",
           "dc aliases dnext_c, then += writes into it", kind="in-place write"),
    # C19 LSTM
    Mutant("lstm", "lstm_backward",
           "lstm_step_backward(dh_t, dprev_c, caches[t])",
           "lstm_step_backward(dh_t, np.zeros_like(dprev_c), caches[t])",
           "drops the cell-state gradient from step t+1", kind="dropped path"),
    Mutant("lstm", "lstm_backward", "db += db_t", "db = db_t", "= instead of += for the shared b",
           kind="fork overwrite"),
    # C20 word embedding
    Mutant("word_embedding", "word_embedding_backward", "np.add.at(dW, x, dout)", "dW[x] += dout",
           "fancy-index += keeps one of the repeated indices", kind="fork overwrite"),
    Mutant("word_embedding", "word_embedding_backward", "dW = np.zeros_like(W, dtype=dout.dtype)",
           "dW = np.zeros_like(W, dtype=x.dtype)", "an integer dW (x's dtype)", kind="dtype"),
    # C21 temporal affine
    Mutant("temporal_affine", "temporal_affine_backward", "db = dout_flat.sum(axis=0)",
           "db = dout.sum(axis=0)", "db summed over N only, shape (T, M)", kind="wrong axis"),
    Mutant("temporal_affine", "temporal_affine_backward",
           "dw = x.reshape(N * T, D).T.dot(dout_flat)", "dw = x[:, -1, :].T.dot(dout[:, -1, :])",
           "dw from the last step only", kind="dropped path"),
    # C22 temporal softmax loss
    Mutant("temporal_softmax_loss", "temporal_softmax_loss", "dx_flat *= mask_flat[:, None] / N",
           "dx_flat *= mask_flat[:, None] / (N * T)", "divides by N T", kind="missing scale"),
    Mutant("temporal_softmax_loss", "temporal_softmax_loss", "dx_flat *= mask_flat[:, None] / N",
           "dx_flat /= N", "ignores the mask in the gradient", kind="wrong formula"),
)
