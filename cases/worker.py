"""The worker process: the implementation under test runs here, never in the process that judges.

One worker per implementation. It imports the implementation, calls it on blocks of samples the
parent sends (cases/calls.py) and sends back what it returned and what it observed. Whatever the
implementation does in there (sys.exit, os._exit, a segfault, a hang, patching gradref's modules,
atexit hooks, np.seterr, warnings filters, os.chdir, wrapping sys.stdout) stays in there: the
parent owns sampling, the oracles, judging, the report and the exit status.

    parent -> worker  pickled requests: ("load", recipe) | ("run", plan, dtype, arrays, douts)
    worker -> parent  never pickled (the parent does not unpickle what untrusted code sends):
                      load: one JSON message {"names": [...]} or {"error": "one line"}
                      run:  a JSON header {"problems": {row: [lines]}}, then one bytes message:
                            the outputs' and gradients' float64 values, then two (S,) masks

The parent watches each call: the worker writes (4 * row + phase, start time) into a small shared
array as a call starts, so a call past `timeout` seconds is found within POLL seconds (the worker
is killed: TIMEOUT), and a worker that dies is named with the call it died in (CRASHED). The
worker's stdout and stderr go to a log file whose last lines the parent quotes.

Speed: one request and one reply per block (up to 1,024 samples), and the next block is sent
before the last one's results are read (while the parent judges, the worker runs).
"""

from __future__ import annotations

import atexit
import json
import mmap
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from . import calls
from .impl import (MODEL_CASES, Implementation, ImplementationError, build_all, functions_for,
                   model_problems)
from .options import DEFAULT_TIMEOUT   # noqa: F401  (seconds per call; importing too)

POLL = 0.05                # how often a waiting parent looks at the call in progress
AHEAD_BYTES = 1 << 16      # requests up to this size are sent ahead: they fit a socket buffer,
#                            so the parent never blocks sending while the worker blocks replying
LOADING = -2.0             # progress code while the implementation is imported
STDERR_LINES = 3
EXIT_GRACE = 2.0           # seconds a worker that hung up gets to finish exiting, so that its
#                            own exit status (not our kill) is what the report names

# A worker is a fresh `python -m cases.worker` (about 0.2 s: NumPy, not JAX). Not a fork of this
# process (JAX's threads make fork unsafe), and not multiprocessing's spawn or forkserver, which
# would run this process's __main__ (gradref's CLI, which imports JAX) again in every worker.
# `cases` in the checkout, `gradref.cases` installed (cases/layout.py); _ROOT holds its top level.
_MODULE = f"{__package__}.worker"
_ROOT = str(Path(__file__).resolve().parents[__package__.count(".") + 1])


class WorkerDied(Exception):
    """The worker stopped answering: status "crashed" or "timeout", and one line saying why."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


# --- the worker's side ------------------------------------------------------------------------

def _progress(fd: int) -> memoryview:
    """The 3 float64 shared by parent and worker: request number, call code, call start time
    (a memoryview: the worker sets two of them per call, the cheapest way to write a double)."""
    return memoryview(mmap.mmap(fd, 24)).cast("d")


def serve(conn: Connection, progress) -> None:
    """The worker's main loop: answer requests until the parent hangs up."""
    namespace: dict = {}
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request[0] == "load":
            progress[1], progress[2] = LOADING, time.monotonic()
            try:
                namespace, problems, unavailable = build_all(request[1])
                constructors = model_problems(namespace, request[2])
            except ImplementationError as e:
                conn.send_bytes(json.dumps({"error": str(e)}).encode())
            else:
                conn.send_bytes(json.dumps({"names": sorted(namespace), "problems": problems,
                                            "unavailable": unavailable,
                                            "constructors": constructors}).encode())
            progress[1] = -1.0
        else:
            _, plan, dtype, arrays, douts = request
            run = calls.run_block(functions_for(namespace, plan), plan, dtype, arrays, douts,
                                  progress)
            problems = {str(i): p for i, p in run.problems.items()}
            conn.send_bytes(json.dumps({"problems": problems}).encode())
            conn.send_bytes(b"".join([*(np.ascontiguousarray(v).tobytes()
                                        for v in run.outputs + run.grads),
                                      run.outputs_ok.tobytes(), run.grads_ok.tobytes()]))


# --- the parent's side ------------------------------------------------------------------------

_live: list = []


