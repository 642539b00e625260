"""Seeded samples: sample i of a case is a pure function of (seed, case name, i).

Samples are drawn a block at a time (one NumPy call per input for SAMPLE_BLOCK samples, not one
per sample): sample i is row i % B of block i // B, and block b comes from a generator seeded with
(seed, a stable hash of the case name, b). B depends only on the case's shapes, so
`test_matches_jax[staged-s3]` draws the same numbers on any machine, in any order, alone or among
10,000 samples, under pytest-xdist, and in `gradref report`. (The hash is sha256, not Python's
`hash()`, which is salted per process.)
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np

from .spec import Case, CaseError, Drawn
from .tolerance import FD_DIRECTIONS, KINK_CLEARANCE, fd_steps

MAX_REDRAWS = 1000
SAMPLE_BLOCK = 64          # samples drawn together ...
SAMPLE_BLOCK_FLOATS = 2**20  # ... fewer where one block's inputs would pass this many floats


@functools.lru_cache(maxsize=None)
def case_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


@functools.lru_cache(maxsize=None)
def sample_block(case: Case) -> int:
    """Samples per drawing block: SAMPLE_BLOCK, halved while a block passes SAMPLE_BLOCK_FLOATS."""
    size = case.n_input_elements
    b = SAMPLE_BLOCK
    while b > 1 and b * size > SAMPLE_BLOCK_FLOATS:
        b //= 2
    return b


def sample_id(case_name: str, index: int) -> str:
    """Sample `index` of a case as test ids, reproduce lines, reports and vectors name it:
    `staged-s3`."""
    return f"{case_name}-s{index}"


def sample_index(sid: str) -> int:
    """The index of a sample id: sample_index(sample_id(name, i)) == i."""
    return int(sid.rpartition("-s")[2])


def sample_ids(case_name: str, start: int, stop: int) -> list[str]:
    """sample_id of samples start..stop-1, built by map: a block's ids, made once per block."""
    return list(map(f"{case_name}-s".__add__, map(str, range(start, stop))))


@dataclass
class Sample:
    case: Case
    index: int
    arrays: dict            # every Arg input by name: float64 (or int64) arrays
    douts: tuple            # one upstream gradient per output; ones for a loss
    directions: np.ndarray | None  # (FD_DIRECTIONS, n_diff_elements) int8 +-1, directional FD only

    @property
    def id(self) -> str:
        return sample_id(self.case.name, self.index)


def fd_reach(case: Case, arrays: dict) -> float:
    """The farthest any coordinate moves in the FD check (directions are +-1 times h)."""
    return max(float(fd_steps(arrays[a.name]).max(initial=0.0)) for a in case.diff_args)


def _draw(case: Case, rng: np.random.Generator, n: int) -> dict:
    """n samples of every array input, (n, *shape) each: one call per input where the domain
    draws its elements independently, one per sample for a Drawn domain (a whole-array rule)."""
    arrays = {}
    for a in case.arrays:
        if isinstance(a.domain, Drawn):
            x = np.stack([np.asarray(a.domain.draw(rng, a.shape)) for _ in range(n)])
        else:
            x = np.asarray(a.domain.draw(rng, (n, *a.shape)))
        if x.shape != (n, *a.shape):
            raise CaseError(f"case {case.name!r}: domain of {a.name!r} drew shape {x.shape[1:]}, "
                            f"declared {tuple(a.shape)}")
        arrays[a.name] = x
    return arrays


def _too_close(case: Case, arrays: dict, rows: np.ndarray) -> np.ndarray:
    """Which of the samples `rows` (indices into the block) lie within KINK_CLEARANCE FD reaches
    of a kink (none if smooth). Only those rows are measured: a redraw replaces the close rows
    alone, and a model's distance (a Jacobian per sample) is most of a block's drawing time."""
    if case.kink_distance is None:
        return np.zeros(len(rows), dtype=bool)
    reach = np.max([fd_steps(arrays[a.name][rows].reshape(len(rows), -1)).max(axis=1,
                                                                             initial=0.0)
                    for a in case.diff_args], axis=0)
    distance = np.array([case.distance_to_kink({k: x[i] for k, x in arrays.items()})
                         for i in rows])
    return ~(distance > KINK_CLEARANCE * reach)


