"""Model classes and sandwich layers: a student's cs231n/ folder, checked as it is, in one command.

tests/fixtures/student/assignment1/, assignment2/ and assignment3/cs231n are written in the
skeletons' style (relative imports, classifiers/ subpackage, setup.py for the Cython extension, a data_utils
that needs six, a vis_utils that needs past). assignment2's FullyConnectedNet has one planted
bug (the last layer's dW misses reg W); everything else they define is right.
"""

import json
import shutil
from pathlib import Path

import numpy as np

import cases
from cases import check, cli, worker
from cases.tolerance import GOLDEN_RTOL

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "tests" / "fixtures" / "student"
A1 = STUDENT / "assignment1" / "cs231n"
A2 = STUDENT / "assignment2" / "cs231n"
A3 = STUDENT / "assignment3" / "cs231n"

A2_CASES = ("affine", "batchnorm_alt", "conv", "affine_relu", "affine_bn_relu", "conv_relu_pool",
            "fc_net", "fc_net_batchnorm", "fc_net_layernorm", "fc_net_dropout",
            "three_layer_convnet", "two_layer_net_fc", "captioning_rnn")


def report(tmp_path, *argv):
    out = tmp_path / "report.json"
    rc = cli.main(["report", "--no-mutants", "--samples", "5", *argv, "--json", str(out)])
    return rc, json.loads(out.read_text())


def test_assignment2_folder_in_one_command_finds_the_planted_model_bug(tmp_path, capsys):
    rc, doc = report(tmp_path, "--impl", str(A2), "--case", *A2_CASES)
    got = {c["case"]: c for c in doc["cases"]}
    buggy = {"fc_net", "fc_net_batchnorm", "fc_net_layernorm"}    # reg > 0; fc_net_dropout has 0
    absent = {"two_layer_net_fc", "captioning_rnn"}
    assert {k: c["status"] for k, c in got.items()} == {
        k: "failed" if k in buggy else "not implemented" if k in absent else "passed"
        for k in A2_CASES}
    assert rc == 1
    for name in buggy:       # the gradient it names is the last layer's, judged by both oracles
        assert {"jax", "fd"} <= set(got[name]["failed_checks"]) <= {"jax", "fd", "kink"}
        jax_messages = [f["message"] for f in got[name]["failures"] if f["check"] == "jax"]
        assert jax_messages and all(": dW3 vs jax.vjp: " in m for m in jax_messages), name
    assert "defines no class TwoLayerNet" in got["two_layer_net_fc"]["not_implemented"]
    out = capsys.readouterr().out
    assert ("import: cs231n/data_utils.py did not import: ModuleNotFoundError: No module "
            "named 'six' (data_utils.py, line 4)") in out
    assert "import: cs231n/vis_utils.py did not import: ModuleNotFoundError: No module " \
           "named 'past'" in out
    assert ("import: cs231n/fast_layers.py imported without col2im_cython, im2col_cython, "
            "col2im_6d_cython from cs231n.im2col_cython: its ImportError was caught") in out
    assert "setup.py did not" not in out and "Traceback" not in out   # setup.py is never imported
    assert sum(n.startswith("import: ") for n in doc["notes"]) == 3


def test_assignment1_folder_in_one_command_passes_and_names_the_other_api(tmp_path):
    rc, doc = report(tmp_path, "--impl", str(A1), "--case", "affine_relu", "svm_loss",
                     "two_layer_net_fc", "two_layer_net_fc_reg", "two_layer_net_class")
    got = {c["case"]: c for c in doc["cases"]}
    assert rc == 0 and [got[k]["status"] for k in ("affine_relu", "svm_loss", "two_layer_net_fc",
                                                    "two_layer_net_fc_reg")] == ["passed"] * 4
    why = got["two_layer_net_class"]["not_implemented"]   # the 2019 neural_net.py class's case
    assert got["two_layer_net_class"]["status"] == "not implemented"
    assert "does not take this case's constructor arguments" in why and "neural_net.py API" in why


def test_assignment3_folder_in_one_command_passes_with_the_notebooks_losses(tmp_path):
    """CaptioningRNN (rnn and lstm) from a student's rnn.py, and the notebooks' printed losses."""
    names = ("rnn", "lstm", "captioning_rnn", "captioning_lstm", "captioning_rnn_golden",
             "captioning_lstm_golden")
    rc, doc = report(tmp_path, "--impl", str(A3), "--case", *names)
    assert rc == 0 and [c["status"] for c in doc["cases"]] == ["passed"] * len(names)
    impl = cases.load(str(A3))
    for name in ("captioning_rnn_golden", "captioning_lstm_golden"):
        (golden,) = cases.get(name).goldens
        assert check.check_golden(cases.get(name), impl, golden, GOLDEN_RTOL).ok, name


def test_a_module_that_fails_to_import_makes_its_cases_not_checkable(tmp_path):
    folder = tmp_path / "a2" / "cs231n"
    shutil.copytree(A2, folder)
    cnn = folder / "classifiers" / "cnn.py"
    cnn.write_text("import six\n" + cnn.read_text())
    impl = cases.load(str(folder))
    line = ("cs231n/classifiers/cnn.py did not import: ModuleNotFoundError: No module named 'six' "
            "(cnn.py, line 1)")
    assert line in worker.runner(impl).problems     # what the worker said of the folder
    result = check.check_case(cases.get("three_layer_convnet"), impl, 0, 2)
    assert result.status == "not implemented" and result.not_implemented == f"not checkable: {line}"
    assert check.check_case(cases.get("conv_relu_pool"), impl, 0, 2).status == "passed"


