"""`gradref reliability`: how often the checks are wrong, measured and published.

Four measurements, written to docs/reliability.json and rendered from it to docs/reliability.md:

  fd calibration   per finite-difference estimate (an element, or a random direction) of every
                   case's samples and of the closed-form functions (cases/closed_forms.py): its
                   true error (against jax.vjp in float64, or the closed form) over its estimated
                   error (Richardson truncation + rounding): max, quantiles, and how often the
                   estimate is exceeded; of the FD estimator as it is now (FD_ESTIMATOR: an
                   earlier one's ratios are kept apart, their samples measured again)
  false failures   the handwritten reference, which is right, checked on N samples per case in
                   float64 and in float32: the failures, with the exact one-sided 95% upper bound
                   on the rate (Clopper-Pearson; 0 in N gives 1 - 0.05^(1/N), about 3/N)
  detection        each planted bug (cases/mutants.py) on M samples: the share of single samples
                   that fail, per check, its verdict at the kinks; by kind of bug; the weakest
  head to head     the same planted bugs and the same correct implementation under gradref and the
                   other checkers of cases/checkers.py: bugs caught, false failures, time per check

Nothing here asserts a number: the report states what was measured, on which machine, with
which versions and sample counts. `--quick` is a few-second smoke run of every part.

The false failures can take longer than one run has: `--resume` keeps them (and the catalogue's
FD calibration) in docs/reliability-progress.json and continues each case at its next sample
index, `--budget SECONDS` stops adding samples in time; the page counts what the file holds and
says so until every case reaches --samples (see "false failures accumulated across runs" below).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import re
import platform
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from . import check, checkers, closed_forms, mutants, oracles, rounding_noise, tolerance
from .catalogue import CASES, get
from .impl import handwritten
from .matrix import installed_version
from .sampling import sample_index
from .spec import BUG_KINDS, Case
from .tolerance import FD_SAFETY

FORMAT = "gradref-reliability"
DEFAULT_OUTPUT = "docs/reliability.md"
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Plan:
    """What one run measures."""
    seed: int
    samples: int             # false failures (and FD calibration): per case and dtype
    mutant_samples: int      # detection: per mutant
    h2h_samples: int         # head to head: per planted bug and checker
    h2h_correct: int         # head to head: correct samples per case and checker
    cases: tuple             # catalogue cases (names)
    h2h_cases: tuple         # head-to-head cases (names)
    closed_forms: tuple      # names from cases/closed_forms.KNOWN


# Head to head: cases whose planted bugs together cover every kind of bug (one output each, so
# every checker takes them), the ones a CS231n student or an autograd engine writes first.
H2H_CASES = ("staged", "max_gate", "sigmoid", "matmul", "affine", "relu", "softmax_loss",
             "batchnorm", "dropout", "max_pool", "spatial_groupnorm", "word_embedding",
             "softmax_jvp", "l1_loss", "mse_loss")
QUICK_CASES = ("staged", "relu")


def plan(seed: int, quick: bool, samples: int | None = None, mutant_samples: int | None = None,
         h2h_samples: int | None = None, h2h_correct: int | None = None) -> Plan:
    """The full run, or with `quick` a few cases and samples; counts given override either."""
    if quick:
        return Plan(seed, samples or 50, mutant_samples or 10, h2h_samples or 2, h2h_correct or 5,
                    QUICK_CASES, ("staged",), ("gaussian_bump",))
    return Plan(seed, samples or 2000, mutant_samples or 100, h2h_samples or 5, h2h_correct or 50,
                tuple(c.name for c in CASES), H2H_CASES, tuple(k[0] for k in closed_forms.KNOWN))


def upper_bound(failures: int, n: int) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound on a binomial rate."""
    if n == 0:
        return 1.0
    return 1.0 if failures >= n else float(stats.beta.ppf(CONFIDENCE, failures + 1, n - failures))


def _rate(failures: int, n: int) -> dict:
    return {"failures": int(failures), "samples": int(n), "upper95": upper_bound(failures, n)}


# --- FD calibration ---------------------------------------------------------------------------------

def fd_ratios(case: Case, ov: oracles.OracleValues, exact: np.ndarray | None = None) -> tuple:
    """(raw, allowed): per finite-difference estimate (S, K), its true error over its estimated
    error (truncation + rounding), and over what the check allows it (FD_SAFETY x truncation +
    rounding). The truth is `exact` (S, K) where given, else <jax.vjp gradient, step>."""
    if exact is None:
        G = np.concatenate([g.reshape(len(g), -1) for g in ov.grads], axis=1)   # (S, E)
        if case.fd_mode == "full":
            exact = G * ov.fd_steps
        else:
            exact = np.einsum("ske,se->sk", ov.directions, ov.fd_steps * G)
    true = np.abs(ov.fd_estimate - exact)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(true == 0, 0.0, true / (ov.fd_truncation + ov.fd_rounding))
        allowed = np.where(true == 0, 0.0, true / (FD_SAFETY * ov.fd_truncation + ov.fd_rounding))
    return raw.ravel(), allowed.ravel()


# Quantiles of the ratios come from a histogram with 100 bins a decade (each the upper edge of its
# bin: 2.3% high at most), so that 10^5 samples of every case need no more memory than 20; the
# max and the shares above 1 are exact.
RATIO_BINS = np.logspace(-20, 10, 3001)


class Ratios:
    """A running summary of FD error ratios (raw: over the estimate; allowed: over the check's
    allowance)."""

    def __init__(self):
        self.n = self.above = self.above_allowed = 0
        self.max = self.max_allowed = 0.0
        self.hist = np.zeros(len(RATIO_BINS) + 1, dtype=np.int64)

    def add(self, raw: np.ndarray, allowed: np.ndarray) -> "Ratios":
        self.n += raw.size
        self.above += int(np.sum(raw > 1))
        self.above_allowed += int(np.sum(allowed > 1))
        self.max = max(self.max, float(raw.max(initial=0.0)))
        self.max_allowed = max(self.max_allowed, float(allowed.max(initial=0.0)))
        self.hist += np.bincount(np.searchsorted(RATIO_BINS, raw), minlength=len(self.hist))
        return self

    def merge(self, other: "Ratios") -> "Ratios":
        self.n += other.n
        self.above += other.above
        self.above_allowed += other.above_allowed
        self.max = max(self.max, other.max)
        self.max_allowed = max(self.max_allowed, other.max_allowed)
        self.hist += other.hist
        return self

    def quantile(self, q: float) -> float:
        i = int(np.searchsorted(np.cumsum(self.hist), q * self.n))
        return min(float(RATIO_BINS[i]) if i < len(RATIO_BINS) else self.max, self.max)

    def summary(self) -> dict:
        if self.n == 0:
            return {"estimates": 0}
        return {"estimates": self.n, "max": self.max, "median": self.quantile(0.5),
                "p99": self.quantile(0.99), "p999": self.quantile(0.999),
                "share_above_estimate": self.above / self.n,
                "share_above_allowed": self.above_allowed / self.n, "max_allowed": self.max_allowed}


