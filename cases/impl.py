"""Implementations under test: anything that defines ops by their CS231n names.

The checker never knows which implementation it is checking: the handwritten reference, a
student's `layers.py`, an autograd engine behind the same names, or a mutant of the reference are
all an `Implementation`. The process that judges only holds its description (a name and a recipe:
how to build it); the worker process (cases/worker.py) builds it, importing the user's code there.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import inspect
import shlex
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .calls import CallPlan, fold, where
from .layout import handwritten_package
from .spec import Case, CaseError, Model


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
    # modules of a package folder that did not import: one line each, naming the module and what
    # it lacks; `unavailable` maps each name such a module defines to that line
    problems: tuple = ()
    unavailable: dict = field(default_factory=dict, repr=False)

    @property
    def own(self) -> bool:
        """gradref's own code: the reference or one of its mutants."""
        return self.recipe is not None and self.recipe[0] in ("handwritten", "mutant")

    @property
    def namespace(self) -> dict:
        """The functions, built in this process: for gradref's own code and tests only (checking
        runs an implementation in a worker). A folder's import problems land in `problems` and
        `unavailable` as it is built."""
        if self.built is None:
            self.built, self.problems, self.unavailable = build_all(self.recipe)
        return self.built

    @property
    def constructors(self) -> dict:
        """Per model case, why its class does not take the case's constructor ("" where it does)."""
        return model_problems(self.namespace, MODEL_CASES())

    def lookup(self, case: Case) -> tuple[tuple[Callable, ...] | None, str]:
        """(functions, "") when the op is there; (None, why) when it is not implemented. A model
        case's class comes back as the loss-style function model_loss makes of it."""
        ns = self.namespace
        why = not_implemented(self.name, ns, case, self.unavailable, self.constructors)
        return (None, why) if why else (functions_for(ns, call_plan_of(case)), "")

    def with_replacement(self, name: str, fn: Callable, label: str, selector: str) -> "Implementation":
        """`name` replaced by `fn`; a class's qualified name (`fc_net.FullyConnectedNet`) too."""
        return Implementation(f"{self.name} [{label}]", replaced(self.namespace, name, fn),
                              selector, contract=self.contract, problems=self.problems,
                              unavailable=self.unavailable)


def replaced(namespace: dict, name: str, fn) -> dict:
    """`namespace` with `name` bound to `fn`, and every qualified alias of the old value too."""
    old = namespace.get(name)
    qualified = {k: fn for k, v in namespace.items() if "." in k and v is old}
    return {**namespace, **qualified, name: fn}


def MODEL_CASES() -> dict:      # noqa: N802  (the catalogue's model cases, looked up late)
    from .catalogue import CASES
    return {c.name: c.model for c in CASES if c.model is not None}


def call_plan_of(case: Case) -> CallPlan:
    from .check import call_plan
    return call_plan(case)


def not_implemented(impl_name: str, defined, case: Case, unavailable: dict | None = None,
                    constructors: dict | None = None) -> str:
    """Why `case` is not implemented by an implementation defining the names `defined`; "" when
    it is. A name that is there but not callable counts as there: calling it is the check's job.
    `unavailable`: names a folder's module would have defined, had it imported (the case is then
    not checkable, for that reason); `constructors`: per model case, why the class found is
    another API."""
    unavailable = unavailable or {}
    if case.model is not None:
        m = case.model
        qualified = f"{m.module}.{m.cls}"
        if qualified not in defined and m.cls not in defined:
            lost = unavailable.get(qualified) or unavailable.get(m.cls)
            return f"not checkable: {lost}" if lost else f"{impl_name} defines no class {m.cls}"
        return (constructors or {}).get(case.name, "")
    names = case.functions
    found = [n for n in names if n in defined]
    missing = [n for n in names if n not in defined]
    lost = [unavailable[n] for n in missing if n in unavailable]
    if lost:
        return f"not checkable: {lost[0]}"
    if not found:
        return f"{impl_name} defines no {' / '.join(names)}"
    if missing:
        return f"{impl_name} defines {found[0]} but not {missing[0]}"
    return ""


def model_class(namespace: dict, m: Model):
    """The class a model case calls: the one of its skeleton module where two files define the
    name (`fc_net.TwoLayerNet` before `neural_net.TwoLayerNet`), else the one by that name."""
    return namespace.get(f"{m.module}.{m.cls}", namespace.get(m.cls))


def model_problems(namespace: dict, models: dict) -> dict:
    """Per model case (name -> Model): why the class the namespace has does not take its
    constructor ("" where it does, or where there is no such class: not_implemented says so)."""
    out = {}
    for name, m in models.items():
        cls = model_class(namespace, m)
        out[name] = "" if cls is None else constructor_problem(cls, m)
    return out


