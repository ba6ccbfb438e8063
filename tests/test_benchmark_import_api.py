"""The client package's import benchmark measures a real import of `api/` alone."""

from __future__ import annotations

import sys

from benchmarks import import_api


def test_api_cpu_figure_is_measured() -> None:
    """One fresh interpreter imports the client package; its CPU time is positive."""
    (sample,) = import_api.measure(sys.executable, 1)
    assert sample > 0


def test_the_integration_package_is_stubbed() -> None:
    """Only the client's own import is timed: the integration's package is not executed."""
    code = import_api.PREPARE + (
        f"import {import_api.PACKAGE}.api; "
        f"print({import_api.PACKAGE!r} + '.coordinator' in sys.modules, "
        f"{import_api.PACKAGE!r} + '.api.client' in sys.modules)"
    )
    assert import_api.run_python(sys.executable, code).split() == ["False", "True"]