@atexit.register
def _stop_all() -> None:
    """Kill every worker still running (a hung one would otherwise hold up the exit)."""
    for w in list(_live):
        w.close()


class Worker:
    """A worker process with an implementation loaded. `defines`: the names it defines."""

    def __init__(self, impl: Implementation, timeout: float = DEFAULT_TIMEOUT):
        self.impl, self.timeout = impl, timeout
        ours, theirs = socket.socketpair()
        self._conn = Connection(ours.detach())
        with tempfile.TemporaryFile() as shared:
            shared.truncate(24)
            self._progress = _progress(shared.fileno())
            self._progress[1] = -1.0
            log, self._log = tempfile.mkstemp(prefix="gradref-worker-", suffix=".log")
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                [_ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])}
            self._process = subprocess.Popen(
                [sys.executable, "-m", _MODULE, str(theirs.fileno()), str(shared.fileno())],
                pass_fds=(theirs.fileno(), shared.fileno()), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=env)
        theirs.close()
        os.close(log)
        _live.append(self)
        self._pending: deque = deque()      # (plan, ids, n) of the requests sent, not answered
        self.defines: frozenset = frozenset()
        try:
            self.load(impl)
        except BaseException:
            self.close()
            raise

    def load(self, impl: Implementation) -> None:
        """Import `impl` in the worker; ImplementationError if it cannot be imported."""
        self._conn.send(("load", impl.recipe, MODEL_CASES()))
        reply = self._json(self._wait(f"importing {impl.name}"))
        if not isinstance(reply, dict) or not isinstance(reply.get("names", reply.get("error")),
                                                         (list, str)):
            raise self._died("crashed", f"importing {impl.name}", "sent a malformed reply")
        if "error" in reply:
            raise ImplementationError(str(reply["error"]))
        self.impl, self.defines = impl, frozenset(str(n) for n in reply["names"])
        # what the worker says of a folder's imports and the model classes, as plain strings
        self.problems = tuple(str(p) for p in reply.get("problems") or ())
        self.unavailable = {str(k): str(v) for k, v in dict(reply.get("unavailable") or {}).items()}
        self.constructors = {str(k): str(v)
                             for k, v in dict(reply.get("constructors") or {}).items()}

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def submit(self, plan: calls.CallPlan, dtype: str, arrays: list, douts: list,
               ids: list) -> None:
        """Send a block of samples; its results come from `result()`, in order."""
        self._conn.send(("run", plan, dtype, arrays, douts))
        self._pending.append((plan, ids, len(douts[0])))

    def can_send_ahead(self, arrays: list, douts: list) -> bool:
        return sum(x.nbytes for x in (*arrays, *douts)) <= AHEAD_BYTES

    def result(self) -> calls.BlockRun:
        """The results of the oldest block sent; WorkerDied if it hung or died meanwhile."""
        plan, ids, n = self._pending[0]

        def call(code: float) -> str:
            row, phase = divmod(int(code), 4)
            name = plan.functions[0] if phase == calls.FORWARD else plan.functions[-1]
            again = ", second call" if phase == calls.BACKWARD_AGAIN else ""
            return f"{name}{again} on {ids[row]}" if 0 <= row < n else f"a call of {plan.case}"
        header = self._json(self._wait(call))
        raw = self._wait(call)
        self._pending.popleft()
        sizes = [n * int(np.prod(s, dtype=np.int64)) for s in plan.shapes]
        if (not isinstance(header, dict) or not isinstance(header.get("problems"), dict)
                or len(raw) != 8 * sum(sizes) + 2 * n):
            raise self._died("crashed", f"a block of {plan.case}", "sent a malformed reply")
        values, at = [], 0
        for size, shape in zip(sizes, plan.shapes):
            values.append(np.frombuffer(raw, np.float64, size, at).reshape((n, *shape)))
            at += 8 * size
        masks = np.frombuffer(raw, np.uint8, 2 * n, at).astype(bool)
        problems = {}
        for key, lines in header["problems"].items():
            if not (key.isdigit() and int(key) < n and isinstance(lines, list)):
                raise self._died("crashed", f"a block of {plan.case}", "sent a malformed reply")
            problems[int(key)] = [calls.fold(line) for line in lines]
        k = len(plan.outputs)
        return calls.BlockRun(tuple(values[:k]), tuple(values[k:]), masks[:n], masks[n:],
                              problems)

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._conn.close()
        Path(self._log).unlink(missing_ok=True)
        if self in _live:
            _live.remove(self)

    # --- waiting, with the call in progress watched -----------------------------------------

    def _wait(self, call) -> bytes:
        """The next message from the worker; WorkerDied if a call runs past the timeout or the
        worker dies. `call`: a text, or code -> the call's description."""
        describe = call if callable(call) else (lambda code: call)
        while not self._conn.poll(POLL):
            code, started = self._progress[1], self._progress[2]
            if code != -1.0 and time.monotonic() - started > self.timeout:
                raise self._died("timeout", describe(code),
                                 f"did not return within {self.timeout:g} s (--timeout)")
            if self._process.poll() is not None:
                break
        try:
            return self._conn.recv_bytes()
        except (EOFError, OSError):
            raise self._died("crashed", describe(self._progress[1]), "") from None

    def _json(self, message: bytes):
        try:
            return json.loads(message)
        except ValueError:
            return None

    def _died(self, status: str, call: str, what: str) -> WorkerDied:
        """Stop the worker; the one line that says what happened, during which call, and the
        last lines the worker wrote to its stderr."""
        if status == "crashed":     # its end may still be on its way (sys.exit, an exception)
            try:
                self._process.wait(EXIT_GRACE)
            except subprocess.TimeoutExpired:
                pass
        if self._process.poll() is None:
            self._process.kill()
        code = self._process.wait()
        if not what:
            what = (f"was killed by {signal.Signals(-code).name}" if code is not None and code < 0
                    else f"exited with status {code}")
        try:
            tail = [line for line in Path(self._log).read_text(errors="replace").splitlines()
                    if line.strip()][-STDERR_LINES:]
        except OSError:
            tail = []
        self.close()
        said = f"; its last output: {calls.fold(chr(10).join(tail))}" if tail else ""
        if status == "timeout":
            return WorkerDied(status, f"{call} {what}; the worker was stopped{said}")
        return WorkerDied(status, f"the worker {what} during {call}{said}")


