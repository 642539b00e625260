"""What a case is: a frozen record of one op's calling convention, domain, reference and goldens.

A case says how to call an op (its inputs in order, which get gradients, its outputs), how to draw
inputs from its domain, and what the op computes (a `jax.numpy` reference written independently of
any implementation). The machinery in cases/check.py does everything else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class CaseError(ValueError):
    """A case record, or a request about a case, that cannot work. The message names the case."""


def elements(shape) -> int:
    """How many entries an array of this shape has (1 for a scalar's ())."""
    return int(np.prod(shape, dtype=np.int64))


# --- Domains: how one input is drawn. Each is a small frozen record with `draw(rng, shape)`. -----

@dataclass(frozen=True)
class Uniform:
    lo: float
    hi: float

    def draw(self, rng: np.random.Generator, shape) -> np.ndarray:
        return rng.uniform(self.lo, self.hi, shape)

    def __str__(self) -> str:
        return f"U({self.lo:g}, {self.hi:g})"


@dataclass(frozen=True)
class Normal:
    scale: float = 1.0

    def draw(self, rng, shape):
        return self.scale * rng.standard_normal(shape)

    def __str__(self):
        return f"N(0, {self.scale:g}^2)"


@dataclass(frozen=True)
class Magnitude:
    """|x| uniform in [lo, hi] with a random sign: keeps x away from 0 (a pole or a kink)."""
    lo: float
    hi: float

    def draw(self, rng, shape):
        sign = rng.choice([-1.0, 1.0], size=shape)
        return sign * rng.uniform(self.lo, self.hi, shape)

    def __str__(self):
        return f"+-U({self.lo:g}, {self.hi:g})"


@dataclass(frozen=True)
class Integers:
    """Integers in [lo, hi): labels, indices. Never differentiable."""
    lo: int
    hi: int

    def draw(self, rng, shape):
        return rng.integers(self.lo, self.hi, size=shape, dtype=np.int64)

    def __str__(self):
        return f"int[{self.lo}, {self.hi})"


@dataclass(frozen=True)
class Fixed:
    """The same value in every sample (a gate's constant, a mask)."""
    value: Any

    def draw(self, rng, shape):
        return np.broadcast_to(np.asarray(self.value, dtype=np.float64), shape).copy()

    def __str__(self):
        return f"= {self.value}"


@dataclass(frozen=True)
class Drawn:
    """Any other domain: `fn(rng, shape) -> array`, described by `text` (e.g. well-conditioned)."""
    fn: Callable[[np.random.Generator, tuple], np.ndarray]
    text: str

    def draw(self, rng, shape):
        return np.asarray(self.fn(rng, shape))

    def __str__(self):
        return self.text


# --- Arguments --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Arg:
    """An array input, drawn per sample. `diff`: whether the op returns a gradient for it."""
    name: str
    shape: tuple[int, ...]
    domain: Any
    diff: bool = True


@dataclass(frozen=True)
class Static:
    """A fixed, non-array parameter (conv_param dict, G, reg): same in every sample, no gradient.
    Implementations get a fresh deep copy per call, so ops may update it (bn_param running stats)."""
    name: str
    value: Any


@dataclass(frozen=True)
class Golden:
    """Numbers a source prints: at `inputs` (upstream gradient 1), `expect` maps an output name or
    `d<input>` to its value. `exact`: the implementation does the source's operations in the
    source's order, so the value must come out bit for bit (in the reference implementation).
    `at_kink`: the point is non-differentiable; the numbers document the op's convention there.
    The JAX reference states the same convention (cases/conventions.py) and is held to them too;
    `gradref goldens` regenerates them from it.
    `digits`: the source prints its numbers to this many significant digits (0: in full), so
    they are compared within one unit of the last printed digit (tolerance.printed_rtol)."""
    inputs: dict
    expect: dict
    note: str = ""
    exact: bool = False
    at_kink: bool = False
    digits: int = 0


@dataclass(frozen=True, eq=False)
class Model:
    """A model class called as the assignment's notebooks call it (the model call style):

        model = <cls>(**ctor)                    # the notebook's constructor arguments
        model.params = {<the case's differentiable inputs, by name>}
        loss, grads = model.loss(*<call>)        # grads: a dict keyed by parameter name

    cls     the class name in the assignment (`FullyConnectedNet`)
    module  the skeleton module that defines it (`fc_net`): a class of that module is preferred
            where two files define the same name (the 2019 `neural_net.TwoLayerNet` and the
            2020+ `fc_net.TwoLayerNet` take different constructors)
    ctor    keyword arguments of the constructor; a `dtype` among them follows the dtype the
            checker runs in
    call    names of the case's arguments passed to `model.loss`, in order (`("X", "y")`)
    state   how non-parameter state (batchnorm running statistics, the dropout seed) is handled
    The case's differentiable arguments are the parameters; cases/impl.py (model_loss) turns the
    class into the loss-style function `(*args) -> (loss, grads)` that the checker calls."""
    cls: str
    module: str
    ctor: dict
    call: tuple[str, ...]
    state: str = ""


@dataclass(frozen=True, eq=False)  # identity hash: records hold dicts; one object per case
class Case:
    """One row of the catalogue.

    name       unique id, used in test ids (`test_matches_jax[staged-s3]`)
    op         the implementation's op: `<op>_forward`/`<op>_backward`, or `<op>` for loss style
    forward, backward  pair style only: the functions' names where they are not `<op>_forward`
               and `<op>_backward` (`batchnorm_backward_alt`, `conv_forward_naive`); "" for those
    source     where it comes from (catalogue id and section)
    args       inputs in call order: Arg (arrays) and Static (fixed parameters)
    reference  the math in jax.numpy, same positional arguments; returns the output(s)
    outputs    names of the outputs, in order (a multi-output op's backward takes one dout each)
    style      "pair" (forward/backward) or "loss" (`op(*args) -> (loss, grads)`, upstream 1)
    kink       the convention at non-differentiable points ("" where the op is smooth)
    kink_distance  (*args) -> how far, in max-norm over the differentiable inputs, the sample is
               from the nearest kink; samplers redraw samples closer than the FD steps reach. It
               takes the case's arguments as `reference` does, fixed parameters included
               (Case.distance_to_kink calls it)
    goldens    numbers the source prints
    model      loss style only: the op is a model class's `loss`, called as `Model` says
    beyond_contract  why the source never asks for this case ("" when it does: the usual case).
               An implementation held to its sources' contract (a student's file) that does not
               pass such a case gets status "beyond contract", not "failed"; the reference,
               which claims every case, is held to it (Implementation.contract)
    """
    name: str
    op: str
    source: str
    args: tuple
    reference: Callable
    outputs: tuple[str, ...] = ("out",)
    style: str = "pair"
    kink: str = ""
    kink_distance: Callable | None = None
    goldens: tuple[Golden, ...] = ()
    fd: str = "auto"
    forward: str = ""
    backward: str = ""
    notes: str = field(default="", compare=False)
    model: Model | None = None
    beyond_contract: str = ""

    @functools.cached_property
    def arrays(self) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if isinstance(a, Arg))

    @functools.cached_property
    def diff_args(self) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if isinstance(a, Arg) and a.diff)

    @functools.cached_property
    def grad_names(self) -> tuple[str, ...]:
        return tuple("d" + a.name for a in self.diff_args)

    @functools.cached_property
    def n_input_elements(self) -> int:
        """Entries of one sample's array inputs, differentiable or not."""
        return sum(elements(a.shape) for a in self.arrays)

    @functools.cached_property
    def n_diff_elements(self) -> int:
        return sum(elements(a.shape) for a in self.diff_args)

    @functools.cached_property
    def grad_offsets(self) -> np.ndarray:
        """Where each gradient starts in the flattened gradient (all of them, in input order), and
        last where they end: entries offsets[k]:offsets[k + 1] are d<diff_args[k]>."""
        return np.cumsum([0] + [elements(a.shape) for a in self.diff_args])

    @functools.cached_property
    def functions(self) -> tuple[str, ...]:
        """The names an implementation defines for this case, in call order: (forward, backward)
        for a pair, (op,) for a loss. The one source of the calling convention: the lookup, the
        README's case table, `gradref cases` and the vectors' `functions` field all read it."""
        if self.style == "loss":
            return (self.op,)
        return (self.forward or f"{self.op}_forward", self.backward or f"{self.op}_backward")

    @functools.cached_property
    def call(self) -> str:
        """The calling convention as one line of Python."""
        names = ", ".join(a.name for a in self.args)
        if self.model is not None:   # the model call style
            m = self.model
            ctor = ", ".join(f"{k}=np.{np.dtype(v).name}" if k == "dtype" else f"{k}={v!r}"
                             for k, v in m.ctor.items())
            params = ", ".join(f"{a.name}={a.name}" for a in self.diff_args)
            return (f"model = {m.module}.{m.cls}({ctor}); model.params.update({params}); "
                    f"{self.outputs[0]}, grads = model.loss({', '.join(m.call)})")
        if self.style == "loss":
            return f"{self.outputs[0]}, grads = {self.functions[0]}({names})"
        return (f"{', '.join(self.outputs)}, cache = {self.functions[0]}({names}); "
                f"{', '.join(self.grad_names)} = {self.functions[1]}("
                f"{', '.join('d' + o for o in self.outputs)}, cache)")

    def arguments(self, arrays: dict) -> tuple:
        """One sample's positional arguments, as `reference` and `kink_distance` take them: its
        arrays (by name) and the fixed parameters' values, in call order."""
        return tuple(arrays[a.name] if isinstance(a, Arg) else a.value for a in self.args)

    def distance_to_kink(self, arrays: dict) -> float:
        """How far one sample (its arrays by name) is from the nearest kink; inf where smooth."""
        if self.kink_distance is None:
            return float("inf")
        return float(self.kink_distance(*self.arguments(arrays)))

    @functools.cached_property
    def fd_mode(self) -> str:
        """"full" (every element) or "directional" (a few random directions)."""
        from .tolerance import FD_FULL_MAX_ELEMENTS
        if self.fd != "auto":
            return self.fd
        return "full" if self.n_diff_elements <= FD_FULL_MAX_ELEMENTS else "directional"

    def validate(self) -> None:
        """Raise CaseError naming the case if the record cannot work."""
        def bad(problem):
            raise CaseError(f"case {self.name!r}: {problem}")
        if not self.name or not self.name.replace("_", "").isalnum():
            bad("name must be a non-empty identifier")
        if self.style not in ("pair", "loss"):
            bad(f"style must be 'pair' or 'loss', not {self.style!r}")
        if self.fd not in ("auto", "full", "directional"):
            bad(f"fd must be 'auto', 'full' or 'directional', not {self.fd!r}")
        names = [a.name for a in self.args]
        if len(set(names)) != len(names):
            bad(f"argument names repeat: {names}")
        for a in self.args:
            if not isinstance(a, (Arg, Static)):
                bad(f"argument {a!r} is neither Arg nor Static")
            if isinstance(a, Arg):
                if not hasattr(a.domain, "draw"):
                    bad(f"argument {a.name!r}: domain {a.domain!r} has no draw(rng, shape)")
                if a.diff and isinstance(a.domain, Integers):
                    bad(f"argument {a.name!r}: integer inputs cannot be differentiable")
        if not self.diff_args:
            bad("no differentiable input")
        if self.style == "loss" and len(self.outputs) != 1:
            bad("a loss-style op has exactly one output, the loss")
        if (self.forward or self.backward) and self.style != "pair":
            bad("only a pair-style op has a forward and a backward to name")
        if self.model is not None:
            if self.style != "loss":
                bad("a model case is loss style: model.loss(...) returns (loss, grads)")
            if self.op != self.model.cls:
                bad(f"a model case's op is its class name {self.model.cls!r}, not {self.op!r}")
            unknown = set(self.model.call) - set(names)
            if unknown:
                bad(f"model.call names unknown arguments {sorted(unknown)}")
            passed = set(self.model.call) | {a.name for a in self.diff_args}
            if set(names) - passed:
                bad(f"arguments {sorted(set(names) - passed)} reach neither model.params nor "
                    "model.loss")
        if not callable(self.reference):
            bad("reference is not callable")
        if self.kink and self.kink_distance is None:
            bad("a kinked case needs kink_distance so samplers can keep clear of the kink")
        for g in self.goldens:
            missing = set(a.name for a in self.args if isinstance(a, Arg)) - set(g.inputs)
            if missing:
                bad(f"golden {g.note!r} lacks inputs {sorted(missing)}")
            for a in self.arrays:
                if np.shape(g.inputs[a.name]) != tuple(a.shape):
                    bad(f"golden {g.note!r}: input {a.name!r} has shape "
                        f"{np.shape(g.inputs[a.name])}, declared {tuple(a.shape)}")
            unknown = set(g.expect) - set(self.outputs) - set(self.grad_names)
            if unknown:
                bad(f"golden {g.note!r} expects unknown names {sorted(unknown)}; "
                    f"known: {list(self.outputs) + list(self.grad_names)}")