def test_two_packages_of_one_name_in_one_run_are_each_their_own():
    """fixtures/student/cs231n (softmax_loss planted-buggy) then assignment2/cs231n: the second
    folder's modules are imported, not the first's from sys.modules."""
    first = cases.load(str(STUDENT / "cs231n" / "layers.py"))
    second = cases.load(str(A2))
    assert Path(first.namespace["softmax_loss"].__code__.co_filename).parent == STUDENT / "cs231n"
    assert Path(second.namespace["softmax_loss"].__code__.co_filename).parent == A2
    assert check.check_case(cases.get("softmax_loss"), second, 0, 3).status == "passed"


BROKEN = '''import numpy as np


class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout_keep_ratio=1,
                 normalization=None, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        self.params = {"w%d" % (i + 1): np.zeros((dims[i], dims[i + 1])) for i in range(len(dims) - 1)}

    def loss(self, X, y=None):
        raise AssertionError("never called")


class ThreeLayerConvNet(object):
    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
        self.params = {"W1": np.zeros((num_filters, 3, 7, 7)), "b1": np.zeros(num_filters),
                       "W2": 0, "b2": 0, "W3": 0, "b3": 0}

    def loss(self, X, y=None):
        raise AssertionError("never called")
'''


def test_a_broken_model_class_is_one_line_per_sample_naming_the_class(tmp_path):
    path = tmp_path / "broken_nets.py"
    path.write_text(BROKEN)
    impl = cases.load(str(path))
    fc = check.check_case(cases.get("fc_net"), impl, 0, 2)
    message = fc.samples[0].behaved.message
    assert fc.status == "failed" and "FullyConnectedNet raised ModelError: " in message
    assert "params holds ['w1', 'w2', 'w3']; the case's parameters are ['W1', 'W2', 'W3', " in message
    conv = check.check_case(cases.get("three_layer_convnet"), impl, 0, 1).samples[0].behaved.message
    assert ("ThreeLayerConvNet raised ModelError: ThreeLayerConvNet(...) made W1 (3, 3, 7, 7), "
            "W2 (), b2 (), W3 (), b3 (); the case's shapes are W1 (3, 2, 3, 3), b1 (3,)") in conv
    assert "Traceback" not in message + conv


def test_the_model_adapter_builds_the_class_as_the_case_says():
    """model_loss: the constructor gets the case's arguments (dtype following the sample), the
    params are the sample's arrays, loss gets the call's arguments; grads come back by name."""
    seen = {}

    class Probe:
        def __init__(self, input_dim, hidden_dim, num_classes, weight_scale, reg):
            seen["ctor"] = (input_dim, hidden_dim, num_classes, weight_scale, reg)
            self.params = {"W1": np.zeros((5, 50)), "b1": np.zeros(50), "W2": np.zeros((50, 7)),
                           "b2": np.zeros(7)}

        def loss(self, X, y):
            seen["params"], seen["call"] = dict(self.params), (X, y)
            return 0.0, {k: np.ones_like(v) for k, v in self.params.items()}

    case = cases.get("two_layer_net_fc_reg")
    probe = cases.Implementation("probe", {"TwoLayerNet": Probe})
    sample = check.samples(case, 0, 1)[0]
    run, why = check.run_samples(case, probe, [sample])
    outs, grads, problems = run.sample(0)
    assert not problems and seen["ctor"] == (5, 50, 7, 1e-3, 1.0)
    assert all(seen["params"][k] is not sample.arrays[k] and np.array_equal(seen["params"][k],
               sample.arrays[k]) for k in ("W1", "b1", "W2", "b2"))
    assert np.array_equal(seen["call"][0], sample.arrays["X"]) and len(grads) == 4


SKELETON_FAST_LAYERS = '''from __future__ import print_function
import numpy as np

try:
    from cs231n.im2col_cython import col2im_cython, im2col_cython
    from cs231n.im2col_cython import col2im_6d_cython
except ImportError:
    pass   # the skeleton prints how to compile the extension here

from .layers import conv_forward_naive, max_pool_forward_naive, max_pool_backward_naive


def conv_forward_strides(x, w, b, conv_param):
    out, _ = conv_forward_naive(x, w, b, conv_param)
    return out, (x, w, b, conv_param)


def conv_backward_strides(dout, cache):
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    dx = col2im_6d_cython(np.zeros(1), N, C, H, W, 3, 3, 1, 1)
    return dx, None, None


conv_forward_fast = conv_forward_strides
conv_backward_fast = conv_backward_strides
max_pool_forward_fast = max_pool_forward_naive
max_pool_backward_fast = max_pool_backward_naive
'''


def test_fast_layers_without_the_compiled_extension_make_their_users_not_checkable(tmp_path):
    """The skeleton's fast_layers.py imports without im2col_cython (it catches the ImportError);
    conv_backward_fast then stops on col2im_6d_cython. The cases that reach it are not checkable,
    for that reason, in one line; the rest of the folder is checked."""
    folder = tmp_path / "a2" / "cs231n"
    shutil.copytree(A2, folder)
    (folder / "fast_layers.py").write_text(SKELETON_FAST_LAYERS)
    impl = cases.load(str(folder))
    line = ("cs231n/fast_layers.py imported without col2im_cython, im2col_cython, col2im_6d_cython "
            "from cs231n.im2col_cython: its ImportError was caught (a Cython extension not "
            "compiled: python setup.py build_ext --inplace)")
    assert line in worker.runner(impl).problems     # what the worker said of the folder
    for name in ("conv_relu", "conv_relu_pool", "three_layer_convnet"):
        result = check.check_case(cases.get(name), impl, 0, 2)
        assert (result.status, result.not_implemented) == ("not implemented",
                                                           f"not checkable: {line}"), name
    assert check.check_case(cases.get("affine_relu"), impl, 0, 2).status == "passed"
