"""Checking one case of one implementation: the parent's side, which orchestrates a case.

Samples are drawn here (cases/sampling.py), sent a block at a time to the worker that runs the
implementation (cases/worker.py, cases/calls.py), evaluated by the oracles (cases/oracles.py) and
judged (cases/compare.py). Nothing the implementation does (raise, return junk, NaN, exit, crash,
hang) escapes as an exception: it becomes a failed verdict, or a CRASHED or TIMEOUT case, whose
message names the case, the sample and the problem.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import operator
import re
from dataclasses import dataclass, field

import jax
import numpy as np

from . import kinks, options, oracles, worker
from .calls import CallPlan
from .compare import SampleResult, Verdict, _fmt_index, compare, judge, probe_scale
from .impl import Implementation, ImplementationError, not_implemented
from .sampling import Block, Sample, draw_range, sample_id
from .spec import Arg, Case, Integers, elements
from .tolerance import FD_DIRECTIONS, printed_rtol, rtol
from .worker import DEFAULT_TIMEOUT, WorkerDied

TEST_FILE = "tests/test_reference.py"
CHECKS = {  # verdict name -> the test that states it
    "behaved": "test_well_behaved",
    "forward": "test_forward",
    "jax": "test_matches_jax",
    "fd": "test_matches_fd",
}
TESTS = CHECKS | {"kink": "test_at_kink"}   # every test a verdict can send a user to
DTYPES = {name: np.dtype(name).type for name in options.DTYPES}   # name -> NumPy type
PYTEST_SAMPLES = 20        # pytest's default --samples: a test id past it needs --samples


@dataclass
class CaseResult:
    case: Case
    implementation: str
    seed: int
    dtype: str
    samples: list = field(default_factory=list)
    not_implemented: str = ""      # why the op is not there ("" when it is)
    stopped: str = ""              # "crashed" or "timeout" when the worker stopped answering
    reason: str = ""               # ... and the one line that says why
    kinks: list = field(default_factory=list)   # a kinks.KinkVerdict per kink sample
    beyond_contract: str = ""      # the case's beyond_contract, where the implementation is held
                                   # only to its sources' contract ("" otherwise): what the source
                                   # does not ask (the backward) is reported, not failed; the
                                   # forward, which it does ask, is still held

    @property
    def status(self) -> str:
        if self.not_implemented:
            return "not implemented"
        if self.stopped:
            return self.stopped
        if all(s.ok for s in self.samples) and self.kink_status != "failed":
            return "passed"
        excused = self.beyond_contract and all(s.forward.ok for s in self.samples)
        return "beyond contract" if excused else "failed"

    @property
    def kink_status(self) -> str:
        """At the case's kinks: "passed", "convention differs", "failed", or "" (none checked)."""
        return kinks.worst(self.kinks)

    @property
    def checked(self) -> int:
        """How many samples were run and judged (a stopped case has samples that were not)."""
        return sum(s.checked for s in self.samples)

    def worst(self, check: str) -> float:
        errors = np.fromiter(map(operator.attrgetter(f"{check}.error"), self.samples), float,
                             len(self.samples))
        errors = errors[~np.isnan(errors)]
        return float(errors.max()) if errors.size else float("nan")

    def failures(self) -> list[tuple[str, Verdict]]:
        """(check, verdict) of every failed check; "kink" for a kink sample that is not a
        subgradient (a different convention is no failure)."""
        return [(check, v) for s in self.samples if not s.ok
                for check, v in s.verdicts().items() if not v.ok] \
            + [("kink", Verdict(False, message=k.message)) for k in self.kinks
               if k.status == "failed"]


# --- samples and oracle values, in blocks; small blocks are kept for the next implementation ------

BLOCK_CACHE_BYTES = 2**29   # mutants and --impl runs reuse the oracles of the same samples
JUDGE_SAMPLES = 1024
JUDGE_FLOATS = 2**22
RUN_AHEAD_FLOATS = 2**24    # results of the implementation held while the oracles compile


