"""pytest options and fixtures shared by every test of gradref.

    pytest                           the handwritten reference against every oracle, + self-tests
    pytest --impl my_layers.py       another implementation, same checks (missing ops skip); the
                                     self-tests (tests/meta, tests/handwritten, tests/bench) are
                                     not collected
    pytest --samples 200 --seed 3    more samples, another seed (test ids stay reproducible)
    pytest --dtype float32           run the implementation in float32 against float64 oracles
    pytest --mutant 'staged:= instead of += at the sigx fork'   see a planted bug get caught
    pytest --impl my_layers.py --xfails known.txt   known failures (test ids or case names) xfail

The mechanism (options, parametrization, the checks, known failures) is cases/pytest_checks.py,
shared with the installed pytest plugin, which offers the same under --gradref-* in any project.
"""

from pathlib import Path

import pytest
from gradref.pytest_plugin import add_options    # the editable install maps cases/gradref/ there

from cases import oracles, pytest_checks
from cases.pytest_checks import (SETTINGS, checked, implementation,  # noqa: F401  (fixtures)
                                 kink_checked)

# pytest-html, when installed: failing checks carry their circuit and heatmaps in its report
pytest_plugins = ("cases.pytest_pictures",)


def pytest_addoption(parser):
    g = parser.getgroup("gradref")
    add_options(g)                     # the installed plugin adds the same ones as --gradref-*
    g.addoption("--mutant", default=None, help="check the handwritten reference with this mutant planted")


def pytest_configure(config):
    pytest_checks.configure(config, mutant=config.getoption("mutant"))


TESTS = Path(__file__).parent / "tests"
BENCH = TESTS / "bench"
# What tests gradref itself, not the implementation under test: the machinery's self-tests, the
# handwritten reference's own claims, the benchmarks. Not collected for an outside --impl, whose
# run is tests/test_reference.py and tests/test_golden.py.
GRADREF_ITSELF = (TESTS / "meta", TESTS / "handwritten", BENCH)


def pytest_ignore_collect(collection_path, config):
    """An outside implementation's run collects its checks only."""
    settings = pytest_checks.settings(config)
    if settings is not None and not settings.impl.own and any(
            collection_path == d or d in collection_path.parents for d in GRADREF_ITSELF):
        return True
    return None


def pytest_collection_finish(session):
    """Compile the oracles of the collected tests' cases in the background, in the order the tests
    will want them, while the tests run (not for benchmarks: they time one thing at a time; not
    in a pytest-xdist worker: it collects every test but runs only those it is sent)."""
    if hasattr(session.config, "workerinput"):
        return
    for item in session.items:
        if BENCH not in item.path.parents:
            for case in pytest_checks.item_cases(item):
                oracles.prefetch(case)


def pytest_collection_modifyitems(config, items):
    pytest_checks.deselect_empty_parametrizations(config, items)
    pytest_checks.mark_xfails(config.stash[SETTINGS], items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    pytest_checks.note_outcome(item.config.stash[SETTINGS], item, report)
    return report


def pytest_sessionfinish(session):
    pytest_checks.finish(session, session.config.stash.get(SETTINGS, None))


def pytest_terminal_summary(terminalreporter, config):
    pytest_checks.summarize(terminalreporter, config.stash.get(SETTINGS, None))


def pytest_generate_tests(metafunc):
    pytest_checks.parametrize(metafunc, metafunc.config.stash[SETTINGS])


@pytest.fixture(scope="session")
def case_results(request):
    """Results per case, computed on first use and shared by the tests of that case."""
    return request.config.stash[SETTINGS].result
