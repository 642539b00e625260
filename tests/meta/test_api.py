"""The Python API (gradref.check, gradref.assert_conforms): a thin layer over `gradref report`.

`gradref` is the package the editable install maps (cases/gradref/); tests/meta/test_installed.py checks
the same API from a built wheel outside the checkout.
"""

import json
import re
import types

import pytest

import gradref
from cases import cli

CASES = ["staged", "sigmoid", "exp"]
RIGHT = "from gradref.handwritten import staged_forward, staged_backward, sigmoid_forward, sigmoid_backward\n"
# a planted bug: dy with the wrong sign (the forward and dx stay right)
WRONG_DY = RIGHT + """
from gradref.handwritten import staged_backward as _right


def staged_backward(dout, cache):
    dx, dy = _right(dout, cache)
    return dx, -dy
"""


def module(name, source):
    m = types.ModuleType(name)
    exec(source, m.__dict__)
    return m


def test_check_gives_per_case_statuses_and_the_report_json(tmp_path):
    """The same document as `gradref report --json` (its timing aside), statuses per case."""
    results = gradref.check("handwritten", cases=CASES, samples=3)
    assert results.passed and results.failed == []
    assert results.status == {"staged": "passed", "sigmoid": "passed", "exp": "passed"}
    assert results.messages == {"staged": "", "sigmoid": "", "exp": ""}
    out = tmp_path / "report.json"
    assert cli.main(["report", "--case", *CASES, "--samples", "3", "--no-mutants",
                     "--json", str(out)]) == 0
    report, api = json.loads(out.read_text()), json.loads(results.to_json())
    assert report.pop("seconds") >= 0 and api.pop("seconds") >= 0
    assert api == report
    assert re.search(r"^staged +A8 +3 .* PASSED$", str(results), re.M), str(results)


def test_a_module_object_is_checked_as_the_file_would_be(tmp_path):
    (tmp_path / "mine.py").write_text(WRONG_DY)
    from_file = gradref.check(str(tmp_path / "mine.py"), cases=CASES, samples=3)
    from_module = gradref.check(module("mine", WRONG_DY), cases=CASES, samples=3)
    want = {"staged": "failed", "sigmoid": "passed", "exp": "not implemented"}
    assert from_file.status == from_module.status == want
    assert not from_module.passed and from_module.failed == ["staged"]
    assert "staged-s0: dy vs jax.vjp: 1 of 1 entries off" in from_module.messages["staged"]
    assert "not implemented (mine defines no exp_forward / exp_backward)" in from_module.messages["exp"]


def test_assert_conforms_passes_a_right_module_and_raises_one_readable_error_on_a_bug():
    gradref.assert_conforms(module("right", RIGHT), cases=CASES, samples=3)
    with pytest.raises(AssertionError) as e:
        gradref.assert_conforms(module("mine", WRONG_DY), cases=CASES, samples=3)
    text = str(e.value)
    assert text.startswith("gradref: mine fails 1 of 3 cases (staged)\n"), text
    assert "staged: test_matches_jax failed on 3 of 3 samples" in text
    assert "staged-s0: dy vs jax.vjp: 1 of 1 entries off; worst at (scalar)" in text
    assert "Traceback" not in text and "sigmoid" not in text


def test_what_the_caller_gets_wrong_is_one_line(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import numpy as np\nx = 1 / 0\n")
    with pytest.raises(gradref.ImplementationError, match=r"^--impl .*broken.py: import failed: "
                       r"ZeroDivisionError: division by zero \(broken.py, line 2\)$"):
        gradref.check(str(bad), cases="staged", samples=1)
    with pytest.raises(AssertionError, match=r"^gradref: --impl .*broken.py: import failed"):
        gradref.assert_conforms(str(bad), cases="staged", samples=1)
    with pytest.raises(ValueError, match="no case named 'stagged'"):
        gradref.check("handwritten", cases="stagged")
    with pytest.raises(ValueError, match="samples must be an int of at least 1, not 0"):
        gradref.check("handwritten", cases="staged", samples=0)
    with pytest.raises(ValueError, match="dtype must be one of float32, float64, not 'float16'"):
        gradref.check("handwritten", cases="staged", dtype="float16")
    with pytest.raises(TypeError, match="not a int"):
        gradref.check(42)