def closed_form_calibration(state: dict, names, seed: int, n: int) -> dict:
    """The closed forms' FD ratios on n more samples each, from where the state's record of each
    stops (runs accumulate them as they do the false failures; a record whose closed form or FD
    estimator changed starts again); the summaries of every sample held."""
    out, held = {}, state.setdefault("closed_forms", {})
    estimator = fd_estimator_fingerprint()
    for name, f, df, domain in closed_forms.KNOWN:
        if name not in names:
            continue
        case, _ = closed_forms.closed_form(name, f, df, domain)
        fp = _digest([*map(_source, (f, df, domain)), estimator])
        if held.get(name, {}).get("fingerprint") != fp:
            held[name] = {"fingerprint": fp, "samples": 0, "fd": _ratios_state(Ratios())}
        rec = held[name]
        ss, ov = check.block(case, seed, rec["samples"], rec["samples"] + n, "float64")
        exact = closed_forms.exact_fd_target(df, ss, ov.fd_steps)
        ratios = _ratios_of(rec["fd"]).add(*fd_ratios(case, ov, exact))
        rec["fd"], rec["samples"] = _ratios_state(ratios), rec["samples"] + n
        out[name] = {**ratios.summary(), "samples": rec["samples"]}
    return out


# --- false failures and detection ---------------------------------------------------------------------

def detection(m: mutants.Mutant, seed: int, n: int) -> dict:
    result = check.check_case(get(m.case), mutants.mutate(m), seed, n)
    count = len(result.samples)
    return {"id": m.id, "case": m.case, "kind": m.kind, "expect": m.expect, "samples": count,
            "failing_share": sum(not s.ok for s in result.samples) / count,
            "by_check": {k: sum(not getattr(s, k).ok for s in result.samples) / count
                         for k in check.CHECKS},
            "at_kinks": result.kink_status or None, "verdict": mutants.verdict(result),
            "caught": mutants.caught(m, result)}


def by_kind(rows: list) -> dict:
    out = {}
    for kind in BUG_KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        shares = [r["failing_share"] for r in mine]
        out[kind] = {"mutants": len(mine), "caught": sum(r["caught"] for r in mine),
                     "min_share": min(shares), "median_share": statistics.median(shares)}
    return out


# --- false failures accumulated across runs ---------------------------------------------------------
#
# The false-failures part (and the FD calibration that rides on its float64 samples) advances in
# chunks of samples per case. A sample is a pure function of (seed, case, index) (cases/sampling.py),
# so samples start..stop-1 checked today and stop..stop+k-1 checked tomorrow are exactly the samples
# 0..stop+k-1 checked at once: the counts merge by addition, the FD ratios' max by max, and their
# quantiles through a fixed-bin histogram (RATIO_BINS: 100 bins a decade, quantiles err high by at
# most one bin, 2.3%), which merges exactly where a bounded reservoir would not. `--resume` keeps
# this state in a progress file beside the JSON (docs/reliability-progress.json) and continues at
# each case's next sample index; `--budget` stops before a chunk that would not fit, the file
# rewritten (atomically) after every chunk, so a stop or a kill at any moment loses one chunk at most.
#
# What restarts a case: its fingerprint (case_fingerprint: the case record, the sources of its
# reference and handwritten functions, the tolerances) differs from the one its samples were
# checked under; the run that restarts it names it. Anything else that changed (the checker's code)
# is recorded, not acted on: each range of samples carries the gradref commit that checked it, and
# each run its commit and catalogue; the page lists the commits.

PROGRESS_FORMAT = "gradref-reliability-progress"
CHUNK = 2000                 # samples per case and step (rounded up to whole judged blocks)
MAX_IDS = 100                # failing sample ids kept per case and dtype (the count is exact)
DTYPES = ("float64", "float32")


