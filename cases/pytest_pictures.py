"""pytest plugin: with pytest-html installed, a failing check carries the pictures of its point.

A failing `test_*[staged-s3]` gets the circuit of sample s3 with the implementation's gradients
marked, and heatmaps of the wrong array gradients (cases/pictures.py); a failing golden test the
same at the golden's inputs. Nothing happens unless pytest-html is installed and writing a
report (`pytest --html report.html`), nor for tests that name no case. A picture that cannot be
made (an extra missing, anything else) becomes a line of text in the report, never a failure of
the run.
"""

from __future__ import annotations

import base64

import pytest


def _point(item):
    """The point of a case the test checks (a sample or a golden), or None."""
    from . import pictures
    params = getattr(getattr(item, "callspec", None), "params", {})
    config = item.config
    if "case_sample" in params:
        case, i = params["case_sample"]
        return pictures.sample_point(case, i, config.getoption("seed"), config.getoption("dtype"))
    if "golden" in params:
        case, golden = params["golden"]
        return pictures.golden_point(case, case.goldens.index(golden))
    return None


def _extras(item) -> list:
    import pytest_html
    from . import pictures, pytest_checks
    point = _point(item)
    if point is None:
        return []
    cache = item.config.__dict__.setdefault("_gradref_pictures", {})   # tests of one point share
    key = (point.case.name, point.label)
    if key not in cache:
        try:
            cache[key] = pictures.of_point(point, pytest_checks.settings(item.config).impl,
                                           item.config.getoption("dtype"))
        except Exception as e:   # a report's picture must never fail the run
            cache[key] = f"no pictures: {type(e).__name__}: {e}"
    if isinstance(cache[key], str):
        return [pytest_html.extras.text(cache[key])]
    # fresh dicts each time: pytest-html rewrites an extra's content in place
    return [pytest_html.extras.image(base64.b64encode(p.data).decode("ascii"), name=p.title,
                                     mime_type=p.mime,
                                     extension="svg" if p.mime == "image/svg+xml" else "png")
            for p in cache[key]]


def _html_report_wanted(config) -> bool:
    """pytest-html is installed and writing a report (`--html PATH`): only then draw."""
    return config.pluginmanager.hasplugin("html") and bool(config.getoption("htmlpath", None))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and _html_report_wanted(item.config):
        report.extras = getattr(report, "extras", []) + _extras(item)
    return report
