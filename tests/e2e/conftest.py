"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def auto_enable_custom_integrations() -> None:
    """Replace the package-wide autouse fixture: no in-process Home Assistant here.

    The end-to-end test runs Home Assistant as a separate process; the in-process instance the
    other tests get would only cost start-up time and hide nothing.
    """
