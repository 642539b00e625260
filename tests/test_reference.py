"""The implementation under test (default: handwritten) against the three oracles, per sample.

The checks themselves live in cases/pytest_checks.py, so that the installed pytest plugin
(`pytest --gradref-impl ...` in any project) runs the very same tests under the same ids."""

from cases.pytest_checks import (test_forward, test_matches_fd, test_matches_jax,  # noqa: F401
                                 test_well_behaved)
