"""`gradref reliability`: the command works (a --quick run of every part), the committed page is
rendered from its committed JSON, and the two measurements with a closed form are computed right.
The numbers themselves are measured by the command, not asserted here."""

import dataclasses
import json
from pathlib import Path

import numpy as np
from scipy import stats

from cases import check, cli, closed_forms, compare, mutants, oracles, reliability
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


def test_committed_page_names_the_commits_in_the_order_of_their_first_run():
    """The samples-by-commit list reads in time, not in the order the cases' ranges met them."""
    doc = json.loads((ROOT / "docs/reliability.json").read_text())
    line = next(x for x in (ROOT / "docs/reliability.md").read_text().splitlines()
                if "by the gradref commit that checked them" in x)
    named = [item.split()[0] for item in line.split(": ")[-1].rstrip(".").split(", ")]
    assert named == list(dict.fromkeys(r["commit"] for r in doc["progress"]["run_list"]))


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


# --- false failures accumulated across runs (--resume, --budget) -------------------------------------
#
# Two quick cases, a few dozen samples: a resumed run must hold exactly what one run over the same
# samples holds (the time spent aside), a stopped run a file that resumes to the same, and a failure
# must land in the counts with its sample id.

ACC_CASES = ("staged", "relu")


def _plan(samples: int) -> reliability.Plan:
    return reliability.plan(1, quick=True, samples=samples)


def _run(state: dict, samples: int, **kw) -> dict:
    return reliability.accumulate(state, _plan(samples), **kw)


def _without_time(state: dict) -> dict:
    return {n: {k: v for k, v in rec.items() if k != "seconds"} for n, rec in state["cases"].items()}


def _one_run(samples: int) -> dict:
    state = reliability.new_progress(1)
    _run(state, samples)
    return state


def test_closed_form_calibration_accumulates_like_the_false_failures():
    """Two runs of 30 samples per closed form hold what one of 60 holds (the same samples, their
    ratios merged); a closed form whose definition changed starts again."""
    names = [k[0] for k in closed_forms.KNOWN[:2]]
    twice, once = reliability.new_progress(1), reliability.new_progress(1)
    reliability.closed_form_calibration(twice, names, 1, 30)
    second = reliability.closed_form_calibration(twice, names, 1, 30)
    assert second == reliability.closed_form_calibration(once, names, 1, 60)
    assert [second[n]["samples"] for n in names] == [60, 60]
    assert twice["closed_forms"] == once["closed_forms"]
    twice["closed_forms"][names[0]]["fingerprint"] = "changed"
    assert reliability.closed_form_calibration(twice, names, 1, 30)[names[0]]["samples"] == 30


def test_closed_forms_start_again_under_another_fd_estimator(monkeypatch):
    """A closed form's record measured by another FD estimator is not this one's: it restarts."""
    names = [closed_forms.KNOWN[0][0]]
    state = reliability.new_progress(1)
    reliability.closed_form_calibration(state, names, 1, 30)
    monkeypatch.setattr(reliability, "fd_estimator_fingerprint", lambda: "another")
    assert reliability.closed_form_calibration(state, names, 1, 30)[names[0]]["samples"] == 30


def test_resumed_run_holds_what_one_run_holds(tmp_path):
    """30 samples, saved, loaded and continued to 60 (and to 60 again: nothing to do) equal 60 at
    once: counts, failing ids, the FD ratios' histogram and max, the ranges of samples."""
    path = tmp_path / "progress.json"
    state = reliability.load_progress(path, 1)               # absent: a new one
    _run(state, 30, save=lambda s: reliability.save_progress(s, path))
    assert {n: r["samples"] for n, r in state["cases"].items()} == dict.fromkeys(ACC_CASES, 30)
    state = reliability.load_progress(path, 1)
    _run(state, 60, save=lambda s: reliability.save_progress(s, path))
    again = _run(reliability.load_progress(path, 1), 60)
    assert again["samples_added"] == 0 and again["stopped"] == "target reached"
    resumed, once = reliability.load_progress(path, 1), _one_run(60)
    assert _without_time(resumed) == _without_time(once)
    assert all(r["samples"] == 60 and r["fd"]["n"] > 0 for r in resumed["cases"].values())
    assert [r["samples_added"] for r in resumed["runs"]] == [60, 60]


