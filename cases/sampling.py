"""Seeded samples: sample i of a case is a pure function of (seed, case name, i).

The generator is seeded from a stable hash of the case name (not Python's `hash()`, which is salted
per process), so `test_matches_jax[staged-s3]` draws the same numbers on any machine, in any order,
under pytest-xdist, and in `gradref report`.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np

from .spec import Case, CaseError
from .tolerance import FD_DIRECTIONS, FD_STEP, FD_STEP_FLOOR, KINK_CLEARANCE

MAX_REDRAWS = 1000


@functools.lru_cache(maxsize=None)
def case_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def rng_for(seed: int, case: Case, index: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), case_key(case.name), int(index)])


@dataclass
class Sample:
    case: Case
    index: int
    arrays: dict            # every Arg input by name: float64 (or int64) arrays
    douts: tuple            # one upstream gradient per output; ones for a loss
    directions: np.ndarray | None  # (FD_DIRECTIONS, n_diff_elements) int8 +-1, directional FD only

    @property
    def id(self) -> str:
        return f"{self.case.name}-s{self.index}"


def fd_steps(x: np.ndarray) -> np.ndarray:
    """Per-element finite-difference step h_i = FD_STEP * max(|x_i|, FD_STEP_FLOOR)."""
    return FD_STEP * np.maximum(np.abs(x), FD_STEP_FLOOR)


def fd_reach(case: Case, arrays: dict) -> float:
    """The farthest any coordinate moves in the FD check (directions are +-1 times h)."""
    return max(float(fd_steps(arrays[a.name]).max(initial=0.0)) for a in case.diff_args)


def draw_arrays(case: Case, rng: np.random.Generator) -> dict:
    """Draw every array input; redraw while the sample is within reach of a kink."""
    for _ in range(MAX_REDRAWS):
        arrays = {a.name: np.asarray(a.domain.draw(rng, a.shape)) for a in case.arrays}
        for a in case.arrays:
            if arrays[a.name].shape != tuple(a.shape):
                raise CaseError(f"case {case.name!r}: domain of {a.name!r} drew shape "
                                f"{arrays[a.name].shape}, declared {tuple(a.shape)}")
        if case.kink_distance is None:
            return arrays
        distance = float(case.kink_distance(*arrays.values()))
        if distance > KINK_CLEARANCE * fd_reach(case, arrays):
            return arrays
    raise CaseError(f"case {case.name!r}: {MAX_REDRAWS} draws in a row fell within reach of a "
                    "kink; widen the domain or fix kink_distance")


def draw_sample(case: Case, seed: int, index: int, output_shapes: tuple) -> Sample:
    rng = rng_for(seed, case, index)
    arrays = draw_arrays(case, rng)
    if case.style == "loss":
        douts = (np.ones(()),)  # a loss is the end of the graph: its upstream gradient is 1
    else:
        # A random upstream gradient for every output, scalars too: with dout = 1, a backward
        # that ignores dout would pass.
        douts = tuple(rng.standard_normal(shape) for shape in output_shapes)
    directions = None
    if case.fd_mode == "directional":
        directions = (2 * rng.integers(0, 2, size=(FD_DIRECTIONS, case.n_diff_elements)) - 1).astype(np.int8)
    return Sample(case, index, arrays, douts, directions)