@functools.lru_cache(maxsize=8)
def draw_block(case: Case, seed: int, b: int, output_shapes: tuple) -> tuple:
    """Block b: (arrays {name: (B, ...)}, douts ((B, ...) per output), directions (B, K, E) or
    None), B = sample_block(case). Inputs, upstream gradients and directions come from three
    streams of the block's seed, so redrawing an input near a kink moves nothing else."""
    n = sample_block(case)
    # Each stream's generator is made where it is used (a generator costs a few us; the numbers
    # are the same): a loss has no upstream stream to draw, a full FD check no directions.
    streams = np.random.SeedSequence([int(seed), case_key(case.name), int(b)]).spawn(3)
    inputs = np.random.default_rng(streams[0])
    arrays = _draw(case, inputs, n)
    close = np.flatnonzero(_too_close(case, arrays, np.arange(n)))
    for _ in range(MAX_REDRAWS):
        if not close.size:
            break
        again = _draw(case, inputs, n)       # a fresh block; its rows replace the close ones
        for name in arrays:
            arrays[name][close] = again[name][close]
        close = close[_too_close(case, arrays, close)]
    else:
        raise CaseError(f"case {case.name!r}: {MAX_REDRAWS} draws in a row fell within reach of "
                        "a kink; widen the domain or fix kink_distance")
    if case.style == "loss":
        douts = (np.ones((n,)),)  # a loss is the end of the graph: its upstream gradient is 1
    else:
        # A random upstream gradient for every output, scalars too: with dout = 1, a backward
        # that ignores dout would pass.
        upstream = np.random.default_rng(streams[1])
        douts = tuple(upstream.standard_normal((n, *shape)) for shape in output_shapes)
    directions = None
    if case.fd_mode == "directional":
        dirs = np.random.default_rng(streams[2])
        directions = (2 * dirs.integers(0, 2, size=(n, FD_DIRECTIONS, case.n_diff_elements),
                                        dtype=np.int8) - 1).astype(np.int8)
    for x in [*arrays.values(), *douts] + ([] if directions is None else [directions]):
        x.flags.writeable = False     # shared by every sample of the block and cached
    return arrays, douts, directions


@dataclass
class Block:
    """Samples start..start+len-1 of a case, stacked: arrays {name: (S, ...)}, douts ((S, ...) per
    output), directions (S, K, E) or None. Read-only: shared with the caches."""
    case: Case
    start: int
    arrays: dict
    douts: tuple
    directions: np.ndarray | None

    def __len__(self) -> int:
        return len(self.douts[0])

    @property
    def ids(self) -> list[str]:
        return sample_ids(self.case.name, self.start, self.start + len(self))

    def sample(self, j: int) -> Sample:
        """Row j as a Sample (views; [j, ...] keeps a scalar input a 0-d array)."""
        return Sample(self.case, self.start + j, {k: v[j, ...] for k, v in self.arrays.items()},
                      tuple(d[j, ...] for d in self.douts),
                      None if self.directions is None else self.directions[j])

    def samples(self) -> list[Sample]:
        return [self.sample(j) for j in range(len(self))]


def draw_range(case: Case, seed: int, start: int, stop: int, output_shapes: tuple) -> Block:
    """Samples start..stop-1 as one Block, cut from the drawing blocks that hold them."""
    n = sample_block(case)
    parts = [(draw_block(case, seed, b, output_shapes), max(start, b * n) - b * n,
              min(stop, (b + 1) * n) - b * n) for b in range(start // n, (stop - 1) // n + 1)]

    def join(pick):
        rows = [pick(drawn)[lo:hi] for drawn, lo, hi in parts]
        x = rows[0] if len(rows) == 1 else np.concatenate(rows)
        x.flags.writeable = False
        return x
    arrays = {name: join(lambda d, name=name: d[0][name]) for name in parts[0][0][0]}
    douts = tuple(join(lambda d, k=k: d[1][k]) for k in range(len(parts[0][0][1])))
    directions = None if parts[0][0][2] is None else join(lambda d: d[2])
    return Block(case, start, arrays, douts, directions)


def draw_samples(case: Case, seed: int, start: int, stop: int, output_shapes: tuple) -> list:
    """Samples start..stop-1, as views into their blocks."""
    return draw_range(case, seed, start, stop, output_shapes).samples()


def draw_sample(case: Case, seed: int, index: int, output_shapes: tuple) -> Sample:
    return draw_samples(case, seed, index, index + 1, output_shapes)[0]
