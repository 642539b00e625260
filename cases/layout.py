"""Where gradref's parts are, in the checkout and installed: the one place that knows.

In the checkout cases/, handwritten/ and vectors/ sit side by side at the top of the repository
(`import cases`, `import handwritten`, as the tests and conftest.py use them). Installed, the
package-dir table in pyproject.toml puts the same three folders side by side inside one package,
`gradref` (`gradref.cases`, `gradref.handwritten`, gradref/vectors/), so that the distribution
adds no generic top-level name to site-packages. Either way they are siblings; that is all the code
below relies on. handwritten/ never imports cases/ (it is NumPy only), so only this direction exists.
"""

from __future__ import annotations

import importlib
from pathlib import Path

# "" in the checkout (this package is `cases`), "gradref" installed (it is `gradref.cases`).
_PARENT = __package__.rpartition(".")[0]

HANDWRITTEN = f"{_PARENT}.handwritten" if _PARENT else "handwritten"
VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def handwritten_package():
    """The hand-derived reference package (handwritten/), whichever way gradref is laid out."""
    return importlib.import_module(HANDWRITTEN)
