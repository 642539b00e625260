"""The registry: every case, in catalogue order, validated at import."""

from .group_a import GROUP_A
from .group_b import GROUP_B
from .group_c_layers import GROUP_C_LAYERS
from .group_c_layer_utils import GROUP_C_LAYER_UTILS
from .group_c_fc_net import GROUP_C_FC_NET
from .group_c_cnn import GROUP_C_CNN
from .group_c_captioning import GROUP_C_CAPTIONING
from .group_c_rnn import GROUP_C_RNN
from .group_d import GROUP_D
from .spec import Case, CaseError

CASES: tuple[Case, ...] = (GROUP_A + GROUP_B + GROUP_C_LAYERS + GROUP_C_LAYER_UTILS + GROUP_C_RNN
                           + GROUP_C_FC_NET + GROUP_C_CNN + GROUP_C_CAPTIONING + GROUP_D)

_BY_NAME = {}
for _case in CASES:
    _case.validate()
    if _case.name in _BY_NAME:
        raise CaseError(f"case {_case.name!r} is defined twice")
    _BY_NAME[_case.name] = _case


def get(name: str) -> Case:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise CaseError(f"no case named {name!r}; known cases: {', '.join(_BY_NAME)}") from None


def select(names=None) -> tuple[Case, ...]:
    """The named cases (all when `names` is empty), validating every name first."""
    return tuple(get(n) for n in names) if names else CASES