def functions_for(namespace: dict, plan: CallPlan) -> tuple:
    """The callables a plan calls: its functions by name, or, for a model case, the loss-style
    function model_loss makes of the class (in the worker, or in this process for own code)."""
    if plan.model is not None:
        return (model_loss(plan.model, plan.arg_names, plan.grad_inputs,
                           model_class(namespace, plan.model)),)
    return tuple(namespace.get(n) for n in plan.functions)


# --- the model call style: a class's loss as a loss-style function -----------------------------

class ModelError(Exception):
    """A model class that does not hold the parameters its case declares."""


def constructor_problem(cls, model: Model) -> str:
    """'' if `cls` takes the case's constructor arguments; else why this class is another API
    (the 2019 neural_net.TwoLayerNet for the 2020+ fc_net case, say): the case does not apply."""
    if not isinstance(cls, type):
        return ""    # calling it is the check's job, which reports it
    try:
        inspect.signature(cls).bind(**model.ctor)
    except (TypeError, ValueError) as e:
        try:
            sig = str(inspect.signature(cls))
        except (TypeError, ValueError):
            sig = "(...)"
        return (f"{model.cls}{sig} does not take this case's constructor arguments "
                f"({', '.join(model.ctor)}): not the {model.module}.py API ({e})")
    return ""


def model_loss(m: Model, names: tuple, params: tuple, cls) -> Callable:
    """The model call style as the loss-style function `(*args) -> (loss, grads)` the checker
    calls, args in the case's order: construct `cls(**ctor)` (a `dtype` argument follows the
    parameters' dtype), check that `model.params` holds exactly the case's parameters at their
    shapes, set each to the sample's value (as the notebooks do, `model.params[k] = v`), and return
    `model.loss(*call)`, whose grads dict the checker splits by parameter name. A fresh model per
    call: no state (running statistics, a dropout seed consumed) carries from one sample to the next.
    `names`: the case's arguments in call order; `params`: its differentiable ones."""

    def loss(*args):
        values = dict(zip(names, args))
        ctor = copy.deepcopy(m.ctor)   # a class may keep (and change) what it is given
        if "dtype" in ctor:
            ctor["dtype"] = values[params[0]].dtype.type
        model = cls(**ctor)
        have = getattr(model, "params", None)
        if not isinstance(have, dict):
            raise ModelError(f"{m.cls}(...).params is {type(have).__name__}, not a dict")
        if set(have) != set(params):
            raise ModelError(f"{m.cls}(...).params holds {sorted(have)}; the case's parameters "
                             f"are {sorted(params)}")
        wrong = [f"{k} {np.shape(have[k])}" for k in params
                 if np.shape(have[k]) != np.shape(values[k])]
        if wrong:
            raise ModelError(f"{m.cls}(...) made {', '.join(wrong)}; the case's shapes are "
                             + ", ".join(f"{k} {np.shape(values[k])}" for k in params))
        for k in params:
            model.params[k] = values[k]
        return model.loss(*(values[k] for k in m.call))

    loss.__name__ = loss.__qualname__ = f"{m.cls}.loss"
    loss.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
    return loss


def _module_namespace(module) -> dict:
    """The module's public names, and each class also under the name of the module that defines
    it (`fc_net.TwoLayerNet`): model cases prefer the class of the skeleton file they name."""
    names = {k: v for k, v in vars(module).items() if not k.startswith("_")}
    names |= {f"{v.__module__.rsplit('.', 1)[-1]}.{k}": v for k, v in list(names.items())
              if isinstance(v, type)}
    return names


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
    # replaced by the mutant of the function it names (and a class's qualified name, too).
    return replaced(namespace, function, scope[original.__name__])


def _handwritten_namespace() -> dict:
    """The reference's names, and its classes also under their modules' names (fc_net.TwoLayerNet
    beside neural_net.TwoLayerNet: the model cases tell them apart)."""
    hw = handwritten_package()
    namespace = _module_namespace(hw)
    for name, module in sorted(sys.modules.items()):
        if name.startswith(hw.__name__ + ".") and module is not None:
            namespace |= {k: v for k, v in _module_namespace(module).items() if "." in k}
    return namespace


def build_all(recipe: tuple) -> tuple[dict, tuple, dict]:
    """(namespace, problems, unavailable) of a recipe (the worker calls this): the functions; a
    folder's modules that did not import, one line each; the names they would have defined.
    ImplementationError with one line when a file or module given by itself cannot be imported."""
    if recipe[0] == "handwritten":
        return _handwritten_namespace(), (), {}
    if recipe[0] == "mutant":
        _, function, old, new, label = recipe
        return mutated(_handwritten_namespace(), function, old, new, label), (), {}
    return _import_spec(recipe[1])


def build(recipe: tuple) -> dict:
    """The namespace of functions a recipe describes."""
    return build_all(recipe)[0]


def from_module(module) -> Implementation:
    """An implementation from a module object the caller has already imported (the Python API's
    `impl`): run in the caller's process, where it already is (no recipe to rebuild it)."""
    name = getattr(module, "__name__", repr(module))
    return Implementation(name, _module_namespace(module), f" --impl {name}")


