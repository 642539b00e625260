"""Every tolerance and step size of the suite, in one place, with the reason for each.

Forward and JAX checks compare two exact formulas up to rounding, so their bound is a multiple
of the unit roundoff of the dtype the implementation under test computes in. The finite-difference
check carries truncation and rounding error; its bound is *estimated per sample* (Richardson
extrapolation, see cases/oracles.py) and only the safety factors below are constants.
"""

import numpy as np

# Normwise relative bound for forward and JAX checks: ROUNDING_BUDGET units of roundoff.
# 2^12 ulps covers a staged computation of ~100 dependent roundings with condition number ~40;
# a real bug (a missing term, factor, transpose, sign) moves the result by 1e-3 or more.
ROUNDING_BUDGET = 2.0**12


def rtol(dtype) -> float:
    """Normwise relative bound for an implementation computing in `dtype`."""
    return ROUNDING_BUDGET * float(np.finfo(dtype).eps)


# The rounding probe: how much rounding this sample's computation can suffer at each entry
# (cancellation, ill-conditioning), in float32 units, the larger of two looks (oracles.py,
# _rounding_probe): the reference run in float32, at its inputs and at its inputs moved by one
# float32 ulp (|float32 - float64|), and the reference run in float64 with float32-sized rounding
# noise on every operation (cases/rounding_noise.py: this also sees the terms of an entry that the
# reference's own algorithm happens to get exactly, or luckily, where another correct algorithm
# does not). An implementation computing in dtype may err PROBE_SLACK times the probe, rescaled to
# its roundoff (eps(dtype) / eps32), per entry, on top of the fixed bound. Each look is one draw of
# the rounding error, and another order of the same operations errs differently: hence a factor,
# not 1. Where the probe shows no cancellation it adds about eps(dtype) max|value|, far below the
# bound.
PROBE_SLACK = 16.0

# Errors are relative to the gradient's own scale (max |expected|), but never to less than this
# fraction of the largest gradient of the sample: a gradient that cancels to near zero is judged
# by the scale of the terms it came from, not by its own tiny value. At 1e-3 the 10,000-sample soak
# of staged came within 2x of the bound (dx = -8e-6 from terms of 0.06: 2 ulps of the terms); at
# 1e-2 a correct gradient may carry ~40 ulps of its terms, while a bug that moves a gradient by
# 1e-3 of itself still fails unless that gradient is below 1e-9 of the largest.
SCALE_FLOOR = 1e-2

# Finite differences. Each differentiable coordinate x_i steps by h_i = FD_STEP * max(|x_i|, FD_STEP_FLOOR):
# relative to the input so that badly scaled inputs (1e-3, 1e3) are stepped in proportion.
FD_STEP = 1e-3
FD_STEP_FLOOR = 1e-2


def fd_steps(x, xp=np):
    """The step of each element, h_i = FD_STEP * max(|x_i|, FD_STEP_FLOOR): of NumPy arrays (the
    samplers keep kinks beyond reach of it), or with xp=jax.numpy of traced ones (the oracle)."""
    return FD_STEP * xp.maximum(xp.abs(x), FD_STEP_FLOOR)


# Two Richardson steps from D(h), D(h/2), D(h/4) (see oracles.py); the gap between them
# over-estimates the error of the finer one about 15-fold, so a small safety factor suffices.
FD_SAFETY = 2.0
# Rounding in <dout, f(x)>: each evaluation errs by about FD_COND * eps64 * sum|dout * f|, where
# FD_COND allows for cancellation inside the forward; the extrapolation amplifies it by 6.
FD_COND = 2.0**8
# Up to this many differentiable elements the FD check is full (one direction per element);
# above, FD_DIRECTIONS random +-1 directions scaled by h (cost independent of the size).
FD_FULL_MAX_ELEMENTS = 512
FD_DIRECTIONS = 3

# Samplers keep every input farther from a kink than KINK_CLEARANCE times the largest FD step.
KINK_CLEARANCE = 4.0

# Golden values are float64 with 17 significant digits; another order of the same operations
# moves the last digit (catalogue, "golden values").
GOLDEN_RTOL = 1e-15

# Committed vectors vs a fresh export (tests/meta/test_vectors.py). Inputs, upstream gradients,
# directions, FD steps, ids and structure come from NumPy's generators and one IEEE multiply, so
# they are compared exactly. The values computed through XLA and LAPACK are not bit-stable across
# machines: jaxlib calls SciPy's bundled OpenBLAS for LU and triangular solves (slogdet, inv), and
# OpenBLAS picks its kernels by CPU at run time (SkylakeX on AVX-512 Intel, Haswell or Zen on
# AVX2 and AMD), each summing in its own order; XLA's own code generation targets the host CPU
# too. Forced kernels (OPENBLAS_CORETYPE=Haswell, Sandybridge) moved the reference gradients of
# log_det and trace_a_xinv by up to 2.6 ulps of their normwise scale, the float32 probe by up to
# 1.8 float32 ulps, and the FD estimates by up to 0.017 of their own rounding estimate. So:
#   expected: within VECTOR_DRIFT_ULPS float64 ulps of the array's normwise scale;
#   probe:    within VECTOR_DRIFT_ULPS float32 ulps of the same scale (it is a float32 computation);
#   fd estimate and truncation: within the estimate's own rounding bound (fd rounding), which
#             already states how far rounding may move them;
#   fd rounding: within VECTOR_DRIFT_ULPS float32 ulps of itself (it includes a float32 probe).
# A real change of a reference or of the FD method moves values by 1e-8 of the scale or more.
VECTOR_DRIFT_ULPS = 16.0

# Kinks (cases/kinks.py): each kink point of a case is checked with KINK_DOUTS random upstream
# gradients (they flip a convex kink of <dout, f> into a concave one), along every coordinate, all
# ones, and KINK_RANDOM_DIRECTIONS random +-1 directions.
KINK_DOUTS = 4
KINK_RANDOM_DIRECTIONS = 8
# Where several kinks meet at one point and <dout, f> is convex at some and concave at others
# (hidden ReLUs of a net), <g, u> need not lie between the two one-sided derivatives along u; it
# lies between the smallest and largest <a, u> over the gradients a of the smooth pieces that
# meet there. KINK_PIECES random steps of PIECE_STEP times h (1e-9 of an input: on one side of
# every kink through the point, far from all others) find those pieces: 2^k of them for k kinks
# of mixed curvature, all found for k <= 4 with probability > 0.999 at 64 steps.
KINK_PIECES = 64
PIECE_STEP = 1e-6


def printed_rtol(values, digits: int) -> float:
    """One unit in the last of `digits` significant digits of the largest |value|, relative to it:
    what a number printed to that many digits (rounded or truncated) can be off by. 0 in full."""
    top = float(np.max(np.abs(values), initial=0.0))
    if not digits or top == 0.0:
        return 0.0
    return 10.0 ** (np.floor(np.log10(top)) - digits + 1) / top
