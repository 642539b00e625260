"""The README stays true: its case table is the catalogue, and CI runs its test command."""

from pathlib import Path

from cases.cli import markdown_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_case_table_is_the_catalogue():
    start, end = "<!-- cases:start -->\n", "<!-- cases:end -->"
    table = README[README.index(start) + len(start):README.index(end)].strip()
    assert table == markdown_table(), "the README's case table is stale: paste `gradref cases --markdown`"


def test_ci_runs_the_readme_test_command():
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/pytest"
    assert command in README and command in (ROOT / ".ci" / "run").read_text()