def _source(value) -> str:
    """What a case field, or a handwritten function or class, or a module, says, with no memory
    addresses."""
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismodule(value):
        try:
            return inspect.getsource(value)
        except (OSError, TypeError):
            return value.__qualname__
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _digest(parts) -> str:
    """The fingerprint of a list of strings."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _tolerances() -> list[str]:
    """Every named tolerance (cases/tolerance.py) with its value, as fingerprint parts."""
    return [f"{k}={v!r}" for k, v in sorted(vars(tolerance).items()) if k.isupper()]


def case_fingerprint(case: Case, namespace: dict) -> str:
    """A hash of everything that decides a case's false failures but the checker's code: the case
    record (every field, its reference's source included), the sources of its handwritten
    functions (not of the helpers they call: the commit per range of samples covers those) and
    the tolerances."""
    parts = [f"{f.name}={_source(getattr(case, f.name))}" for f in dataclasses.fields(case)]
    parts += [_source(namespace.get(name)) for name in case.functions]
    parts += _tolerances()
    parts += [f"rtol={tolerance.rtol(np.float64)!r},{tolerance.rtol(np.float32)!r}"]
    return _digest(parts)


# What decides a finite-difference estimate, its estimated error and the truth it is measured
# against (section 1's ratio): the FD oracle, the rounding probe that widens its rounding bound
# (both looks), jax.vjp's call, the ratio itself. Their sources and the tolerances are the FD
# estimator's fingerprint: ratios measured under another are not this estimator's calibration.
FD_ESTIMATOR = (oracles._one_sample, oracles._one_fd, oracles._rounding_probe, oracles._gaps,
                oracles._largest, oracles.float32_gaps, oracles.noise_gaps, rounding_noise,
                tolerance.fd_steps, fd_ratios)
FD_REDO_SAMPLES = 2000       # per case and run: samples checked under an earlier FD estimator
                             # whose FD ratios are measured again (cheapest cases first)


def fd_estimator_fingerprint() -> str:
    return _digest([_source(x) for x in FD_ESTIMATOR] + [f"PROBE_DRAWS={oracles.PROBE_DRAWS}"]
                   + _tolerances())


def code_version() -> str:
    """The gradref commit, "+changes" where its code differs from it."""
    here = Path(__file__).parent

    def git(*argv):
        return subprocess.run(["git", *argv], capture_output=True, text=True, cwd=here,
                              timeout=10).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "cases", "handwritten", "pyproject.toml")
    except Exception:
        return "?"
    return (commit or "?") + ("+changes" if dirty else "")


def _ratios_state(r: Ratios) -> dict:
    """Exactly what Ratios holds; its histogram as [first bin, [counts]] segments of the nonzero
    bins (runs of up to 8 empty bins inside a segment)."""
    segments: list = []
    for i in np.flatnonzero(r.hist).tolist():
        if segments and i - (segments[-1][0] + len(segments[-1][1])) <= 8:
            first, counts = segments[-1]
            counts += [0] * (i - first - len(counts)) + [int(r.hist[i])]
        else:
            segments.append([i, [int(r.hist[i])]])
    return {"n": r.n, "above": r.above, "above_allowed": r.above_allowed, "max": r.max,
            "max_allowed": r.max_allowed, "hist": segments}


def _ratios_of(d: dict) -> Ratios:
    r = Ratios()
    r.n, r.above, r.above_allowed = d["n"], d["above"], d["above_allowed"]
    r.max, r.max_allowed = d["max"], d["max_allowed"]
    for first, counts in d["hist"]:
        r.hist[first:first + len(counts)] = counts
    return r


def new_record(fingerprint: str, fd_estimator: str) -> dict:
    """A case's record: its samples' counts per dtype, and the FD ratios of the FD estimator
    `fd_estimator` ("fd"; "fd_redo": [next, end] the samples checked under an earlier one, whose
    ratios are in "fd_earlier", still to measure under this one)."""
    return {"fingerprint": fingerprint, "samples": 0, "seconds": 0.0, "ranges": [],
            "fd": _ratios_state(Ratios()), "fd_estimator": fd_estimator, "fd_redo": [0, 0],
            "fd_earlier": None,
            **{d: {"failures": 0, "by_check": dict.fromkeys(check.CHECKS, 0), "ids": [],
                   "examples": [], "at_kinks": None} for d in DTYPES}}


def new_progress(seed: int) -> dict:
    return {"format": PROGRESS_FORMAT, "version": 1, "seed": seed, "runs": [], "cases": {}}


def progress_path(output: str) -> Path:
    md = Path(output)
    return md.with_name(md.stem + "-progress.json")


def load_progress(path: Path, seed: int) -> dict:
    if not path.exists():
        return new_progress(seed)
    state = json.loads(path.read_text())
    if state.get("format") != PROGRESS_FORMAT:
        raise ValueError(f"{path} is not a {PROGRESS_FORMAT} file")
    if state["seed"] != seed:
        raise ValueError(f"{path} holds samples of seed {state['seed']}, not {seed}: pass --seed "
                         f"{state['seed']}, or another --output")
    return state


def save_progress(state: dict, path: Path) -> None:
    """Atomically: a kill while writing leaves the previous file."""
    tmp = path.with_name(path.name + ".tmp")
    cases = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in state["cases"].items())
    head = {k: v for k, v in state.items() if k != "cases"}
    tmp.write_text(json.dumps(head, indent=1)[:-2] + ',\n "cases": {\n' + cases + "\n }\n}\n")
    os.replace(tmp, path)


def _merge_result(rec: dict, result: check.CaseResult) -> None:
    rec["failures"] += sum(not s.ok for s in result.samples)
    for k in check.CHECKS:
        rec["by_check"][k] += sum(not getattr(s, k).ok for s in result.samples)
    bad = [s for s in result.samples if not s.ok]
    rec["ids"] += [s.id for s in bad][:MAX_IDS - len(rec["ids"])]
    rec["examples"] += [next(v.message for v in s.verdicts().values() if not v.ok).split("\n")[0]
                        for s in bad][:3 - len(rec["examples"])]
    if result.kinks:
        rec["at_kinks"] = result.kink_status


def step(case: Case, rec: dict, seed: int, stop: int, hw, version: str) -> float:
    """Samples rec["samples"]..stop-1 of `case`: their FD ratios, the reference checked on them in
    float64 and float32 (the kink points with the first chunk), merged into `rec`; the seconds."""
    t0 = time.perf_counter()
    start = rec["samples"]
    ratios = Ratios()
    size = check.judge_block(case)
    results = []
    # One judged block at a time: the float64 check finds the block's oracle values just made for
    # the ratios, however large (a case's largest blocks, 45 MB, are past the cache's share for
    # one entry, and a whole chunk of them would be evicted before the check came to them).
    for lo in range(start, stop, size):
        hi = min(stop, lo + size)
        with check.caching_oracle_values():
            ratios.add(*fd_ratios(case, check.block(case, seed, lo, hi, "float64")[1]))
            results += [(d, check.check_case(case, hw, seed, hi - lo, d, first=lo,
                                             at_kinks=lo == 0)) for d in DTYPES]
    seconds = time.perf_counter() - t0
    for d, result in results:
        _merge_result(rec[d], result)
    rec["fd"] = _ratios_state(_ratios_of(rec["fd"]).merge(ratios))
    if rec["ranges"] and rec["ranges"][-1][1] == start and rec["ranges"][-1][2] == version:
        rec["ranges"][-1][1] = stop
    else:
        rec["ranges"].append([start, stop, version])
    rec["samples"] = stop
    rec["seconds"] = round(rec["seconds"] + seconds, 3)
    return seconds


def new_fd_estimator(rec: dict, fd_estimator: str) -> bool:
    """If `rec`'s FD ratios were measured by another FD estimator (or by a gradref before this
    was recorded): move them to "fd_earlier" (merged with any earlier ones) and mark every sample
    it holds to be measured again (True)."""
    if rec.get("fd_estimator") == fd_estimator:
        return False
    earlier = _ratios_of(rec["fd"])
    if rec.get("fd_earlier"):
        earlier.merge(_ratios_of(rec["fd_earlier"]))
    rec.update(fd=_ratios_state(Ratios()), fd_estimator=fd_estimator, fd_redo=[0, rec["samples"]],
               fd_earlier=_ratios_state(earlier))
    return True


def fd_samples(rec: dict) -> int:
    """How many samples the record's FD ratios ("fd") hold: those measured again, and every one
    checked since its FD estimator was new."""
    nxt, end = rec["fd_redo"]
    return nxt + rec["samples"] - end


def redo_fd(case: Case, rec: dict, seed: int, stop: int) -> float:
    """The FD ratios of samples rec["fd_redo"][0]..stop-1 (checked under an earlier FD estimator)
    under this one, merged into rec["fd"]; the seconds."""
    t0 = time.perf_counter()
    ratios = _ratios_of(rec["fd"])
    size = check.judge_block(case)
    for lo in range(rec["fd_redo"][0], stop, size):
        ratios.add(*fd_ratios(case, check.block(case, seed, lo, min(stop, lo + size),
                                                "float64")[1]))
    rec["fd"], rec["fd_redo"][0] = _ratios_state(ratios), stop
    return time.perf_counter() - t0


def rejudge(case: Case, rec: dict, seed: int, hw, version: str) -> list[str]:
    """Check the case's recorded failing samples again under the checker as it is now (every run
    does, before it adds samples): a failure the checker no longer makes moves to "cleared", with
    the commit that clears it, and leaves the counts, which then say what the checker as it is now
    does on every sample it recorded (the passes stand as checked: each range carries its commit).
    Only where every failure's id is kept (at most MAX_IDS); returns "dtype id" of those cleared."""
    cleared = []
    for d in DTYPES:
        r = rec[d]
        if not r["failures"] or r["failures"] != len(r["ids"]):
            continue
        still = []
        for sid in r["ids"]:
            sample = check.check_case(case, hw, seed, 1, d, first=sample_index(sid),
                                      at_kinks=False).samples[0]
            if sample.ok:
                r.setdefault("cleared", []).append([sid, version])
                cleared.append(f"{d} {sid}")
            else:
                still.append(sample)
        r["failures"], r["ids"] = len(still), [x.id for x in still]
        r["by_check"] = {k: sum(not getattr(x, k).ok for x in still) for k in check.CHECKS}
        r["examples"] = [next(v.message for v in x.verdicts().values() if not v.ok).split("\n")[0]
                         for x in still][:3]
    return cleared


