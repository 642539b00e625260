"""Mutants: plausible wrong backward passes, each a one-line edit of the handwritten source.

A mutant is the handwritten implementation with one function recompiled from its own source after
one textual substitution (`old` -> `new`, which must match exactly once). The suite's power is the
share of mutants its default run rejects; every mutant here must be caught.
"""

from __future__ import annotations

import shlex

from .catalogue import MUTANTS
from .impl import Implementation, handwritten, mutated
from .spec import CaseError, Mutant


def mutate(m: Mutant) -> Implementation:
    """The handwritten reference with `m.function` replaced by its mutant. The edit is tried here
    (a stale mutant is a CaseError now, not in the worker) and made again where it runs."""
    mutated(handwritten().namespace, m.function, m.old, m.new, m.id)
    return Implementation(f"handwritten [mutant {m.id}]", selector=f" --mutant {shlex.quote(m.id)}",
                          recipe=("mutant", m.function, m.old, m.new, m.id), contract="all")


def verdict(result) -> str:
    """What a mutant's run gave: "failed", "convention differs" (at a kink, the rest passed) or
    "passed"; a mutant is caught when this is its `expect`."""
    if result.status == "failed":
        return "failed"
    return "convention differs" if result.kink_status == "convention differs" else result.status


def caught(m: Mutant, result) -> bool:
    return verdict(result) == m.expect


def find(mutant_id: str) -> Mutant:
    for m in MUTANTS:
        if m.id == mutant_id:
            return m
    raise CaseError(f"no mutant {mutant_id!r}; list them with: gradref mutants")