def draw(case: Case, seed: int, start: int, stop: int) -> Block:
    return draw_range(case, seed, start, stop, oracles.output_shapes(case))


def samples(case: Case, seed: int, n: int, start: int = 0) -> tuple[Sample, ...]:
    return tuple(draw(case, seed, start, n).samples())


def _rounded(x: np.ndarray, dtype) -> np.ndarray:
    """The float64 value of what the implementation receives (rounded to its dtype)."""
    return x.astype(dtype).astype(np.float64, copy=False) if x.dtype.kind == "f" else x


_blocks_cache: "collections.OrderedDict" = collections.OrderedDict()
_entry_bytes = BLOCK_CACHE_BYTES // 16   # the largest block kept (one case must not fill it)


@contextlib.contextmanager
def caching_oracle_values():
    """Within: every block's oracle values are kept, however large (up to the whole cache), for
    a caller that evaluates a block and then checks it; on leaving, the cache is emptied."""
    global _entry_bytes
    _entry_bytes = BLOCK_CACHE_BYTES
    try:
        yield
    finally:
        _entry_bytes = BLOCK_CACHE_BYTES // 16
        _blocks_cache.clear()


def oracle_values(case: Case, seed: int, blk: Block, dtype: str) -> oracles.OracleValues:
    """The oracle values of a block of samples, at the inputs rounded to `dtype`; recent small
    ones are cached (mutants and --impl runs check the same samples)."""
    key = (case, seed, blk.start, len(blk), dtype)
    if key in _blocks_cache:
        _blocks_cache.move_to_end(key)
        return _blocks_cache[key][0]
    t = DTYPES[dtype]
    arrays = {k: _rounded(v, t) for k, v in blk.arrays.items()}
    ov = oracles.evaluate_stacked(case, arrays, tuple(_rounded(d, t) for d in blk.douts),
                                  blk.directions)
    size = sum(x.nbytes for x in jax.tree_util.tree_leaves(vars(ov)))
    if size <= _entry_bytes:
        _blocks_cache[key] = (ov, size)
        while sum(v[1] for v in _blocks_cache.values()) > BLOCK_CACHE_BYTES:
            _blocks_cache.popitem(last=False)
    return ov


def block(case: Case, seed: int, start: int, stop: int, dtype: str) -> tuple:
    """(samples, oracle values) for samples start..stop-1, drawn and evaluated together."""
    blk = draw(case, seed, start, stop)
    return tuple(blk.samples()), oracle_values(case, seed, blk, dtype)


@functools.lru_cache(maxsize=None)
def call_plan(case: Case) -> CallPlan:
    """What the worker needs to know of a case to call an implementation on it."""
    return CallPlan(case.name, case.style, case.functions,
                    tuple(None if isinstance(a, Arg) else a.value for a in case.args),
                    tuple(a.name for a in case.arrays), tuple(case.outputs),
                    tuple(oracles.output_shapes(case)), tuple(case.grad_names),
                    tuple(a.name for a in case.diff_args),
                    tuple(tuple(a.shape) for a in case.diff_args), case.model,
                    tuple(a.name for a in case.args))


def reproduce(check: str, sid: str, seed: int, impl: Implementation, dtype: str) -> str:
    """The line that reruns one sample's check, pasted anywhere: the pytest test (from the
    checkout) and the gradref command (anywhere gradref is installed), every option that selects
    the sample, the implementation by its absolute path."""
    flags = (f" --seed {seed}" if seed else "") + impl.selector
    flags += f" --dtype {dtype}" if dtype != "float64" else ""
    case, kind, index = sid.rpartition("-s")
    if not kind:                 # a kink sample (relu-k0): the pytest test reruns it
        return f'reproduce: pytest "{TEST_FILE}::{TESTS[check]}[{sid}]"{flags}'
    more = f" --samples {int(index) + 1}" if int(index) >= PYTEST_SAMPLES else ""
    return (f'reproduce: pytest "{TEST_FILE}::{TESTS[check]}[{sid}]"{more}{flags}'
            f"  # or: gradref report --case {case} --sample {index}{flags}")


