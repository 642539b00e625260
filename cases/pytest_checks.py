"""gradref's per-sample checks as pytest tests: one mechanism, two front ends.

    checkout's conftest.py     pytest --impl my_layers.py --samples 200 --case staged ...
    installed plugin           pytest --gradref-impl my_layers.py --gradref-samples 200 ...
                               (cases/gradref/pytest_plugin.py, in any project's own session)

Both declare the same options (gradref.pytest_plugin.add_options, under their own prefix, so that
the plugin clashes neither with the checkout's options nor with a project's; it lives there because
the plugin must declare them without importing this module, and with it JAX, in every project where
gradref is installed), keep what they resolved in one Settings (configure), parametrize
`case_sample` (`staged-s3`), `kink_sample` (`relu-k0`) and `golden` the same way, and mark known
failures (--xfails) the same way. The five test functions below are the checks: the checkout's
tests/test_reference.py imports them, and the plugin collects this module itself, so the test ids
(`test_matches_jax[staged-s3]`) and messages are the same in both.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import pytest

from . import catalogue, check, kinks, known, mutants, worker
from .impl import Implementation, ImplementationError, handwritten, load
from .sampling import sample_id
from .spec import Case, CaseError, Mutant


@dataclass
class Settings:
    """What the options resolved to, once per session (config.stash[SETTINGS])."""
    cases: list
    impl: Implementation
    samples: int
    seed: int
    dtype: str
    xfails: list
    prefix: str = ""      # of the options' names: "" in the checkout, "gradref-" for the plugin
    timeout: float = worker.DEFAULT_TIMEOUT    # seconds a call of the implementation may take
    # How to rerun one test where the command is not the checkout's: the plugin's `pytest
    # --gradref-impl ...` ("": the verdicts' own reproduce lines, tests/test_reference.py, hold)
    rerun: str = ""
    results: dict = field(default_factory=dict)        # case name -> CaseResult, on first use
    case_entries: dict = field(default_factory=dict)   # --xfails case entry -> outcomes seen
    seen: dict = field(default_factory=dict)   # case name -> implemented, for the case tests run

    def result(self, case: Case):
        """The case's results, computed on first use and shared by the tests of that case."""
        if case.name not in self.results:
            self.results[case.name] = check.check_case(case, self.impl, self.seed, self.samples,
                                                       self.dtype, timeout=self.timeout)
        return self.results[case.name]

    def here(self, case: Case, sample):
        """The sample with each failed verdict's reproduce line (its last) naming `rerun`."""
        if not self.rerun:
            return sample
        return dataclasses.replace(sample, **{
            name: dataclasses.replace(v, message=self.rerun_line(
                v.message, case, f"{check.TESTS[name]}[{sample.id}]"))
            for name, v in sample.verdicts().items() if not v.ok})

    def rerun_line(self, message: str, case: Case, test_id: str) -> str:
        """`message` with its reproduce line (its last) naming `rerun`, where there is one."""
        if not self.rerun or not message:
            return message
        body = message.rpartition("\nreproduce: ")[0] or message
        return f'{body}\nreproduce: {self.rerun} --{self.prefix}case {case.name} -k "{test_id}"'


SETTINGS = pytest.StashKey[Settings]()


def settings(config) -> Settings | None:
    """The session's Settings; None where no front end configured one."""
    return config.stash.get(SETTINGS, None)


def configure(config, prefix: str = "", mutant: str | None = None) -> Settings:
    """Validate the options once, so that a bad one is one clear line, not a traceback per test."""
    def opt(name):
        return config.getoption(f"{prefix}{name}".replace("-", "_"))
    if opt("samples") < 1:
        raise pytest.UsageError(f"--{prefix}samples must be at least 1")
    if opt("timeout") <= 0:
        raise pytest.UsageError(f"--{prefix}timeout must be positive")
    if opt("dtype") not in check.DTYPES:
        raise pytest.UsageError(f"--{prefix}dtype must be one of {', '.join(sorted(check.DTYPES))}, "
                                f"not {opt('dtype')!r}")
    try:
        chosen = catalogue.select(opt("case"))
        if mutant:
            impl = mutants.mutate(mutants.find(mutant))
        elif opt("impl") is not None:          # --impl "" is an error, not the default
            impl = load(opt("impl"))
            worker.runner(impl, opt("timeout"))  # import it now: failing to is a usage error
        else:
            impl = handwritten()
        xfails = known.read(opt("xfails")) if opt("xfails") else []
    except (CaseError, ImplementationError) as e:
        raise pytest.UsageError(str(e)) from None
    except worker.WorkerDied as e:
        raise pytest.UsageError(f"--{prefix}impl {opt('impl')}: import failed: {e.status}: "
                                f"{e.reason}") from None
    config.stash[SETTINGS] = Settings(chosen, impl, opt("samples"), opt("seed"), opt("dtype"), xfails,
                                      prefix, timeout=opt("timeout"))
    return config.stash[SETTINGS]