def chunk_stop(case: Case, done: int, target: int, chunk: int) -> int:
    size = check.judge_block(case)
    return min(target, done + -(-chunk // size) * size)


def _pace(rec: dict) -> float:
    """Seconds a sample of this case has taken so far (0 before its first chunk)."""
    return rec["seconds"] / rec["samples"] if rec["samples"] else 0.0


def _seconds_left(rec: dict, target: int) -> float:
    """Seconds this case needs to reach `target` at its pace so far (0 before its first chunk)."""
    return _pace(rec) * max(0, target - rec["samples"])


def accumulate(state: dict, p: Plan, budget: float | None = None, chunk: int = CHUNK,
               save=lambda state: None, log=lambda line: None) -> dict:
    """Advance every case of the plan toward p.samples, one chunk at a time, the case nearest its
    target first (by its own pace: a case not begun first of all, to learn its pace), until all
    are there or the next chunk would pass `budget` seconds; `save` after each. Nearest first, a
    budgeted run brings whole cases to the target (they are counted done) instead of spreading
    its time evenly, most of it on the few slowest cases, and leaving none done.
    Returns this run's entry (also appended to state["runs"])."""
    started = time.perf_counter()
    hw = handwritten()
    version = code_version()
    names = list(p.cases)
    run = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": version,
           "catalogue": {"cases": len(names), "sha256": _digest(names)},
           "target": p.samples, "budget": budget, "seconds": 0.0, "samples_added": 0,
           "restarted": [], "new": [], "fd_estimator_changed": [], "cleared": [],
           "fd_redo": {"samples": 0, "seconds": 0.0},
           "set_aside": sorted(set(state["cases"]) - set(names)),
           "stopped": "not finished (still running, or killed)", "machine": run_machine()}
    state["runs"].append(run)
    fd_fp = fd_estimator_fingerprint()
    for name in names:
        fp = case_fingerprint(get(name), hw.namespace)
        old = state["cases"].get(name)
        if old is None or old["fingerprint"] != fp:
            run["restarted" if old else "new"].append(name)
            state["cases"][name] = new_record(fp, fd_fp)
        elif new_fd_estimator(old, fd_fp):
            run["fd_estimator_changed"].append(name)
    for name in run["set_aside"]:    # no longer in the catalogue: kept, not shown, not counted
        log(f"{name}: not in the catalogue; its record is kept aside")
    for name in run["restarted"]:
        log(f"{name}: its record changed since its samples were checked; restarted at 0")
    for name in names:
        for what in rejudge(get(name), state["cases"][name], state["seed"], hw, version):
            run["cleared"].append(f"{name} {what}")
            log(f"{name} {what}: failed under an earlier commit, passes now; cleared")
    if run["fd_estimator_changed"]:
        log(f"{len(run['fd_estimator_changed'])} cases' FD ratios were measured by an earlier FD "
            "estimator: measured again")
    # The FD ratios of samples checked under an earlier FD estimator, measured again, up to
    # FD_REDO_SAMPLES a case, the cheapest cases first, within the budget, before new samples.
    for name in sorted(names, key=lambda n: _pace(state["cases"][n])):
        rec = state["cases"][name]
        nxt, end = rec["fd_redo"]
        stop = min(end, nxt + FD_REDO_SAMPLES)
        spent = time.perf_counter() - started
        if stop <= nxt or budget is not None and spent + _pace(rec) * (stop - nxt) > budget:
            continue
        seconds = redo_fd(get(name), rec, state["seed"], stop)
        run["fd_redo"]["samples"] += stop - nxt
        run["fd_redo"]["seconds"] = round(run["fd_redo"]["seconds"] + seconds, 1)
        save(state)
        log(f"{name}: FD ratios measured again to sample {stop:,} of {end:,}")
    while True:
        todo = [n for n in names if state["cases"][n]["samples"] < p.samples]
        if not todo:
            break
        name = min(todo, key=lambda n: _seconds_left(state["cases"][n], p.samples))
        case, rec = get(name), state["cases"][name]
        stop = chunk_stop(case, rec["samples"], p.samples, chunk)
        pace = _pace(rec)
        spent = time.perf_counter() - started
        if budget is not None and spent + pace * (stop - rec["samples"]) > budget:
            run["stopped"] = "budget"
            break
        added = stop - rec["samples"]
        seconds = step(case, rec, state["seed"], stop, hw, version)
        run["samples_added"] += added
        run["seconds"] = round(time.perf_counter() - started, 1)
        save(state)
        log(f"{name}: samples to {stop:,} ({added / seconds:,.0f}/s)")
    if run["stopped"] != "budget":
        run["stopped"] = "target reached"
    run["seconds"] = round(time.perf_counter() - started, 1)
    save(state)
    return run


def projected_seconds(state: dict, names, target: int) -> tuple[float, int]:
    """(seconds to bring every case begun to the target at its own pace so far, compilation
    included; how many cases have no pace yet: not begun)."""
    total, unknown = 0.0, 0
    for n in names:
        rec = state["cases"][n]
        if rec["samples"] >= target:
            continue
        if rec["samples"]:
            total += _seconds_left(rec, target)
        else:
            unknown += 1
    return total, unknown


def accumulated(state: dict, p: Plan, run: dict, resumed: bool) -> tuple:
    """(fd_calibration's catalogue part, false_failures, progress) of the document."""
    recs = {n: state["cases"][n] for n in p.cases}
    catalogue, earlier, per_case_fd = Ratios(), Ratios(), {}
    for n, rec in recs.items():
        r = _ratios_of(rec["fd"])
        per_case_fd[n] = {**r.summary(), "samples": fd_samples(rec)}
        catalogue.merge(r)
        if rec["fd_earlier"]:
            earlier.merge(_ratios_of(rec["fd_earlier"]))
    held = [s["samples"] for s in per_case_fd.values()]
    fd = {"catalogue": {**catalogue.summary(), "min_samples": min(held),
                        "max_samples": max(held)},
          "earlier_estimators": earlier.summary(),
          "worst_cases": dict(sorted(per_case_fd.items(), key=lambda kv: -kv[1].get("max", 0))[:5]),
          "per_case": per_case_fd}
    false = {}
    for d in DTYPES:
        rows = {n: {**_rate(rec[d]["failures"], rec["samples"]), "by_check": rec[d]["by_check"],
                    "at_kinks": rec[d]["at_kinks"], "examples": rec[d]["examples"],
                    "ids": rec[d]["ids"], "cleared": rec[d].get("cleared", [])}
                for n, rec in recs.items()}
        false[d] = {"total": _rate(sum(r["failures"] for r in rows.values()),
                                   sum(r["samples"] for r in rows.values())), "per_case": rows}
    held = [rec["samples"] for rec in recs.values()]
    commits: dict = {}
    for rec in recs.values():
        for lo, hi, version in rec["ranges"]:
            commits[version] = commits.get(version, 0) + hi - lo
    progress = {"resumed": resumed, "target": p.samples, "reached": min(held) >= p.samples,
                "min_samples": min(held), "max_samples": max(held),
                "cases_at_target": sum(h >= p.samples for h in held), "cases": len(held),
                "samples_per_case_by_commit": commits, "runs": len(state["runs"]),
                "this_run": {k: run[k] for k in ("seconds", "samples_added", "stopped", "budget",
                                                 "restarted", "new", "set_aside", "cleared",
                                                 "fd_estimator_changed", "fd_redo")},
                "samples_per_second": run["samples_added"] / run["seconds"] if run["seconds"]
                else None,
                "run_list": [{k: r.get(k) for k in ("started", "commit", "samples_added",
                                                   "seconds", "stopped", "machine")}
                             for r in state["runs"]],
                "all_runs": {"samples_added": sum(r["samples_added"] for r in state["runs"]),
                             "seconds": round(sum(r["seconds"] for r in state["runs"]), 1)},
                **dict(zip(("projected_seconds", "cases_without_pace"),
                           projected_seconds(state, p.cases, p.samples))),
                "seconds_per_sample": sum(map(_pace, recs.values()))}
    return fd, false, progress


# --- head to head --------------------------------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)        # a shared machine: one core, as the NumPy op itself uses
    return torch


def h2h_tools(torch_available: bool) -> dict:
    """name -> (what it is, run(op, op32, jax_f) -> passes); gradref is run apart (batched)."""
    tools = {}
    if torch_available:
        tools |= {
            "gradcheck float64": ("torch.autograd.gradcheck, slow mode, float64 inputs",
                                  lambda op, op32, f: checkers.gradcheck(op)),
            "gradcheck fast float64": ("gradcheck(fast_mode=True), float64",
                                       lambda op, op32, f: checkers.gradcheck(op, fast=True)),
            "gradcheck float32": ("gradcheck, slow mode, float32 inputs, its default tolerances",
                                  lambda op, op32, f: checkers.gradcheck(op32)),
            "gradcheck fast float32": ("gradcheck(fast_mode=True), float32",
                                       lambda op, op32, f: checkers.gradcheck(op32, fast=True)),
        }
    return tools | {
        "check_grads": ("jax.test_util.check_grads(order=1, modes=('rev',)), float64",
                        lambda op, op32, f: checkers.check_grads(op, f)),
        "cs231n": (f"eval_numerical_gradient_array (h = {checkers.CS231N_H:g}) + rel_error < "
                   f"{checkers.CS231N_THRESHOLD:g}, float64", lambda op, op32, f: checkers.cs231n(op)),
        ".sum() vs jax.vjp": ("backward of out.sum() (dout = ones) vs jax.vjp, tinygrad's "
                              "tolerances, float64", lambda op, op32, f: checkers.sum_style(op)),
    }


def _run_tools(case: Case, impl, tools: dict, samples: list) -> dict:
    """Per tool: (passes per sample, seconds per sample)."""
    fns, why = impl.lookup(case)
    op, op32 = checkers.Op(case, fns), checkers.Op(case, fns, np.float32)
    f = checkers.as_jax(op)
    out = {}
    for name, (_, run) in tools.items():
        passes, seconds = [], []
        for s in samples:
            t = time.perf_counter()
            passes.append(run(op.at(s), op32.at(s), f))
            seconds.append(time.perf_counter() - t)
        out[name] = (passes, seconds)
    return out


def _gradref_run(case: Case, impl, seed: int, n: int) -> tuple:
    """(per-sample passes, whole-run verdict, seconds per sample) of gradref: its run of n
    samples, the kink points included, timed with the oracles compiled."""
    check.check_case(case, impl, seed, 1)     # compiles the oracles and the kink oracles
    t = time.perf_counter()
    result = check.check_case(case, impl, seed, n)
    return [s.ok for s in result.samples], result, (time.perf_counter() - t) / n


def head_to_head(p: Plan, log) -> dict:
    torch = _torch()
    tools = h2h_tools(torch is not None)
    names = ["gradref"] + list(tools)
    per_mutant, seconds = [], {t: [] for t in names}
    correct = {t: {} for t in names}            # tool -> case -> (failures, samples)
    # Real bugs only: a mutant expected to give "convention differs" is a valid subgradient.
    chosen = [m for m in mutants.MUTANTS if m.case in p.h2h_cases and m.expect == "failed"]
    hw = handwritten()
    for case_name in p.h2h_cases:
        case = get(case_name)
        t0 = time.perf_counter()
        ss = list(check.samples(case, p.seed, p.h2h_correct))
        ok, _, per_sample = _gradref_run(case, hw, p.seed, p.h2h_correct)   # one time per case
        correct["gradref"][case_name] = (sum(not x for x in ok), len(ok))
        seconds["gradref"].append(per_sample)
        for name, (passes, secs) in _run_tools(case, hw, tools, ss).items():
            correct[name][case_name] = (sum(not x for x in passes), len(passes))
            seconds[name].extend(secs)
        for m in (m for m in chosen if m.case == case_name):
            impl = mutants.mutate(m)
            ok, result, _ = _gradref_run(case, impl, p.seed, p.h2h_samples)
            row = {"id": m.id, "kind": m.kind, "expect": m.expect,
                   "gradref": {"share": sum(not x for x in ok) / len(ok),
                               "caught": mutants.caught(m, result)}}
            for name, (passes, _) in _run_tools(case, impl, tools, ss[:p.h2h_samples]).items():
                share = sum(not x for x in passes) / len(passes)
                row[name] = {"share": share, "caught": share > 0}
            per_mutant.append(row)
        log(f"head to head {case_name}: {time.perf_counter() - t0:.1f}s")
    summary = {}
    for name in names:
        caught = [r[name]["caught"] for r in per_mutant]
        summary[name] = {
            "what": "forward, jax.vjp and FD checks per sample, and the kink points"
                    if name == "gradref" else tools[name][0],
            "caught": sum(caught), "mutants": len(caught),
            "mean_share": float(np.mean([r[name]["share"] for r in per_mutant])) if caught else None,
            "missed_kinds": sorted({r["kind"] for r in per_mutant if not r[name]["caught"]}),
            "false_failures": _rate(sum(f for f, _ in correct[name].values()),
                                    sum(k for _, k in correct[name].values())),
            "false_failures_by_case": {c: f for c, (f, _) in correct[name].items() if f},
            "median_seconds": statistics.median(seconds[name]) if seconds[name] else None,
        }
    return {"cases": list(p.h2h_cases), "tools": summary, "mutants": per_mutant,
            "torch": None if torch is None else torch.__version__}


# --- the whole run ----------------------------------------------------------------------------------

def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent, timeout=10).stdout.strip()
    except Exception:
        commit = ""
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "python": platform.python_version(),
            "versions": {m: installed_version(m) for m in ("numpy", "scipy", "jax", "jaxlib", "torch")},
            "gradref_commit": commit or None}


