"""Group C, model classes: cs231n/classifiers/rnn.py (assignment 3), mirroring handwritten/rnn.py.

CaptioningRNN(word_to_idx, input_dim, wordvec_dim, hidden_dim, cell_type, dtype),
loss(features, captions): h0 = features W_proj + b_proj, the words captions[:, :-1] embedded,
an RNN or LSTM over them, scores h W_vocab + b_vocab, and the temporal softmax loss against
captions[:, 1:] with <NULL> targets masked out, summed over t and averaged over N. Called in the
model call style (fc_net.py); no state besides the parameters; smooth (no kinks).

Shapes and goldens: RNN_Captioning.ipynb and LSTM_Captioning.ipynb (2017-2025 editions) check
the gradients of a model with batch 2, T = 3, input_dim 4, wordvec_dim 5, hidden_dim 6
(captioning_rnn, captioning_lstm), and the loss of one with N, D, W, H = 10, 20, 30, 40, T = 13
(captioning_*_golden): word_to_idx {'<NULL>': 0, 'cat': 2, 'dog': 3} (V = 3), every parameter
np.linspace(-1.4, 1.3, num=v.size), captions (np.arange(N T) % V), features
np.linspace(-1.5, 0.3) (rnn) or np.linspace(-0.5, 1.7) (lstm): expected loss 9.83235591003 (rnn)
and 9.82445935443 (lstm), printed to 12 digits.
"""

import numpy as np

from . import layers
from . import rnn_layers
from .spec import Arg, Case, Golden, Integers, Model, Mutant, Normal, elements

GRADCHECK = (2, 4, 5, 6, 3)          # N, D, W, H, T of the notebooks' gradient check
LOSS_CHECK = (10, 20, 30, 40, 13)    # ... and of their loss check
WORD_TO_IDX = {"<NULL>": 0, "cat": 2, "dog": 3}
V = len(WORD_TO_IDX)
NULL = WORD_TO_IDX["<NULL>"]
PARAMS = ("W_embed", "W_proj", "b_proj", "Wx", "Wh", "b", "W_vocab", "b_vocab")


def captioning(cell):
    def loss(W_embed, W_proj, b_proj, Wx, Wh, b, W_vocab, b_vocab, features, captions):
        words_in, words_out = captions[:, :-1], captions[:, 1:]
        mask = (words_out != NULL).astype(features.dtype)
        h0 = layers.affine(features, W_proj, b_proj)
        h = (rnn_layers.rnn if cell == "rnn" else rnn_layers.lstm)(W_embed[words_in], h0, Wx, Wh, b)
        return rnn_layers.temporal_softmax_loss(h @ W_vocab + b_vocab, words_out, mask)
    return loss


def args(cell, dims):
    N, D, W, H, T = dims
    g = 4 if cell == "lstm" else 1
    return (Arg("W_embed", (V, W), Normal()), Arg("W_proj", (D, H), Normal(D ** -0.5)),
            Arg("b_proj", (H,), Normal(0.1)), Arg("Wx", (W, g * H), Normal(W ** -0.5)),
            Arg("Wh", (H, g * H), Normal(H ** -0.5)), Arg("b", (g * H,), Normal(0.1)),
            Arg("W_vocab", (H, V), Normal(H ** -0.5)), Arg("b_vocab", (V,), Normal(0.1)),
            Arg("features", (N, D), Normal(), diff=False),
            Arg("captions", (N, T), Integers(0, V), diff=False))


def notebook_model(cell, features):
    """The notebook's fixed model: each parameter np.linspace(-1.4, 1.3) over its entries."""
    N, D, W, H, T = LOSS_CHECK
    out = {a.name: np.linspace(-1.4, 1.3, num=elements(a.shape)).reshape(a.shape).tolist()
           for a in args(cell, LOSS_CHECK) if a.diff}
    return {**out, "features": np.linspace(*features, num=N * D).reshape(N, D).tolist(),
            "captions": (np.arange(N * T) % V).reshape(N, T).tolist()}


def captioning_case(cell, dims, golden=None):
    N, D, W, H, T = dims
    goldens = ()
    if golden:
        features, expected = golden
        goldens = (Golden(notebook_model(cell, features), {"loss": expected},
                          f"{cell.upper()}_Captioning.ipynb's expected loss {expected}", digits=12),)
    return Case(
        name=f"captioning_{cell}" + ("_golden" if golden else ""), op="CaptioningRNN",
        source=f"C17-C22 a3 rnn.py: CaptioningRNN, cell_type '{cell}', the notebook's "
               + ("loss check" if golden else "gradient check"),
        args=args(cell, dims), reference=captioning(cell), style="loss", outputs=("loss",),
        goldens=goldens,
        model=Model("CaptioningRNN", "rnn",
                    {"word_to_idx": WORD_TO_IDX, "input_dim": D, "wordvec_dim": W, "hidden_dim": H,
                     "cell_type": cell, "dtype": np.float64},
                    ("features", "captions"), "no state besides the parameters"),
        notes=f"N, D, W, H, T = {N}, {D}, {W}, {H}, {T}; captions drawn from the 3 words, so about "
              "a third of the targets are <NULL> and masked; no regularization")


CASES = (
    captioning_case("rnn", GRADCHECK),
    captioning_case("lstm", GRADCHECK),
    captioning_case("rnn", LOSS_CHECK, ((-1.5, 0.3), 9.83235591003)),
    captioning_case("lstm", LOSS_CHECK, ((-0.5, 1.7), 9.82445935443)),
)

CAP = "CaptioningRNN"
MUTANTS = (
    *(Mutant(c, CAP, "mask = captions_out != self._null",
             "mask = np.ones(captions_out.shape, dtype=bool)", "<NULL> targets not masked",
             kind="wrong formula")
      for c in ("captioning_rnn", "captioning_rnn_golden")),
    *(Mutant(c, CAP,
             'dfeatures, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, cache_proj)',
             'dfeatures, grads["W_proj"], grads["b_proj"] = affine_backward(dh[:, 0], cache_proj)',
             "h0's gradient taken from dh at t = 0, not from the recurrence's dh0",
             kind="dropped path")
      for c in ("captioning_lstm", "captioning_lstm_golden")),
    *(Mutant(c, CAP, "captions_in = captions[:, :-1]", "captions_in = captions[:, 1:]",
             "reads the words it should predict", kind="wrong index")
      for c in ("captioning_rnn", "captioning_lstm", "captioning_rnn_golden",
                "captioning_lstm_golden")),
)
