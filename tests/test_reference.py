"""The implementation under test (default: handwritten) against the three oracles, per sample,
and exactly on the kinks.

The checks themselves live in cases/pytest_checks.py, so that the installed pytest plugin
(`pytest --gradref-impl ...` in any project) runs the very same tests under the same ids."""

from cases.pytest_checks import (test_at_kink, test_forward, test_matches_fd,  # noqa: F401
                                 test_matches_jax, test_well_behaved)
