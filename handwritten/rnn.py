"""Group C: the image-captioning RNN of `cs231n/classifiers/rnn.py` (assignment 3):

    model = CaptioningRNN(word_to_idx, input_dim=D, wordvec_dim=W, hidden_dim=H,
                          cell_type="rnn" or "lstm", dtype=np.float64)
    loss, grads = model.loss(features, captions)   # grads["W_embed"], ..., grads["b_vocab"]

Teacher forcing: the RNN reads captions[:, :-1] and predicts captions[:, 1:]; words equal to
<NULL> in the target are masked out of the loss. Steps:
    h0 = features W_proj + b_proj, x = W_embed[captions_in], h = rnn/lstm(x, h0),
    scores = h W_vocab + b_vocab, loss = temporal softmax(scores, captions_out, mask)
summed over t and averaged over N; no regularization. The loss calls the layers of
rnn_layers.py forward in order and backward in reverse.
"""

import numpy as np

from .layers import affine_backward, affine_forward
from .rnn_layers import (lstm_backward, lstm_forward, rnn_backward, rnn_forward,
                         temporal_affine_backward, temporal_affine_forward, temporal_softmax_loss,
                         word_embedding_backward, word_embedding_forward)

__all__ = ["CaptioningRNN"]


class CaptioningRNN(object):
    """features -> h0; words -> embeddings -> rnn or lstm -> vocabulary scores."""

    def __init__(self, word_to_idx, input_dim=512, wordvec_dim=128, hidden_dim=128,
                 cell_type="rnn", dtype=np.float32):
        if cell_type not in {"rnn", "lstm"}:
            raise ValueError('Invalid cell_type "%s"' % cell_type)
        self.cell_type = cell_type
        self.dtype = dtype
        self.word_to_idx = word_to_idx
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self.params = {}
        vocab_size = len(word_to_idx)
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>", None)
        self._end = word_to_idx.get("<END>", None)

        self.params["W_embed"] = np.random.randn(vocab_size, wordvec_dim) / 100
        self.params["W_proj"] = np.random.randn(input_dim, hidden_dim) / np.sqrt(input_dim)
        self.params["b_proj"] = np.zeros(hidden_dim)
        dim_mul = {"lstm": 4, "rnn": 1}[cell_type]
        self.params["Wx"] = np.random.randn(wordvec_dim, dim_mul * hidden_dim) / np.sqrt(wordvec_dim)
        self.params["Wh"] = np.random.randn(hidden_dim, dim_mul * hidden_dim) / np.sqrt(hidden_dim)
        self.params["b"] = np.zeros(dim_mul * hidden_dim)
        self.params["W_vocab"] = np.random.randn(hidden_dim, vocab_size) / np.sqrt(hidden_dim)
        self.params["b_vocab"] = np.zeros(vocab_size)
        for k, v in self.params.items():
            self.params[k] = v.astype(self.dtype)

    def loss(self, features, captions):
        captions_in = captions[:, :-1]                            # the words read
        captions_out = captions[:, 1:]                            # the words to predict
        mask = captions_out != self._null                         # <NULL> targets do not count
        W_proj, b_proj = self.params["W_proj"], self.params["b_proj"]
        W_embed = self.params["W_embed"]
        Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
        W_vocab, b_vocab = self.params["W_vocab"], self.params["b_vocab"]

        h0, cache_proj = affine_forward(features, W_proj, b_proj)  # (1) initial hidden state
        x, cache_embed = word_embedding_forward(captions_in, W_embed)  # (2) (N, T, W)
        if self.cell_type == "rnn":
            h, cache_rnn = rnn_forward(x, h0, Wx, Wh, b)          # (3) (N, T, H)
        else:
            h, cache_rnn = lstm_forward(x, h0, Wx, Wh, b)         # (3)
        scores, cache_vocab = temporal_affine_forward(h, W_vocab, b_vocab)  # (4) (N, T, V)
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)  # (5) masked, / N

        grads = {}
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, cache_vocab)  # (4)
        if self.cell_type == "rnn":
            dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dh, cache_rnn)  # (3)
        else:
            dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dh, cache_rnn)  # (3)
        grads["W_embed"] = word_embedding_backward(dx, cache_embed)  # (2) scatter-add over words
        dfeatures, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, cache_proj)  # (1)
        return loss, grads