# The kinds of planted bug (Mutant.kind): what `gradref reliability` counts detection by, and the
# types a checker must not be blind to. Each mutant names one, the one its mistake is first of all.
BUG_KINDS = {
    "fork overwrite": "= where += belongs: a value used twice (a fork, a shared weight, "
                      "overlapping windows, repeated indices) keeps only the last gradient",
    "ignored dout": "the backward does not multiply by its upstream gradient",
    "missing scale": "a factor dropped, added or wrong: a mean's 1/N, a 2, gamma, "
                     "1/sqrt(var + eps), the regularisation convention",
    "transposed": "a matrix where its transpose belongs, or a layout transpose missing",
    "sign": "a sign flipped",
    "wrong axis": "a sum or count over the wrong axis, or over everything",
    "in-place write": "writes into dout or an input (or aliases one and writes later)",
    "kink convention": "the gradient at a kink: another subgradient, or none",
    "dtype": "a gradient of the wrong dtype",
    "shape": "a gradient of the wrong shape",
    "wrong index": "routes gradient to the wrong entries (fancy indexing, offsets, gate order)",
    "dropped path": "a gradient contribution left out: a branch, a term, a step of a sequence",
    "wrong formula": "a wrong local derivative: a wrong variable, function or gate rule",
}


@dataclass(frozen=True)
class Mutant:
    """A plausible wrong backward: a one-line edit (`old` -> `new`, matching exactly once) of the
    handwritten function `function`. The default run of `case` must give it the verdict `expect`
    (cases/mutants.py): "failed", or "convention differs" for a gradient that is another valid
    subgradient at a kink (relu'(0) = 1), which must be told apart, not failed. `kind` is its
    type of bug, one of BUG_KINDS, stated with each mutant (keyword only)."""
    case: str        # the case whose default run must reject it
    function: str    # the handwritten function it edits
    old: str         # the exact source text replaced (must occur once in the function)
    new: str
    bug: str         # the mistake it plays, in words
    expect: str = "failed"
    kind: str = field(kw_only=True)

    def __post_init__(self):
        if self.kind not in BUG_KINDS:
            raise CaseError(f"mutant {self.id!r}: kind {self.kind!r} is not one of "
                            f"{sorted(BUG_KINDS)} (cases/spec.py, BUG_KINDS)")

    @property
    def id(self) -> str:
        return f"{self.case}:{self.bug}"


def planted_in(cases: tuple[str, ...], function: str, *edits: tuple) -> tuple[Mutant, ...]:
    """The same bugs planted in a function that several cases run, each to be rejected by every
    one of those cases: a Mutant per case and edit, case by case. An edit is (old, new, bug,
    kind), as Mutant takes them."""
    return tuple(Mutant(case, function, old, new, bug, kind=kind)
                 for case in cases for old, new, bug, kind in edits)
