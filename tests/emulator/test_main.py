"""The command line: ``python -m emulator``."""

from __future__ import annotations

import asyncio
from decimal import Decimal
import os
from pathlib import Path
import signal
import sys

import aiohttp
import pytest

from emulator import __main__ as cli

ROOT = Path(__file__).parents[2]


def test_parse_args_and_build() -> None:
    args = cli.parse_args(
        [
            "--port", "0", "--api-key", "a", "--api-key", "b", "--credit", "0.5",
            "--latency-ms", "150", "--chunk-delay-ms", "20", "--segment-latency-ms", "300",
            "--max-concurrency", "2", "--no-seed-voices", "--user-id", "me",
        ]
    )  # fmt: skip
    emu = cli.build(args)
    assert emu.state.api_keys == {"a": "me", "b": "me"}
    assert emu.state.credit == Decimal("0.5")
    assert (emu.latency, emu.chunk_delay, emu.segment_latency) == (0.15, 0.02, 0.3)
    assert emu.max_concurrency == 2
    assert emu.state.voices == {}
    defaults = cli.build(cli.parse_args([]))
    assert defaults.state.api_keys == {"test-key": "user-1"}
    assert len(defaults.state.voices) == 6
    with pytest.raises(SystemExit):
        cli.parse_args(["--credit", "lots"])


async def test_main_serves_until_a_signal(
    socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    task = asyncio.ensure_future(cli._main(cli.parse_args(["--port", "0"])))
    for _ in range(100):
        if base_url := capsys.readouterr().out.strip():
            break
        await asyncio.sleep(0.02)
    assert base_url.startswith("http://127.0.0.1:")
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url}/_emulator/state") as resp,
    ):
        assert resp.status == 200
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 5)


async def test_module_runs_as_a_process(socket_enabled: None) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--port", "0", "--latency-ms", "1",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        base_url = line.decode().strip()
        async with (
            aiohttp.ClientSession(headers={"Authorization": "Bearer test-key"}) as session,
            session.get(f"{base_url}/wallet/self/api-credit") as resp,
        ):
            assert (await resp.json())["credit"] == "10.00"
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0
