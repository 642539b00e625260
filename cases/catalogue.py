"""The registry: every case and every planted bug, in catalogue order, validated at import.

Each module below holds the records of one part of the catalogue: its cases (`CASES`, one record
each) and the bugs planted in their handwritten code (`MUTANTS`)."""

from . import (case_study, cnn, fc_net, group_d, layer_utils, layers, linear_classifiers,
               neural_net, notes, rnn, rnn_layers)
from .spec import Case, CaseError, Mutant

# Catalogue order: reports, `gradref cases`, `gradref mutants` and the vectors list them so.
MODULES = (notes, case_study, layers, layer_utils, linear_classifiers, neural_net, rnn_layers,
           fc_net, cnn, rnn, group_d)

CASES: tuple[Case, ...] = tuple(case for m in MODULES for case in m.CASES)
MUTANTS: tuple[Mutant, ...] = tuple(mutant for m in MODULES for mutant in m.MUTANTS)

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
