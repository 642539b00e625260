"""Calling the implementation under test on a block of samples: what runs in the worker process.

This is the only module that calls an implementation's functions. It runs inside the worker
(cases/worker.py), never in the process that judges, and knows nothing of the oracles or the
bounds: it returns what the implementation returned (float64 copies) and what it observed, one
line each, blamed on the call that did it:
  - an exception (with the user's file and line, its text folded to one line),
  - a value that is not an array of the right shape and dtype, or not finite,
  - a write into the inputs (by the forward or by the backward), into dout, into the cache or into
    the forward's output, and an input that changed after the calls returned (a kept reference),
  - a backward that answers differently when called again with the same cache and an equal copy
    of dout (nondeterminism, or state kept between calls).
Every sample is called exactly once (the backward twice); the first answer is the one judged.
"""

from __future__ import annotations

import copy
import functools
import inspect
import sysconfig
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .tolerance import rtol

FORWARD, BACKWARD, BACKWARD_AGAIN = 0, 1, 2     # which call of a sample is running (progress)
PHASES = ("forward", "backward", "backward, second call")
MAX_MESSAGE = 300                               # characters of an exception's text kept


@dataclass(frozen=True)
class CallPlan:
    """What the worker needs to know of a case to call an implementation on it: plain data,
    built by the parent from the case record (cases/check.py, call_plan)."""
    case: str
    style: str                 # "pair" (forward, backward) or "loss" (op -> (loss, grads))
    functions: tuple           # the implementation's function names: (forward, backward) or (op,)
    args: tuple                # per argument in call order: None for an array input, else its
    #                            Static value (each call gets a fresh deep copy)
    inputs: tuple              # the array inputs' names, in order
    outputs: tuple             # the outputs' names
    output_shapes: tuple
    grads: tuple               # the gradients' names, d<input>
    grad_inputs: tuple         # the differentiable inputs' names (the keys of a dict of gradients)
    grad_shapes: tuple
    model: object = None       # a model case's spec.Model (the class to construct), else None
    arg_names: tuple = ()      # every argument's name, in call order (a model's loss takes them)

    @property
    def shapes(self) -> tuple:
        return self.output_shapes + self.grad_shapes


@dataclass
class BlockRun:
    """What the implementation returned on a block of S samples and what was observed."""
    outputs: tuple             # (S, *shape) float64 per output
    grads: tuple               # (S, *shape) float64 per gradient (the first backward call's)
    outputs_ok: np.ndarray     # (S,) bool: the outputs can be compared (an array of the shape)
    grads_ok: np.ndarray       # (S,) bool: the gradients can be compared
    problems: dict             # sample row -> [one line per problem]; rows without are absent

    def sample(self, i: int) -> tuple:
        """(outputs, gradients, problems) of row i; None where not usable."""
        return (tuple(o[i] for o in self.outputs) if self.outputs_ok[i] else None,
                tuple(g[i] for g in self.grads) if self.grads_ok[i] else None,
                self.problems.get(i, []))


# --- words for what went wrong ---------------------------------------------------------------

_HERE = Path(__file__).resolve().parent
_STDLIB = str(Path(sysconfig.get_paths()["stdlib"]).resolve())
_LIBRARIES = tuple({_STDLIB, *(str(Path(p).resolve()) for p in (
    np.__file__.rsplit("/", 1)[0], *(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))))})


def fold(text: str) -> str:
    """A (possibly multi-line) text as one line of at most MAX_MESSAGE characters."""
    one = " / ".join(line.strip() for line in str(text).splitlines() if line.strip())
    return one if len(one) <= MAX_MESSAGE else one[:MAX_MESSAGE - 3] + "..."


def where(e: BaseException) -> str:
    """' (file.py, line N)': the innermost frame in the implementation's own code, past NumPy's,
    installed packages' and the standard library's frames (and gradref's); failing that, the
    innermost in an installed package (an implementation installed as one); else nothing."""
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if not f.filename.startswith((str(_HERE), "<frozen "))]
    own = ([f for f in frames if not f.filename.startswith(_LIBRARIES)]
           or [f for f in frames if not f.filename.startswith(_STDLIB)])
    if isinstance(e, SyntaxError) and e.filename:
        return f" ({Path(e.filename).name}, line {e.lineno})"
    return f" ({Path(own[-1].filename).name}, line {own[-1].lineno})" if own else ""


