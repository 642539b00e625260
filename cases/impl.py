"""Implementations under test: anything that defines ops by their CS231n names.

The checker never knows which implementation it is checking: the handwritten reference, a
student's `layers.py`, an autograd engine behind the same names, or a mutant of the reference are
all an `Implementation`. The process that judges only holds its description (a name and a recipe:
how to build it); the worker process (cases/worker.py) builds it, importing the user's code there.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import shlex
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .calls import fold, where
from .layout import handwritten_package
from .spec import Case, CaseError


HERE = Path(__file__).resolve().parent


class ImplementationError(Exception):
    """An implementation that cannot be loaded at all (bad path, import error)."""


@dataclass
class Implementation:
    """name: how reports call it; recipe: how a worker builds it, ("handwritten",),
    ("load", spec) or ("mutant", function, old, new, id), None for one built in this process (a
    test's double); selector: the command-line flags that select it again."""
    name: str
    built: dict | None = field(default=None, repr=False)
    selector: str = ""
    recipe: tuple | None = None
    # "source": held to what each case's source asks (a student's file, an engine): a case marked
    # beyond_contract that it does not pass is reported as such, not failed. "all": held to every
    # case (the handwritten reference and its mutants claim the whole catalogue).
    contract: str = "source"

    @property
    def own(self) -> bool:
        """gradref's own code: the reference or one of its mutants."""
        return self.recipe is not None and self.recipe[0] in ("handwritten", "mutant")

    @property
    def namespace(self) -> dict:
        """The functions, built in this process: for gradref's own code and tests only (checking
        runs an implementation in a worker)."""
        if self.built is None:
            self.built = build(self.recipe)
        return self.built

    def lookup(self, case: Case) -> tuple[tuple[Callable, ...] | None, str]:
        """(functions, "") when the op is there; (None, why) when it is not implemented."""
        why = not_implemented(self.name, self.namespace, case)
        return (None, why) if why else (tuple(self.namespace[n] for n in case.functions), "")

    def with_replacement(self, name: str, fn: Callable, label: str, selector: str) -> "Implementation":
        return Implementation(f"{self.name} [{label}]", {**self.namespace, name: fn}, selector,
                              contract=self.contract)


def not_implemented(impl_name: str, defined, case: Case) -> str:
    """Why `case` is not implemented by an implementation defining `defined`; "" when it is.
    A name that is there but not callable counts as there: calling it is the check's job."""
    names = case.functions
    found = [n for n in names if n in defined]
    if not found:
        return f"{impl_name} defines no {' / '.join(names)}"
    missing = [n for n in names if n not in defined]
    if missing:
        return f"{impl_name} defines {found[0]} but not {missing[0]}"
    return ""


def _module_namespace(module) -> dict:
    return {k: v for k, v in vars(module).items() if not k.startswith("_")}


def handwritten() -> Implementation:
    return Implementation("handwritten", recipe=("handwritten",), contract="all")


def mutated(namespace: dict, function: str, old: str, new: str, label: str) -> dict:
    """`namespace` with `function` recompiled from its own source after replacing `old` (which must
    occur exactly once) by `new`: a planted bug (cases/mutants.py)."""
    original = namespace.get(function)
    if original is None:
        raise CaseError(f"mutant {label!r}: the reference has no function {function!r}")
    source = textwrap.dedent(inspect.getsource(original))
    if source.count(old) != 1:
        raise CaseError(f"mutant {label!r}: {old!r} occurs {source.count(old)} times in "
                        f"{function}, not once; update the mutant to the current source")
    scope = dict(vars(sys.modules[original.__module__]))
    exec(compile(source.replace(old, new), f"<mutant {label}>", "exec"), scope)
    # The def keeps the original's own name: an alias (`fused_backward = backward_fused`) is
    # replaced by the mutant of the function it names.
    return {**namespace, function: scope[original.__name__]}


def build(recipe: tuple) -> dict:
    """The namespace of functions a recipe describes (the worker calls this); ImplementationError
    with one line when the user's code cannot be imported."""
    hw = handwritten_package()
    if recipe[0] == "handwritten":
        return _module_namespace(hw)
    if recipe[0] == "mutant":
        _, function, old, new, label = recipe
        return mutated(_module_namespace(hw), function, old, new, label)
    return _import_spec(recipe[1])


def from_module(module) -> Implementation:
    """An implementation from a module object the caller has already imported (the Python API's
    `impl`): run in the caller's process, where it already is (no recipe to rebuild it)."""
    name = getattr(module, "__name__", repr(module))
    return Implementation(name, _module_namespace(module), f" --impl {name}")


def _import_file(path: Path):
    """Import a .py file so that its own imports work: as `pkg.mod` when it sits in a package
    (so `from .layers import *` resolves), else as a top-level module with its folder on sys.path."""
    path = path.resolve()
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    name = ".".join(parts)
    if len(parts) > 1:
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load(spec: str) -> Implementation:
    """'handwritten', a path to a .py file (or a folder of them), or an importable module name.
    Several, comma-separated, are merged (later ones win): `layers.py,rnn_layers.py`. Only the
    description: paths are checked and made absolute (so that a reproduce line works from any
    folder); the code is imported by the worker."""
    specs = [s.strip() for s in spec.split(",") if s.strip()]
    if not specs:
        raise ImplementationError("--impl is empty: give a .py file, a folder or a module name")
    if specs == ["handwritten"]:
        return handwritten()
    resolved = []
    for s in specs:
        path = Path(s)
        if s != "handwritten" and (s.endswith(".py") or path.exists()):
            if not path.exists():
                raise ImplementationError(f"--impl {s}: no such file")
            if path.is_dir() and not any(p.name != "__init__.py" for p in path.glob("*.py")):
                raise ImplementationError(f"--impl {s}: the folder holds no .py file")
            s = str(path.resolve())
        resolved.append(s)
    absolute = ",".join(resolved)
    return Implementation(spec, selector=f" --impl {shlex.quote(absolute)}",
                          recipe=("load", absolute))


def _import_spec(spec: str) -> dict:
    """Import what `load` described: the files, folders and modules, merged."""
    specs = spec.split(",")
    namespace: dict = {}
    for s in specs:
        path = Path(s)
        try:
            if s == "handwritten":     # merged with other code: held to the sources' contract
                namespace.update(handwritten().namespace)
            elif path.is_dir():
                files = sorted(p for p in path.glob("*.py") if p.name != "__init__.py")
                if not files:
                    raise ImplementationError(f"--impl {s}: the folder holds no .py file")
                for f in files:
                    namespace.update(_module_namespace(_import_file(f)))
            elif s.endswith(".py") or path.exists():
                if not path.is_file():
                    raise ImplementationError(f"--impl {s}: no such file")
                namespace.update(_module_namespace(_import_file(path)))
            else:
                namespace.update(_module_namespace(importlib.import_module(s)))
        except ImplementationError:
            raise
        except Exception as e:  # any error of the user's module: one line, not a traceback
            text = str(e.msg if isinstance(e, SyntaxError) else e)
            raise ImplementationError(f"--impl {s}: import failed: {type(e).__name__}: "
                                      f"{fold(text)}{where(e)}") from None
    return namespace