def run_machine() -> dict:
    """What a run of the accumulation records of its machine: its samples stay in the counts
    across sessions and machines, so each run says where and with what it checked them."""
    m = machine()
    return {"cpu": m["cpu"], "cores": m["cores"], "load_average_at_start":
            m["load_average_at_start"], "numpy": m["versions"]["numpy"], "jax": m["versions"]["jax"]}


CLOSED_FORM_SAMPLES = 10_000   # per closed form and run, at most (--resume accumulates them)


def measure(p: Plan, log=lambda line: None, state: dict | None = None, budget: float | None = None,
            save=lambda state: None) -> dict:
    """Every part. The false failures (and the catalogue's FD calibration) continue `state` (a
    progress file's, with --resume) toward p.samples within `budget` seconds; without one they
    start at 0."""
    started = time.time()
    resumed = state is not None
    state = new_progress(p.seed) if state is None else state
    doc = {"format": FORMAT, "version": 2, "machine": machine(),
           "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
           "plan": {"seed": p.seed, "samples": p.samples, "mutant_samples": p.mutant_samples,
                    "h2h_samples": p.h2h_samples, "h2h_correct": p.h2h_correct,
                    "cases": len(p.cases), "closed_form_samples": min(p.samples,
                                                                      CLOSED_FORM_SAMPLES)}}
    for name in p.cases:
        oracles.prefetch(get(name))          # compile ahead, in order, while earlier cases run
    spent = {}                               # seconds, compilation included
    run = accumulate(state, p, budget, save=save, log=log)
    spent["false_failures"] = run["seconds"]
    fd, doc["false_failures"], doc["progress"] = accumulated(state, p, run, resumed)
    doc["fd_calibration"] = {**fd, "closed_forms": closed_form_calibration(
        state, p.closed_forms, p.seed, doc["plan"]["closed_form_samples"])}
    save(state)
    t0 = time.perf_counter()
    detected = []
    for name in p.cases:
        for m in (m for m in mutants.MUTANTS if m.case == name):
            detected.append(detection(m, p.seed, p.mutant_samples))
        check._blocks_cache.clear()
    log(f"detection: {time.perf_counter() - t0:.1f}s")
    spent["detection"] = time.perf_counter() - t0
    doc["detection"] = {"mutants": detected, "by_kind": by_kind(detected), "kinds": BUG_KINDS,
                        "caught": sum(r["caught"] for r in detected), "total": len(detected)}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # gradcheck warns about float32 inputs: measured
        doc["head_to_head"] = head_to_head(p, log)
    spent["head_to_head"] = time.perf_counter() - t0
    doc["part_seconds"] = {k: round(v, 1) for k, v in spent.items()}
    doc["seconds"] = round(time.time() - started, 1)
    doc["machine"]["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return doc


# --- the page ------------------------------------------------------------------------------------------

def _e(x) -> str:
    return "-" if x is None else f"{x:.2g}" if x >= 1e-3 or x == 0 else f"{x:.1e}"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _bound(r: dict) -> str:
    return f"{r['failures']} of {r['samples']:,} (< {_e(r['upper95'])})"


def _where(by_case: dict, h2h: dict) -> str:
    """Which cases a checker failed on the correct reference (", in n of m cases" when many)."""
    if len(by_case) > 3:
        return f", in {len(by_case)} of {len(h2h['cases'])} cases"
    return "".join(f"; {c} {f}" for c, f in by_case.items())


def _span(pr: dict) -> str:
    lo, hi = pr["min_samples"], pr["max_samples"]
    return f"{lo:,}" if lo == hi else f"{lo:,} to {hi:,}"


def _held(pr: dict) -> str:
    """How many samples the false failures rest on, never more than were checked."""
    if pr["reached"]:
        return f"{pr['target']:,} samples per case and dtype over {pr['cases']} cases"
    return (f"toward {pr['target']:,} samples per case and dtype over {pr['cases']} cases, not "
            f"reached yet: the cases hold {_span(pr)} each ({pr['cases_at_target']} at the target)")


def _count(k: int, what: str) -> str:
    return f"{k:,} {what}{'' if k == 1 else 's'}"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} hours"


