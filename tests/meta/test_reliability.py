"""`gradref reliability`: the command works (a --quick run of every part), the committed page is
rendered from its committed JSON, and the two measurements with a closed form are computed right.
The numbers themselves are measured by the command, not asserted here."""

import json
from pathlib import Path

import numpy as np
from scipy import stats

from cases import check, cli, closed_forms, mutants, reliability
from cases.spec import BUG_KINDS

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("## 1. Finite differences", "## 2. False failures", "## 3. Detection per planted bug",
            "## 4. Head to head")


def test_quick_run_writes_every_part(tmp_path):
    out = tmp_path / "reliability.md"
    assert cli.main(["reliability", "--quick", "--output", str(out)]) == 0
    doc = json.loads(out.with_suffix(".json").read_text())
    page = out.read_text()
    assert all(s in page for s in SECTIONS)
    assert page == reliability.render(doc)
    p = reliability.plan(doc["plan"]["seed"], quick=True)
    assert doc["command"].startswith("gradref reliability --quick --samples 50 ")
    for dtype in ("float64", "float32"):
        assert doc["false_failures"][dtype]["total"]["samples"] == p.samples * len(p.cases)
    assert doc["fd_calibration"]["catalogue"]["estimates"] > 0
    planted = [m for m in mutants.MUTANTS if m.case in p.cases]
    assert [r["id"] for r in doc["detection"]["mutants"]] == [m.id for m in planted]
    assert all(r["kind"] in BUG_KINDS and r["samples"] == p.mutant_samples
               for r in doc["detection"]["mutants"])
    real = [m.id for m in planted if m.case in p.h2h_cases and m.expect == "failed"]
    assert [r["id"] for r in doc["head_to_head"]["mutants"]] == real
    for name, tool in doc["head_to_head"]["tools"].items():
        assert tool["mutants"] == len(real), name
        assert tool["false_failures"]["samples"] == p.h2h_correct * len(p.h2h_cases), name
    # The wrappers themselves work: each float64 checker passes the correct staged on these
    # samples (a wrapper that raised would count as a failure of the op).
    for name in ("gradref", "check_grads", "cs231n", ".sum() vs jax.vjp", "gradcheck float64"):
        tool = doc["head_to_head"]["tools"].get(name)
        assert tool is None or tool["false_failures"]["failures"] == 0, name


def test_committed_page_is_rendered_from_its_json():
    """docs/reliability.md is the committed JSON rendered, from a full (not --quick) run."""
    doc = json.loads((ROOT / "docs/reliability.json").read_text())
    assert (ROOT / "docs/reliability.md").read_text() == reliability.render(doc)
    assert doc["format"] == reliability.FORMAT and "--quick" not in doc["command"]


def test_upper_bound_is_clopper_pearson():
    """0 failures in N: 1 - 0.05^(1/N), about 3/N; otherwise SciPy's exact one-sided interval."""
    assert np.isclose(reliability.upper_bound(0, 1000), 1 - 0.05 ** (1 / 1000))
    assert 2.99e-3 < reliability.upper_bound(0, 1000) < 3.0e-3
    for k, n in ((1, 100), (7, 2000), (50, 50)):
        ci = stats.binomtest(k, n, alternative="less").proportion_ci(0.95, method="exact")
        assert np.isclose(reliability.upper_bound(k, n), ci.high)


def test_fd_ratios_measure_the_true_error_against_jax():
    """The truth from jax.vjp (full and directional checks) agrees with the closed form's."""
    name, f, df, domain = closed_forms.KNOWN[-1]
    for size in (5, 2000):                               # full, then directional (> 512)
        case, _ = closed_forms.closed_form(name, f, df, domain, size=size)
        ss, ov = check.block(case, 0, 0, 8, "float64")
        g = closed_forms.exact_fd_target(df, ss, np.ones_like(ov.fd_steps))   # dout f'(x)
        exact = g * ov.fd_steps if case.fd_mode == "full" else \
            np.einsum("ske,se->sk", ov.directions, ov.fd_steps * g)
        from_jax, _ = reliability.fd_ratios(case, ov)
        from_closed_form, _ = reliability.fd_ratios(case, ov, exact)
        assert np.allclose(from_jax, from_closed_form, atol=1e-3), case.fd_mode
        assert from_closed_form.max() > 0


def test_ratio_quantiles_err_high_by_at_most_a_bin():
    """The streaming summary's quantiles are the upper edge of their histogram bin: at or above
    NumPy's exact quantile, by at most one bin (10^0.01); max and shares are exact."""
    x = np.exp(np.random.default_rng(0).normal(-5, 2, 20_000))
    r = reliability.Ratios().add(x[:5000], x[:5000] / 2).merge(
        reliability.Ratios().add(x[5000:], x[5000:] / 2))
    for q in (0.5, 0.99, 0.999):
        exact = np.quantile(x, q, method="inverted_cdf")
        assert exact <= r.quantile(q) <= exact * 10**0.01, q
    s = r.summary()
    assert s["max"] == x.max() and s["share_above_estimate"] == np.mean(x > 1)
    assert s["share_above_allowed"] == np.mean(x / 2 > 1)