# --- the whole case ---------------------------------------------------------------------------

def check_case(case: Case, impl: Implementation, seed: int = 0, n: int = 20,
               dtype: str = "float64", first: int = 0,
               timeout: float = DEFAULT_TIMEOUT, at_kinks: bool = True) -> CaseResult:
    """Check `impl` on samples first..first+n-1 of `case` (check_implementations, for one)."""
    return check_implementations(case, [impl], seed, n, dtype, first, timeout, at_kinks)[0]


def check_implementations(case: Case, impls: list, seed: int = 0, n: int = 20,
                          dtype: str = "float64", first: int = 0,
                          timeout: float = DEFAULT_TIMEOUT,
                          at_kinks: bool = True) -> list[CaseResult]:
    """Check each implementation on samples first..first+n-1 of `case`, one CaseResult each;
    never raises for anything an implementation does. Each block of samples is drawn once and sent
    to every implementation's worker (they run at the same time), its oracle values are evaluated
    once and every implementation is judged against them. A call past `timeout` seconds or a
    worker that dies stops that implementation's case (TIMEOUT, CRASHED): its samples not judged by
    then fail with that reason, the others go on; its next case gets a fresh worker. `at_kinks`
    False: the random samples only (a mutant hunt checks the kinks once, at its last stage).

    The oracles compile in the background meanwhile: blocks are drawn and run ahead of their
    oracle values (up to RUN_AHEAD_FLOATS of results held), then evaluated and judged in order.
    The next block goes to the workers before the last one's results are read, so the workers run
    while this process judges."""
    if len(impls) > worker.MAX_WORKERS:
        raise ValueError(f"at most {worker.MAX_WORKERS} implementations can be checked together")
    results = [CaseResult(case, impl.name, seed, dtype, beyond_contract=case.beyond_contract
                          if impl.contract == "source" else "") for impl in impls]
    repro = [lambda chk, sid, impl=impl: reproduce(chk, sid, seed, impl, dtype) for impl in impls]
    live: dict = {}          # index -> the runner of each implementation still running
    stopped: dict = {}       # index -> WorkerDied
    for k, impl in enumerate(impls):
        try:
            runner = worker.runner(impl, timeout)
        except WorkerDied as e:
            stopped[k] = e
            continue
        except ImplementationError as e:   # imported before (a matrix column), not this time
            stopped[k] = WorkerDied("crashed", f"import failed: {e}")
            continue
        results[k].not_implemented = lacks(impl.name, runner, case)
        if not results[k].not_implemented:
            live[k] = runner
    if live:
        _run_and_judge(case, impls, results, live, stopped, seed, n, dtype, first, repro)
    for k in live:                   # exactly on the kinks, where it still runs
        if k not in stopped:
            if at_kinks:
                results[k].kinks = kinks.check(case, impls[k], seed, dtype, timeout)
            _not_checkable(results[k], live[k].unavailable)
    for k, e in stopped.items():     # its blocks that came back before it stopped are judged
        done = len(results[k].samples)
        stop_case(results[k], e, first + done, n - done, repro[k])
    return results


def lacks(impl_name: str, runner, case: Case) -> str:
    """Why the implementation a worker (or InProcess runner) loaded lacks `case` ("" if not)."""
    return not_implemented(impl_name, runner.defines, case, runner.unavailable,
                           runner.constructors)


def run_samples(case: Case, impl: Implementation, samples: list, dtype: str = "float64",
                timeout: float = DEFAULT_TIMEOUT, ids: list | None = None):
    """The implementation on a few given samples (goldens, kink points, vectors), as one block
    through its worker: (BlockRun, ""), or (None, why) when it does not implement the case;
    WorkerDied (the worker forgotten) when it crashed or hung. `ids`: how a crash names the
    samples (their ids by default)."""
    try:
        runner = worker.runner(impl, timeout)
        why = lacks(impl.name, runner, case)
        if why:
            return None, why
        plan = call_plan(case)
        runner.submit(plan, dtype, [np.stack([s.arrays[k] for s in samples]) for k in plan.inputs],
                      [np.stack([s.douts[k] for s in samples]) for k in range(len(plan.outputs))],
                      ids or [s.id for s in samples])
        return runner.result(), ""
    except WorkerDied:
        worker.forget(impl)
        raise