def _closed_form_samples(plan: dict, forms: dict) -> str:
    held = sorted({s.get("samples", plan["closed_form_samples"]) for s in forms.values()})
    if held == [plan["closed_form_samples"]]:
        return f"{held[0]:,} samples each, from this run."
    return (f"{', '.join(f'{k:,}' for k in held)} samples each, accumulated over the runs as "
            f"section 2's are ({plan['closed_form_samples']:,} more by this run).")


def _fd_samples_line(catalogue: dict, earlier: dict) -> str:
    """Which samples section 1's catalogue row holds."""
    held = (f"{catalogue['min_samples']:,}" if catalogue["min_samples"] == catalogue["max_samples"]
            else f"{catalogue['min_samples']:,} to {catalogue['max_samples']:,}")
    return (f"Over float64 samples of section 2 under the FD estimator as it is now ({held} per "
            "case: those checked since its code, FD_ESTIMATOR in cases/reliability.py, last "
            "changed, and earlier ones measured again, up to "
            f"{FD_REDO_SAMPLES:,} a case and run"
            + ("; what an earlier estimator measured is the last row, apart)"
               if earlier.get("estimates") else ")"))


def _progress_line(pr: dict) -> str:
    run = pr["this_run"]
    rate = pr["samples_per_second"]
    where = (f"accumulated over {_count(pr['runs'], 'run')} in "
             "[reliability-progress.json](reliability-progress.json) (`--resume`: each run "
             "continues every case at its next sample index, the case nearest the target "
             "first)" if pr["resumed"]
             else "measured by this run alone")
    line = (f"- False failures: {where}; this run checked {run['samples_added']:,} samples "
            f"(each in float64 and float32, with its FD calibration) in {run['seconds']:,.0f} s, "
            + (f"{rate:,.1f} samples/s" if rate else "no throughput measured")
            + f", and stopped at: {run['stopped']}.")
    redo = run["fd_redo"]
    if redo["samples"]:
        line += (f" Before them it measured again the FD ratios of {redo['samples']:,} samples "
                 f"checked under an earlier FD estimator, in {redo['seconds']:,.0f} s.")
    every = pr["all_runs"]
    if pr["runs"] > 1 and every["seconds"]:
        line += (f" All {pr['runs']} runs: {every['samples_added']:,} samples in "
                 f"{every['seconds']:,.0f} s, {every['samples_added'] / every['seconds']:,.1f} "
                 "samples/s.")
    if not pr["reached"]:
        line += (f" To bring every case to {pr['target']:,}: about "
                 f"{_hours(pr['projected_seconds'])} more of this machine's time (wall clock: XLA "
                 "runs the largest cases on both its cores), at each case's pace so far (its first "
                 "compilation included)"
                 + (f", and {_count(pr['cases_without_pace'], 'case')} not begun yet"
                    if pr["cases_without_pace"] else "") + ".")
    line += (" At that pace 10^5 samples per case and dtype take about "
             f"{_hours(pr['seconds_per_sample'] * 1e5)} in all.")
    if len(pr["samples_per_case_by_commit"]) > 1 or pr["resumed"]:
        line += (" Samples (summed over the cases) by the gradref commit that checked them, "
                 "in the order of their first run: " + ", ".join(
                     f"{c} {k:,}" for c, k in _by_first_run(pr["samples_per_case_by_commit"],
                                                           pr["run_list"])) + ".")
    for key, what in (("new", "new"), ("restarted", "restarted at 0 (their record changed)"),
                      ("set_aside", "no longer in the catalogue (record kept aside)")):
        if run[key]:
            names = ", ".join(run[key][:8]) + (", ..." if len(run[key]) > 8 else "")
            line += f" Cases {what} this run: {len(run[key])} ({names})."
    return line


def _by_first_run(by_commit: dict, runs: list) -> list:
    """(commit, samples) in the order of each commit's first run; the samples are summed over
    the cases' ranges, whose order says nothing about when they were checked."""
    first = {}
    for i, r in enumerate(runs):
        first.setdefault(r["commit"], i)
    return sorted(by_commit.items(), key=lambda kv: first.get(kv[0], len(runs)))


def _runs_table(runs: list) -> list:
    """Every run whose samples the counts hold: when, which commit, how many, on what machine."""
    def where(m):
        if not m:
            return "not recorded (a gradref before runs said it)"
        load = ", ".join(f"{x:.1f}" for x in m["load_average_at_start"] or [])
        return f"{m['cpu']}, {m['cores']} cores, load {load}; numpy {m['numpy']}, jax {m['jax']}"
    lines = ["<details><summary>The runs these counts hold</summary>", "",
             "| started | commit | samples added | seconds | samples/s | stopped at | machine |",
             "|---|---|--:|--:|--:|---|---|"]
    lines += [f"| {r['started']} | {r['commit']} | {r['samples_added']:,} | {r['seconds']:,.0f} | "
              + (f"{r['samples_added'] / r['seconds']:,.1f}" if r["seconds"] else "-")
              + f" | {r['stopped']} | {where(r['machine'])} |" for r in runs]
    return lines + ["", "</details>", ""]


