"""The hand-derived reference implementation: NumPy only, CS231n calling convention.

    out, cache = <op>_forward(*inputs)
    grads      = <op>_backward(dout, cache)

Each module groups the ops of one source; `from handwritten import staged_forward` works for all.
"""

from .notes import *  # noqa: F401,F403  group A, the notes' worked examples
from .layers import *  # noqa: F401,F403  group C, the CS231n assignment layers
from .micrograd_examples import *  # noqa: F401,F403  group D1-D4, micrograd's expressions
from .classics import *  # noqa: F401,F403  group D5-D11, D13, D14, other classics
from .matrix_calculus import *  # noqa: F401,F403  group D12, Matrix Cookbook identities
from .linear_classifiers import *  # noqa: F401,F403  C5-C6, assignment 1 linear classifiers
from .neural_net import *  # noqa: F401,F403  C7, the 2019 assignment 1 TwoLayerNet
from .rnn_layers import *  # noqa: F401,F403  C16-C22, assignment 3 rnn_layers.py
from .layer_utils import *  # noqa: F401,F403  C, assignment 2 layer_utils.py sandwiches
from .fc_net import *  # noqa: F401,F403  C, classifiers/fc_net.py (TwoLayerNet as fc_net.TwoLayerNet)
from .cnn import *  # noqa: F401,F403  C, classifiers/cnn.py ThreeLayerConvNet
from .rnn import *  # noqa: F401,F403  C, assignment 3 classifiers/rnn.py CaptioningRNN
from .case_study import *  # noqa: F401,F403  group B, the notes' smaller examples
