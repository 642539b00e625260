"""The checker itself: reproducible sampling, clear failures for misbehaving implementations,
and messages that say what is wrong and where."""

import numpy as np
import pytest

import cases
import handwritten as hw
from cases import check, impl, sampling, worker
from cases.spec import Arg, Case, Golden, Normal, Uniform
from cases.tolerance import KINK_CLEARANCE

STAGED = cases.get("staged")
MATMUL = cases.get("matmul")


# --- sampling --------------------------------------------------------------------------------

def _forget_drawn_samples():
    """Empty the caches of drawn blocks and oracle values, so the next draw starts from scratch."""
    sampling.draw_block.cache_clear()
    check._blocks_cache.clear()


def _same_bits(a, b) -> bool:
    return (a.arrays.keys() == b.arrays.keys()
            and all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)
            and all(np.array_equal(x, y) for x, y in zip(a.douts, b.douts, strict=True)))


def test_sample_i_depends_only_on_seed_case_and_i():
    """Sample 7 drawn among 20, alone, and in a block starting at 5, each from empty caches: the
    same bits, and the same verdicts."""
    _forget_drawn_samples()
    among = check.block(STAGED, 0, 0, 20, "float64")[0][7]
    _forget_drawn_samples()
    alone = sampling.draw_sample(STAGED, 0, 7, ((),))
    _forget_drawn_samples()
    later = check.block(STAGED, 0, 5, 9, "float64")[0][2]
    assert among.id == alone.id == later.id == "staged-s7"
    assert _same_bits(among, alone) and _same_bits(among, later)
    hand = cases.handwritten()
    _forget_drawn_samples()
    first = check.check_case(STAGED, hand, 0, 8).samples[7]
    _forget_drawn_samples()
    assert first == check.check_case(STAGED, hand, 0, 20).samples[7]


def test_seeds_and_cases_draw_different_numbers():
    s0 = check.samples(MATMUL, 0, 2)[1].arrays["W"]
    assert not np.array_equal(s0, check.samples(MATMUL, 1, 2)[1].arrays["W"])
    assert sampling.case_key("staged") != sampling.case_key("matmul")


def test_scalar_outputs_get_a_random_upstream_gradient():
    douts = [s.douts[0] for s in check.samples(STAGED, 0, 20)]
    assert len({float(d) for d in douts}) == 20 and 1.0 not in douts


@pytest.mark.parametrize("case", [c for c in cases.CASES if c.kink], ids=lambda c: c.name)
def test_samples_keep_clear_of_kinks(case):
    for s in check.samples(case, 0, 200):
        distance = case.distance_to_kink(s.arrays)
        assert distance > KINK_CLEARANCE * sampling.fd_reach(case, s.arrays), s.id


# --- misbehaving implementations: a clear per-case failure, never a crash, never a pass --------

def staged_backward_returning(fn):
    def backward(dout, cache):
        return fn(*hw.staged_backward(dout, cache), dout)
    return cases.handwritten().with_replacement("staged_backward", backward, "broken", "")


def checked(implementation, case=STAGED, n=3):
    result = check.check_case(case, implementation, 0, n)
    assert result.status == "failed"
    return result.samples[0]


@pytest.mark.parametrize("bad, problem", [
    (lambda dx, dy, dout: (dx, np.array([dy, dy])), "gradient dy has shape (2,), expected ()"),
    (lambda dx, dy, dout: (dx, dy * np.nan), "gradient dy has 1 non-finite entries"),
    (lambda dx, dy, dout: (dx,), "returned 1 gradients; expected 2 (dx, dy)"),
    (lambda dx, dy, dout: (dx, [dy]), "gradient dy is list, not a NumPy array"),
    (lambda dx, dy, dout: (dx, None), "gradient dy is NoneType, not a NumPy array"),
    (lambda dx, dy, dout: (dx, np.float32(dy)), "gradient dy has dtype float32, expected float64"),
    (lambda dx, dy, dout: (dx, {}["dy"]), "staged_backward raised KeyError: 'dy'"),
])
def test_bad_gradients_fail_with_a_clear_message(bad, problem):
    s = checked(staged_backward_returning(bad))
    assert not s.behaved.ok and problem in s.behaved.message
    assert not s.jax.ok or "dtype" in problem  # a wrong dtype is still compared, and fails behaved


