"""The registry: every case and every planted bug, in catalogue order, validated at import.

Each module below holds the records of one part of the catalogue: its cases (`CASES`, one record
each) and the bugs planted in their handwritten code (`MUTANTS`)."""

from . import (case_study, classics, cnn, fc_net, layer_utils, layers, linear_classifiers,
               matrix_calculus, micrograd_examples, neural_net, notes, rnn, rnn_layers)
from .spec import Case, CaseError, Mutant

# Catalogue order: reports, `gradref cases`, `gradref mutants` and the vectors list them so.
# Groups A, B and C module by module; group D by its ids (D1-D14), in which the Matrix Cookbook's
# D12 stands between classics' D5-D11 and D13-D14.
MODULES = (notes, case_study, layers, layer_utils, linear_classifiers, neural_net, rnn_layers,
           fc_net, cnn, rnn)
GROUP_D = (micrograd_examples, classics, matrix_calculus)


def _group_d_id(case: Case) -> int:
    return int(case.source.split()[0].removeprefix("D"))   # "D12 Matrix Cookbook: ..." -> 12


_D_CASES = sorted((case for m in GROUP_D for case in m.CASES), key=_group_d_id)
CASES: tuple[Case, ...] = tuple(case for m in MODULES for case in m.CASES) + tuple(_D_CASES)

_BY_NAME = {}
for _case in CASES:
    _case.validate()
    if _case.name in _BY_NAME:
        raise CaseError(f"case {_case.name!r} is defined twice")
    _BY_NAME[_case.name] = _case

_D_MUTANTS = sorted((mutant for m in GROUP_D for mutant in m.MUTANTS),
                    key=lambda mutant: _group_d_id(_BY_NAME[mutant.case]))
MUTANTS: tuple[Mutant, ...] = (tuple(mutant for m in MODULES for mutant in m.MUTANTS)
                               + tuple(_D_MUTANTS))


def get(name: str) -> Case:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise CaseError(f"no case named {name!r}; known cases: {', '.join(_BY_NAME)}") from None


def select(names=None) -> tuple[Case, ...]:
    """The named cases (all when `names` is empty), validating every name first."""
    return tuple(get(n) for n in names) if names else CASES
