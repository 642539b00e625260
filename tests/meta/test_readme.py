"""The README stays true: its case table is the catalogue, and CI runs its test command."""

import re
from pathlib import Path

import cases
from cases.cli import markdown_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


START, END = "<!-- cases:start -->\n", "<!-- cases:end -->"
CASE_TABLE = README[README.index(START) + len(START):README.index(END)].strip()


def test_case_table_is_the_catalogue():
    table = CASE_TABLE
    assert table == markdown_table(), "the README's case table is stale: paste `gradref cases --markdown`"


def test_ci_runs_the_readme_test_command():
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/pytest"
    assert command in README and command in (ROOT / ".ci" / "run").read_text()


def test_a_module_written_from_the_case_table_implements_every_case(tmp_path):
    """A user writes the functions the README's call column names: every case finds them. A model
    class (`model = fc_net.TwoLayerNet(...)`) goes in a file named after its skeleton module: the
    2019 neural_net.TwoLayerNet and the 2020+ fc_net.TwoLayerNet share a name, not an API."""
    rows = [line.split(" | ") for line in CASE_TABLE.splitlines()][2:]
    names = sorted({n for row in rows for n in re.findall(r"(?<![.\w])(\w+)\(", row[2])})
    classes = sorted({mc for row in rows for mc in re.findall(r"model = (\w+)\.(\w+)\(", row[2])})
    package = tmp_path / "from_the_readme"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "functions.py").write_text("".join(f"from handwritten import {n}\n" for n in names))
    for module, cls in classes:
        with open(package / f"{module}.py", "a") as f:
            f.write(f"from handwritten.{module} import {cls}\n")
    impl = cases.load(str(package))
    assert not impl.problems
    missing = {c.name: impl.lookup(c)[1] for c in cases.CASES if impl.lookup(c)[0] is None}
    assert len(rows) == len(cases.CASES) and not missing, missing