def test_a_stopped_run_leaves_a_file_that_resumes_to_the_same(tmp_path):
    """Killed right after its first chunk, a run leaves a file that loads, is consistent (every
    record holds whole samples 0..n-1) and resumes to what one run gives; a budget of 0 adds
    nothing, says so, and the page does not claim the target."""
    path = tmp_path / "progress.json"

    class Killed(Exception):
        pass

    def save_then_die(state):
        reliability.save_progress(state, path)
        raise Killed

    state = reliability.new_progress(1)
    try:
        _run(state, 40, save=save_then_die)
    except Killed:
        pass
    left = reliability.load_progress(path, 1)
    held = {n: r["samples"] for n, r in left["cases"].items()}
    assert held == {"staged": 40, "relu": 0}
    for rec in left["cases"].values():
        assert [lo for lo, _, _ in rec["ranges"]] in ([], [0])
        assert sum(hi - lo for lo, hi, _ in rec["ranges"]) == rec["samples"]
        assert rec["fd"]["n"] == sum(sum(c) for _, c in rec["fd"]["hist"])
    run = _run(left, 40, budget=0)
    assert run["stopped"] == "budget" and run["samples_added"] == 0
    fd, false, progress = reliability.accumulated(left, _plan(40), run, resumed=True)
    assert not progress["reached"] and progress["min_samples"] == 0
    assert false["float64"]["per_case"]["relu"]["samples"] == 0
    assert "not reached yet" in reliability._held(progress)
    assert "not reached yet" in reliability._target_note(progress)[0].lower()
    _run(left, 40)
    assert _without_time(left) == _without_time(_one_run(40))


def test_each_run_says_where_its_samples_were_checked():
    """A resumed page lists every run its counts hold, each with its commit and machine."""
    state = reliability.new_progress(1)
    run = _run(state, 20)
    _run(state, 40)
    assert run["machine"] == reliability.run_machine() | {"load_average_at_start":
                                                          run["machine"]["load_average_at_start"]}
    _, _, progress = reliability.accumulated(state, _plan(40), state["runs"][-1], resumed=True)
    table = "\n".join(reliability._runs_table(progress["run_list"]))
    assert [r["samples_added"] for r in progress["run_list"]] == [40, 40]
    assert table.count(run["machine"]["cpu"]) == 2 and table.count(run["commit"]) == 2


def _plant_float32_failure(monkeypatch, sid):
    """check.judge with sample `sid`'s forward verdict failed in float32 (a wrong oracle)."""
    judge = check.judge

    def planted(case, ids, run, ov, bound, *args):
        out = judge(case, ids, run, ov, bound, *args)
        if bound != check.rtol(np.float32):
            return out
        bad = compare.Verdict(False, message=f"{sid}: planted false failure")
        return [dataclasses.replace(s, forward=bad) if s.id == sid else s for s in out]
    monkeypatch.setattr(check, "judge", planted)


