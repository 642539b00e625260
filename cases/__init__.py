"""gradref's catalogue of cases and the machinery that checks an implementation against them.

The names below are imported on first use (PEP 562), not here: the worker process imports
cases.worker, cases.calls and cases.impl, and must start without importing JAX (about a second).
"""

import importlib

_HOMES = {"CASES": "catalogue", "get": "catalogue", "select": "catalogue",
          "CaseResult": "check", "Verdict": "compare", "check_case": "check",
          "Implementation": "impl", "ImplementationError": "impl", "handwritten": "impl",
          "load": "impl", "Arg": "spec", "Case": "spec", "CaseError": "spec", "Golden": "spec",
          "Static": "spec"}


def __getattr__(name):
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'cases' has no attribute {name!r}")
