"""The client under every fault a network or a server can produce: a fault x operation table.

Each cell injects one fault in the emulator (a real server on loopback), runs one
operation, checks the error it ends with, that nothing was retried once a success status
was seen, that no concurrency slot is left held, and that the same operation then works.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.fish_audio_suite.api import (
    FishAudioClient,
    FishAudioConnectionError,
    FishAudioError,
    FishAudioInvalidResponseError,
    FishAudioServerError,
    FishAudioTextStreamError,
    FishAudioTimeoutError,
    FishAudioWebSocketError,
    TTSOptions,
)
from custom_components.fish_audio_suite.api._bounds import (
    ERROR_BODY_MAX_BYTES,
    JSON_MAX_BYTES,
    audio_bytes_max,
    stream_budget,
)
from custom_components.fish_audio_suite.api.const import (
    ERROR_MESSAGE_MAX,
    LIVE_TEXT_MAX_CHARS,
    LIVE_TEXT_TIMEOUT,
)
from custom_components.fish_audio_suite.api.live import text_bounds

from .helpers import API_KEY, assert_no_secret, drain, wav_bytes

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from emulator import FishAudioEmulator

TEXT = "Hello from the emulator, this is a test sentence."


async def _tts(client: FishAudioClient) -> bytes:
    received: list[bytes] = []
    await drain(client.tts(TEXT, TTSOptions()), received)
    return b"".join(received)


async def _asr(client: FishAudioClient) -> Any:
    return await client.asr(wav_bytes(1.5))


# name -> (route, call, is the answer audio)
OPERATIONS: dict[str, tuple[str, Callable[[FishAudioClient], Awaitable[Any]], bool]] = {
    "credit": ("GET /wallet/self/api-credit", lambda c: c.get_credit(), False),
    "package": ("GET /wallet/self/package", lambda c: c.get_package(), False),
    "list_voices": ("GET /model", lambda c: c.list_voices(), False),
    "asr": ("POST /v1/asr", _asr, False),
    "tts": ("POST /v1/tts", _tts, True),
}


def _html(emulator: FishAudioEmulator, route: str) -> None:
    emulator.faults.preset(route, "200-html")


def _deep_json(emulator: FishAudioEmulator, route: str) -> None:
    emulator.faults.preset(route, "200-deep-json")


def _empty(emulator: FishAudioEmulator, route: str) -> None:
    emulator.faults.http(route, 200, body=b"", content_type="application/json")


def _wrong_type(emulator: FishAudioEmulator, route: str) -> None:
    # A valid JSON document (and audio-like bytes) in a type the API never declares.
    emulator.faults.http(route, 200, body=b'{"total": 0, "items": []}', content_type="text/plain")


def _broken_before_body(emulator: FishAudioEmulator, route: str) -> None:
    emulator.faults.truncate(route, after_bytes=0)


def _broken_mid_body(emulator: FishAudioEmulator, route: str) -> None:
    emulator.faults.truncate(route, after_bytes=7)


def _trickle(emulator: FishAudioEmulator, route: str) -> None:
    emulator.faults.stream(route, "trickle", interval=0.05)


def _endless(emulator: FishAudioEmulator, route: str) -> None:
    emulator.faults.stream(route, "endless")


def _huge_length(emulator: FishAudioEmulator, route: str) -> None:
    emulator.faults.stream(route, "huge-length")


def _huge_error(emulator: FishAudioEmulator, route: str) -> None:
    body = "e" * (ERROR_BODY_MAX_BYTES * 40)
    emulator.faults.http(route, 500, body=body, content_type="text/plain")


# name -> (inject, error for JSON operations, error for audio operations)
type _Inject = Callable[[FishAudioEmulator, str], None]
FAULTS: dict[str, tuple[_Inject, type[Exception], type[Exception]]] = {
    "200 text/html": (_html, FishAudioInvalidResponseError, FishAudioInvalidResponseError),
    "200 deep JSON": (_deep_json, FishAudioInvalidResponseError, FishAudioInvalidResponseError),
    "200 empty": (_empty, FishAudioInvalidResponseError, FishAudioInvalidResponseError),
    "200 wrong type": (_wrong_type, FishAudioInvalidResponseError, FishAudioInvalidResponseError),
    "200 broken off before the body": (
        _broken_before_body,
        FishAudioConnectionError,
        FishAudioConnectionError,
    ),
    "200 broken off mid-body": (
        _broken_mid_body,
        FishAudioConnectionError,
        FishAudioConnectionError,
    ),
    "trickle": (_trickle, FishAudioTimeoutError, FishAudioTimeoutError),
    "endless": (_endless, FishAudioInvalidResponseError, FishAudioInvalidResponseError),
    "10 GiB announced": (
        _huge_length,
        FishAudioInvalidResponseError,
        FishAudioInvalidResponseError,
    ),
    "huge error body": (_huge_error, FishAudioServerError, FishAudioServerError),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_fault_table(
    make_client: Callable[..., FishAudioClient],
    emulator: FishAudioEmulator,
    fault: str,
    operation: str,
) -> None:
    route, call, audio = OPERATIONS[operation]
    inject, json_error, audio_error = FAULTS[fault]
    if operation == "package" and fault == "200 empty":
        pytest.skip("an empty answer is how the API says 'no package' (the SDK's tests allow it)")
    inject(emulator, route)
    expected = audio_error if audio else json_error
    # A short timeout keeps the trickle cells fast: that bound is what they test. The other
    # cells test a size or type bound, so their timeout is long enough that a loaded machine
    # reading 8 MiB of an endless answer still meets the size cap first.
    timeout = 0.5 if fault == "trickle" else 30.0
    async with make_client(request_timeout=timeout) as client:
        start = time.monotonic()
        with pytest.raises(expected) as err:
            await call(client)
        elapsed = time.monotonic() - start
        assert_no_secret(err.value)
        assert elapsed < timeout + 5
        if isinstance(err.value, FishAudioServerError):
            assert len(err.value.message) <= ERROR_MESSAGE_MAX
        # Nothing retried once the server answered (500 is not retried either).
        assert len(emulator.requests) == 1
        assert client.slots.in_use == 0
        # Recovery: the same call then works on the same client.
        emulator.faults.clear()
        await call(client)
        assert client.slots.in_use == 0


async def test_integer_overflow_is_an_unusable_answer(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.http(
        "GET /model", 200, body=b'{"total": 1e999, "items": []}', content_type="application/json"
    )
    with pytest.raises(FishAudioInvalidResponseError, match="OverflowError"):
        await client.list_voices()
    emulator.faults.preset("GET /wallet/self/package", "200-overflow")
    with pytest.raises(FishAudioInvalidResponseError):
        await client.get_package()


async def test_json_cap_is_exact(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    # A body just over the cap (whitespace, so valid JSON) is refused without a length header.
    body = b'{"total": 0, "items": []}' + b" " * JSON_MAX_BYTES
    emulator.faults.http("GET /model", 200, body=body, content_type="application/json")
    with pytest.raises(FishAudioInvalidResponseError, match="announces"):
        await client.list_voices()
    # At the cap it is read.
    body = b'{"total": 0, "items": []}'
    body += b" " * (JSON_MAX_BYTES - len(body))
    emulator.faults.http("GET /model", 200, body=body, content_type="application/json")
    assert (await client.list_voices()).total == 0


async def test_tts_cap_follows_the_text(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.stream("POST /v1/tts", "endless")
    received: list[bytes] = []
    with pytest.raises(FishAudioInvalidResponseError, match="exceeds"):
        await drain(client.tts("Hi.", TTSOptions()), received)
    cap = audio_bytes_max(3, TTSOptions())
    assert cap - 65536 <= len(b"".join(received)) <= cap
    # "Hi." can never be more than a few megabytes, in any format.
    assert audio_bytes_max(3, TTSOptions(format="wav", sample_rate=44100, speed=0.5)) < 8e6


async def test_trickle_throughput_bound(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    """A byte every 50 ms beats a 0.5 s per-read timeout but not the throughput bound."""
    emulator.faults.stream("POST /v1/tts", "trickle", interval=0.05)
    async with make_client(request_timeout=0.5) as client:
        received: list[bytes] = []
        with pytest.raises(FishAudioTimeoutError, match="too slow"):
            await drain(client.tts(TEXT, TTSOptions()), received)
    assert 3 <= len(b"".join(received)) <= 20


async def test_slow_consumer_is_not_a_slow_server(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    """Only the wait for the server counts: a consumer taking its time does not trip it."""
    async with make_client(request_timeout=0.2) as client:
        stream = client.tts(TEXT * 3, TTSOptions(), chunk_size=512)
        total = 0
        async with contextlib.aclosing(stream):
            async for chunk in stream:
                total += len(chunk)
                await asyncio.sleep(0.02)
    assert total > 0


# ------------------------------------------------------------------ live WebSocket


async def _text(*parts: str) -> AsyncIterator[str]:
    for part in parts:
        yield part


async def test_live_endless_audio_is_capped(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.ws("endless")
    received: list[bytes] = []
    with pytest.raises(FishAudioInvalidResponseError, match="exceeds"):
        await drain(client.tts_live(_text("Hello."), TTSOptions()), received)
    assert len(b"".join(received)) <= audio_bytes_max(6, TTSOptions())
    assert client.slots.in_use == 0
    assert emulator.ws_sessions[0].closed is not None or await _closed(emulator)
    assert await _speaks(client)


async def test_live_trickle_is_cut_off(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.ws("trickle", interval=0.15)
    async with make_client(request_timeout=0.4) as client:
        start = time.monotonic()
        with pytest.raises(FishAudioTimeoutError, match="too slow"):
            await drain(client.tts_live(_text("Hello."), TTSOptions()), [])
        assert time.monotonic() - start < 5
        assert client.slots.in_use == 0
        assert await _speaks(client)


async def test_live_endless_text_is_capped(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    """An LLM that never ends: the stream stops at the text cap, with the slot released."""
    closed = asyncio.Event()

    async def endless_llm() -> AsyncIterator[str]:
        try:
            while True:
                yield "and then "
                await asyncio.sleep(0)
        finally:
            closed.set()

    async with make_client(live_text_max_chars=500) as client:
        with pytest.raises(FishAudioTextStreamError, match="longer than the 500 characters"):
            await drain(client.tts_live(endless_llm(), TTSOptions()), [])
        assert closed.is_set()
        assert client.slots.in_use == 0
        await _closed(emulator)
        sent = "".join(e["text"] for e in emulator.ws_sessions[0].events if e["event"] == "text")
        assert 0 < len(sent) <= 500
        assert await _speaks(client)


async def test_live_stalled_text_is_cut_off(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    """An LLM that stops writing mid-reply: the wait for its next chunk is bounded."""
    closed = asyncio.Event()

    async def stalled_llm() -> AsyncIterator[str]:
        try:
            yield "Let me think about that, "
            await asyncio.Event().wait()  # never set
            yield "never."
        finally:
            closed.set()

    async with make_client(live_text_timeout=0.3) as client:
        received: list[bytes] = []
        with pytest.raises(FishAudioTextStreamError, match=r"no new text for 0\.3 s"):
            await drain(client.tts_live(stalled_llm(), TTSOptions()), received)
        assert closed.is_set()
        assert client.slots.in_use == 0
        await _closed(emulator)
        assert await _speaks(client)


def test_live_text_bounds_are_finite() -> None:
    """The longest text accepted gives a finite deadline and byte cap, both from _bounds.py."""
    bounds = text_bounds(LIVE_TEXT_MAX_CHARS, LIVE_TEXT_TIMEOUT, TTSOptions(), 30.0)
    assert bounds.deadline == stream_budget(LIVE_TEXT_MAX_CHARS, TTSOptions(), 30.0).deadline
    assert bounds.timeout == LIVE_TEXT_TIMEOUT
    assert bounds.deadline < 24 * 3600
    assert audio_bytes_max(LIVE_TEXT_MAX_CHARS, TTSOptions(format="wav")) < 2 * 1024**3
    with pytest.raises(ValueError, match="live_text"):
        FishAudioClient(API_KEY, live_text_max_chars=0)
    with pytest.raises(ValueError, match="live_text"):
        FishAudioClient(API_KEY, live_text_timeout=0)


@pytest.mark.parametrize("preset", ["200-html", "200-deep-json"])
async def test_live_handshake_answered_with_a_page(
    client: FishAudioClient, emulator: FishAudioEmulator, preset: str
) -> None:
    """A 200 page instead of the upgrade (a captive portal) is an unusable answer, not a
    refusal of the request ("Fish Audio rejected the request: OK")."""
    emulator.faults.preset("GET /v1/tts/live", preset)
    with pytest.raises(FishAudioInvalidResponseError, match="handshake with HTTP 200"):
        await drain(client.tts_live(_text("Hello."), TTSOptions()), [])
    assert client.slots.in_use == 0
    assert await _speaks(client)


async def _closed(emulator: FishAudioEmulator) -> bool:
    async with asyncio.timeout(5):
        await emulator.ws_sessions[0].done.wait()
    return True


async def _speaks(client: FishAudioClient) -> bool:
    received: list[bytes] = []
    await drain(client.tts_live(_text("Hello again."), TTSOptions()), received)
    return bool(received)


@pytest.mark.parametrize("mode", ["finish-error", "error-event"])
async def test_live_reasons_are_sanitised(
    client: FishAudioClient, emulator: FishAudioEmulator, mode: str
) -> None:
    """A proxy echoing the key, with newlines that would forge log lines."""
    message = f"bad request\nWARNING forged line Authorization: Bearer {API_KEY} " + "x" * 2000
    emulator.faults.ws(mode, message=message)
    with pytest.raises(FishAudioWebSocketError) as err:
        await drain(client.tts_live(_text("Hello."), TTSOptions()), [])
    text = err.value.server_message or ""
    assert text.startswith("bad request WARNING forged line")
    assert "\n" not in str(err.value)
    assert API_KEY not in str(err.value)
    assert len(text) <= ERROR_MESSAGE_MAX


# -------------------------------------------------------------- inputs refused early


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_voice("a" * 32 + "\n"),
        lambda c: c.list_voices(title="\ud800"),
        lambda c: c.list_voices(tags=["ok", "\udfff"]),
        lambda c: c.create_voice(title="t\ud800", voices=[b"x"]),
        lambda c: c.create_voice(title="t", voices=[b"x"], texts=["\ud800"]),
        lambda c: c.update_voice("a" * 32, title="\ud800"),
        lambda c: c.update_voice("a" * 32, description="\ud800", cover_image=b"i"),
        lambda c: c.asr(wav_bytes(1.5), language="\ud800"),
        lambda c: _tts_text(c, "Hi \ud800"),
        lambda c: _tts_text(c, "Hi", TTSOptions(model="s1\r\nX-Injected: 1")),
        lambda c: _tts_text(c, "Hi", TTSOptions(reference_id="../wallet")),
    ],
)
async def test_unsendable_input_is_refused_before_sending(
    client: FishAudioClient, emulator: FishAudioEmulator, call: Callable[[FishAudioClient], Any]
) -> None:
    with pytest.raises(ValueError):
        await call(client)
    assert not emulator.requests


async def test_live_unsendable_text_is_never_sent(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    """Streamed text is only known as it comes: the bad chunk is refused, none of it sent."""
    with pytest.raises(ValueError, match="not valid Unicode"):
        await drain(client.tts_live(_text("Hi \ud800"), TTSOptions()), [])
    await _closed(emulator)
    assert [e["event"] for e in emulator.ws_sessions[0].events] == ["start"]
    assert client.slots.in_use == 0


async def _tts_text(client: FishAudioClient, text: str, options: TTSOptions | None = None) -> None:
    await drain(client.tts(text, options or TTSOptions()), [])


@pytest.mark.parametrize(
    "base_url",
    ["http://user:pass@127.0.0.1:1", "http://user@127.0.0.1:1", "http://\ud800.test", "ftp://x"],
)
def test_base_url_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        FishAudioClient(API_KEY, base_url=base_url)


@pytest.mark.parametrize("key", ["", "key\n", "key with space", "ключ", 42])
def test_api_key_refused(key: Any) -> None:
    with pytest.raises(ValueError, match="api_key"):
        FishAudioClient(key)


# --------------------------------------------------------------------- concurrency


async def test_burst_against_a_lower_account_limit(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    """200 announcements, the account allowing 3 at a time and ours 5: all succeed."""
    emulator.max_concurrency = 3
    emulator.faults.latency("POST /v1/tts", first_byte=0.01, times=None)
    # The slot wait has its own test; here it only has to outlast a loaded machine's queue.
    async with make_client(max_concurrency=5, slot_timeout=120) as client:
        results = await asyncio.gather(*(_tts(client) for _ in range(200)))
        assert all(results)
        assert 1 <= client.slots.limit <= 5
        assert client.slots.in_use == 0
    refused = sum(1 for rec in emulator.requests if rec.status == 429)
    assert len(emulator.requests) == 200 + refused


async def test_fixed_limit_is_refused_more(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    """The same burst with learning off is refused far more often (benchmarks/ has numbers)."""
    emulator.max_concurrency = 3
    refused: dict[bool, int] = {}
    for adaptive in (True, False):
        emulator.reset()
        emulator.faults.latency("POST /v1/tts", first_byte=0.01, times=None)
        async with make_client(max_concurrency=5, adaptive_concurrency=adaptive) as client:
            await asyncio.gather(*(_tts(client) for _ in range(60)), return_exceptions=True)
            if not adaptive:
                assert client.slots.limit == 5
        refused[adaptive] = sum(1 for rec in emulator.requests if rec.status == 429)
    assert refused[True] < refused[False]


async def test_slot_wait_is_bounded(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    release = asyncio.Event()

    async def stalling_llm() -> AsyncIterator[str]:
        yield "Thinking"
        await release.wait()
        yield " done."

    async with make_client(max_concurrency=1, slot_timeout=0.2) as client:
        live = asyncio.create_task(drain(client.tts_live(stalling_llm(), TTSOptions()), []))
        await _until(lambda: client.slots.in_use == 1)
        start = time.monotonic()
        with pytest.raises(FishAudioTimeoutError, match="slot"):
            await client.get_credit()
        assert 0.15 <= time.monotonic() - start < 2
        assert client.slots.waiting == 0
        release.set()
        await live
        assert client.slots.in_use == 0
        assert (await client.get_credit()).user_id


async def test_live_streams_cannot_starve_other_calls(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    """Five Assist replies wait for a slow LLM; STT, an announcement and polling still run."""
    release = asyncio.Event()

    async def stalling_llm() -> AsyncIterator[str]:
        yield "Let me think about that. "
        await release.wait()
        yield "Here it is."

    async with make_client(max_concurrency=5) as client:
        lives = [
            asyncio.create_task(drain(client.tts_live(stalling_llm(), TTSOptions()), []))
            for _ in range(5)
        ]
        await _until(lambda: client.slots.live_in_use == 3 and client.slots.waiting == 2)
        start = time.monotonic()
        async with asyncio.timeout(3):
            await asyncio.gather(
                _asr(client), _tts(client), client.get_credit(), client.list_voices()
            )
        assert time.monotonic() - start < 3
        release.set()
        await asyncio.gather(*lives)
        assert client.slots.in_use == 0


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.01)


async def test_limiter_learns_and_grows_back(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    async with make_client(max_concurrency=4) as client:
        emulator.faults.preset("GET /wallet/self/api-credit", "429", times=1)
        await client.get_credit()
        # One running and refused: the account allows fewer (then one success grew it).
        assert client.slots.limit < 2
        emulator.faults.latency("GET /wallet/self/api-credit", first_byte=0.005, times=None)
        for _ in range(60):
            await asyncio.gather(*(client.get_credit() for _ in range(5)))
        assert client.slots.limit == 4  # grown back, never above the maximum


async def test_errors_keep_slots_free(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    emulator.faults.preset("*", "500", times=None)
    for _ in range(10):
        with pytest.raises(FishAudioError):
            await client.get_credit()
    assert client.slots.in_use == 0