def test_a_false_failure_lands_in_the_counts_with_its_id(monkeypatch):
    """A planted false failure (sample staged-s37's forward verdict failed in float32 only, as a
    wrong oracle or too tight a float32 tolerance would) is not there at 30 samples, and is after
    resuming to 60: under float32, its check and its id, in the document's counts and bound."""
    _plant_float32_failure(monkeypatch, "staged-s37")
    state = reliability.new_progress(1)
    _run(state, 30)
    assert state["cases"]["staged"]["float32"]["failures"] == 0
    run = _run(state, 60)
    rec = state["cases"]["staged"]["float32"]
    assert (rec["failures"], rec["ids"], rec["by_check"]["forward"]) == (1, ["staged-s37"], 1)
    assert rec["examples"] == ["staged-s37: planted false failure"]
    assert all(state["cases"][n]["float64"]["failures"] == 0 for n in ACC_CASES)
    _, false, progress = reliability.accumulated(state, _plan(60), run, resumed=True)
    row = false["float32"]["per_case"]["staged"]
    assert (row["failures"], row["samples"], row["ids"]) == (1, 60, ["staged-s37"])
    assert row["upper95"] == reliability.upper_bound(1, 60)
    assert false["float32"]["total"] == reliability._rate(1, 120)
    assert false["float64"]["total"] == reliability._rate(0, 120)


def test_a_recorded_failure_is_checked_again_and_cleared_once_the_checker_passes_it(monkeypatch):
    """The next run checks a recorded failure again before adding samples: while the checker
    still fails it, it stays counted; once the checker passes it (the planted fault removed), it
    leaves the counts for the cleared list, with the commit, and the page says so."""
    _plant_float32_failure(monkeypatch, "staged-s37")
    state = _one_run(60)
    again = _run(state, 60)
    rec = state["cases"]["staged"]["float32"]
    assert again["cleared"] == [] and (rec["failures"], rec["ids"]) == (1, ["staged-s37"])
    monkeypatch.undo()
    run = _run(state, 60)
    assert run["cleared"] == ["staged float32 staged-s37"] and run["samples_added"] == 0
    assert (rec["failures"], rec["ids"], rec["examples"]) == (0, [], [])
    assert rec["by_check"] == dict.fromkeys(check.CHECKS, 0)
    assert rec["cleared"] == [["staged-s37", run["commit"]]]
    fd, false, progress = reliability.accumulated(state, _plan(60), run, resumed=True)
    assert false["float32"]["total"] == reliability._rate(0, 120)
    assert false["float32"]["per_case"]["staged"]["cleared"] == [["staged-s37", run["commit"]]]
    assert progress["this_run"]["cleared"] == ["staged float32 staged-s37"]


def test_a_changed_case_restarts_and_the_run_says_so():
    """A record whose fingerprint differs (the case, its reference or handwritten source, or the
    tolerances changed) starts again at 0 and the run names it; the others continue."""
    state = _one_run(30)
    state["cases"]["relu"]["fingerprint"] = "changed"
    state["cases"]["gone"] = state["cases"]["staged"]         # a case no longer in the catalogue
    run = _run(state, 30)
    assert run["restarted"] == ["relu"] and run["set_aside"] == ["gone"]
    assert run["samples_added"] == 30 and state["cases"]["relu"]["samples"] == 30
    hw = reliability.handwritten()
    from cases.catalogue import get
    assert state["cases"]["relu"]["fingerprint"] == reliability.case_fingerprint(get("relu"),
                                                                                  hw.namespace)
    _, false, progress = reliability.accumulated(state, _plan(30), run, resumed=True)
    assert "gone" not in false["float64"]["per_case"] and progress["reached"]


def test_fingerprint_is_stable_and_sees_the_source(tmp_path):
    """Two processes' fingerprints agree (no memory addresses); a reference or a handwritten
    function of the same name whose source differs changes it."""
    import importlib.util
    from cases.catalogue import get
    hw = reliability.handwritten()
    case = get("relu")
    fp = reliability.case_fingerprint(case, hw.namespace)
    assert "0x" not in reliability._source(case) and fp == reliability.case_fingerprint(
        get("relu"), dict(hw.namespace))
    (tmp_path / "edited.py").write_text("def f(*a):\n    return a[0] + 1\n")
    spec = importlib.util.spec_from_file_location("edited", tmp_path / "edited.py")
    edited = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(edited)
    edited.f.__name__ = edited.f.__qualname__ = case.reference.__qualname__
    assert reliability.case_fingerprint(dataclasses.replace(case, reference=edited.f),
                                        hw.namespace) != fp
    name = case.functions[0]
    edited.f.__name__ = edited.f.__qualname__ = name
    assert reliability.case_fingerprint(case, {**hw.namespace, name: edited.f}) != fp


