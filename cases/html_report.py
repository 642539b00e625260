"""`gradref report --html PATH`: the report as one self-contained HTML file.

`render(doc)` takes the report's JSON document (report.to_json: implementation, summary, cases
with their failed checks and messages) and returns the page; it knows nothing else, so any report
that builds the same structure (a matrix of implementations, later) renders with it. Pictures are
in the document too: a case may carry "pictures", a list of {title, mime, uri} whose uri is a
base64 `data:` URI, so the file needs nothing beside it; `attach_pictures` adds them to each
failed case (cases/pictures.py: the circuit of its worst failing sample, heatmaps of its wrong
gradients). No scripts: the page is static and reads the same in any browser.
"""

from __future__ import annotations

import html
import sys

from .draw import PictureError

CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #1f2328; }
h1 { font-size: 1.5em; } h2 { font-size: 1.3em; margin-top: 1.5em; } h3 { font-size: 1.1em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-family: monospace; }
.passed { color: #1a7f37; } .failed { color: #c62828; font-weight: bold; }
.xfail, .xpass, .not-implemented { color: #57606a; }
.summary { font-size: 1.1em; }
section.failure { border-top: 2px solid #c62828; margin-top: 1.5em; }
pre { background: #f6f8fa; padding: 0.6em; white-space: pre-wrap; font-size: 0.85em; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #d0d7de; }
figcaption { font-size: 0.85em; color: #57606a; }
"""


def _e(x) -> str:
    return "-" if x is None else f"{x:.1e}"


def _status(status: str) -> str:
    return f'<span class="{status.replace(" ", "-")}">{html.escape(status.upper())}</span>'


def _failure(c: dict) -> str:
    name = html.escape(c["case"])
    parts = [f'<section class="failure" id="failure-{name}"><h3>{name} '
             f'<small>({html.escape(c["source"])})</small>: {_status(c["status"])}</h3><ul>']
    for chk in c["failed_checks"].values():
        parts.append(f'<li>{html.escape(chk["test"])} failed on {chk["samples_failed"]} of '
                     f'{c["samples"]} samples; worst {_e(chk["worst_error"])} at '
                     f'{html.escape(chk["worst_id"])}<br>reproduce: '
                     f'<code>{html.escape(chk["reproduce"])}</code></li>')
    parts.append("</ul>")
    for f in c["failures"][:3]:
        parts.append(f"<pre>{html.escape(f['message'])}</pre>")
    if c.get("picture_note"):
        parts.append(f"<p>{html.escape(c['picture_note'])}</p>")
    for p in c.get("pictures", []):
        parts.append(f'<figure><img src="{html.escape(p["uri"])}" alt="{html.escape(p["title"])}">'
                     f'<figcaption>{html.escape(p["title"])}</figcaption></figure>')
    return "".join(parts) + "</section>"


def render(doc: dict) -> str:
    """The page for a report document (report.to_json, optionally with pictures per case)."""
    s = doc["summary"]
    title = f"gradref report: {doc['implementation']}"
    counts = ", ".join(f'<span class="{k.replace(" ", "-")}">{v} {html.escape(k)}</span>'
                       for k, v in s.items() if v or k in ("passed", "failed"))
    mutation = doc.get("mutation")
    score = "" if not mutation else (
        f"<p>mutation score: {mutation['caught']}/{mutation['total']} planted bugs caught"
        + (f"; missed: {html.escape(', '.join(mutation['missed']))}" if mutation["missed"] else "")
        + "</p>")
    rows = []
    for c in doc["cases"]:
        name = html.escape(c["case"])
        link = f'<a href="#failure-{name}">{name}</a>' if c["status"] == "failed" else name
        w = c["worst"]
        rows.append(f'<tr><td>{link}</td><td>{html.escape(c["source"].split(" ")[0])}</td>'
                    f'<td class="num">{c["samples"]}</td><td class="num">{_e(w["forward"])}</td>'
                    f'<td class="num">{_e(w["jax"])}</td><td class="num">{_e(w["fd"])}</td>'
                    f'<td>{_status(c["status"])}</td></tr>')
    failures = [_failure(c) for c in doc["cases"] if c["status"] == "failed"]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in doc.get("notes", []))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{doc['samples_per_case']} samples per case, seed {doc['seed']}, {html.escape(doc['dtype'])}
(forward/jax bound {doc['bound_forward_jax']:.1e}; fd bound estimated per sample);
{doc['seconds']:.1f} s</p>
<p class="summary" id="summary">{len(doc['cases'])} cases: {counts}</p>{score}
{"<ul>" + notes + "</ul>" if notes else ""}
{"<h2>Failures</h2>" if failures else ""}{"".join(failures)}
<h2>All cases</h2>
<table id="cases"><thead><tr><th>case</th><th>source</th><th>samples</th><th>forward</th>
<th>vs jax</th><th>vs fd</th><th>status</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>
</body></html>
"""


def attach_pictures(doc: dict, impl) -> dict:
    """Add to each failed case of `doc` the pictures of one failing sample: the worst of
    test_matches_jax (the check the pictures mark), else of the first check that failed; where
    pictures cannot be made (an extra missing), a note says why, once on stderr too."""
    from . import pictures
    from .catalogue import get
    told = False
    for c in doc["cases"]:
        if c["status"] != "failed" or not c["failed_checks"]:
            continue
        checks = c["failed_checks"]
        worst = (checks.get("jax") or next(iter(checks.values())))["worst_id"]
        try:
            c["pictures"] = [p.as_dict() for p in pictures.of_failure(
                get(c["case"]), impl, worst, doc["seed"], doc["dtype"])]
        except PictureError as e:
            c["picture_note"] = f"no pictures: {e}"
            if not told:
                print(f"gradref: {e}", file=sys.stderr)
                told = True
    return doc
