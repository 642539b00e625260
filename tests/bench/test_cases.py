"""Per case, one benchmark group (named after the case) of one sample's work:

    handwritten forward    <op>_forward(*inputs)           (a loss-style op: the whole function)
    handwritten backward   <op>_backward(*douts, cache)    (pair style only)
    jit(vjp)               jax.jit of forward + jax.vjp pullback of the reference, precompiled
    eager vjp              the same, op by op
    fd oracle              Richardson FD of <dout, f> along every direction of the check, jitted
    reference forward      the reference forward, jitted (the unit of the FD cost)
"""

import pytest

from cases import bench as B

KINDS = {
    "handwritten forward": B.handwritten_forward,
    "handwritten backward": B.handwritten_backward,
    "jit(vjp)": B.jit_vjp,
    "eager vjp": B.eager_vjp,
    "fd oracle": B.fd_one,
    "reference forward": B.reference_forward,
}


def pytest_generate_tests(metafunc):
    if "case_kind" in metafunc.fixturenames:
        params = [(c, k) for c in B.chosen_cases(metafunc.config) for k in KINDS]
        metafunc.parametrize("case_kind", params, ids=[f"{c.name}-{k}" for c, k in params])


def test_case(case_kind, bench):
    case, kind = case_kind
    bench.group = case.name
    bench.extra_info.update(B.describe(case), kind=kind, fd_forward_evaluations=B.fd_evaluations(case))
    try:
        fn = KINDS[kind](case, B.one_sample(case))
    except LookupError as e:
        pytest.skip(str(e))
    bench.run(kind, fn)