def _package_root(path: Path) -> tuple[list[str], Path]:
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return parts, folder


def _forget_other_package(top: str, root: Path) -> None:
    """A package of the same name imported earlier from another folder (two students' `cs231n`
    in one run) is dropped from sys.modules, so this folder's files are the ones imported."""
    old = sys.modules.get(top)
    where = getattr(old, "__path__", None) or []
    if old is not None and Path(root / top).resolve() not in [Path(p).resolve() for p in where]:
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[name]


def _import_file(path: Path):
    """Import a .py file so that its own imports work: as `pkg.mod` when it sits in a package
    (so `from .layers import *` resolves), else as a top-level module with its folder on sys.path."""
    path = path.resolve()
    parts, folder = _package_root(path)
    if str(folder) in sys.path:
        sys.path.remove(str(folder))
    sys.path.insert(0, str(folder))
    name = ".".join(parts)
    if len(parts) > 1:
        _forget_other_package(parts[0], folder)
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _import_problem(e: BaseException, s: str) -> str:
    """What went wrong importing `s`, in one line, at the user's file and line."""
    where = ""
    tb = e.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".py") and "importlib" not in name and Path(name).parent != HERE:
            where = f" ({Path(tb.tb_frame.f_code.co_filename).name}, line {tb.tb_lineno})"
        tb = tb.tb_next
    if isinstance(e, SyntaxError):
        where = f" ({Path(e.filename or s).name}, line {e.lineno})"
    return f"{type(e).__name__}: {e}{where}"


def _defined_names(path: Path) -> list[str]:
    """The functions and classes a file defines at top level, read without running it."""
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


# Files of a package folder that are never imported: setup.py builds the assignment's Cython
# extension (importing it would run setup() on gradref's command line).
NOT_IMPORTED = {"setup.py"}


def _guarded_imports(f: Path, root: Path, module, problems: list, unavailable: dict) -> None:
    """Names a module imports inside `try: ... except ImportError:` that it ended up without (the
    skeleton's fast_layers.py without the compiled im2col_cython extension): one line, and each
    such name `unavailable`, so an op that stops on it is not checkable for that reason."""
    try:
        tree = ast.parse(f.read_text(errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return
    lost = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                h.type is None or "ImportError" in ast.unparse(h.type) for h in node.handlers):
            for imp in node.body:
                if isinstance(imp, ast.ImportFrom):
                    for alias in imp.names:
                        name = alias.asname or alias.name
                        if name != "*" and not hasattr(module, name):
                            lost.setdefault(imp.module or ".", []).append(name)
    for source, names in lost.items():
        hint = (" (a Cython extension not compiled: python setup.py build_ext --inplace)"
                if source.endswith("_cython") else "")
        line = (f"{f.relative_to(root.parent)} imported without {', '.join(names)} from {source}: "
                f"its ImportError was caught{hint}")
        problems.append(line)
        for n in names:
            unavailable.setdefault(n, line)


def _load_folder(path: Path, s: str, namespace: dict, problems: list, unavailable: dict) -> None:
    """Every .py file under the folder (classifiers/ too), each imported as part of its package;
    one that fails to import (a missing dependency such as six, a Cython extension not compiled)
    is one line in `problems`, and the names it defines are `unavailable` for that reason."""
    files = sorted((p for p in path.rglob("*.py") if p.name != "__init__.py"
                    and p.name not in NOT_IMPORTED and "__pycache__" not in p.parts),
                   key=lambda p: (len(p.relative_to(path).parts), str(p)))
    if not files:
        raise ImplementationError(f"--impl {s}: the folder holds no .py file")
    for f in files:
        try:
            module = _import_file(f)
            namespace.update(_module_namespace(module))
            _guarded_imports(f, path, module, problems, unavailable)
        except Exception as e:  # noqa: BLE001  any error of the user's module: one line
            line = f"{f.relative_to(path.parent)} did not import: {_import_problem(e, str(f))}"
            problems.append(line)
            stem = f.stem
            for n in _defined_names(f):
                unavailable.setdefault(n, line)
                unavailable.setdefault(f"{stem}.{n}", line)


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


def _import_spec(spec: str) -> tuple[dict, tuple, dict]:
    """Import what `load` described: the files, folders and modules, merged; (namespace,
    problems, unavailable) as build_all returns them."""
    specs = spec.split(",")
    namespace: dict = {}
    problems: list = []
    unavailable: dict = {}
    for s in specs:
        path = Path(s)
        try:
            if s == "handwritten":     # merged with other code: held to the sources' contract
                namespace.update(_handwritten_namespace())
            elif path.is_dir():
                _load_folder(path, s, namespace, problems, unavailable)
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
    unavailable = {k: v for k, v in unavailable.items() if k not in namespace}
    return namespace, tuple(problems), unavailable