def test_fd_ratios_of_an_earlier_fd_estimator_are_kept_apart_and_measured_again(monkeypatch):
    """A record whose FD ratios another FD estimator measured (or a gradref that did not say
    which) keeps them apart, in "fd_earlier", and measures its samples again under this one,
    FD_REDO_SAMPLES a run, without adding samples; once through, it holds exactly what one run
    under this estimator holds. The document and the page count the two apart."""
    once = _one_run(60)["cases"]["staged"]["fd"]
    state = _one_run(60)
    rec = state["cases"]["staged"]
    earlier = rec["fd"]
    del rec["fd_estimator"]                    # as a record of the gradref before this
    monkeypatch.setattr(reliability, "FD_REDO_SAMPLES", 40)
    run = _run(state, 60)
    assert run["fd_estimator_changed"] == ["staged"] and run["samples_added"] == 0
    assert run["fd_redo"]["samples"] == 40 and rec["fd_redo"] == [40, 60]
    assert rec["fd_earlier"] == earlier and rec["fd"]["n"] < earlier["n"]
    fd, _, progress = reliability.accumulated(state, _plan(60), run, resumed=True)
    assert fd["per_case"]["staged"]["samples"] == 40 and fd["per_case"]["relu"]["samples"] == 60
    assert fd["earlier_estimators"]["estimates"] == earlier["n"]
    assert fd["catalogue"]["estimates"] == rec["fd"]["n"] + state["cases"]["relu"]["fd"]["n"]
    line = reliability._fd_samples_line(fd["catalogue"], fd["earlier_estimators"])
    assert "40 to 60 per case" in line and "the last row, apart" in line
    assert "40 samples checked under an earlier FD estimator" in reliability._progress_line(progress)
    measured = rec["fd"]["n"]
    rec["fd_estimator"] = "another"            # changed again: the earlier ones merge
    _run(state, 60)
    assert rec["fd_earlier"]["n"] == earlier["n"] + measured and rec["fd_redo"] == [40, 60]
    _run(state, 60)
    assert rec["fd_redo"] == [60, 60] and rec["fd"] == once


def test_fd_estimator_fingerprint_sees_the_fd_oracle_and_the_probe(monkeypatch):
    """Stable; another FD oracle or number of probe draws is another FD estimator."""
    fp = reliability.fd_estimator_fingerprint()
    assert fp == reliability.fd_estimator_fingerprint()
    with monkeypatch.context() as m:
        m.setattr(oracles, "PROBE_DRAWS", oracles.PROBE_DRAWS + 1)
        assert reliability.fd_estimator_fingerprint() != fp
    edited = lambda *a: a                       # noqa: E731
    monkeypatch.setattr(reliability, "FD_ESTIMATOR", (edited,) + reliability.FD_ESTIMATOR[1:])
    assert reliability.fd_estimator_fingerprint() != fp


def test_committed_progress_file_is_what_the_page_counts():
    """The committed page is a --resume run's, and docs/reliability-progress.json holds the counts
    it shows (samples, failures, and the failures cleared)."""
    path = ROOT / "docs/reliability-progress.json"
    doc = json.loads((ROOT / "docs/reliability.json").read_text())
    assert doc["progress"]["resumed"]
    state = json.loads(path.read_text())
    for dtype, rows in doc["false_failures"].items():
        for name, row in rows["per_case"].items():
            rec = state["cases"][name]
            assert (row["samples"], row["failures"]) == (rec["samples"], rec[dtype]["failures"])
            assert row.get("cleared", []) == rec[dtype].get("cleared", [])
