"""pytest options and fixtures shared by every test of gradref.

    pytest                           the handwritten reference against every oracle, + self-tests
    pytest --impl my_layers.py       another implementation, same checks (missing ops skip)
    pytest --samples 200 --seed 3    more samples, another seed (test ids stay reproducible)
    pytest --dtype float32           run the implementation in float32 against float64 oracles
    pytest --mutant 'staged:= instead of += at the sigx fork'   see a planted bug get caught
    pytest --impl my_layers.py --xfails known.txt   known failures (test ids or case names) xfail
"""

import warnings
from pathlib import Path

import pytest

import cases
from cases import check, kinks, known, mutants, oracles
from cases.spec import Case, CaseError, Mutant

# pytest-html, when installed: failing checks carry their circuit and heatmaps in its report
pytest_plugins = ("cases.pytest_pictures",)


def pytest_addoption(parser):
    g = parser.getgroup("gradref")
    g.addoption("--samples", type=int, default=20, help="random samples per case (default 20)")
    g.addoption("--seed", type=int, default=0, help="global seed (default 0)")
    g.addoption("--impl", default=None,
                help="implementation to check: a .py file, a folder, or a module (default: handwritten)")
    g.addoption("--mutant", default=None, help="check the handwritten reference with this mutant planted")
    g.addoption("--dtype", default="float64", choices=sorted(check.DTYPES),
                help="dtype the implementation computes in; oracles stay float64")
    g.addoption("--case", action="append", default=[], help="only this case (repeatable)")
    g.addoption("--xfails", default=None, metavar="FILE",
                help="known failures: one test id or case name a line (# comments); strict xfail")


def pytest_configure(config):
    """Validate the options once, so a bad one is one clear line, not a traceback per test."""
    if config.getoption("samples") < 1:
        raise pytest.UsageError("--samples must be at least 1")
    try:
        config.gradref_cases = cases.select(config.getoption("case"))
        if config.getoption("mutant"):
            config.gradref_impl = mutants.mutate(mutants.find(config.getoption("mutant")))
        elif config.getoption("impl"):
            config.gradref_impl = cases.load(config.getoption("impl"))
        else:
            config.gradref_impl = cases.handwritten()
        config.gradref_xfails = known.read(config.getoption("xfails")) if config.getoption("xfails") else []
    except (CaseError, cases.ImplementationError) as e:
        raise pytest.UsageError(str(e)) from None


def _item_case(item):
    params = getattr(getattr(item, "callspec", None), "params", {})
    for key in ("case_sample", "golden"):
        if key in params:
            return params[key][0].name
    return None


def _item_cases(item):
    """The cases a collected test checks, as far as its parameters say (Case, (Case, i), Mutant)."""
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        value = value[0] if isinstance(value, tuple) and value else value
        if isinstance(value, Case):
            yield value
        elif isinstance(value, Mutant):
            yield cases.get(value.case)


BENCH = Path(__file__).parent / "tests" / "bench"


def pytest_collection_finish(session):
    """Compile the oracles of the collected tests' cases in the background, in the order the tests
    will want them, while the tests run (not for benchmarks: they time one thing at a time; not
    in a pytest-xdist worker: it collects every test but runs only those it is sent)."""
    if hasattr(session.config, "workerinput"):
        return
    for item in session.items:
        if BENCH not in item.path.parents:
            for case in _item_cases(item):
                oracles.prefetch(case)


def _deselect_empty_parametrizations(config, items):
    """A selection with no kink sample (--case staged) leaves test_at_kink an empty parameter set:
    deselected, not reported as a skip that says nothing."""
    empty = [i for i in items if (m := i.get_closest_marker("skip")) is not None
             and "got empty parameter set" in str(m.kwargs.get("reason", ""))]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [i for i in items if i not in empty]