# --- parametrization and the checked sample -----------------------------------------------------

def parametrize(metafunc, settings: Settings) -> None:
    """`case_sample`: one test per (case, sample), id `staged-s3`; `kink_sample`: one per sample
    exactly on a kink, `relu-k0`; `golden`: one per golden, `staged-g0`."""
    if "case_sample" in metafunc.fixturenames:
        params = [(c, i) for c in settings.cases for i in range(settings.samples)]
        metafunc.parametrize("case_sample", params, ids=[sample_id(c.name, i) for c, i in params])
    if "kink_sample" in metafunc.fixturenames:
        params = [(c, j) for c in settings.cases
                  for j in range(len(kinks.samples(c, settings.seed)))]
        metafunc.parametrize("kink_sample", params, ids=[f"{c.name}-k{j}" for c, j in params])
    if "golden" in metafunc.fixturenames:
        params = [(c, k) for c in settings.cases for k in range(len(c.goldens))]
        metafunc.parametrize("golden", [(c, c.goldens[k]) for c, k in params],
                             ids=[f"{c.name}-g{k}" for c, k in params])


def pytest_generate_tests(metafunc):
    """When the plugin collects this module (in the checkout, conftest.py parametrizes)."""
    parametrize(metafunc, metafunc.config.stash[SETTINGS])


@pytest.fixture(scope="session")
def implementation(request):
    return request.config.stash[SETTINGS].impl


def _held_result(request, case: Case):
    """The case's result, skipping the test where the implementation lacks the op or the case
    goes beyond its source's contract (the report says so; nothing to assert per sample)."""
    settings = request.config.stash[SETTINGS]
    result = settings.result(case)
    settings.seen[case.name] = not result.not_implemented
    if result.not_implemented:
        pytest.skip(f"not implemented: {result.not_implemented}")
    if result.status == "beyond contract":
        pytest.skip(f"beyond contract: {result.beyond_contract}")
    return result


@pytest.fixture
def checked(case_sample, request):
    """The checked sample of this test; skips when the implementation lacks the op."""
    case, i = case_sample
    return request.config.stash[SETTINGS].here(case, _held_result(request, case).samples[i])


@pytest.fixture
def kink_checked(kink_sample, request):
    """The verdict at this kink sample; skips when the implementation lacks the op."""
    case, j = kink_sample
    result = _held_result(request, case)
    if result.stopped:           # its worker crashed or hung before the kinks: not checked
        pytest.fail(f"{case.name}-k{j}: not checked: {result.stopped}: {result.reason}",
                    pytrace=False)
    v = result.kinks[j]
    return dataclasses.replace(v, message=request.config.stash[SETTINGS].rerun_line(
        v.message, case, f"{check.TESTS['kink']}[{v.id}]"))


class ConventionDiffers(UserWarning):
    """An implementation's gradient at a kink is a subgradient, but not the case's declared one."""


def assert_subgradient(verdict, implementation):
    """At a kink: fail when not a subgradient. Another subgradient than the declared one is no
    failure, but a warning that names it; except for the reference, which declares it."""
    if verdict.status == "convention differs" and implementation.contract != "all":
        warnings.warn(ConventionDiffers(verdict.message.split("\n")[0]))
        return
    if verdict.status != "passed":
        pytest.fail(verdict.message, pytrace=False)


def lacks(implementation, case: Case) -> str:
    """Why `implementation` lacks `case` ("" when it has it), as its worker says."""
    from .check import lacks as runner_lacks
    try:
        runner = worker.runner(implementation)
    except worker.WorkerDied:
        return ""                       # the check itself reports the crash
    return runner_lacks(implementation.name, runner, case)


def import_problems(implementation) -> tuple:
    """What the worker said of an --impl folder's modules that did not import (one line each)."""
    if implementation is None:
        return ()
    try:
        return worker.runner(implementation).problems
    except (worker.WorkerDied, ImplementationError):
        return ()


def assert_passes(verdict):
    """The suite's one assertion: fail with the verdict's message (no Python traceback)."""
    if not verdict.ok:
        pytest.fail(verdict.message, pytrace=False)


