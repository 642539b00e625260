"""Where a pytest run's time goes: `pytest -p cases.timing` prints one line at the end.

    gradref timing: wall 58.0 s, collection 0.7 s; oracle compilation 31.0 s of work (tracing 7.8,
    lowering 5.0, XLA 18.2), tests waiting for it 2.2 s

Compilation runs mostly on the background thread (cases/oracles.py, prefetch), so its work is not
wall time; the wait is what the tests' thread spent blocked on it. Per test, `--durations=0`.
"""

from __future__ import annotations

import collections
import threading
import time

import jax

from . import oracles

_START = time.perf_counter()
_seconds: collections.Counter = collections.Counter()
_EVENTS = {"/jax/core/compile/jaxpr_trace_duration": "tracing",
           "/jax/core/compile/jaxpr_to_mlir_module_duration": "lowering",
           "/jax/core/compile/backend_compile_duration": "XLA"}


def _listen(event: str, seconds: float, **_) -> None:
    if event in _EVENTS:
        _seconds[_EVENTS[event]] += seconds


def pytest_configure(config) -> None:
    jax.monitoring.register_event_duration_secs_listener(_listen)
    compiled = oracles.executable

    def timed(case):
        start = time.perf_counter()
        try:
            return compiled(case)
        finally:
            if threading.current_thread() is threading.main_thread():
                _seconds["waiting"] += time.perf_counter() - start
    oracles.executable = timed


def pytest_collection_finish(session) -> None:
    _seconds["collection"] = time.perf_counter() - _START


def pytest_terminal_summary(terminalreporter) -> None:
    s = _seconds
    work = s["tracing"] + s["lowering"] + s["XLA"]
    terminalreporter.write_line(
        f"gradref timing: wall {time.perf_counter() - _START:.1f} s, collection "
        f"{s['collection']:.1f} s; oracle compilation {work:.1f} s of work (tracing "
        f"{s['tracing']:.1f}, lowering {s['lowering']:.1f}, XLA {s['XLA']:.1f}), tests waiting for "
        f"it {s['waiting']:.1f} s")
