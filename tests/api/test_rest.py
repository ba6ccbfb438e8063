"""Wire-level tests of the REST operations against the emulator."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import ormsgpack
import pytest

from custom_components.fish_audio_suite.api import (
    Credit,
    FishAudioAuthenticationError,
    FishAudioClient,
    FishAudioConnectionError,
    FishAudioError,
    FishAudioInsufficientCreditError,
    FishAudioInvalidResponseError,
    FishAudioNotFoundError,
    FishAudioPermissionError,
    FishAudioRateLimitError,
    FishAudioRequestError,
    FishAudioResponseError,
    FishAudioServerError,
    FishAudioTimeoutError,
    Package,
    Voice,
)
from emulator.state import PackageState

from .helpers import API_KEY, USER_AGENT, assert_no_secret, free_port, wav_bytes

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from emulator import FishAudioEmulator

CREDIT_ROUTE = "GET /wallet/self/api-credit"


def own_voice_id(emulator: FishAudioEmulator) -> str:
    return next(vid for vid, v in emulator.state.voices.items() if v["author"]["_id"] == "user-1")


def other_voice_id(emulator: FishAudioEmulator) -> str:
    return next(vid for vid, v in emulator.state.voices.items() if v["author"]["_id"] != "user-1")


# ------------------------------------------------------------------ headers, session


async def test_get_credit_wire(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    credit = await client.get_credit()
    assert isinstance(credit, Credit)
    assert credit.user_id == "user-1"
    assert credit.credit == emulator.state.credit
    (rec,) = emulator.requests
    assert (rec.method, rec.path, rec.query_string) == ("GET", "/wallet/self/api-credit", "")
    assert rec.headers["Authorization"] == f"Bearer {API_KEY}"
    assert rec.headers["User-Agent"] == USER_AGENT
    assert "Content-Type" not in rec.headers
    assert "model" not in rec.headers
    assert rec.body == b""


@pytest.mark.parametrize(("flag", "query"), [(True, "true"), (False, "false")])
async def test_get_credit_check_free_credit(
    client: FishAudioClient, emulator: FishAudioEmulator, flag: bool, query: str
) -> None:
    await client.get_credit(check_free_credit=flag)
    assert emulator.requests[0].query_string == f"check_free_credit={query}"


async def test_custom_user_agent(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    async with make_client(user_agent="custom/1") as client:
        await client.get_credit()
    assert emulator.requests[0].headers["User-Agent"] == "custom/1"


async def test_injected_session_is_not_closed(
    emulator: FishAudioEmulator, socket_enabled: None
) -> None:
    async with aiohttp.ClientSession() as session:
        client = FishAudioClient(API_KEY, session=session, base_url=emulator.base_url + "/")
        assert client.base_url == emulator.base_url
        assert API_KEY not in repr(client)
        await client.get_credit()
        await client.close()
        assert not session.closed


async def test_own_session_is_closed(
    make_client: Callable[..., FishAudioClient],
) -> None:
    client = make_client()
    await client.close()  # nothing to close yet
    await client.get_credit()
    session = client._session
    assert session is not None
    await client.close()
    assert session.closed
    assert client._session is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_key": ""},
        {"base_url": "ftp://example.com"},
        {"base_url": "nohost"},
        {"request_timeout": 0},
        {"max_concurrency": 0},
        {"max_retries": -1},
    ],
)
def test_constructor_validation(kwargs: dict[str, Any]) -> None:
    api_key = kwargs.pop("api_key", API_KEY)
    with pytest.raises(ValueError):
        FishAudioClient(api_key, **kwargs)


# --------------------------------------------------------------------------- wallet


async def test_get_package(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    state = PackageState()
    emulator.state.package = state
    package = await client.get_package()
    assert isinstance(package, Package)
    assert package.user_id == "user-1"
    assert package.id == state.id
    assert (package.total, package.balance) == (state.total, state.balance)
    assert package.finished_at == state.finished_at
    assert emulator.requests[0].path == "/wallet/self/package"


async def test_get_package_none(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    emulator.state.package = None
    assert await client.get_package() is None  # the emulator answers 404
    emulator.faults.http(
        "GET /wallet/self/package", 200, body="null", content_type="application/json"
    )
    assert await client.get_package() is None
    emulator.faults.http("GET /wallet/self/package", 200, body="", content_type="application/json")
    assert await client.get_package() is None


# --------------------------------------------------------------------------- voices


async def test_list_voices_defaults(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    page = await client.list_voices()
    assert page.total >= len(page.items) > 0
    assert all(isinstance(voice, Voice) for voice in page.items)
    rec = emulator.requests[0]
    assert (rec.method, rec.path) == ("GET", "/model")
    assert rec.query_string == "page_size=10&page_number=1&self=false&sort_by=task_count"


async def test_list_voices_all_filters(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    await client.list_voices(
        page_size=20,
        page_number=2,
        title="Test",
        tags=["a", "b"],
        self_only=True,
        author_id="someone",
        language=["en", "zh"],
        title_language="en",
        sort_by="created_at",
    )
    rec = emulator.requests[0]
    assert list(rec.query.items()) == [
        ("page_size", "20"),
        ("page_number", "2"),
        ("title", "Test"),
        ("tag", "a"),
        ("tag", "b"),
        ("self", "true"),
        ("author_id", "someone"),
        ("language", "en"),
        ("language", "zh"),
        ("title_language", "en"),
        ("sort_by", "created_at"),
    ]
    assert rec.query.getall("tag") == ["a", "b"]


async def test_list_voices_filters_apply(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    page = await client.list_voices(self_only=True, page_size=100)
    assert page.items
    assert {voice.author.id for voice in page.items if voice.author} == {"user-1"}
    title = page.items[0].title
    found = await client.list_voices(title=title.upper(), self_only=True)
    assert title in [voice.title for voice in found.items]
    assert (await client.list_voices(tags="no-such-tag-anywhere")).items == ()


async def test_get_voice(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    voice_id = own_voice_id(emulator)
    voice = await client.get_voice(voice_id)
    assert voice.id == voice_id
    assert voice.author is not None
    assert voice.as_dict()["id"] == voice_id
    assert emulator.requests[0].path == f"/model/{voice_id}"
    with pytest.raises(FishAudioNotFoundError) as err:
        await client.get_voice("0" * 32)
    assert err.value.status == 404


async def test_create_voice_multipart(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    sample = wav_bytes(11)
    voice = await client.create_voice(
        title="My Voice",
        voices=[sample, sample + b"\0\0"],
        texts=["one", "two"],
        description="d",
        tags=["x"],
        cover_image=b"\x89PNG cover",
    )
    assert voice.title == "My Voice"
    assert voice.state == "trained"
    assert voice.id in emulator.state.voices
    rec = emulator.requests[0]
    assert (rec.method, rec.path) == ("POST", "/model")
    assert rec.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    # Part order of fish-audio-sdk 1.3.0 `voices.create`.
    assert [(p.name, p.filename) for p in rec.parts] == [
        ("title", None),
        ("description", None),
        ("visibility", None),
        ("type", None),
        ("train_mode", None),
        ("texts", None),
        ("texts", None),
        ("tags", None),
        ("enhance_audio_quality", None),
        ("voices", "upload"),
        ("voices", "upload"),
        ("cover_image", "upload"),
    ]
    texts = [p.text for p in rec.parts if p.filename is None]
    assert texts == ["My Voice", "d", "private", "tts", "fast", "one", "two", "x", "true"]
    files = [p for p in rec.parts if p.filename]
    assert [p.data for p in files] == [sample, sample + b"\0\0", b"\x89PNG cover"]
    assert {p.content_type for p in files} == {"application/octet-stream"}


async def test_create_voice_minimal(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    await client.create_voice(
        title="Min", voices=[wav_bytes(11)], visibility="unlist", enhance_audio_quality=False
    )
    rec = emulator.requests[0]
    assert [(p.name, p.text if p.filename is None else "<file>") for p in rec.parts] == [
        ("title", "Min"),
        ("visibility", "unlist"),
        ("type", "tts"),
        ("train_mode", "fast"),
        ("enhance_audio_quality", "false"),
        ("voices", "<file>"),
    ]


async def test_create_voice_is_never_retried(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.preset("POST /model", "503", times=None)
    with pytest.raises(FishAudioServerError):
        await client.create_voice(title="t", voices=[wav_bytes(11)])
    assert len(emulator.requests) == 1


async def test_update_voice_urlencoded(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    voice_id = own_voice_id(emulator)
    await client.update_voice(voice_id, title="New", visibility="unlist", tags=["t1", "t2"])
    rec = emulator.requests[0]
    assert (rec.method, rec.path) == ("PATCH", f"/model/{voice_id}")
    assert rec.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert rec.body == b"title=New&visibility=unlist&tags=t1&tags=t2"
    assert emulator.state.voices[voice_id]["title"] == "New"
    assert emulator.state.voices[voice_id]["visibility"] == "unlist"
    # Only the given fields are sent.
    await client.update_voice(voice_id, description="only this")
    assert emulator.requests[1].body == b"description=only+this"


async def test_update_voice_multipart_with_cover(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    voice_id = own_voice_id(emulator)
    await client.update_voice(voice_id, description="d", tags=["a"], cover_image=b"img")
    rec = emulator.requests[0]
    assert rec.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert [(p.name, p.filename, p.data) for p in rec.parts] == [
        ("description", None, b"d"),
        ("tags", None, b"a"),
        ("cover_image", "upload", b"img"),
    ]


async def test_update_other_accounts_voice(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    with pytest.raises(FishAudioPermissionError) as err:
        await client.update_voice(other_voice_id(emulator), title="mine now")
    assert err.value.status == 403


async def test_delete_voice(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    voice_id = own_voice_id(emulator)
    await client.delete_voice(voice_id)
    assert (emulator.requests[0].method, emulator.requests[0].path) == (
        "DELETE",
        f"/model/{voice_id}",
    )
    assert emulator.requests[0].body == b""
    assert voice_id not in emulator.state.voices
    with pytest.raises(FishAudioNotFoundError):
        await client.delete_voice(voice_id)


# ------------------------------------------------------------------------------ ASR


async def test_asr_wire(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    audio = wav_bytes(2.0)
    result = await client.asr(audio, language="en")
    assert result.text
    assert result.duration == pytest.approx(2.0)
    assert result.segments
    rec = emulator.requests[0]
    assert (rec.method, rec.path) == ("POST", "/v1/asr")
    assert rec.headers["Content-Type"] == "application/msgpack"
    assert rec.body == ormsgpack.packb(
        {"audio": audio, "ignore_timestamps": False, "language": "en"}
    )
    assert list(ormsgpack.unpackb(rec.body)) == ["audio", "ignore_timestamps", "language"]


async def test_asr_without_language(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    audio = wav_bytes(1.5)
    await client.asr(audio, include_timestamps=False)
    decoded = ormsgpack.unpackb(emulator.requests[0].body)
    assert decoded == {"audio": audio, "ignore_timestamps": True}
    assert list(decoded) == ["audio", "ignore_timestamps"]


async def test_asr_too_short(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    with pytest.raises(FishAudioRequestError) as err:
        await client.asr(wav_bytes(0.2))
    assert err.value.status == 422
    assert len(emulator.requests) == 1  # a 4xx is never retried


# ------------------------------------------------------------ refused before sending

type ClientCall = Callable[[FishAudioClient, FishAudioEmulator], Awaitable[Any]]


def _by_id(method: str, voice_id: str) -> ClientCall:
    return lambda client, _: getattr(client, method)(voice_id)


# What the client refuses (ValueError) before anything is sent: the API's limits and the
# shape of a voice id (an id becomes part of the path).
REFUSED_BEFORE_SENDING: dict[str, ClientCall] = {
    "list, page_size 0": lambda c, _: c.list_voices(page_size=0),
    "list, page_size 101": lambda c, _: c.list_voices(page_size=101),
    "list, page_number 0": lambda c, _: c.list_voices(page_number=0),
    "list, unknown sort": lambda c, _: c.list_voices(sort_by="name"),
    **{
        f"{name}, voice id {label}": _by_id(method, voice_id)
        for name, method in (("get", "get_voice"), ("delete", "delete_voice"))
        for label, voice_id in (
            ("empty", ""), ("../wallet", "../wallet"), ("a/b", "a/b"), ("id?x=1", "id?x=1"),
            ("of 129 characters", "x" * 129),
        )
    },
    "create, no title": lambda c, _: c.create_voice(title="", voices=[b"a"]),
    "create, no sample": lambda c, _: c.create_voice(title="t", voices=[]),
    "create, an empty sample": lambda c, _: c.create_voice(title="t", voices=[b""]),
    "create, 21 samples": lambda c, _: c.create_voice(title="t", voices=[b"a"] * 21),
    "create, 21 texts": lambda c, _: c.create_voice(title="t", voices=[b"a"], texts=["x"] * 21),
    "create, unknown visibility": lambda c, _: c.create_voice(
        title="t", voices=[b"a"], visibility="unlisted"
    ),
    "update, no field": lambda c, e: c.update_voice(own_voice_id(e)),
    "update, no tags": lambda c, e: c.update_voice(own_voice_id(e), tags=[]),
    "update, unknown visibility": lambda c, e: c.update_voice(
        own_voice_id(e), visibility="everyone"
    ),
    "asr, no audio": lambda c, _: c.asr(b""),
    "asr, over 20 MB": lambda c, _: c.asr(b"\0" * (20 * 1024 * 1024 + 1)),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSED_BEFORE_SENDING)
async def test_refused_before_sending(
    client: FishAudioClient, emulator: FishAudioEmulator, case: str
) -> None:
    with pytest.raises(ValueError):
        await REFUSED_BEFORE_SENDING[case](client, emulator)
    assert emulator.requests == []


# ------------------------------------------------------------------- error mapping

PRESETS = [
    ("401-plain", FishAudioAuthenticationError, 401, "No permission -- see authorization schemes"),
    ("401-json", FishAudioAuthenticationError, 401, "Invalid Token"),
    ("402", FishAudioInsufficientCreditError, 402, "Insufficient API credit."),
    ("403", FishAudioPermissionError, 403, "Permission denied"),
    ("404", FishAudioNotFoundError, 404, "Not Found"),
    ("422-list", FishAudioRequestError, 422, "body.text: Field required"),
    ("422-detail", FishAudioRequestError, 422, "body.text: Field required"),
    ("429", FishAudioRateLimitError, 429, "Concurrency limit exceeded"),
    ("500", FishAudioServerError, 500, "Internal Server Error"),
    ("502", FishAudioServerError, 502, "502 Bad Gateway"),
    ("503", FishAudioServerError, 503, "high load"),
    ("504", FishAudioServerError, 504, "Gateway Timeout"),
]


@pytest.mark.parametrize(("preset", "cls", "status", "text"), PRESETS)
async def test_error_presets(
    make_client: Callable[..., FishAudioClient],
    emulator: FishAudioEmulator,
    *,
    preset: str,
    cls: type[FishAudioResponseError],
    status: int,
    text: str,
) -> None:
    emulator.faults.preset(CREDIT_ROUTE, preset, times=None)
    async with make_client(max_retries=0) as client:
        with pytest.raises(cls) as err:
            await client.get_credit()
    assert type(err.value) is cls
    assert err.value.status == status
    assert text in err.value.message
    assert_no_secret(err.value)
    if preset.startswith("422"):
        assert err.value.details == [
            {"loc": ["body", "text"], "msg": "Field required", "type": "missing", "in": "body"}
        ]
    if preset == "429":
        assert isinstance(err.value, FishAudioRateLimitError)
        assert err.value.retry_after == 1.0


async def test_wrong_key(make_client: Callable[..., FishAudioClient]) -> None:
    async with make_client(api_key="wrong-key") as client:
        with pytest.raises(FishAudioAuthenticationError) as err:
            await client.get_credit()
    assert "wrong-key" not in str(err.value)


async def test_server_text_never_echoes_the_key(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.http(
        CREDIT_ROUTE,
        400,
        body=f"bad token: Bearer {API_KEY} (key={API_KEY})",
        content_type="text/plain",
    )
    with pytest.raises(FishAudioRequestError) as err:
        await client.get_credit()
    assert_no_secret(err.value)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("not json", "text/plain"),
        ("[]", "application/json"),
        ("{}", "application/json"),
        ("", "application/json"),
        ('{"user_id": "u", "credit": "lots"}', "application/json"),
    ],
)
async def test_unusable_success_body(
    client: FishAudioClient, emulator: FishAudioEmulator, body: str, content_type: str
) -> None:
    emulator.faults.http(CREDIT_ROUTE, 200, body=body, content_type=content_type)
    with pytest.raises(FishAudioInvalidResponseError):
        await client.get_credit()
    # A success status may have been billed: never retried.
    assert len(emulator.requests) == 1


# -------------------------------------------------------------------------- retries


@pytest.mark.parametrize("preset", ["429", "502", "503", "504"])
async def test_retry_then_success(
    client: FishAudioClient, emulator: FishAudioEmulator, preset: str
) -> None:
    emulator.faults.preset(CREDIT_ROUTE, preset, times=2)
    assert (await client.get_credit()).user_id == "user-1"
    assert len(emulator.requests) == 3


async def test_retries_exhausted(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    emulator.faults.preset(CREDIT_ROUTE, "503", times=None)
    with pytest.raises(FishAudioServerError):
        await client.get_credit()
    assert len(emulator.requests) == 4  # the first attempt and max_retries=3 retries


@pytest.mark.parametrize("preset", ["500", "401-plain", "402", "404", "422-list"])
async def test_no_retry(client: FishAudioClient, emulator: FishAudioEmulator, preset: str) -> None:
    emulator.faults.preset(CREDIT_ROUTE, preset, times=None)
    with pytest.raises(FishAudioResponseError):
        await client.get_credit()
    assert len(emulator.requests) == 1


@pytest.mark.parametrize(
    ("call", "route"),
    [
        (lambda c, vid: c.update_voice(vid, title="x"), "PATCH /model/*"),
        (lambda c, vid: c.update_voice(vid, cover_image=b"i"), "PATCH /model/*"),
        (lambda c, vid: c.delete_voice(vid), "DELETE /model/*"),
        (lambda c, vid: c.get_voice(vid), "GET /model/*"),
        (lambda c, vid: c.list_voices(), "GET /model"),
        (lambda c, vid: c.asr(wav_bytes(1.5)), "POST /v1/asr"),
    ],
)
async def test_idempotent_operations_retry(
    client: FishAudioClient,
    emulator: FishAudioEmulator,
    call: Callable[[FishAudioClient, str], Any],
    route: str,
) -> None:
    emulator.faults.preset(route, "503", times=1)
    await call(client, own_voice_id(emulator))
    assert len(emulator.requests) == 2
    # The multipart body is rebuilt per attempt: the retry carries the same parts.
    assert emulator.requests[0].body.count(b"Content-Disposition") == emulator.requests[
        1
    ].body.count(b"Content-Disposition")


async def test_retry_after_is_honoured(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.http(
        CREDIT_ROUTE, 429, body={"status": 429, "message": "slow"}, headers={"Retry-After": "0.3"}
    )
    async with make_client(retry_after_max=5.0) as client:
        start = time.monotonic()
        await client.get_credit()
    assert time.monotonic() - start >= 0.3
    assert len(emulator.requests) == 2


async def test_retry_after_is_capped(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.http(CREDIT_ROUTE, 429, body="", headers={"Retry-After": "3600"})
    async with make_client(retry_after_max=0.05) as client:
        start = time.monotonic()
        await client.get_credit()
    assert time.monotonic() - start < 1


async def test_backoff_grows(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.preset(CREDIT_ROUTE, "502", times=2)
    async with make_client(retry_backoff=0.1, retry_backoff_max=0.15) as client:
        start = time.monotonic()
        await client.get_credit()
    # Equal jitter: at least half of 0.1 then half of min(0.2, 0.15).
    assert time.monotonic() - start >= 0.05 + 0.075


async def test_connection_refused(make_client: Callable[..., FishAudioClient]) -> None:
    async with make_client(base_url=f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(FishAudioConnectionError) as err:
            await client.get_credit()
    assert not isinstance(err.value, FishAudioTimeoutError)
    assert_no_secret(err.value)


async def test_success_broken_off_is_not_retried(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.truncate(CREDIT_ROUTE, after_bytes=0)
    with pytest.raises(FishAudioConnectionError) as err:
        await client.get_credit()
    assert not err.value.retryable
    assert len(emulator.requests) == 1
    # The next call works: nothing was left half-read.
    assert (await client.get_credit()).user_id == "user-1"


async def test_timeout_is_not_retried(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.latency(CREDIT_ROUTE, first_byte=1.0, times=None)
    async with make_client(request_timeout=0.2) as client:
        start = time.monotonic()
        with pytest.raises(FishAudioTimeoutError) as err:
            await client.get_credit()
    assert time.monotonic() - start < 0.9
    assert isinstance(err.value, FishAudioConnectionError)
    assert len(emulator.requests) == 1


# ---------------------------------------------------------------------- concurrency


async def test_burst_queues(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.latency(CREDIT_ROUTE, first_byte=0.2, times=None)
    async with make_client(max_concurrency=2) as client:
        start = time.monotonic()
        results = await asyncio.gather(*(client.get_credit() for _ in range(5)))
        elapsed = time.monotonic() - start
    assert len(results) == 5
    # 5 requests, 2 at a time, 0.2 s each: three waves.
    assert elapsed >= 0.55
    arrivals = sorted(rec.time for rec in emulator.requests)
    assert all(
        later - earlier >= 0.15 for earlier, later in zip(arrivals, arrivals[2:], strict=False)
    )


async def test_errors_are_fish_audio_errors() -> None:
    assert issubclass(FishAudioTimeoutError, FishAudioConnectionError)
    assert issubclass(FishAudioConnectionError, FishAudioError)
