"""Cold import and config-entry setup of the integration, in a fresh process.

Usage: ``python -X importtime -m benchmarks.ha_setup <emulator base url>``; prints one JSON
line. The runner starts a new interpreter per repetition, so every import is cold (only the
OS file cache is warm, as on a Home Assistant restart).

Phases, each timed on its own:

1. ``ha_core``: Home Assistant core and the test harness (``pytest-homeassistant-custom-
   component``'s ``async_test_home_assistant``, a real ``HomeAssistant`` with in-memory
   registries). Not ours: context only.
2. ``import_integration``: ``import custom_components.fish_audio_suite`` (our package, the
   client and whatever Home Assistant helpers it pulls in that core had not loaded yet).
3. ``import_platforms``: the config flow and diagnostics (both preloaded by Home Assistant
   with the integration) and every platform module (they import Home Assistant's
   ``tts``/``stt``/``sensor`` components, which Home Assistant loads anyway when any
   integration provides those platforms).
4. ``ha_components``: setting up the Home Assistant components our platforms need (``http``,
   ``tts``, ``stt``, ``sensor`` ...). Not ours: context only.
5. ``setup_entry``: ``hass.config_entries.async_setup(entry)`` of an account entry with one
   voice, against the emulator, until Home Assistant is idle: our ``async_setup`` (actions),
   ``async_setup_entry`` (first coordinator refresh, voice list) and the platforms' entities.

``-X importtime`` (stderr) lets the runner split phases 2-3 into our own modules' self time
and the Home Assistant modules they imported.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import socket
import sys
import tempfile
import time
from typing import Any
import urllib.request

from .common import API_KEY

PACKAGE = "custom_components.fish_audio_suite"


def _lap(start: float) -> float:
    return time.perf_counter() - start


async def _setup(base_url: str, timings: dict[str, Any]) -> None:
    from homeassistant import loader
    from homeassistant.config_entries import ConfigEntryState
    from homeassistant.const import CONF_API_KEY
    from homeassistant.setup import async_setup_component
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_test_home_assistant,
    )

    from custom_components.fish_audio_suite import const, voice_settings

    subentries: list[dict[str, Any]] = [
        {
            "subentry_type": const.SUBENTRY_VOICE,
            "data": {**voice_settings.VOICE_DEFAULTS, "name": "Narrator"},
            "title": "Narrator",
            "unique_id": None,
        }
    ]
    with tempfile.TemporaryDirectory(prefix="fish-bench-ha-") as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            # What the `enable_custom_integrations` fixture does.
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
            start = time.perf_counter()
            dependencies = ["http", "tts", "stt", "sensor"]
            for domain in dependencies:
                config: dict[str, Any] = {}
                if domain == "http":
                    # A free loopback port: nothing clashes with a running Home Assistant.
                    config = {"http": {"server_host": "127.0.0.1", "server_port": _free_port()}}
                if not await async_setup_component(hass, domain, config):
                    raise RuntimeError(f"could not set up Home Assistant's {domain}")
            await hass.async_block_till_done()
            timings["ha_components"] = _lap(start)

            entry = MockConfigEntry(
                domain=const.DOMAIN,
                title="Fish Audio",
                unique_id="user-1",
                data={CONF_API_KEY: API_KEY, const.CONF_BASE_URL: base_url},
                subentries_data=subentries,
            )
            entry.add_to_hass(hass)
            before = _request_count(base_url)
            start = time.perf_counter()
            ok = await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            timings["setup_entry"] = _lap(start)
            timings["setup_requests"] = _request_count(base_url) - before
            timings["entities"] = len(hass.states.async_entity_ids())
            if not ok or entry.state is not ConfigEntryState.LOADED:
                raise RuntimeError(f"entry not loaded: {entry.state}")
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
            await hass.async_stop(force=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request_count(base_url: str) -> int:
    """Number of API requests the emulator recorded (its control API, loopback only)."""
    with urllib.request.urlopen(f"{base_url}/_emulator/requests", timeout=10) as answer:  # noqa: S310
        data = json.loads(answer.read())
    return len(data["requests"] if isinstance(data, dict) else data)


def import_ours() -> dict[str, Any]:
    """Import our package, then the preloaded platforms and the platform modules; time each phase.

    The preloaded ones are those of Home Assistant's ``loader.BASE_PRELOAD_PLATFORMS`` that
    we have (``config_flow``, ``diagnostics``): Home Assistant imports them with the package.

    Through ``__import__`` (an import statement's path), not ``importlib.import_module``:
    ``-X importtime`` reports only the former, so the latter would hide these modules' own
    lines from the self-time figure (``benchmarks.import_time``).
    """
    start = time.perf_counter()
    __import__(PACKAGE)
    integration = _lap(start)
    start = time.perf_counter()
    __import__(f"{PACKAGE}.const")
    const = sys.modules[f"{PACKAGE}.const"]
    modules = ["config_flow", "diagnostics", *(str(platform.value) for platform in const.PLATFORMS)]
    for module in modules:
        __import__(f"{PACKAGE}.{module}")
    return {"integration": integration, "platforms": _lap(start), "modules": modules}


def main() -> None:
    """Entry point."""
    base_url = sys.argv[1]
    timings: dict[str, Any] = {}
    start = time.perf_counter()
    import homeassistant.core  # noqa: F401
    import pytest_homeassistant_custom_component.common  # noqa: F401

    timings["ha_core"] = _lap(start)

    laps = import_ours()
    timings["import_integration"] = laps["integration"]
    timings["import_platforms"] = laps["platforms"]
    timings["platform_modules"] = laps["modules"]
    integration = sys.modules[PACKAGE]

    asyncio.run(_setup(base_url, timings))
    timings["integration_dir"] = str(Path(integration.__file__ or ".").parent)
    from homeassistant.const import __version__ as ha_version

    timings["ha_version"] = ha_version
    sys.stdout.write(json.dumps(timings) + "\n")


if __name__ == "__main__":
    main()