def _target_note(pr: dict) -> list:
    if pr["reached"]:
        return []
    return [f"**Not reached yet:** the aim is {pr['target']:,} samples per case and dtype; the "
            f"cases hold {_span(pr)} so far ({pr['cases_at_target']} of {pr['cases']} at the "
            "target), and every count and bound here is of those.", ""]


def render(doc: dict) -> str:
    """The page, from the JSON document alone (a test holds the committed pair to it)."""
    command, p, m = doc["command"], doc["plan"], doc["machine"]
    fd, ff, det, h2h = (doc["fd_calibration"], doc["false_failures"], doc["detection"],
                        doc["head_to_head"])
    v, pr = m["versions"], doc["progress"]
    lines = [
        "# How reliable the checks are",
        "",
        "Generated by `" + command + "` (do not edit: rerun it; the numbers are in "
        "[reliability.json](reliability.json)). Every number below is measured by that run, none "
        "is asserted by a test.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['platform']}; load average "
        f"{', '.join(f'{x:.1f}' for x in m['load_average_at_start'] or [])} at the start (a shared "
        "machine: times are indicative).",
        f"- Versions: Python {m['python']}, "
        + ", ".join(f"{k} {v[k]}" for k in v if v[k]) + f"; gradref {m['gradref_commit'] or '?'}.",
        f"- Run: {doc['started']}, {doc['seconds']:,.0f} s; seed {p['seed']}; {_held(pr)}; "
        f"{p['mutant_samples']} samples per planted bug; head to head: "
        f"{p['h2h_samples']} samples per planted bug, {p['h2h_correct']} correct samples per case.",
        "- Time by part: " + ", ".join(f"{k.replace('_', ' ')} {v:,.0f} s"
                                       for k, v in doc["part_seconds"].items()) + ".",
        _progress_line(pr),
        "",
        "## 1. Finite differences: true error over estimated error",
        "",
        _fd_samples_line(fd["catalogue"], fd["earlier_estimators"])
        + ", each finite-difference estimate (per element; "
        "per random direction above 512 elements) carries an estimated error, Richardson truncation |R2 - R1| plus a rounding bound "
        "(cases/oracles.py). Its true error is measured against jax.vjp in float64 (the catalogue; "
        "jax.vjp's own rounding counts as error, so the ratios err high) or the closed-form "
        "derivative (cases/closed_forms.py). A ratio above 1 is an "
        f"underestimate; the check allows FD_SAFETY = {FD_SAFETY:g} times the truncation plus "
        "the rounding (and the implementation's own rounding on top). The closed forms: "
        + _closed_form_samples(p, fd["closed_forms"]) + " The percentiles "
        "come from a histogram of 100 bins a decade, each read at its upper edge (up to 2.3% "
        "high), which runs merge exactly; the max and the shares are exact.",
        "",
        "| functions | estimates | median | 99th pct | 99.9th pct | max | ratio > 1 | above the allowance |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]

    def fd_row(label, s):
        if not s.get("estimates"):
            return f"| {label} | 0 | | | | | | |"
        return (f"| {label} | {s['estimates']:,} | {_e(s['median'])} | {_e(s['p99'])} | "
                f"{_e(s['p999'])} | {_e(s['max'])} | {_pct(s['share_above_estimate'])} | "
                f"{_pct(s['share_above_allowed'])} |")
    lines.append(fd_row(f"the catalogue ({p['cases']} cases)", fd["catalogue"]))
    for name, s in fd["closed_forms"].items():
        lines.append(fd_row(f"closed form: {name}", s))
    if fd["earlier_estimators"].get("estimates"):
        lines.append(fd_row("not this estimator's: the catalogue's samples as an earlier FD "
                            "estimator measured them", fd["earlier_estimators"]))
    lines += ["", "Largest ratios by case: " + "; ".join(
        f"{name} {_e(s['max'])}" for name, s in fd["worst_cases"].items()) + ".", ""]

    lines += [
        "## 2. False failures of the correct implementation",
        "",
        "The handwritten reference on fresh samples, every check (behaved, forward, jax.vjp, "
        "finite differences) and the kink points; the bound is the exact one-sided 95% upper "
        "confidence bound on the failure rate (Clopper-Pearson; 0 failures in N gives about 3/N), "
        "from the samples actually checked.",
        "",
        *_target_note(pr),
        "| dtype | failed samples | 95% upper bound on the rate | cases with a failure |",
        "|---|--:|--:|---|",
    ]
    for dtype, rows in ff.items():
        t = rows["total"]
        bad = [f"{n} ({r['failures']})" for n, r in rows["per_case"].items() if r["failures"]]
        lines.append(f"| {dtype} | {t['failures']} of {t['samples']:,} | {_e(t['upper95'])} | "
                     f"{', '.join(bad) or 'none'} |")
    clean = [r["upper95"] for rows in ff.values() for r in rows["per_case"].values()
             if not r["failures"]]
    lines += ["", f"Per case ({_span(pr)} samples per dtype) the bound is "
              f"{_e(max(clean, default=None))} or less where nothing failed.", ""]
    seen = [(d, n, r) for d, rows in ff.items() for n, r in rows["per_case"].items()
            if r["failures"]]
    if seen:
        lines += ["Failures seen (sample ids, up to the first few; each reruns with the command "
                  "its message gives):", ""]
        lines += [f"- {d} {n}: {r['failures']} failed: " + ", ".join(r["ids"][:5])
                  + ("" if len(r["ids"]) <= 5 else ", ...")
                  + "".join(f"; `{e}`" for e in r["examples"][:1]) for d, n, r in seen[:10]]
        lines += [""]
    gone = [(d, n, sid, commit) for d, rows in ff.items() for n, r in rows["per_case"].items()
            for sid, commit in r.get("cleared", [])]
    if gone:
        lines += ["Failures cleared: found under an earlier commit, checked again by a later run "
                  "(every run checks the recorded failures again first) and passing there, so no "
                  "longer counted:", ""]
        lines += [f"- {d} {n}: {sid}, passes under {commit}" for d, n, sid, commit in gone] + [""]
    lines += ["<details><summary>Per case</summary>", "",
              "| case | " + " | ".join(f"{d} failed (95% bound)" for d in ff) + " | at kinks |",
              "|---|" + "--:|" * len(ff) + "---|"]
    for name in ff["float64"]["per_case"]:
        rows = [ff[d]["per_case"][name] for d in ff]
        lines.append(f"| {name} | " + " | ".join(_bound(r) for r in rows) + " | "
                     + " / ".join(r["at_kinks"] or "-" for r in rows) + " |")
    lines += ["", "</details>", ""]
    if pr["resumed"] and "run_list" in pr:   # (pages written before runs were listed)
        lines += _runs_table(pr["run_list"])

    lines += [
        "## 3. Detection per planted bug",
        "",
        f"{det['caught']} of {det['total']} planted bugs get their expected verdict on "
        f"{p['mutant_samples']} samples. The share is of single samples on which the bug fails "
        "(a bug caught on 1 sample of 20 is a weak catch); kink bugs show at the kink points, "
        "not on random samples.",
        "",
        "| kind of bug | mutants | caught | lowest share | median share |",
        "|---|--:|--:|--:|--:|",
    ]
    for kind, k in det["by_kind"].items():
        lines.append(f"| {kind} | {k['mutants']} | {k['caught']} | {_pct(k['min_share'])} | "
                     f"{_pct(k['median_share'])} |")
    lines += ["", "The kinds (each mutant states one: `Mutant.kind`, cases/spec.py): "
              + "; ".join(f"**{k}**: {text}" for k, text in det["kinds"].items()) + "."]
    failing = [r for r in det["mutants"] if r["expect"] == "failed"]
    kink_only = [r for r in failing if r["failing_share"] == 0]
    weakest = sorted((r for r in failing if r["failing_share"] > 0),
                     key=lambda r: r["failing_share"])[:10]
    lines += ["", "The weakest catches on random samples:", "",
              "| planted bug | kind | failing share | by check (behaved, forward, jax, fd) |",
              "|---|---|--:|---|"]
    for r in weakest:
        lines.append(f"| `{r['id']}` | {r['kind']} | {_pct(r['failing_share'])} | "
                     + ", ".join(_pct(r["by_check"][k]) for k in check.CHECKS) + " |")
    lines += ["", "Caught only at the kink points (no random sample fails): "
              + (", ".join(f"`{r['id']}` ({r['at_kinks']})" for r in kink_only) or "none") + ".",
              "Missed: " + (", ".join(f"`{r['id']}` ({r['verdict']})" for r in det["mutants"]
                                       if not r["caught"]) or "none") + ".", "",
              "<details><summary>Every planted bug</summary>", "",
              "| planted bug | kind | failing share | behaved | forward | jax | fd | at kinks | verdict |",
              "|---|---|--:|--:|--:|--:|--:|---|---|"]
    for r in det["mutants"]:
        lines.append(f"| `{r['id']}` | {r['kind']} | {_pct(r['failing_share'])} | "
                     + " | ".join(_pct(r["by_check"][k]) for k in check.CHECKS)
                     + f" | {r['at_kinks'] or '-'} | {r['verdict']} |")
    lines += ["", "</details>", ""]

    lines += [
        "## 4. Head to head",
        "",
        f"All {len(h2h['mutants'])} planted bugs of {len(h2h['cases'])} cases ("
        + ", ".join(h2h["cases"]) + ") and the correct handwritten reference, the same samples "
        "for every checker. A bug counts as caught when any of its "
        f"{p['h2h_samples']} samples fails (gradref: its verdict, kink points included); the "
        "share is of single samples. False failures: failed checks of the correct reference "
        f"over {p['h2h_correct']} samples per case. Time: the median per check of one sample "
        "(gradref: its batched run of a case's correct samples, kink points included, over the "
        "number of samples, oracles compiled).",
        "",
        "| checker | bugs caught | mean share of samples failing | false failures (95% bound) | median time per check | kinds missed |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for name, t in h2h["tools"].items():
        secs = t["median_seconds"]
        lines.append(f"| {name} | {t['caught']} of {t['mutants']} | {_pct(t['mean_share'])} | "
                     f"{_bound(t['false_failures'])}{_where(t['false_failures_by_case'], h2h)} | "
                     f"{'-' if secs is None else f'{secs * 1e3:.3g} ms'} | "
                     f"{', '.join(t['missed_kinds']) or '-'} |")
    tools = list(h2h["tools"])
    lines += ["", "Caught by kind of bug (caught / planted):", "",
              "| kind | " + " | ".join(tools) + " |", "|---|" + "--:|" * len(tools)]
    for kind in dict.fromkeys(r["kind"] for r in h2h["mutants"]):
        rows = [r for r in h2h["mutants"] if r["kind"] == kind]
        lines.append(f"| {kind} | " + " | ".join(
            f"{sum(r[t]['caught'] for r in rows)}/{len(rows)}" for t in tools) + " |")
    noisy = [n for n, t in h2h["tools"].items() if t["false_failures"]["failures"]
             > t["false_failures"]["samples"] / 2]
    if noisy:
        lines += ["", f"A checker that fails the correct reference too catches every bug for "
                  f"nothing: read {', '.join(noisy)} by their false failures."]
    lines += ["", "What each runs:", ""] + [f"- {n}: {t['what']}" for n, t in h2h["tools"].items()]
    if h2h["torch"] is None:
        lines += ["- torch is not installed: the gradcheck rows were not run."]
    lines += ["", "Bugs missed by some checker:", "",
              "| planted bug | kind | " + " | ".join(h2h["tools"]) + " |",
              "|---|---|" + "--:|" * len(h2h["tools"])]
    for r in h2h["mutants"]:
        if all(r[n]["caught"] for n in h2h["tools"]):
            continue
        lines.append(f"| `{r['id']}` | {r['kind']} | " + " | ".join(
            ("caught" if r[n]["caught"] else "**missed**") for n in h2h["tools"]) + " |")
    lines += ["", "Sources of the other checkers' conventions: the CS231n threshold from the "
              "assignment 2 notebook FullyConnectedNets.ipynb (\"errors around 1e-7 or less\"), "
              "its functions from cs231n/gradient_check.py (as in github.com/mantasu/cs231n); "
              "tinygrad's tolerances from helper_test_op in tinygrad's test/test_ops.py; "
              "gradcheck's and check_grads' defaults from their documentation.", ""]
    return "\n".join(lines)


def write(doc: dict, output: str) -> tuple[Path, Path]:
    md = Path(output)
    js = md.with_suffix(".json")
    md.parent.mkdir(parents=True, exist_ok=True)
    js.write_text(json.dumps(doc, indent=1) + "\n")
    md.write_text(render(doc))
    return md, js


def command_line(p: Plan, quick: bool, output: str, resume: bool = False,
                 budget: float | None = None) -> str:
    """The command that measures this plan again (with --resume: continues it)."""
    return (f"gradref reliability{' --quick' if quick else ''} --samples {p.samples}"
            + (" --resume" if resume else "") + (f" --budget {budget:g}" if budget is not None
                                                  else "")
            + f" --seed {p.seed} --mutant-samples {p.mutant_samples} --h2h-samples "
            f"{p.h2h_samples} --h2h-correct {p.h2h_correct}"
            + ("" if output == DEFAULT_OUTPUT else f" --output {output}"))


def main(args) -> int:
    p = plan(args.seed, args.quick, args.samples, args.mutant_samples, args.h2h_samples,
             args.h2h_correct)
    resume, budget = getattr(args, "resume", False), getattr(args, "budget", None)

    def log(line):
        print(line, file=sys.stderr, flush=True)
    state, save = None, (lambda state: None)
    if resume:
        path = progress_path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = load_progress(path, p.seed)
        save = lambda state: save_progress(state, path)     # noqa: E731
    doc = measure(p, log, state, budget, save)
    doc["command"] = command_line(p, args.quick, args.output, resume, budget)
    md, js = write(doc, args.output)
    print(f"wrote {md} and {js}" + (f" (and {progress_path(args.output)})" if resume else ""))
    return 0