def _run_and_judge(case, impls, results, live, stopped, seed, n, dtype, first, repro) -> None:
    """check_implementations' loop over the blocks of samples."""
    oracles.prefetch(case)
    t = DTYPES[dtype]
    plan = call_plan(case)
    size = judge_block(case)
    per_sample = sum(elements(s) for s in plan.output_shapes)
    per_sample += case.n_diff_elements
    sent: collections.deque = collections.deque()    # blocks sent to the workers, not read yet
    ran: collections.deque = collections.deque()     # (block, {index: BlockRun}), not judged yet

    def judge_first():
        blk, ids, runs = ran.popleft()
        ov = oracle_values(case, seed, blk, dtype)   # once, for every implementation
        for k, run in runs.items():
            results[k].samples.extend(judge(case, ids, run, ov, rtol(t),
                                            lambda chk, i, k=k: repro[k](chk, ids[i]),
                                            probe_scale(t)))

    def read_first():
        blk, ids = sent.popleft()
        runs = {}
        for k in list(live):
            try:
                runs[k] = live[k].result()
            except WorkerDied as e:
                stopped[k] = e
                del live[k]
                worker.forget(impls[k])
        ran.append((blk, ids, runs))

    with _gc_paused():
        for start in range(first, first + n, size):
            if not live:
                break
            blk = draw(case, seed, start, min(first + n, start + size))
            arrays, douts = [blk.arrays[k] for k in plan.inputs], list(blk.douts)
            if sent and not all(r.can_send_ahead(arrays, douts) for r in live.values()):
                read_first()
            ids = blk.ids
            for runner in live.values():
                runner.submit(plan, dtype, arrays, douts, ids)
            sent.append((blk, ids))
            while len(sent) > 1:
                read_first()
            while ran and (oracles.ready(case)
                           or sum(len(r[0]) for r in ran) * per_sample > RUN_AHEAD_FLOATS):
                judge_first()
        while sent:
            read_first()
        while ran:
            judge_first()


def stop_case(result: CaseResult, e: WorkerDied, start: int, count: int, repro) -> CaseResult:
    """The case stopped (crashed or timed out) at sample `start`: it and the rest fail, unchecked."""
    result.stopped, result.reason = e.status, e.reason
    for i in range(start, start + count):
        sid = sample_id(result.case.name, i)
        v = Verdict(False, message=f"{sid}: not checked: {e.status}: {e.reason}\n"
                                   f"{repro('behaved', sid)}")
        result.samples.append(SampleResult(sid, v, v, v, v, checked=False))
    return result


def _not_checkable(result: CaseResult, unavailable: dict) -> CaseResult:
    """A case whose every failing sample stopped on a name its folder could not import (NameError
    on one of `unavailable`: fast_layers' col2im_6d_cython without the compiled extension) is
    not checkable for that reason, not failed: nothing of the implementation's math was judged."""
    stops = set()
    for s in result.samples:
        if s.ok:
            continue
        m = re.search(r"raised NameError: name '(\w+)' is not defined", s.behaved.message)
        if m is None or m.group(1) not in unavailable:
            return result
        stops.add(m.group(1))
    if stops:
        result.not_implemented = f"not checkable: {unavailable[sorted(stops)[0]]}"
        result.samples, result.kinks = [], []
    return result