def test_a_backward_that_writes_into_dout_fails_even_with_right_gradients():
    def relu_like(dout, cache):
        dx, dy = hw.staged_backward(dout, cache)
        dout *= 0.0                                    # the classic in-place dout[x < 0] = 0
        return dx, dy
    s = checked(cases.handwritten().with_replacement("staged_backward", relu_like, "b", ""))
    assert "staged_backward wrote into dout[0]" in s.behaved.message
    assert s.jax.ok and s.fd.ok                        # its gradients were right: only hygiene fails


def test_a_forward_that_writes_into_its_input_fails():
    def forward(W, X):
        out = W @ X
        W[0, 0] = 0.0
        return out, (W.copy(), X)
    s = checked(cases.handwritten().with_replacement("matmul_forward", forward, "b", ""), MATMUL)
    assert "matmul_forward wrote into its input(s) W" in s.behaved.message


def test_the_worker_returns_what_the_calls_return_in_process():
    """Through the worker process (pickled blocks in, raw bytes back) every sample comes out as
    the same calls made in this process would have it: the transport loses nothing."""
    for case in (STAGED, MATMUL, cases.get("batchnorm"), cases.get("svm_loss")):
        in_process = impl.Implementation("in process", cases.handwritten().namespace)
        a = check.check_case(case, cases.handwritten(), 0, 40)
        b = check.check_case(case, in_process, 0, 40)
        assert a.status == b.status == "passed" and a.samples == b.samples, case.name


def test_an_op_that_reuses_its_output_buffer_is_judged_on_what_it_returned():
    buffer = np.zeros((5, 10))

    def backward(dout, cache):
        dW, dX = hw.matmul_backward(dout, cache)
        buffer[...] = dW                               # the next call overwrites it
        return buffer, dX
    result = check.check_case(MATMUL, cases.handwritten().with_replacement(
        "matmul_backward", backward, "b", ""), 0, 20)
    assert result.status == "passed", result.failures()[:1]


def test_an_op_that_writes_into_an_earlier_samples_input_fails():
    kept = []

    def forward(W, X):
        if kept:
            kept[-1][0, 0] += 1.0                      # the previous call's W, after it returned
        kept.append(W)
        return hw.matmul_forward(W, X)
    result = check.check_case(MATMUL, cases.handwritten().with_replacement(
        "matmul_forward", forward, "b", ""), 0, 3)
    assert not result.samples[0].behaved.ok and result.samples[2].behaved.ok
    assert "changed after its calls returned" in result.samples[0].behaved.message


def test_a_raising_forward_names_the_exception_and_the_line():
    def forward(x, y):
        return 1 / 0
    s = checked(cases.handwritten().with_replacement("staged_forward", forward, "b", ""))
    assert "staged_forward raised ZeroDivisionError: division by zero (test_machinery.py, line" \
        in s.forward.message


def test_wrong_signature_and_non_callable_are_one_line_each():
    s = checked(cases.handwritten().with_replacement("staged_forward", lambda x: (x, None), "b", ""))
    assert "staged_forward" in s.behaved.message and "cannot be called with 2 arguments" in s.behaved.message
    s = checked(cases.handwritten().with_replacement("staged_backward", 42, "b", ""))
    assert "staged_backward is a int, not a function" in s.behaved.message


def test_a_broken_case_does_not_stop_the_others():
    implementation = staged_backward_returning(lambda dx, dy, dout: 1 / 0)
    results = [check.check_case(c, implementation, 0, 3) for c in (STAGED, MATMUL)]
    assert [r.status for r in results] == ["failed", "passed"]


def test_missing_ops_are_not_implemented_not_failed():
    only_staged = impl.Implementation("partial", {"staged_forward": hw.staged_forward,
                                                  "staged_backward": hw.staged_backward})
    assert check.check_case(MATMUL, only_staged, 0, 2).status == "not implemented"
    assert check.check_case(STAGED, only_staged, 0, 2).status == "passed"


