"""gradref's pytest plugin (entry point pytest11 `gradref`): its checks in any project's own session.

    pytest --gradref-impl src/mylib/layers.py          every case, sample and check, as test ids
                                                       gradref::test_matches_jax[staged-s3]
    pytest --gradref-impl mylib.ops --gradref-case affine --gradref-samples 50 --gradref-seed 3
    pytest --gradref-impl mylib.ops --gradref-xfails known.txt --gradref-dtype float32

    def test_mine(gradref_case):                       # one test per case: test_mine[affine]
        gradref.assert_conforms(mylib.ops, cases=gradref_case)

    @pytest.mark.gradref_cases("affine", "relu")       # only these cases for this test
    def test_some(gradref_case): ...

The options are the checkout's (--impl, --samples, ...) under a `gradref-` prefix, so that they
clash neither with a project's own options nor with the checkout's conftest.py; the tests, their
parametrization and the known failures are one mechanism shared with the checkout
(cases/pytest_checks.py). Without --gradref-impl the plugin adds no test, and it imports the
machinery (and JAX, a second or two) only once it is used: it is loaded in every pytest run of
every project where gradref is installed.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

PREFIX = "gradref-"
MODULE_NAME = "gradref"    # the per-sample tests' node id: gradref::test_matches_jax[staged-s3]


def add_options(group, prefix: str = "") -> None:
    """--samples, --seed, --impl, --dtype, --case, --xfails, --timeout, each as --<prefix><name>
    (declared once, in cases/options.py): the checkout's conftest.py adds them bare, this plugin
    with PREFIX."""
    from .cases.options import add_pytest
    add_pytest(group, prefix)


def pytest_addoption(parser):
    add_options(parser.getgroup("gradref", "gradref: check an implementation's backward passes"),
                PREFIX)


def pytest_configure(config):
    config.addinivalue_line("markers", "gradref_cases(*names): the gradref cases the test's "
                            "gradref_case parameter takes (default: --gradref-case, else all)")
    if config.getoption("gradref_impl") is not None:     # --gradref-impl "": a usage error
        from .cases import pytest_checks
        settings = pytest_checks.configure(config, PREFIX)
        # the failures' reproduce lines: this command, then --gradref-case CASE -k "TEST_ID"
        settings.rerun = f"pytest --{PREFIX}impl {shlex.quote(config.getoption('gradref_impl'))}" \
            + (f" --{PREFIX}seed {settings.seed}" if settings.seed else "") \
            + (f" --{PREFIX}dtype {settings.dtype}" if settings.dtype != "float64" else "") \
            + (f" --{PREFIX}samples {settings.samples}" if settings.samples != 20 else "")


def _settings(config):
    """The plugin's Settings when --gradref-impl is given, else None (nothing imported)."""
    if not config.getoption("gradref_impl"):
        return None
    from .cases import pytest_checks
    return config.stash.get(pytest_checks.SETTINGS, None)


@pytest.hookimpl(tryfirst=True)    # before -k, -m and the like deselect: they apply to ours too
def pytest_collection_modifyitems(session, config, items):
    """With --gradref-impl: collect the per-sample tests from the installed module itself (its
    module object, not its path: a project's rootdir and import mode do not apply to it)."""
    settings = _settings(config)
    if settings is None:
        return
    from .cases import pytest_checks
    module = pytest.Module.from_parent(session, path=Path(pytest_checks.__file__), name=MODULE_NAME,
                                       nodeid=MODULE_NAME)
    module.obj = pytest_checks
    ours = list(session.genitems(module))
    pytest_checks.deselect_empty_parametrizations(config, ours)
    pytest_checks.mark_xfails(settings, ours)
    items.extend(ours)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    settings = _settings(item.config)
    if settings is not None:
        from .cases import pytest_checks
        pytest_checks.note_outcome(settings, item, report)
    return report


def pytest_sessionfinish(session):
    settings = _settings(session.config)
    if settings is not None:
        from .cases import pytest_checks
        pytest_checks.finish(session, settings)


def pytest_terminal_summary(terminalreporter, config):
    settings = _settings(config)
    if settings is not None:
        from .cases import pytest_checks
        pytest_checks.summarize(terminalreporter, settings)


def pytest_generate_tests(metafunc):
    """`gradref_case`: a project's own test, once per case name (id: the case's name)."""
    if "gradref_case" not in metafunc.fixturenames:
        return
    from .cases import catalogue
    from .cases.spec import CaseError
    marker = metafunc.definition.get_closest_marker("gradref_cases")
    try:
        names = [c.name for c in catalogue.select(
            list(marker.args) if marker else metafunc.config.getoption("gradref_case"))]
    except CaseError as e:
        pytest.fail(f"{metafunc.definition.nodeid}: {e}", pytrace=False)
    metafunc.parametrize("gradref_case", names, ids=names)
