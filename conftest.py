"""pytest options and fixtures shared by every test of gradref.

    pytest                           the handwritten reference against every oracle, + self-tests
    pytest --impl my_layers.py       another implementation, same checks (missing ops skip)
    pytest --samples 200 --seed 3    more samples, another seed (test ids stay reproducible)
    pytest --dtype float32           run the implementation in float32 against float64 oracles
    pytest --mutant 'staged:= instead of += at the sigx fork'   see a planted bug get caught
"""

import pytest

import cases
from cases import check, mutants
from cases.spec import CaseError


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
    except (CaseError, cases.ImplementationError) as e:
        raise pytest.UsageError(str(e)) from None


def pytest_generate_tests(metafunc):
    """`case_sample`: one test per (case, sample), id `staged-s3`; `golden`: one per golden."""
    config = metafunc.config
    if "case_sample" in metafunc.fixturenames:
        n = config.getoption("samples")
        params = [(c, i) for c in config.gradref_cases for i in range(n)]
        metafunc.parametrize("case_sample", params, ids=[f"{c.name}-s{i}" for c, i in params])
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
    return result.samples[i]


def assert_passes(verdict):
    """The suite's one assertion: fail with the verdict's message (no Python traceback)."""
    if not verdict.ok:
        pytest.fail(verdict.message, pytrace=False)