# --- the checks: the implementation (default: handwritten) against the three oracles ------------

def test_well_behaved(checked):
    """It runs, returns arrays of the right count, shape and dtype, finite, and writes into
    neither its inputs nor the upstream gradient."""
    assert_passes(checked.behaved)


def test_forward(checked):
    """Its forward matches the JAX reference forward."""
    assert_passes(checked.forward)


def test_matches_jax(checked):
    """Its backward matches jax.vjp of the JAX reference, for a random upstream gradient."""
    assert_passes(checked.jax)


def test_matches_fd(checked):
    """Its backward matches finite differences of the reference within their estimated error."""
    assert_passes(checked.fd)


def test_at_kink(kink_checked, implementation):
    """Exactly on a kink its gradient is a subgradient (one-sided finite differences), and the
    case's declared one; another valid subgradient is no failure, a warning says which."""
    assert_subgradient(kink_checked, implementation)


# --- known failures (--xfails) ------------------------------------------------------------------

def item_case(item) -> str | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    for key in ("case_sample", "golden"):
        if key in params:
            return params[key][0].name
    return None


def item_cases(item):
    """The cases a collected test checks, as far as its parameters say (Case, (Case, i), Mutant)."""
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        value = value[0] if isinstance(value, tuple) and value else value
        if isinstance(value, Case):
            yield value
        elif isinstance(value, Mutant):
            yield catalogue.get(value.case)


def deselect_empty_parametrizations(config, items) -> None:
    """A selection with no kink sample (--case staged) leaves test_at_kink an empty parameter set:
    deselected, not reported as a skip that says nothing."""
    empty = [i for i in items if (m := i.get_closest_marker("skip")) is not None
             and "got empty parameter set" in str(m.kwargs.get("reason", ""))]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [i for i in items if i not in empty]


CASE_ENTRY = pytest.StashKey[known.Entry]()


def mark_xfails(settings: Settings, items) -> None:
    """--xfails: a test id makes that test a strict xfail (passing is an XPASS failure); a case
    name makes each of the case's tests an xfail, strict for the case as a whole (the case is an
    XPASS failure when none of its tests fails). An entry that matches no collected test (and names
    no case deselected by --case) is warned about."""
    entries = settings.xfails
    if not entries:
        return
    used = set()
    for item in items:
        for e in entries:
            if e.matches_test(item.name, item.nodeid, item_case(item)):
                used.add(e)
                whole_case = e.tail == e.case
                item.add_marker(pytest.mark.xfail(strict=not whole_case,
                                                  reason=f"known failure ({e.where})"))
                if whole_case:
                    settings.case_entries.setdefault(e, set())
                    item.stash[CASE_ENTRY] = e
                break
    selected = {c.name for c in settings.cases}
    for e in entries:
        if e not in used and (not e.case or e.case in selected):
            warnings.warn(pytest.PytestConfigWarning(
                f"--xfails: {e.text!r} ({e.where}) matches no collected test"))


def note_outcome(settings: Settings, item, report) -> None:
    """Record a test's outcome for its --xfails case entry (see case_xpasses)."""
    e = item.stash.get(CASE_ENTRY, None)
    if e is not None and (report.when == "call" or report.skipped):
        kind = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        settings.case_entries[e].add(kind)


def case_xpasses(settings: Settings | None) -> list:
    """The --xfails case entries none of whose tests failed: strict, so the run fails."""
    return [e for e, seen in (settings.case_entries if settings else {}).items()
            if "xfailed" not in seen and "passed" in seen]


def nothing_checked(settings: Settings | None) -> bool:
    """Case tests ran, and every one of them skipped: the implementation has none of the ops."""
    return bool(settings and settings.seen) and not any(settings.seen.values())


def finish(session, settings: Settings | None) -> None:
    if case_xpasses(settings) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if nothing_checked(settings) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED   # 5, as gradref report's 3


def summarize(terminalreporter, settings: Settings | None) -> None:
    for line in import_problems(getattr(settings, "impl", None)):   # an --impl folder's
        terminalreporter.write_line(f"import: {line}", yellow=True)  # modules, one line each
    if nothing_checked(settings):
        terminalreporter.write_line("nothing was checked: the implementation defines none of the "
                                    "selected cases' ops (exit status 5)", red=True)
    for e in case_xpasses(settings):
        terminalreporter.write_line(f"XPASS(strict) {e.text!r} ({e.where}): no test of the case "
                                    "failed; remove it from the known failures", red=True)
