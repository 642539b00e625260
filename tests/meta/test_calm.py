"""The checks do not cry wolf: the reference passes at more samples, under another seed, and in
float32 against the float64 oracles with the float32 bounds (cases/tolerance.py).
The full soak is `gradref report --samples 10000`; this is its smaller sibling for every run."""

import pytest

import cases
from cases import bench, check, oracles

SOAK_SAMPLES = 200
SOAK_SEED = 1


@pytest.fixture(params=cases.CASES, ids=lambda c: c.name)
def case(request):
    return request.param


def failures(result):
    return "\n".join(v.message for _, v in result.failures()[:3])


def test_soak_has_no_false_failure(case):
    result = check.check_case(case, cases.handwritten(), SOAK_SEED, SOAK_SAMPLES)
    assert result.status == "passed", failures(result)


def test_float32_reference_passes_with_float32_bounds(case):
    result = check.check_case(case, cases.handwritten(), 0, 20, "float32")
    assert result.status == "passed", failures(result)


def test_results_do_not_depend_on_what_ran_before():
    """Seeds come from the test id and nothing is shared between cases, so a pytest-xdist worker
    that runs one case alone gets the same verdicts as a serial run."""
    staged = cases.get("staged")
    first = check.check_case(staged, cases.handwritten(), 3, 30)
    check._blocks_cache.clear()
    for other in cases.CASES[:5]:
        check.check_case(other, cases.handwritten(), 3, 30)
    assert check.check_case(staged, cases.handwritten(), 3, 30).samples == first.samples


def test_results_do_not_depend_on_when_the_oracles_finish_compiling():
    """check_case runs blocks of samples through the implementation while the oracles compile in
    the background and judges them when the values come: the verdicts are the same whether the
    oracles were ready at the start (second run) or compiled meanwhile (first run)."""
    staged = cases.get("staged")
    bench.forget_compilations(staged)
    compiled_meanwhile = check.check_case(staged, cases.handwritten(), 5, 3000)
    assert oracles.ready(staged)
    check._blocks_cache.clear()
    compiled_before = check.check_case(staged, cases.handwritten(), 5, 3000)
    assert compiled_meanwhile.samples == compiled_before.samples
    assert [s.id for s in compiled_before.samples] == [f"staged-s{i}" for i in range(3000)]


def test_oracles_compile_once_ahead_of_use():
    staged = cases.get("staged")
    bench.forget_compilations(staged)
    job = oracles.prefetch(staged)
    assert oracles.prefetch(staged) is job                  # asked twice, compiled once
    compiled = oracles.executable(staged)                   # waits for the background thread
    assert oracles.ready(staged) and oracles.executable(staged) is compiled
