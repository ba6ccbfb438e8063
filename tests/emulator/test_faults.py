"""Fault injection: unit behaviour of the injector and its effect on the wire."""

from __future__ import annotations

import json
import time

import aiohttp
import ormsgpack
import pytest

from emulator import PRESETS, FaultInjector, FishAudioEmulator
from emulator.faults import route_matches

MSGPACK = {"Content-Type": "application/msgpack"}


@pytest.mark.parametrize(
    ("route", "method", "path", "expected"),
    [
        ("*", "DELETE", "/model/x", True),
        ("POST /v1/tts", "POST", "/v1/tts", True),
        ("POST /v1/tts", "GET", "/v1/tts", False),
        ("post /v1/tts", "POST", "/v1/tts", True),
        ("GET /model/*", "GET", "/model/abc", True),
        ("GET /model/*", "GET", "/model", False),
        ("* /wallet/*", "GET", "/wallet/self/package", True),
        ("/v1/asr", "POST", "/v1/asr", True),
        ("/v1/asr", "POST", "/v1/tts", False),
    ],
)
def test_route_matching(route: str, method: str, path: str, *, expected: bool) -> None:
    assert route_matches(route, method, path) is expected


def test_times_and_order() -> None:
    faults = FaultInjector()
    faults.http("*", 500, times=2)
    faults.http("GET /model", 503, times=None)
    assert faults.take_http("GET", "/model").status == 500  # type: ignore[union-attr]
    assert faults.take_http("GET", "/model").status == 500  # type: ignore[union-attr]
    for _ in range(3):
        assert faults.take_http("GET", "/model").status == 503  # type: ignore[union-attr]
    assert faults.take_http("POST", "/v1/tts") is None
    faults.clear()
    assert faults.take_http("GET", "/model") is None
    assert faults.as_json() == []


def test_bodies() -> None:
    faults = FaultInjector()
    faults.http("*", 418)
    faults.http("*", 400, body=b"\x00", headers={"X-A": "1"})
    faults.http("*", 400, body="plain")
    faults.http("*", 400, body=[1], content_type="application/problem+json")
    faults.http("*", 599)
    teapot = faults.take_http("GET", "/")
    assert teapot is not None
    assert (teapot.body, teapot.content_type) == (
        b'{"status": 418, "message": "I\'m a Teapot"}',
        "application/json",
    )
    raw = faults.take_http("GET", "/")
    assert raw is not None
    assert (raw.body, raw.content_type, raw.headers) == (
        b"\x00",
        "application/octet-stream",
        {"X-A": "1"},
    )
    text = faults.take_http("GET", "/")
    assert text is not None
    assert (text.body, text.content_type) == (b"plain", "text/plain")
    problem = faults.take_http("GET", "/")
    assert problem is not None
    assert (problem.body, problem.content_type) == (b"[1]", "application/problem+json")
    unknown = faults.take_http("GET", "/")
    assert unknown is not None
    assert unknown.body == b'{"status": 599, "message": ""}'


def test_argument_checks() -> None:
    faults = FaultInjector()
    with pytest.raises(ValueError, match="unknown preset"):
        faults.preset("*", "418")
    with pytest.raises(ValueError, match="unknown ws mode"):
        faults.ws("explode")
    with pytest.raises(ValueError, match="times"):
        faults.http("*", 500, times=0)
    with pytest.raises(ValueError, match="negative"):
        faults.latency("*", -1)
    with pytest.raises(ValueError, match="negative"):
        faults.truncate(after_bytes=-1)
    with pytest.raises(ValueError, match="unknown stream mode"):
        faults.stream("*", "flood")
    with pytest.raises(ValueError, match="negative"):
        faults.stream("*", "trickle", interval=-1)


def test_apply_json_stream_fault() -> None:
    faults = FaultInjector()
    faults.apply_json({"route": "POST /v1/tts", "stream": "trickle", "interval": 0.1})
    faults.apply_json({"kind": "ws", "mode": "trickle", "interval": 0.2})
    assert faults.as_json() == [
        {"kind": "stream", "route": "POST /v1/tts", "mode": "trickle", "times": 1},
        {"kind": "ws", "mode": "trickle", "after_audio_chunks": 0, "times": 1},
    ]
    assert faults.take_stream("GET", "/model") is None
    fault = faults.take_stream("POST", "/v1/tts")
    assert fault is not None
    assert (fault.mode, fault.interval, fault.content_type) == ("trickle", 0.1, None)
    ws = faults.take_ws()
    assert ws is not None
    assert (ws.mode, ws.interval) == ("trickle", 0.2)