class InProcess:
    """An implementation built in this process (a test's in-memory double, not loadable by
    recipe) run through the same calls, without a worker: gradref's own tests only."""

    def __init__(self, impl: Implementation):
        self.impl = impl
        self.defines = frozenset(impl.namespace)
        self.problems, self.unavailable = impl.problems, impl.unavailable
        self.constructors = impl.constructors
        self._results: deque = deque()

    def can_send_ahead(self, arrays, douts) -> bool:
        return True

    def submit(self, plan, dtype, arrays, douts, ids) -> None:
        self._results.append(calls.run_block(functions_for(self.impl.namespace, plan), plan,
                                             dtype, arrays, douts))

    def result(self) -> calls.BlockRun:
        return self._results.popleft()


# --- which worker runs an implementation ---------------------------------------------------------

MAX_WORKERS = 16         # a matrix keeps one per column (each engine imported once)
_workers: dict = {}        # key -> Worker; gradref's own code (the reference, mutants) shares one


def runner(impl: Implementation, timeout: float = DEFAULT_TIMEOUT):
    """The worker that runs `impl`, started (and the implementation imported) on first use.

    A user's implementation gets a process of its own, kept for the next case. The reference and
    its mutants share one process, reloaded for each mutant (their code is gradref's own, and a
    fresh process per mutant would cost more than checking it). ImplementationError when it
    cannot be imported; WorkerDied when the worker dies or hangs while importing."""
    if impl.recipe is None:
        return InProcess(impl)
    key = "own" if impl.own else impl.recipe
    w = _workers.get(key)
    if w is not None and w.alive and w.timeout == timeout:
        if w.impl.recipe != impl.recipe:
            w.load(impl)
        _workers[key] = _workers.pop(key)   # the most recently used last: eviction below stops
        return w                            # the least recently used, not one a case holds
    if w is not None:
        w.close()
    while len(_workers) >= MAX_WORKERS:
        _workers.pop(next(iter(_workers))).close()
    _workers.pop(key, None)
    w = Worker(impl, timeout)
    _workers[key] = w
    return w


def forget(impl: Implementation) -> None:
    """Stop the worker of `impl` (after it crashed or hung: the next use starts a fresh one)."""
    key = "own" if impl.own else impl.recipe
    w = _workers.pop(key, None)
    if w is not None:
        w.close()


if __name__ == "__main__":      # python -m cases.worker SOCKET_FD PROGRESS_FD
    serve(Connection(int(sys.argv[1])), _progress(int(sys.argv[2])))
