"""Verification throughput: the same case verified by gradref's batched check (forward, jax.vjp
and FD checks on --verify-samples samples, from cold: oracle compilation included in every round)
and, one sample at a time, by jax.test_util.check_grads(order=1, modes=("rev",)) and
torch.autograd.gradcheck. The loops run --loop-samples samples after one warm-up sample; every
median is divided by its sample count, so the group table shows a round and the summary compares
time per sample."""

import pytest

import cases
from cases import bench as B

CASES = [n for n in ("staged", "matmul", "affine") if n in {c.name for c in cases.CASES}]
TOOLS = ("gradref", "check_grads (handwritten)", "check_grads (reference)", "gradcheck")


def pytest_generate_tests(metafunc):
    if "verify_point" in metafunc.fixturenames:
        names = [n for n in CASES if n in {c.name for c in B.chosen_cases(metafunc.config)}]
        names = names if B.enabled(metafunc.config) else names[:1]   # untimed: one case
        params = [(n, t) for n in names for t in TOOLS]
        metafunc.parametrize("verify_point", params, ids=[f"{n}-{t}" for n, t in params])


def test_verify(verify_point, bench):
    name, tool = verify_point
    case = cases.get(name)
    on = B.enabled(bench.config)
    n = B.option(bench.config, "verify_samples", 1000) if on else 20
    loop_n = B.option(bench.config, "loop_samples", 50) if on else 2
    bench.group = f"verify {name}"
    if tool == "gradref":
        run = B.gradref_verify(case, n, 0)
        bench.extra_info.update(samples=n, compilation="included in every round")
        bench.run(tool, lambda: run.__call__(), samples=n, rounds=3, iterations=1,
                  setup=lambda: B.forget_compilations(case))
        return
    try:
        if tool == "gradcheck":
            pytest.importorskip("torch")
            make = lambda k: B.gradcheck_loop(case, k, 7)  # noqa: E731
        else:
            what = "handwritten" if "handwritten" in tool else "reference"
            make = lambda k: B.check_grads_loop(case, k, 7, what)  # noqa: E731
        make(1)()                                   # warm-up: first-call costs are not counted
        run = make(loop_n)
    except LookupError as e:
        pytest.skip(str(e))
    bench.extra_info.update(samples=loop_n)
    bench.run(tool, run, samples=loop_n, rounds=1, iterations=1)