def test_a_case_can_name_its_forward_and_backward():
    """batchnorm_forward + batchnorm_backward_alt is checked as the skeleton names it, no adapter."""
    alt = cases.get("batchnorm_alt")
    assert alt.functions == ("batchnorm_forward", "batchnorm_backward_alt")
    no_alt = impl.Implementation("no_alt", {"batchnorm_forward": hw.batchnorm_forward,
                                            "batchnorm_backward": hw.batchnorm_backward})
    assert check.check_case(cases.get("batchnorm"), no_alt, 0, 2).status == "passed"
    result = check.check_case(alt, no_alt, 0, 2)
    assert result.not_implemented == "no_alt defines batchnorm_forward but not batchnorm_backward_alt"


# --- the failure message is an API -------------------------------------------------------------

def test_failure_message_names_everything_needed_to_act():
    s = checked(staged_backward_returning(lambda dx, dy, dout: (dx, 2 * dy)))
    m = s.jax.message
    for part in ("staged-s0", "dy vs jax.vjp", "1 of 1 entries off", "worst at (scalar)",
                 "got ", "expected ", "> bound 9.1e-13",
                 'reproduce: pytest "tests/test_reference.py::test_matches_jax[staged-s0]"'):
        assert part in m, f"{part!r} missing from:\n{m}"
    assert "dy vs finite differences" in s.fd.message and "+-" in s.fd.message


def test_matrix_message_points_at_the_worst_entry():
    def backward(dout, cache):
        dW, dX = hw.matmul_backward(dout, cache)
        dW = dW.copy()
        dW[3, 7] += 1.0
        return dW, dX
    s = checked(cases.handwritten().with_replacement("matmul_backward", backward, "b", ""), MATMUL)
    assert "dW vs jax.vjp: 1 of 50 entries off; worst at [3, 7]" in s.jax.message
    assert "dW vs finite differences: 1 of 50 entries off; worst at [3, 7]" in s.fd.message


def test_normwise_error_ignores_tiny_entries_but_not_a_wrong_tiny_gradient():
    v = check.compare("x", ("da", "db"), (np.array([1.0, 1e-20]), np.array([0.5])),
                      (np.array([1.0, 0.0]), np.array([0.5])), 1e-12)
    assert v.ok                                        # 1e-20 off an entry of a gradient of size 1
    v = check.compare("x", ("da", "db"), (np.array([1.0]), np.array([1e-2])),
                      (np.array([1.0]), np.array([0.0])), 1e-12)
    assert not v.ok and "db vs x" in v.message          # all-zero gradient judged at the sample's scale


# --- records and options that cannot work: an error naming the case ---------------------------

def test_invalid_records_name_the_case():
    def case(**kw):
        base = dict(name="bad_case", op="staged", source="test",
                    args=(Arg("x", (), Uniform(-1, 1)),), reference=lambda x: x)
        return Case(**(base | kw))
    with pytest.raises(cases.CaseError, match="case 'bad_case': a kinked case needs kink_distance"):
        case(kink="somewhere").validate()
    with pytest.raises(cases.CaseError, match="case 'bad_case': golden 'g': input 'x' has shape"):
        case(goldens=(Golden({"x": [1.0, 2.0]}, {"out": 1.0}, "g"),)).validate()
    with pytest.raises(cases.CaseError, match="case 'bad_case': only a pair-style op has a forward"):
        case(style="loss", outputs=("loss",), backward="staged_backward_alt").validate()
    with pytest.raises(cases.CaseError, match="case 'bad_case': no differentiable input"):
        case(args=(Arg("x", (), Normal(), diff=False),)).validate()
    with pytest.raises(cases.CaseError, match="no case named 'nope'"):
        cases.get("nope")


def test_bad_impl_paths_are_one_line(tmp_path):
    with pytest.raises(cases.ImplementationError, match="no such file"):
        cases.load(str(tmp_path / "missing.py"))
    bad = tmp_path / "bad_layers.py"
    bad.write_text("def affine_forward(x, w, b):\n    return x +\n")
    with pytest.raises(cases.ImplementationError, match=r"SyntaxError.*bad_layers.py, line 2"):
        worker.runner(cases.load(str(bad)))     # the worker imports it, and says why it cannot
    raising = tmp_path / "raising_layers.py"
    raising.write_text("import numpy as np\nraise RuntimeError('boom')\n")
    with pytest.raises(cases.ImplementationError, match=r"RuntimeError: boom \(raising_layers.py, line 2\)"):
        worker.runner(cases.load(str(raising)))
