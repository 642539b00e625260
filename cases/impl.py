"""Implementations under test: anything that defines ops by their CS231n names.

The checker never knows which implementation it is checking: the handwritten reference, a
student's `layers.py`, an autograd engine behind the same names, or a mutant of the reference are
all an `Implementation`, a name plus a namespace of functions.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .layout import handwritten_package
from .spec import Case


HERE = Path(__file__).resolve().parent


class ImplementationError(Exception):
    """An implementation that cannot be loaded at all (bad path, import error)."""


@dataclass
class Implementation:
    name: str
    namespace: dict = field(repr=False)
    selector: str = ""   # the command-line flags that select it again, e.g. " --impl my_layers.py"
    # "source": held to what each case's source asks (a student's file, an engine): a case marked
    # beyond_contract that it does not pass is reported as such, not failed. "all": held to every
    # case (the handwritten reference and its mutants claim the whole catalogue).
    contract: str = "source"

    def lookup(self, case: Case) -> tuple[tuple[Callable, ...] | None, str]:
        """(functions, "") when the op is there; (None, why) when it is not implemented.

        A name that is there but not callable is returned as is: calling it is the check's job,
        which reports it as that case's failure."""
        names = case.functions
        found = [n for n in names if n in self.namespace]
        if not found:
            return None, f"{self.name} defines no {' / '.join(names)}"
        missing = [n for n in names if n not in self.namespace]
        if missing:
            return None, f"{self.name} defines {found[0]} but not {missing[0]}"
        return tuple(self.namespace[n] for n in names), ""

    def with_replacement(self, name: str, fn: Callable, label: str, selector: str) -> "Implementation":
        return Implementation(f"{self.name} [{label}]", {**self.namespace, name: fn}, selector,
                              self.contract)


def _module_namespace(module) -> dict:
    return {k: v for k, v in vars(module).items() if not k.startswith("_")}


def handwritten() -> Implementation:
    return Implementation("handwritten", _module_namespace(handwritten_package()), contract="all")


def from_module(module) -> Implementation:
    """An implementation from a module object already imported (the Python API's `impl`)."""
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
    Several, comma-separated, are merged (later ones win): `layers.py,rnn_layers.py`."""
    specs = [s.strip() for s in spec.split(",") if s.strip()]
    if not specs:
        raise ImplementationError("--impl is empty: give a .py file, a folder or a module name")
    if specs == ["handwritten"]:
        return handwritten()
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
            where = ""
            tb = e.__traceback__
            while tb is not None:
                name = tb.tb_frame.f_code.co_filename
                if name.endswith(".py") and "importlib" not in name and Path(name).parent != HERE:
                    where = f" ({Path(tb.tb_frame.f_code.co_filename).name}, line {tb.tb_lineno})"
                tb = tb.tb_next
            if isinstance(e, SyntaxError):
                where = f" ({Path(e.filename or s).name}, line {e.lineno})"
            raise ImplementationError(f"--impl {s}: import failed: {type(e).__name__}: {e}{where}") from None
    return Implementation(spec, namespace, f" --impl {spec}")


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
