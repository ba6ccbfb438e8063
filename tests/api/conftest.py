"""Fixtures of the client's wire-level tests: a client pointed at the emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from custom_components.fish_audio_suite.api import FishAudioClient

# test_rest.py checks Retry-After with a client of its own.
from ..conftest import FAST_RETRY, TEST_API_KEY as API_KEY

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

    from emulator import FishAudioEmulator


@pytest.fixture
def make_client(
    emulator: FishAudioEmulator, socket_enabled: None
) -> Callable[..., FishAudioClient]:
    """Return a factory of clients against the emulator (closed by the test)."""

    def factory(**kwargs: Any) -> FishAudioClient:
        options: dict[str, Any] = {
            "base_url": emulator.base_url,
            "request_timeout": 5.0,
            **FAST_RETRY,
            **kwargs,
        }
        return FishAudioClient(
            kwargs.pop("api_key", API_KEY), **{k: v for k, v in options.items() if k != "api_key"}
        )

    return factory


@pytest.fixture
async def client(
    make_client: Callable[..., FishAudioClient],
) -> AsyncGenerator[FishAudioClient]:
    """A client against the emulator with its own session, closed after the test."""
    async with make_client() as client:
        yield client