def raised(name: str, e: BaseException) -> str:
    return f"{name} raised {type(e).__name__}: {fold(e)}{where(e)}"


def signature_problem(fn, name: str, n_args: int) -> str:
    """'' if fn can be called with n_args positional arguments, else one line saying why not."""
    if not callable(fn):
        return f"{name} is a {type(fn).__name__}, not a function"
    try:
        return _signature_problem(fn, name, n_args)
    except TypeError:  # an unhashable callable: not cached
        return _signature_problem.__wrapped__(fn, name, n_args)


@functools.lru_cache(maxsize=4096)
def _signature_problem(fn, name: str, n_args: int) -> str:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ""  # builtins and C functions: let the call decide
    try:
        sig.bind(*range(n_args))
    except TypeError as e:
        return f"{name}{sig} cannot be called with {n_args} arguments: {e}"
    return ""


# --- returned values -------------------------------------------------------------------------

def _accept(value, shape: tuple, t: np.dtype, what: str, into: np.ndarray, i: int,
            said: list) -> bool:
    """Copy one returned value into into[i] (float64) if it can be compared; say what is off."""
    kind = type(value)
    if (kind is np.ndarray and value.shape == shape and value.dtype == t
            or kind is t.type and shape == ()):      # an array, or a NumPy scalar of the dtype
        into[i] = value          # a copy now: an op may reuse its buffers in the next call
        return True
    if isinstance(value, (float, int)) and not isinstance(value, bool) and shape == ():
        value = np.asarray(value, dtype=t)       # a Python number is fine for a scalar
    elif isinstance(value, np.generic):
        value = np.asarray(value)
    elif not isinstance(value, np.ndarray):
        said.append(f"{what} is {type(value).__name__}, not a NumPy array")
        return False
    if value.shape != shape:
        said.append(f"{what} has shape {value.shape}, expected {shape}")
        return False
    if value.dtype != t:
        said.append(f"{what} has dtype {value.dtype}, expected {t.name}")
        if value.dtype.kind not in "fiub":       # strings, objects, complex: nothing to compare
            return False
    into[i] = value              # a wrong real dtype is still compared (and fails behaved)
    return True


def _accept_all(values, shapes: tuple, t: np.dtype, labels: list, into: list, i: int,
                said: list) -> bool:
    """_accept for each of a call's values (all of them, so that every problem is said)."""
    ok = True
    scalar = t.type
    for v, shape, label, x in zip(values, shapes, labels, into):
        kind = type(v)
        if kind is np.ndarray and v.shape == shape and v.dtype == t or kind is scalar and shape == ():
            x[i] = v
        else:
            ok = _accept(v, shape, t, label, x, i, said) and ok
    return ok


def _split_grads(raw, plan: CallPlan, name: str, said: list) -> tuple | None:
    """The gradients out of what the backward (or a loss op) returned, in the plan's order."""
    names = plan.grads
    if isinstance(raw, dict):
        missing = [k for k in plan.grad_inputs if k not in raw]
        if missing:
            said.append(f"{name} returned a dict without {missing}")
            return None
        return tuple(raw[k] for k in plan.grad_inputs)
    if len(names) == 1:
        if not isinstance(raw, (tuple, list)):
            return (raw,)
        if len(raw) == 1:                        # `return dx,`
            return tuple(raw)
        said.append(f"{name} returned a {type(raw).__name__} of {len(raw)} items; the single "
                    f"gradient {names[0]} is returned as one NumPy array")
        return None
    if not isinstance(raw, (tuple, list)):
        said.append(f"{name} returned {type(raw).__name__}; expected {len(names)} gradients "
                    f"({', '.join(names)})")
        return None
    if len(raw) != len(names):
        said.append(f"{name} returned {len(raw)} gradients; expected {len(names)} "
                    f"({', '.join(names)})")
        return None
    return tuple(raw)