async def test_huge_length_on_the_wire(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    """The answer announces 10 GiB and keeps sending; the emulator stops it on stop()."""
    emulator.faults.stream("GET /wallet/*", "huge-length")
    async with session.get(f"{emulator.base_url}/wallet/self/api-credit") as resp:
        assert resp.status == 200
        assert resp.content_length == 10 * 1024**3
        assert resp.content_type == "application/json"
        first = await resp.content.readexactly(1 << 20)
    assert first == b" " * (1 << 20)


def test_apply_json_infers_the_kind() -> None:
    faults = FaultInjector()
    faults.apply_json({"route": "GET /model", "status": 500, "times": 2})
    faults.apply_json({"route": "POST /v1/tts", "name": "429"})
    faults.apply_json({"after_bytes": 10})
    faults.apply_json({"route": "*", "first_byte": 0.5})
    faults.apply_json({"mode": "finish-error", "message": "boom", "after_audio_chunks": 1})
    assert [f["kind"] for f in faults.as_json()] == ["http", "http", "latency", "truncate", "ws"]
    assert faults.as_json()[2]["times"] is None  # latency lasts until cleared
    fault = faults.take_ws()
    assert fault is not None
    assert (fault.mode, fault.message, fault.after_audio_chunks) == ("finish-error", "boom", 1)
    faults.apply_json({"clear": True})
    assert faults.as_json() == []
    with pytest.raises(ValueError, match="missing field 'after_bytes'"):
        faults.apply_json({"kind": "truncate"})


@pytest.mark.parametrize("name", sorted(PRESETS))
async def test_presets_on_the_wire(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, name: str
) -> None:
    emulator.faults.preset("GET /wallet/*", name)
    url = f"{emulator.base_url}/wallet/self/api-credit"
    async with session.get(url) as resp:
        status, body = resp.status, await resp.read()
        retry_after = resp.headers.get("Retry-After")
    expected_status, expected_body, content_type, _ = PRESETS[name]
    assert status == expected_status
    if isinstance(expected_body, bytes):  # sent as is: bodies no JSON parser should load
        assert body == expected_body
    elif content_type == "application/json":
        assert json.loads(body) == expected_body
    else:
        assert body.decode() == expected_body
    assert (retry_after is not None) == (name == "429")
    # Used up: the next request is answered normally.
    async with session.get(url) as resp:
        assert resp.status == 200


async def test_fault_beats_auth_and_skips_other_routes(
    emulator: FishAudioEmulator, anonymous: aiohttp.ClientSession
) -> None:
    emulator.faults.preset("POST /v1/tts", "500", times=None)
    async with anonymous.post(f"{emulator.base_url}/v1/tts") as resp:
        assert resp.status == 500
    async with anonymous.get(f"{emulator.base_url}/model") as resp:
        assert resp.status == 401
    # Control routes are never faulted.
    emulator.faults.preset("*", "503", times=None)
    async with anonymous.get(f"{emulator.base_url}/_emulator/state") as resp:
        assert resp.status == 200


async def test_latency_fault(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    emulator.faults.latency("GET /model", 0.2, times=1)
    start = time.monotonic()
    async with session.get(f"{emulator.base_url}/model") as resp:
        assert resp.status == 200
    assert time.monotonic() - start >= 0.2
    start = time.monotonic()
    async with session.get(f"{emulator.base_url}/model") as resp:
        assert resp.status == 200
    assert time.monotonic() - start < 0.2


async def test_latency_fault_delays_an_injected_error(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.latency("*", 0.15, times=1)
    emulator.faults.preset("*", "503")
    start = time.monotonic()
    async with session.get(f"{emulator.base_url}/model") as resp:
        assert resp.status == 503
    assert time.monotonic() - start >= 0.15


async def test_latency_fault_per_chunk(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.latency("POST /v1/tts", 0.0, per_chunk=0.1)
    start = time.monotonic()
    async with session.post(
        f"{emulator.base_url}/v1/tts",
        data=ormsgpack.packb({"text": "x" * 25}),  # 1.5 s: 3 pieces, 2 gaps
        headers=MSGPACK,
    ) as resp:
        await resp.read()
    assert time.monotonic() - start >= 0.2


async def _read_into(resp: aiohttp.ClientResponse, received: bytearray) -> None:
    async for chunk in resp.content.iter_any():
        received.extend(chunk)


async def test_truncated_tts(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    emulator.faults.truncate(after_bytes=1000)
    received = bytearray()
    async with session.post(
        f"{emulator.base_url}/v1/tts",
        data=ormsgpack.packb({"text": "x" * 60}),
        headers=MSGPACK,
    ) as resp:
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await _read_into(resp, received)
    assert len(received) == 1000
    assert received[:2] == b"\xff\xfb"
    # Used up.
    async with session.post(
        f"{emulator.base_url}/v1/tts", data=ormsgpack.packb({"text": "x"}), headers=MSGPACK
    ) as resp:
        assert len(await resp.read()) > 1000


async def test_truncated_tts_at_zero_bytes(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.truncate("POST /v1/tts", after_bytes=0)
    async with session.post(
        f"{emulator.base_url}/v1/tts", data=ormsgpack.packb({"text": "hi"}), headers=MSGPACK
    ) as resp:
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


async def test_truncated_json(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    emulator.faults.truncate("GET /model", after_bytes=10)
    async with session.get(f"{emulator.base_url}/model") as resp:
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
