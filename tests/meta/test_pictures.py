"""Pictures: circuits drawn from the JAX reference, error heatmaps, the HTML report.

Each picture is made for real and read back: the SVG's text, the PNG's pixels, the HTML page as
headless Chromium shows it. Tests needing an optional part (Graphviz, matplotlib, Chromium,
pytest-html) skip with the reason when it is absent; .ci/run installs them all.
"""

import base64
import io
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import cases
from cases import check, circuit, cli, pictures
from cases.draw import fmt

ROOT = Path(__file__).resolve().parents[2]
NOTES_OPS = str(ROOT / "tests" / "fixtures" / "student" / "notes_ops.py")


def _graphviz():
    pytest.importorskip("graphviz", reason="the [pictures] extra is not installed")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")


def _svg_texts(path) -> list[str]:
    """Every text the SVG shows, in document order."""
    return ["".join(t.itertext()) for t in ET.parse(path).iter("{http://www.w3.org/2000/svg}text")]


def _png(data: bytes) -> np.ndarray:
    from matplotlib.image import imread
    return imread(io.BytesIO(data), format="png")


def _red_pixels(rgb: np.ndarray) -> int:
    """Pixels of the strong red that marks a wrong gradient (cases/draw.py RED, #c62828)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(np.sum((r > 0.7) & (g < 0.25) & (b < 0.25)))


# --- the circuit: values and gradients on the wires (no drawing library needed) ---------------

def _golden_circuit(name):
    case = cases.get(name)
    s = check.golden_sample(case, case.goldens[0])
    return circuit.trace(case, s.arrays, s.douts)


def test_sigmoid_neuron_circuit_carries_the_notes_numbers():
    """The notes' figure: f = 0.73, dx = [0.39, -0.59], dw = [-0.20, -0.39, 0.20]; the gradient
    into the sigmoid is 0.20 and w forks into two gates whose shares add up to dw."""
    k = _golden_circuit("sigmoid_neuron")
    (out,) = [n for n in k.nodes if n.kind == "output"]
    grads = circuit.input_gradients(k)
    assert (fmt(out.value), fmt(grads["dx"]), fmt(grads["dw"])) == (
        "0.73", "[0.39, -0.59]", "[-0.20, -0.39, 0.20]")
    (sigma,) = [n for n in k.gates if n.label == "σ"]
    (into_sigma,) = [w for w in k.wires if w.dst == sigma.id]
    assert (fmt(into_sigma.value), fmt(into_sigma.grad)) == ("1.00", "0.20")
    from_w = [w.grad for w in k.wires if w.src == "in_w"]
    assert len(from_w) == 2 and np.array_equal(sum(from_w), grads["dw"])


def test_patterns_circuit_is_the_notes_figure():
    """The notes' gradient-flow figure: four gates, the max one gate (the kink convention is one
    named call), f = -20, and add distributes, max routes, multiply swaps."""
    k = _golden_circuit("patterns_circuit")
    assert sorted(n.label for n in k.gates) == ["*", "+", "2*", "max_to_first"]
    assert {name: fmt(g) for name, g in circuit.input_gradients(k).items()} == {
        "dx": "-8.00", "dy": "6.00", "dz": "2.00", "dw": "0.00"}


@pytest.mark.parametrize("name", ["staged", "patterns_circuit", "softmax_cross_entropy",
                                  "micrograd_readme", "lstm_step", "batchnorm"])
def test_circuit_gradients_are_jax_vjp(name):
    """Each input's gradient, summed from its wires, is the JAX check's (forks, max routing,
    named calls such as relu and log_softmax, integer labels, several outputs, arrays)."""
    case = cases.get(name)
    point = pictures.sample_point(case, 0)
    k = circuit.trace(case, point.sample.arrays, point.sample.douts)
    got = circuit.input_gradients(k)
    assert list(got) == list(case.grad_names)
    for g, want in zip(got.values(), point.expected):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    for n in k.inputs:
        wires = [w.grad for w in k.wires if w.src == n.id and w.grad is not None]
        if n.diff and wires:
            np.testing.assert_allclose(sum(wires), n.grad, rtol=1e-12, atol=1e-300)


def test_fmt_reads_as_the_notes_and_keeps_small_gradients_visible():
    assert [fmt(0.7310585), fmt(-0.0001), fmt(-0.001), fmt(0.0), fmt(np.zeros((5, 10)))] == \
        ["0.73", "-1.0e-04", "-1.0e-03", "0.00", "5×10"]


# --- gradref draw -------------------------------------------------------------------------------

def test_draw_sigmoid_neuron_golden_shows_the_notes_numbers(tmp_path, capsys):
    _graphviz()
    assert cli.main(["draw", "sigmoid_neuron", "--golden", "-o", str(tmp_path / "n.svg")]) == 0
    texts = _svg_texts(tmp_path / "n.svg")
    for label in ("0.73", "dx = [0.39, -0.59]", "dw = [-0.20, -0.39, 0.20]", "σ", "upstream 1.00"):
        assert label in texts, f"{label!r} not among the SVG's texts {texts}"


def test_draw_marks_the_wrong_dx_of_a_planted_bug_and_nothing_of_the_reference(tmp_path, capsys):
    """notes_ops.py's staged_backward loses a branch (= for +=): dx is marked wrong, dy right;
    the handwritten reference at the same point gets no mark."""
    _graphviz()
    wrong, right = tmp_path / "wrong.svg", tmp_path / "right.svg"
    assert cli.main(["draw", "staged", "--golden", "--impl", NOTES_OPS, "-o", str(wrong)]) == 0
    assert "dx: WRONG" in capsys.readouterr().out
    texts = _svg_texts(wrong)
    assert "got dx = 0.48 ✗ wrong" in texts and "got dy = 1.59 ✓" in texts
    assert "dx = 2.06" in texts                    # the expected one, beside it
    assert cli.main(["draw", "staged", "--golden", "--mutant", "staged:dnum ignores dout",
                     "-o", str(wrong)]) == 0
    assert any("✗" in t for t in _svg_texts(wrong))
    assert cli.main(["draw", "staged", "--golden", "--impl", "handwritten", "-o", str(right)]) == 0
    marks = [t for t in _svg_texts(right) if t.startswith("got ")]
    assert len(marks) == 2 and all(t.endswith("✓") for t in marks)


def test_draw_on_a_kink_judges_by_the_cases_convention(tmp_path, capsys):
    """At max_gate's tie the case routes the gradient to the first input, (1, 0) (jnp.maximum
    would split it 0.5/0.5): the reference is right there; a splitting implementation is another
    valid subgradient, marked as another convention, not wrong; (0, 0) is wrong."""
    _graphviz()
    out = tmp_path / "k.svg"
    assert cli.main(["draw", "max_gate", "--golden", "g1", "--impl", "handwritten",
                     "-o", str(out)]) == 0
    assert "WRONG" not in capsys.readouterr().out
    assert {"dx = 1.00", "got dx = 1.00 ✓", "dy = 0.00", "got dy = 0.00 ✓"} <= set(_svg_texts(out))
    splitting = tmp_path / "splitting.py"
    splitting.write_text("import numpy as np\n\ndef max_gate_forward(x, y):\n"
                         "    return np.maximum(x, y), (x, y)\n\n"
                         "def max_gate_backward(dout, cache):\n    x, y = cache\n"
                         "    w = np.where(x == y, 0.5, (x > y) * 1.0)\n"
                         "    return w * dout, (1 - w) * dout\n")
    assert cli.main(["draw", "max_gate", "--golden", "g1", "--impl", str(splitting),
                     "-o", str(out)]) == 0
    texts = set(_svg_texts(out))
    assert {"got dx = 0.50 ≈ another convention", "got dy = 0.50 ≈ another convention"} <= texts
    assert any("on the kink: another valid subgradient, not wrong" in t for t in texts)
    fixture = str(ROOT / "tests" / "fixtures" / "student" / "kink_conventions.py")
    assert cli.main(["draw", "max_gate", "--golden", "g1", "--impl", fixture, "-o", str(out)]) == 0
    assert "got dx = 0.00 ✗ wrong" in _svg_texts(out)


def test_draw_png_decodes_and_shows_the_wrong_mark_in_red(tmp_path):
    _graphviz()
    wrong, right = tmp_path / "wrong.png", tmp_path / "right.png"
    assert cli.main(["draw", "staged", "--impl", NOTES_OPS, "-o", str(wrong)]) == 0
    assert cli.main(["draw", "staged", "--impl", "handwritten", "-o", str(right)]) == 0
    img_wrong, img_right = _png(wrong.read_bytes()), _png(right.read_bytes())
    assert img_wrong.ndim == 3 and img_wrong.shape[0] > 100 and img_wrong.shape[1] > 300
    assert img_wrong[..., :3].std() > 0.05                     # a picture, not a blank page
    # the wrong dx's thick red frame and bold red line; the right picture has red text only
    assert _red_pixels(img_wrong) > _red_pixels(img_right) + 300


def test_draw_array_case_shows_shapes(tmp_path):
    _graphviz()
    assert cli.main(["draw", "matmul", "--sample", "matmul-s2", "-o", str(tmp_path / "m.svg")]) == 0
    texts = _svg_texts(tmp_path / "m.svg")
    assert {"W", "5×10", "X", "10×3", "dot"} <= set(texts)


def test_draw_errors_are_one_line(tmp_path, capsys):
    """An op that raises, one that is missing, an implementation that cannot load, a bad id or
    file name: one line naming the case and the problem, never a traceback."""
    _graphviz()
    raising = tmp_path / "raising.py"
    raising.write_text("def staged_forward(x, y):\n    return x + y, None\n\n"
                       "def staged_backward(dout, cache):\n    raise ValueError('boom')\n")
    out = str(tmp_path / "s.svg")
    assert cli.main(["draw", "staged", "--impl", str(raising), "-o", out]) == 0
    err = capsys.readouterr().err
    assert err.startswith("staged: ") and "staged_backward raised ValueError: boom" in err
    assert "Traceback" not in err and Path(out).exists()
    for argv, words in (
            (["draw", "sigmoid_neuron", "--impl", NOTES_OPS, "-o", out],
             "sigmoid_neuron: not implemented"),
            (["draw", "staged", "--impl", str(tmp_path / "nowhere.py"), "-o", out], "nowhere.py"),
            (["draw", "staged", "--sample", "x3", "-o", out], "sample 'x3'"),
            (["draw", "staged", "--golden", "g5", "-o", out], "no golden g5"),
            (["draw", "staged", "-o", str(tmp_path / "s.gif")], "must end in .svg or .png")):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("gradref: error: ") and words in err and err.count("\n") == 1, err


def test_missing_dot_is_one_line_naming_the_package(monkeypatch, capsys, tmp_path):
    pytest.importorskip("graphviz", reason="the [pictures] extra is not installed")
    monkeypatch.setenv("PATH", str(tmp_path))      # no `dot` on it
    assert cli.main(["draw", "staged", "-o", str(tmp_path / "s.svg")]) == 2
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and err.count("\n") == 1


# --- heatmaps -----------------------------------------------------------------------------------

def test_grid_lays_out_a_4d_gradient_as_tiles():
    from cases.heatmap import grid
    a = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    g = grid(a)
    assert g.shape == (2 * 5 - 1, 3 * 6 - 1)
    np.testing.assert_array_equal(g[5:9, 12:17], a[1, 2])          # tile (1, 2)
    assert np.isnan(g[4]).all() and np.isnan(g[:, 5]).all()       # the blank lines between
    assert grid(np.ones(3)).shape == (1, 3) and grid(np.float64(2.0)).shape == (1, 1)


def test_heatmap_shows_where_a_gradient_is_wrong():
    """A batchnorm-like dx wrong in one column: the |got - expected| panel is dark in that column
    only, and its title counts the entries off."""
    pytest.importorskip("matplotlib", reason="the [pictures] extra is not installed")
    from cases.heatmap import heatmap
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((6, 5))
    got = expected.copy()
    got[:, 2] += 0.7
    svg = heatmap("dx", got, expected, np.full(got.shape, 1e-9), "planted",
                  file_format="svg").decode()
    assert "6 of 30 entries off" in svg and "got dx" in svg and "expected dx" in svg
    img = _png(heatmap("dx", got, expected, np.full(got.shape, 1e-9), "planted"))
    panel = img[:, 2 * img.shape[1] // 3:, :3].mean(axis=2)     # the right third: |got - expected|
    dark_columns = np.flatnonzero((panel < 0.15).sum(axis=0) > 0.3 * img.shape[0] * 0.5)
    assert 0 < len(dark_columns) < panel.shape[1] // 6           # one narrow dark band


# --- the HTML report in a real browser ----------------------------------------------------------

def _report(tmp_path, impl=NOTES_OPS):
    path = tmp_path / "r.html"
    argv = ["report", "--case", "multiply", "sigmoid", "staged", "--samples", "3",
            "--html", str(path), "--no-mutants"] + (["--impl", impl] if impl else [])
    return cli.main(argv), path


def _chrome(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    driver_path = shutil.which("chromedriver")
    browser = shutil.which("chromium")
    if not driver_path or not browser:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1300,2000",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    # the driver given by path: selenium must not try to fetch one
    return webdriver.Chrome(options=options,
                            service=webdriver.ChromeService(executable_path=driver_path))


def test_html_report_shows_each_failure_with_its_pictures_in_chromium(tmp_path, capsys):
    _graphviz()
    pytest.importorskip("matplotlib", reason="the [pictures] extra is not installed")
    code, path = _report(tmp_path)
    assert code == 1
    from selenium.webdriver.common.by import By
    driver = _chrome(tmp_path)
    try:
        driver.get(path.as_uri())
        assert driver.title == f"gradref report: {NOTES_OPS}"
        summary = driver.find_element(By.ID, "summary").text
        assert summary == "3 cases: 1 passed, 2 failed"
        rows = driver.find_elements(By.CSS_SELECTOR, "#cases tbody tr")
        assert [r.text.split()[0] for r in rows] == ["multiply", "sigmoid", "staged"]
        for name, wrong in (("sigmoid", "dx"), ("staged", "dx")):
            section = driver.find_element(By.ID, f"failure-{name}")
            assert section.is_displayed()
            text = section.text
            assert "test_matches_jax failed on 3 of 3 samples" in text
            assert f'reproduce: pytest "tests/test_reference.py::test_matches_jax[{name}-s' in text
            assert f"{wrong} vs jax.vjp" in text
            images = section.find_elements(By.TAG_NAME, "img")
            assert images, f"no picture for {name}"
            for img in images:      # the browser decoded each inline picture
                assert driver.execute_script(
                    "return arguments[0].complete && arguments[0].naturalWidth > 100", img)
            captions = [c.text for c in section.find_elements(By.TAG_NAME, "figcaption")]
            assert captions[0].startswith(f"circuit of {name} at sample {name}-s")
        # sigmoid's dx is an array: it has a heatmap too; staged's dx is a scalar: circuit only
        assert len(driver.find_elements(By.CSS_SELECTOR, "#failure-sigmoid img")) == 2
        assert len(driver.find_elements(By.CSS_SELECTOR, "#failure-staged img")) == 1
        shot = _png(driver.get_screenshot_as_png())
        assert shot.shape[0] > 500 and _red_pixels(shot[..., :3]) > 500
    finally:
        driver.quit()


def test_html_report_of_a_passing_implementation_has_no_failures(tmp_path):
    code, path = _report(tmp_path, impl=None)
    page = path.read_text()
    assert code == 0 and "<h2>Failures</h2>" not in page and "<img" not in page
    assert 'id="summary">3 cases: <span class="passed">3 passed</span>, <span class="failed">' \
        '0 failed</span>' in page


# --- pytest-html --------------------------------------------------------------------------------

def test_pytest_html_report_carries_the_circuit_of_a_failing_check(tmp_path):
    _graphviz()
    pytest.importorskip("pytest_html", reason="pytest-html is not installed")
    report = tmp_path / "p.html"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_reference.py",
         "--impl", NOTES_OPS, "--case", "staged", "--samples", "1", "-k", "matches_jax",
         f"--html={report}", "--self-contained-html"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "1 failed" in run.stdout, run.stdout + run.stderr
    svgs = [base64.b64decode(b).decode() for b in
            re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", report.read_text())]
    assert any("got dx" in s and "✗ wrong" in s for s in svgs)


def test_draw_at_a_kink_sample_of_a_failing_tie(tmp_path, capsys):
    """A tie given (0, 0) fails at the kink samples: `--sample k0` draws one, the wrong dx marked;
    the HTML report carries that picture for the case (its only failures are at kinks)."""
    _graphviz()
    fixture = str(ROOT / "tests" / "fixtures" / "student" / "kink_conventions.py")
    out = tmp_path / "k.svg"
    assert cli.main(["draw", "max_gate", "--sample", "k0", "--impl", fixture, "-o", str(out)]) == 0
    assert "got dx = 0.00 ✗ wrong" in _svg_texts(out)
    page = tmp_path / "r.html"
    assert cli.main(["report", "--impl", fixture, "--case", "max_gate", "--html", str(page)]) == 1
    assert "kink sample max_gate-k0" in page.read_text()