def pytest_collection_modifyitems(config, items):
    """--xfails: a test id makes that test a strict xfail (passing is an XPASS failure); a case
    name makes each of the case's tests an xfail, strict for the case as a whole (the case is an
    XPASS failure when none of its tests fails). An entry that matches no collected test (and names
    no case deselected by --case) is warned about."""
    _deselect_empty_parametrizations(config, items)
    entries = config.gradref_xfails
    config.gradref_case_entries = {}     # case entry -> outcomes of its tests
    if not entries:
        return
    used = set()
    for item in items:
        for e in entries:
            if e.matches_test(item.name, item.nodeid, _item_case(item)):
                used.add(e)
                whole_case = e.tail == e.case
                item.add_marker(pytest.mark.xfail(strict=not whole_case,
                                                  reason=f"known failure ({e.where})"))
                if whole_case:
                    config.gradref_case_entries.setdefault(e, set())
                    item.gradref_case_entry = e
                break
    selected = {c.name for c in config.gradref_cases}
    for e in entries:
        if e not in used and (not e.case or e.case in selected):
            warnings.warn(pytest.PytestConfigWarning(
                f"--xfails: {e.text!r} ({e.where}) matches no collected test"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    e = getattr(item, "gradref_case_entry", None)
    if e is not None and (report.when == "call" or report.skipped):
        kind = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        item.config.gradref_case_entries[e].add(kind)
    return report


def _case_xpasses(config):
    return [e for e, seen in getattr(config, "gradref_case_entries", {}).items()
            if "xfailed" not in seen and "passed" in seen]


def pytest_sessionfinish(session):
    if _case_xpasses(session.config) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    impl = getattr(config, "gradref_impl", None)
    for line in getattr(impl, "problems", ()):   # a module of an --impl folder that did not import
        terminalreporter.write_line(f"import: {line}", yellow=True)
    for e in _case_xpasses(config):
        terminalreporter.write_line(f"XPASS(strict) {e.text!r} ({e.where}): no test of the case "
                                    "failed; remove it from the known failures", red=True)


def pytest_generate_tests(metafunc):
    """`case_sample`: one test per (case, sample), id `staged-s3`; `golden`: one per golden."""
    config = metafunc.config
    if "case_sample" in metafunc.fixturenames:
        n = config.getoption("samples")
        params = [(c, i) for c in config.gradref_cases for i in range(n)]
        metafunc.parametrize("case_sample", params, ids=[f"{c.name}-s{i}" for c, i in params])
    if "kink_sample" in metafunc.fixturenames:
        seed = config.getoption("seed")
        params = [(c, j) for c in config.gradref_cases for j in range(len(kinks.samples(c, seed)))]
        metafunc.parametrize("kink_sample", params, ids=[f"{c.name}-k{j}" for c, j in params])
    if "golden" in metafunc.fixturenames:
        params = [(c, k) for c in config.gradref_cases for k in range(len(c.goldens))]
        metafunc.parametrize("golden", [(c, c.goldens[k]) for c, k in params],
                             ids=[f"{c.name}-g{k}" for c, k in params])


@pytest.fixture(scope="session")
def implementation(request):
    return request.config.gradref_impl


@pytest.fixture(scope="session")
def case_results(request, implementation):
    """Results per case, computed on first use and shared by the tests of that case."""
    config = request.config
    cache = {}

    def get(case):
        if case.name not in cache:
            cache[case.name] = check.check_case(
                case, implementation, config.getoption("seed"), config.getoption("samples"),
                config.getoption("dtype"))
        return cache[case.name]
    return get


@pytest.fixture
def checked(case_sample, case_results):
    """The checked sample of this test; skips when the implementation lacks the op."""
    case, i = case_sample
    result = case_results(case)
    if result.not_implemented:
        pytest.skip(f"not implemented: {result.not_implemented}")
    if result.status == "beyond contract":
        pytest.skip(f"beyond contract: {result.beyond_contract}")
    return result.samples[i]


@pytest.fixture
def kink_checked(kink_sample, case_results):
    """The verdict at this kink sample; skips when the implementation lacks the op."""
    case, j = kink_sample
    result = case_results(case)
    if result.not_implemented:
        pytest.skip(f"not implemented: {result.not_implemented}")
    if result.status == "beyond contract":
        pytest.skip(f"beyond contract: {result.beyond_contract}")
    return result.kinks[j]


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


def assert_passes(verdict):
    """The suite's one assertion: fail with the verdict's message (no Python traceback)."""
    if not verdict.ok:
        pytest.fail(verdict.message, pytrace=False)