@contextlib.contextmanager
def _gc_paused():
    """Python's cyclic garbage collector off for the duration: checking allocates many small
    acyclic objects per sample, and every few thousand allocations the collector would walk the
    whole heap (JAX's included); 10,000 samples of staged took 0.79 s with it, 0.58 s without."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def judge_block(case: Case) -> int:
    """Samples drawn, run, evaluated and judged together: whole chunks of the oracles, up to
    JUDGE_SAMPLES while their values stay within JUDGE_FLOATS (judging costs a few dozen NumPy
    calls per block, spread over its samples)."""
    size = oracles.block_size(case)
    k = FD_DIRECTIONS if case.fd_mode == "directional" else case.n_diff_elements
    io = sum(elements(s) for s in oracles.output_shapes(case))
    per_sample = 2 * (io + case.n_diff_elements) + 4 * k + k * case.n_diff_elements // 8
    chunks = max(1, min(JUDGE_SAMPLES, JUDGE_FLOATS // per_sample) // size)
    return size * chunks


# --- golden values ----------------------------------------------------------------------------

def golden_sample(case: Case, golden) -> Sample:
    arrays = {a.name: np.asarray(golden.inputs[a.name],
                                 dtype=np.int64 if isinstance(a.domain, Integers) else np.float64)
              for a in case.arrays}
    douts = tuple(np.ones(s) for s in oracles.output_shapes(case))  # the source's df/df = 1
    directions = None   # the oracles of a directional case want some; goldens use none of them
    if case.fd_mode == "directional":
        directions = np.ones((FD_DIRECTIONS, case.n_diff_elements), dtype=np.int8)
    return Sample(case, 0, arrays, douts, directions)


def _golden_verdict(case: Case, golden, values: dict, who: str, bound: float | None) -> Verdict:
    """`bound` None: bit for bit (Golden.exact)."""
    names = tuple(golden.expect)
    expected = tuple(np.asarray(golden.expect[k], dtype=np.float64) for k in names)
    got = tuple(np.asarray(values[k], dtype=np.float64) for k in names)
    if bound is None:
        for k, a, b in zip(names, got, expected):
            if a.shape != b.shape or not np.array_equal(a, b):
                i = np.unravel_index(int(np.argmax(a != b)), a.shape) if a.shape == b.shape else ()
                return Verdict(False, message=(
                    f"{case.name}: {who}: {k} is not bit for bit the golden value "
                    f"({golden.note}): at {_fmt_index(i)} got {float(a[i])!r}, expected "
                    f"{float(b[i])!r}"))
        return Verdict(True, 0.0)
    bound = max([bound] + [printed_rtol(e, golden.digits) for e in expected])
    v = compare(f"the golden value ({golden.note})", names, got, expected, bound)
    if not v.ok:
        v.message = f"{case.name}: {who}: {v.message}"
    return v


def check_golden(case: Case, impl: Implementation, golden, bound: float | None,
                 timeout: float = DEFAULT_TIMEOUT) -> Verdict:
    """The implementation at the golden inputs (upstream gradient 1) vs the printed numbers,
    within `bound` (normwise), or bit for bit where `bound` is None."""
    try:
        run, why = run_samples(case, impl, [golden_sample(case, golden)], "float64", timeout)
    except WorkerDied as e:
        return Verdict(False, message=f"{case.name}: golden {golden.note!r}: {e.status}: {e.reason}")
    if run is None:
        return Verdict(False, message=why)
    outs, grads, problems = run.sample(0)
    if outs is None or grads is None or problems:
        return Verdict(False, message=f"{case.name}: golden {golden.note!r}: " + "; ".join(problems))
    values = dict(zip(case.outputs, outs)) | dict(zip(case.grad_names, grads))
    return _golden_verdict(case, golden, values, impl.name, bound)


def reference_values(case: Case, golden) -> dict:
    """The case's JAX reference (forward and jax.vjp, upstream gradient 1) at a golden's inputs:
    every output and gradient by name. `gradref goldens` prints them: it regenerates a golden."""
    s = golden_sample(case, golden)
    ov = oracles.evaluate(case, [s.arrays], [s.douts], [s.directions])
    values = dict(zip(case.outputs, (o[0] for o in ov.outputs)))
    return values | dict(zip(case.grad_names, (g[0] for g in ov.grads)))


def reference_golden(case: Case, golden, bound: float) -> Verdict:
    """The case's JAX reference (forward and jax.vjp) vs the printed numbers."""
    return _golden_verdict(case, golden, reference_values(case, golden), "the JAX reference", bound)
