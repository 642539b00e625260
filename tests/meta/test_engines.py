"""The engine adapters of examples/ (one per published autograd engine), checked like any
implementation: every case each defines, in float64 and float32, against the oracles.

Each column's expected statuses are written out here with the reason, so that a change in an
engine, an adapter or gradref shows as a failing test: every case an adapter defines passes,
except the differences diagnosed below (docs/engines.md has the ledger, with a standalone
reproduction of each engine bug). A case an engine cannot express is not implemented, and the
adapter says why in its docstring. Conventions at kinks are tabulated per kind of kink.
"""

import functools
import importlib.util
import shutil
from pathlib import Path

import pytest

import cases
from cases import report
from cases.worker import DEFAULT_TIMEOUT

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAMPLES = 2   # random samples per case: the oracles and the kink samples do the rest
# Seconds one call of an adapter may take (gradref's default is 60). tinygrad compiles the kernels
# of every new graph on its first call (clang, in a process pool): captioning_lstm_golden's
# 12-step LSTM with its 8 gradients took 23 to 64 s on a shared 2-core box at load 7 to 9, and
# past 60 s once (TIMEOUT). A time budget, not a tolerance: the result is judged as any other.
TIMEOUT = {"tinygrad": 300}


def _engine_matrix():
    """examples/engine_matrix.py, which regenerates docs/engines.md from the same columns."""
    spec = importlib.util.spec_from_file_location("engine_matrix", EXAMPLES / "engine_matrix.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KINDS = _engine_matrix().KINDS   # kind of kink -> the kinked cases of that kind

# --- kinks: each engine's convention at each kind of kink (KINDS: the kinked cases of each) -----

OK, OTHER, NOT_SUBGRADIENT = "passed", "convention differs", "failed"

# engine -> kind -> the "at kinks" status (docs/engines.md spells out each convention)
CONVENTIONS = {
    "jax": {"relu'(0)": OK, "max-gate tie": OTHER, "max-pool tie": OK, "hinge margin 0": OTHER,
            "|x| at 0": OTHER, "Huber corner": OK},
    "torch": {"relu'(0)": OK, "max-gate tie": OTHER, "max-pool tie": OK, "hinge margin 0": OTHER,
              "|x| at 0": OK, "Huber corner": OK},
    "autograd": {"relu'(0)": OTHER, "max-gate tie": OTHER, "max-pool tie": OTHER,
                 "hinge margin 0": OTHER, "|x| at 0": OK, "Huber corner": OK},
    # mygrad.maximum gives a tie (0, 0): not a subgradient (an engine bug). The hinge
    # maximum(0, m) gets the declared slope 0 at m = 0 from the same rule.
    "mygrad": {"relu'(0)": OK, "max-gate tie": NOT_SUBGRADIENT, "max-pool tie": OK,
               "hinge margin 0": OK, "|x| at 0": OK, "Huber corner": OK},
    # Two distinct 0-d Tensors holding equal values are one node in tinygrad's graph, so at a
    # scalar tie each gets the gradient of both (an engine bug). Array ties split 0.5/0.5.
    "tinygrad": {"relu'(0)": OK, "max-gate tie": NOT_SUBGRADIENT, "max-pool tie": OTHER,
                 "hinge margin 0": OTHER, "|x| at 0": OK, "Huber corner": OK},
    # max(x, y) written y + relu(x - y): a tie goes to the second input
    "micrograd": {"relu'(0)": OK, "max-gate tie": OTHER},
}

# A kink that is also a scalar tie of two inputs: micrograd_readme's kink sample a = b = 0 hits
# tinygrad's bug above (the two 0-d inputs are one node), whatever its relu'(0).
KINK_EXCEPTIONS = {("tinygrad", "micrograd_readme"): NOT_SUBGRADIENT}

# --- statuses other than passed, each with the reason and a text every failure message holds ----

MAX_TIE_BUG = ("not a subgradient", "engine bug at a scalar tie (CONVENTIONS, KINK_EXCEPTIONS)")
MYGRAD_PROMOTES = ("has dtype float64, expected float32",
                   "dtype promotion: a float32 Tensor with a Python number gives float64 "
                   "(MyGrad makes the number a float64 array; NumPy 2 keeps float32)")
MYGRAD_FLOAT32_PROMOTED = (
    "reciprocal", "patterns_circuit", "case_study_net_loss", "multiclass_svm_loss",
    "linear_svm_loss", "svm_loss", "svm_loss_n1", "batchnorm", "batchnorm_alt", "layernorm",
    "spatial_batchnorm", "spatial_groupnorm", "svm_loss_naive", "svm_loss_vectorized",
    "softmax_loss_naive", "softmax_loss_vectorized", "two_layer_net_loss", "two_layer_net_toy",
    "temporal_softmax_loss", "tanh_neuron_exp", "micrograd_readme", "micrograd_sanity",
    "makemore_batchnorm", "makemore_batchnorm_fused", "mlp_cross_entropy", "sigmoid_bce",
    "sigmoid_bce_1", "logistic_regression", "huber_loss", "affine_bn_relu", "affine_ln_relu",
    "conv_bn_relu", "two_layer_net_class", "two_layer_net_fc", "two_layer_net_fc_reg", "fc_net",
    "fc_net_batchnorm", "fc_net_layernorm", "fc_net_dropout", "three_layer_convnet",
    "captioning_rnn", "captioning_lstm", "captioning_rnn_golden", "captioning_lstm_golden")

EXPECTED_FAILED = {   # (engine, dtype) -> case -> (text in every failure message, why)
    ("mygrad", "float64"): {"max_gate": MAX_TIE_BUG, "patterns_circuit": MAX_TIE_BUG},
    ("mygrad", "float32"): {"max_gate": MAX_TIE_BUG,
                            **{c: MYGRAD_PROMOTES for c in MYGRAD_FLOAT32_PROMOTED}},
    ("tinygrad", "float64"): {"max_gate": MAX_TIE_BUG, "patterns_circuit": MAX_TIE_BUG,
                              "micrograd_readme": MAX_TIE_BUG},
    ("tinygrad", "float32"): {"max_gate": MAX_TIE_BUG, "patterns_circuit": MAX_TIE_BUG,
                              "micrograd_readme": MAX_TIE_BUG},
}

# engine -> the module it needs, and the cases it cannot express (the adapter's docstring says why)
ENGINES = {
    "jax": ("jax", ()),
    "torch": ("torch", ()),
    "autograd": ("autograd", ()),
    "mygrad": ("mygrad", ("log_det", "trace_a_xinv")),
    "tinygrad": ("tinygrad", ("log_det", "trace_a_xinv")),
    "micrograd": ("micrograd", None),   # None: only the scalar cases, listed in the test below
}
CASE = {c.name: c for c in cases.CASES}
MICROGRAD_CASES = ("multiply", "max_gate", "chain_rule", "patterns_circuit", "fork_sum",
                   "fork_product", "micrograd_expr", "micrograd_readme", "micrograd_sanity")


def adapter(engine):
    pytest.importorskip(ENGINES[engine][0])
    if engine == "tinygrad" and not shutil.which("clang"):
        pytest.skip("tinygrad's CPU device needs clang (apt-get install clang)")
    return cases.load(str(EXAMPLES / f"{engine}_ops.py"))


@functools.lru_cache(maxsize=None)
def column(engine, dtype):
    """{case: CaseResult} of the adapter on every case it defines."""
    impl = adapter(engine)
    names = [c.name for c in cases.CASES if impl.lookup(c)[0]]
    timeout = TIMEOUT.get(engine, DEFAULT_TIMEOUT)
    return {r.case.name: r for r in report.run(impl, names, seed=0, n=SAMPLES, dtype=dtype,
                                               timeout=timeout)}


def expected_kink(engine, dtype, name):
    if (engine, name) in KINK_EXCEPTIONS:
        return KINK_EXCEPTIONS[engine, name]
    return next((CONVENTIONS[engine].get(kind, "") for kind, names in KINDS.items()
                 if name in names), "")


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_defines_every_case_it_can_express(engine):
    impl = adapter(engine)
    missing = {c.name for c in cases.CASES if not impl.lookup(c)[0]}
    left_out = ENGINES[engine][1]
    if left_out is None:
        assert {c.name for c in cases.CASES} - missing == set(MICROGRAD_CASES)
    else:
        assert missing == set(left_out)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("engine", ENGINES)
def test_engine_column(engine, dtype):
    """Every defined case passes, except the diagnosed failures, each failing for its reason."""
    results = column(engine, dtype)
    failed = {name: r for name, r in results.items() if r.status != "passed"}
    expected = EXPECTED_FAILED.get((engine, dtype), {})
    # a case the sources never ask for (beyond_contract) is reported as such, not failed
    assert {n: r.status for n, r in failed.items()} == {
        n: "beyond contract" if CASE[n].beyond_contract else "failed" for n in expected}
    for name, (text, why) in expected.items():
        messages = [v.message for _, v in failed[name].failures()]
        assert messages and all(text in m for m in messages), (name, why, messages[:2])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("engine", ENGINES)
def test_engine_conventions_at_kinks(engine, dtype):
    """Each kinked case: the engine's convention at its kind of kink (CONVENTIONS)."""
    results = column(engine, dtype)
    promoted = EXPECTED_FAILED.get((engine, dtype), {})
    got = {n: r.kink_status for n, r in results.items()
           if r.kink_status and promoted.get(n) != MYGRAD_PROMOTES}   # a float64 result: no verdict
    want = {n: expected_kink(engine, dtype, n) for n in got}
    assert got == want
    assert set(got) >= {n for n in results if expected_kink(engine, dtype, n)} - set(promoted)