def _cache_arrays(cache) -> list:
    """The NumPy arrays a cache holds, two levels deep (tuple, list or dict of them)."""
    kind = type(cache)
    items = cache.values() if kind is dict else cache if kind is tuple or kind is list else (cache,)
    found = [v for v in items if type(v) is np.ndarray]
    for v in [v for v in items if type(v) in _NESTED]:       # usually none: one cheap pass
        found += [x for x in (v.values() if type(v) is dict else v) if type(x) is np.ndarray]
    return found


_NESTED = (tuple, list, dict)
_WATCHED = frozenset((np.ndarray, *_NESTED))


def _cache_snapshot(cache) -> list:
    """(array, its bytes) for each array of the cache (_cache_arrays); at once empty where the
    cache holds no array and no container (NumPy scalars, say), with no Python loop."""
    kind = type(cache)
    items = cache.values() if kind is dict else cache if kind is tuple or kind is list else (cache,)
    if _WATCHED.isdisjoint(map(type, items)):
        return []
    return [(a, a.tobytes()) for a in _cache_arrays(cache)]


def _as_dtype(x: np.ndarray, t) -> np.ndarray:
    return x.astype(t) if x.dtype.kind == "f" else x.copy()   # a copy either way


def _static_copy(value, t):
    """A fresh copy of a Static parameter, float arrays in it (bn_param's running statistics) in
    the implementation's dtype."""
    if isinstance(value, dict):
        return {k: _static_copy(v, t) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(t)
    return copy.deepcopy(value)


def _packed(arrays: list, t) -> tuple:
    """The block's inputs in one (S, B) byte matrix, a view into it per input ((S, *shape), in the
    implementation's dtype) and each input's (offset, bytes) in a row: a write into any input of
    sample i shows in row i, which one comparison checks. Fields start at multiples of 8 bytes
    (aligned for any dtype)."""
    typed = [_as_dtype(a, t) for a in arrays]
    n = len(typed[0])
    spans, width = [], 0
    for x in typed:
        size = x.itemsize * int(np.prod(x.shape[1:], dtype=np.int64))
        spans.append((width, size))
        width += -(-size // 8) * 8
    packed = np.zeros((n, max(width, 8)), dtype=np.uint8)
    views = []
    for x, (off, _) in zip(typed, spans):
        inner = np.empty(x.shape[1:], x.dtype).strides            # C order within a sample
        v = np.ndarray(x.shape, x.dtype, packed, off, (packed.shape[1], *inner))
        v[...] = x
        views.append(v)
    return packed, views, spans


def _rows(arrays: list, n: int) -> list:
    """Per sample, the tuple of row views of `arrays` ((S, ...) each; [i, ...] keeps a scalar's row
    a 0-d array, where iterating would give NumPy scalars)."""
    return list(zip(*(list(a) if a.ndim > 1 else [a[i, ...] for i in range(n)]
                      for a in arrays)))


def _rows_changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(S,) whether row i of `after` differs from row i of `before` in any byte."""
    n = len(before)
    return np.any(before.reshape(n, -1).view(np.uint8) != after.reshape(n, -1).view(np.uint8),
                  axis=1)


def _rows_apart(first: np.ndarray, second: np.ndarray, bound: float) -> np.ndarray:
    """(S,) whether row i of `second` is farther from `first` than `bound` times the row's
    max|first| (the forward and JAX checks' normwise bound): a backward that sums in another order
    on its second call (threads, a set's iteration order) moves last bits, not more."""
    n = len(first)
    a, b = first.reshape(n, -1), second.reshape(n, -1)
    scale = np.abs(a).max(axis=1, initial=0.0)
    return ~(np.abs(a - b).max(axis=1, initial=0.0) <= bound * scale)


def _index(i: tuple) -> str:
    return "[" + ", ".join(str(int(k)) for k in i) + "]" if i else "(scalar)"


# --- the block -------------------------------------------------------------------------------

def run_block(fns: tuple, plan: CallPlan, dtype: str, arrays: list, douts: list,
              progress=None) -> BlockRun:
    """Call the implementation on every sample of a block: forward, then backward twice (with the
    same cache, on separate copies of dout). `arrays`, `douts`: (S, ...) per input and output.
    `progress[1:3]` is set to (4 * row + phase, time.monotonic()) as each call starts and to -1
    when the block is done: the parent reads it to time calls out and to name a call that died."""
    t = np.dtype(dtype)
    n = len(douts[0])
    mark = progress if progress is not None else [0.0, 0.0, 0.0]
    pair = plan.style == "pair"
    fname = plan.functions[0]
    bname = plan.functions[-1]
    outs = [np.zeros((n, *s)) for s in plan.output_shapes]
    grads = [np.zeros((n, *s)) for s in plan.grad_shapes]
    again = [np.zeros((n, *s)) for s in plan.grad_shapes]
    outputs_ok = np.zeros(n, dtype=bool)
    grads_ok = np.zeros(n, dtype=bool)
    again_ok = np.zeros(n, dtype=bool)
    problems: dict = {}
    wrong = (signature_problem(fns[0], fname, len(plan.args))
             or (pair and signature_problem(fns[1], bname, len(plan.outputs) + 1)))
    if wrong:
        return BlockRun(tuple(outs), tuple(grads), outputs_ok, grads_ok,
                        {i: [wrong] for i in range(n)})

    packed, work, spans = _packed(arrays, t)        # the implementation gets rows of `work`
    pristine = packed.copy()
    rows, before = list(packed), [row.tobytes() for row in pristine]
    first_douts = [_as_dtype(d, t) for d in douts]
    second_douts = [d.copy() for d in first_douts]
    pristine_douts = [d.copy() for d in first_douts]
    # Each call's arguments as views, cut once per block ([i, ...]: a 0-d array for a scalar).
    arg_rows = _rows(work, n)
    first_rows, second_rows = _rows(first_douts, n), _rows(second_douts, n)
    statics = [(k, a) for k, a in enumerate(plan.args) if a is not None]
    output_labels = [f"{fname} output {o!r}" for o in plan.outputs]
    grad_labels = [f"gradient {g}" for g in plan.grads]
    n_outs, n_grads = len(plan.outputs), len(plan.grads)
    n_result = n_outs + 1
    forward, backward = fns[0], fns[-1]
    written = np.zeros(n, dtype=bool)      # an input was seen written during the sample's calls

    def inputs_written(i: int) -> list:
        """The names of sample i's inputs that differ from what it was given (rarely called:
        only once its row was seen to differ)."""
        return [name for name, (off, size) in zip(plan.inputs, spans)
                if rows[i][off:off + size].tobytes() != pristine[i, off:off + size].tobytes()]

    monotonic, ndarray, scalar = time.monotonic, np.ndarray, t.type
    out_specs = tuple(zip(plan.output_shapes, outs))
    grad_specs, again_specs = tuple(zip(plan.grad_shapes, grads)), tuple(zip(plan.grad_shapes, again))

    def copied(values, specs, i: int) -> bool:
        """The common case of _accept_all, cheaply: every value an array of its shape and the
        dtype (or a NumPy scalar of the dtype, for a scalar) is copied into row i. False, having
        said nothing, at the first that is not: _accept_all then looks at each (again)."""
        for v, (shape, x) in zip(values, specs):
            kind = type(v)
            if kind is scalar and shape == () or kind is ndarray and v.shape == shape \
                    and v.dtype == t:
                x[i] = v     # a copy now: an op may reuse its buffers in the next call
            else:
                return False
        return True

    for i in range(n):
        said = problems[i] = []
        args = arg_rows[i]
        if statics:
            args = list(args)
            for k, value in statics:
                args.insert(k, _static_copy(value, t))
        mark[1], mark[2] = 4 * i + FORWARD, monotonic()
        try:
            result = forward(*args)
        except Exception as e:
            said.append(raised(fname, e))
            continue
        changed = inputs_written(i) if rows[i].tobytes() != before[i] else []
        if changed:
            written[i] = True
            said.append(f"{fname} wrote into its input(s) {', '.join(changed)}")
        if not (type(result) is tuple and len(result) == n_result) and (
                not isinstance(result, (tuple, list)) or len(result) != n_result):
            got = (f"{len(result)} values" if isinstance(result, (tuple, list))
                   else type(result).__name__)
            want = ", ".join(plan.outputs) + (", grads" if not pair else ", cache")
            said.append(f"{fname} returned {got}; expected ({want})")
            continue
        values = result[:n_outs]
        outputs_ok[i] = copied(values, out_specs, i) or _accept_all(
            values, plan.output_shapes, t, output_labels, outs, i, said)
        if not pair:
            raw = _split_grads(result[1], plan, fname, said)
        else:
            cache = result[-1]
            kept = ([(k, v.tobytes()) for k, v in enumerate(values) if type(v) is ndarray]
                    if ndarray in map(type, values) else None)
            cached = _cache_snapshot(cache)
            mark[1], mark[2] = 4 * i + BACKWARD, monotonic()
            try:
                raw = backward(*first_rows[i], cache)
            except Exception as e:
                said.append(raised(bname, e))
                continue
            if not (type(raw) is tuple and len(raw) == n_grads):   # else as returned: (dx, dy)
                raw = _split_grads(raw, plan, bname, said)
            if raw is not None:     # copied before the second call, which may reuse buffers
                grads_ok[i] = copied(raw, grad_specs, i) or _accept_all(
                    raw, plan.grad_shapes, t, grad_labels, grads, i, said)
                raw = None
            if cached and any(a.tobytes() != b for a, b in cached):
                said.append(f"{bname} wrote into the cache its forward returned")
            mark[1], mark[2] = 4 * i + BACKWARD_AGAIN, monotonic()
            try:
                raw2 = backward(*second_rows[i], cache)
            except Exception as e:
                said.append(raised(bname, e).replace(" raised ", " raised on its second call "
                                                     "(same cache, an equal dout) ", 1))
            else:
                if not (type(raw2) is tuple and len(raw2) == n_grads):
                    raw2 = _split_grads(raw2, plan, bname, [])
                again_ok[i] = raw2 is not None and (copied(raw2, again_specs, i) or _accept_all(
                    raw2, plan.grad_shapes, t, grad_labels, again, i, []))
            if kept:
                outputs_changed = [plan.outputs[k] for k, b in kept if values[k].tobytes() != b]
                if outputs_changed:
                    said.append(f"{bname} wrote into the forward's output(s) "
                                f"{', '.join(outputs_changed)}")
            if rows[i].tobytes() != before[i]:
                changed = [c for c in inputs_written(i) if c not in changed]
                if changed:
                    written[i] = True
                    said.append(f"{bname} wrote into its input(s) {', '.join(changed)} (through "
                                "the cache)")
        if raw is not None:
            grads_ok[i] = _accept_all(raw, plan.grad_shapes, t, grad_labels, grads, i, said)
    mark[1] = -1

    # Block-wise, vectorized: finiteness, dout, inputs changed later, the second answers.
    for values, ok, labels in ((outs, outputs_ok, output_labels), (grads, grads_ok, grad_labels)):
        for x, label in zip(values, labels):
            bad = ok & ~np.isfinite(x.reshape(n, -1)).all(axis=1)
            for i in np.flatnonzero(bad):
                problems[i].append(f"{label} has {int(np.sum(~np.isfinite(x[i])))} non-finite "
                                   "entries (nan or inf)")
    if pair:
        for k, (p, d1, d2) in enumerate(zip(pristine_douts, first_douts, second_douts)):
            for i in np.flatnonzero(_rows_changed(p, d1) | _rows_changed(p, d2)):
                problems[i].append(f"{bname} wrote into dout[{k}] (it must not modify the "
                                   "upstream gradient)")
        both = grads_ok & again_ok
        for name, g1, g2 in zip(plan.grads, grads, again):
            differ = both & _rows_apart(g1, g2, rtol(t))
            for i in np.flatnonzero(differ):
                j = np.unravel_index(int(np.argmax(np.abs(g1[i] - g2[i]).reshape(-1))),
                                     g1[i].shape)
                problems[i].append(
                    f"{bname} returned a different {name} when called again with the same cache "
                    f"and an equal copy of dout (at {_index(j)}: first {float(g1[i][j])!r}, "
                    f"then {float(g2[i][j])!r}; beyond rounding): nondeterministic, or it keeps "
                    "state between calls")
    for i in np.flatnonzero(_rows_changed(pristine, packed) & ~written):
        problems[i].append("an input of this sample changed after its calls returned (the op "
                           "keeps a reference to it and writes into it later)")
    return BlockRun(tuple(outs), tuple(grads), outputs_ok, grads_ok,
                    {i: p for i, p in problems.items() if p})
