"""Scale: checking matmul and affine as their inputs grow from 10^2 to 10^6 elements. One group per
(op, size): the handwritten forward, the whole check of one sample (compiled oracles; drawing,
the implementation, the three oracles and the comparisons), and the FD oracle against one jitted
reference forward. The default (untimed) run smokes the two smallest sizes only."""

import pytest

from cases import bench as B

SIZES = (10**2, 10**3, 10**4, 10**5, 10**6)
KINDS = ("handwritten forward", "check", "fd oracle", "reference forward")
MAKE = {"matmul": B.square_matmul, "affine": B.square_affine}


def pytest_generate_tests(metafunc):
    if "scale_point" in metafunc.fixturenames:
        # untimed: one size per op, one per FD mode (full at 10^2, directional at 10^3)
        points = [(op, e) for op in MAKE for e in SIZES] if B.enabled(metafunc.config) else \
            [("matmul", 10**3), ("affine", 10**2)]
        params = [(op, e, k) for op, e in points for k in KINDS]
        metafunc.parametrize("scale_point", params, ids=[f"{op}-{e}-{k}" for op, e, k in params])


_CASES = {}


def test_scale(scale_point, bench):
    op, elements, kind = scale_point
    case = _CASES.setdefault((op, elements), MAKE[op](elements))   # one record: compiled once
    bench.group = f"scale {op} {elements:>7}"
    bench.extra_info.update(B.describe(case), kind=kind, fd_forward_evaluations=B.fd_evaluations(case))
    sample = B.one_sample(case)
    fn = {"handwritten forward": lambda: B.handwritten_forward(case, sample),
          "check": lambda: B.check_warm(case),
          "fd oracle": lambda: B.fd_one(case, sample),
          "reference forward": lambda: B.reference_forward(case, sample)}[kind]()
    bench.run(kind, fn)
