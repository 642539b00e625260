"""Verification throughput: every row of a `verify <case>` group checks the same --verify-samples
samples (seed 0, samples 0..N-1) per round, so pytest-benchmark's own table compares like with
like: gradref's batched check (forward, jax.vjp and FD checks) from cold (its oracles compiled in
every round) and with its oracles compiled, and, one sample at a time,
jax.test_util.check_grads(order=1, modes=("rev",)) and torch.autograd.gradcheck. A loop's first
call (tracing, jit) is made once before timing, on the first sample."""

import pytest

import cases
from cases import bench as B

CASES = [n for n in ("staged", "matmul", "affine") if n in {c.name for c in cases.CASES}]
TOOLS = ("gradref", "gradref (compiled)", "check_grads (handwritten)", "check_grads (reference)",
         "gradcheck")
SEED = 0


def pytest_generate_tests(metafunc):
    if "verify_point" in metafunc.fixturenames:
        names = [n for n in CASES if n in {c.name for c in B.chosen_cases(metafunc.config)}]
        names = names if B.enabled(metafunc.config) else names[:1]   # untimed: one case
        params = [(n, t) for n in names for t in TOOLS]
        metafunc.parametrize("verify_point", params, ids=[f"{n}-{t}" for n, t in params])


def test_verify(verify_point, bench):
    name, tool = verify_point
    case = cases.get(name)
    n = B.option(bench.config, "verify_samples", 100) if B.enabled(bench.config) else 2
    bench.group = f"verify {name}"
    bench.extra_info.update(samples=n, seed=SEED)
    if tool == "gradref":
        bench.extra_info.update(compilation="included in every round")
        bench.run(tool, B.gradref_verify(case, n, SEED), samples=n, rounds=3, iterations=1,
                  setup=lambda: B.forget_compilations(case))
        return
    if tool == "gradref (compiled)":
        bench.run(tool, B.check_warm(case, n, SEED), samples=n, rounds=3, iterations=1)
        return
    try:
        if tool == "gradcheck":
            pytest.importorskip("torch")
            make = lambda k: B.gradcheck_loop(case, k, SEED)  # noqa: E731
        else:
            what = "handwritten" if "handwritten" in tool else "reference"
            make = lambda k: B.check_grads_loop(case, k, SEED, what)  # noqa: E731
        make(1)()                                   # first-call costs are not counted
        run = make(n)
    except LookupError as e:
        pytest.skip(str(e))
    bench.run(tool, run, samples=n, rounds=3, iterations=1)
