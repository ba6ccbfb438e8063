"""Tests of the actions, against the Fish Audio emulator over loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from homeassistant.components import media_source
from homeassistant.components.media_source import MediaSource, MediaSourceItem, PlayMedia
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockUser,
    async_fire_time_changed,
    mock_integration,
    mock_platform,
)
import voluptuous as vol

from custom_components.fish_audio_suite.api import ASR_MAX_BYTES
from custom_components.fish_audio_suite.const import (
    DOMAIN,
    USAGE_REFRESH_DELAY,
    VOICES_UPDATE_INTERVAL,
)
from custom_components.fish_audio_suite.files import WRITE_BUFFER_BYTES
from custom_components.fish_audio_suite.services import (
    COVER_IMAGE_MAX_BYTES,
    SAMPLE_MAX_BYTES,
    SAMPLES_TOTAL_MAX_BYTES,
)
from emulator import FishAudioEmulator, RecordedRequest

from .conftest import (
    INTEGRATION,
    TEST_API_KEY,
    TEST_USER_ID,
    TRANSLATIONS,
    VOICE_KEYS,
    assert_translated,
    make_wav,
    sparse_file,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

ICONS = json.loads((INTEGRATION / "icons.json").read_text())

SERVICES = [
    "list_voices",
    "get_voice",
    "create_voice",
    "update_voice",
    "delete_voice",
    "transcribe",
    "synthesize",
    "design_voice",
]
# Seed voices of the emulator (emulator/voices.py).
OWN_PRIVATE = "0f0e0d0c0b0a09080706050403020100"
OWN_PUBLIC = "1f1e1d1c1b1a19181716151413121110"
NARRATOR = "802e3bc2b27e49c2995d23ef70e6ac89"  # another account's public voice
UNKNOWN_VOICE = "ffffffffffffffffffffffffffffffff"
LONG_MESSAGE = (
    "Good evening. The washing machine has finished, the dishwasher is halfway through, "
    "and the back door has been open for ten minutes. Dinner is at seven."
)


# --------------------------------------------------------------------------- helpers


async def call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    *,
    response: bool = True,
    context: Context | None = None,
) -> Any:
    """Call one of the integration's actions and return its response."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response, context=context
    )


def posts(emulator: FishAudioEmulator, path: str) -> list[RecordedRequest]:
    """Return the write requests (POST, PATCH, DELETE) the emulator got on ``path``."""
    return [
        r
        for r in emulator.requests
        if r.method in ("POST", "PATCH", "DELETE") and r.path.startswith(path)
    ]


def parts_of(request: RecordedRequest) -> list[tuple[str | None, bytes]]:
    """Return (name, data) of each multipart part, in wire order."""
    return [(part.name, part.data) for part in request.parts]


@pytest.fixture
def sample(allowed_dir: Path) -> Path:
    """A voice sample / speech recording in the allowed directory."""
    make_wav(allowed_dir / "sample.wav")
    return allowed_dir / "sample.wav"


@pytest.fixture
async def entry(init_integration: MockConfigEntry) -> MockConfigEntry:
    """The loaded account entry."""
    return init_integration


@pytest.fixture
async def media_dir(hass: HomeAssistant, tmp_path: Path, allowed_dir: Path) -> Path:
    """Local media served by media_source (media dirs are always on the allow-list)."""
    media = tmp_path / "media"
    media.mkdir()
    hass.config.media_dirs = {"local": str(media)}
    hass.config.allowlist_external_dirs = {str(allowed_dir), str(media)}
    assert await async_setup_component(hass, media_source.DOMAIN, {})
    await hass.async_block_till_done()
    return media


# ------------------------------------------------------------------ descriptions


async def test_actions_described_translated_and_with_icons(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Every action is registered, described in services.yaml, translated and has an icon."""
    assert set(hass.services.async_services_for_domain(DOMAIN)) == set(SERVICES)
    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    for service in SERVICES:
        description = descriptions[service]
        translation = TRANSLATIONS["services"][service]
        assert translation["name"]
        assert translation["description"]
        fields: dict[str, Any] = {}
        for name, field in description["fields"].items():
            if "fields" in field:  # a section
                assert translation["sections"][name]["name"]
                assert name in ICONS["services"][service]["sections"]
                fields |= field["fields"]
            else:
                fields[name] = field
        assert set(fields) == set(translation["fields"]), service
        assert all(f["name"] and f["description"] for f in translation["fields"].values())
        assert "config_entry_id" in fields
        assert fields["config_entry_id"]["selector"] == {"config_entry": {"integration": DOMAIN}}
        assert ICONS["services"][service]["service"].startswith("mdi:")
    for key in ("sort_by", "visibility", "latency", "format"):
        assert TRANSLATIONS["selector"][key]["options"]


# ----------------------------------------------------------------- preconditions


async def test_unknown_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An unknown config entry id is a validation error."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "list_voices", {"config_entry_id": "nope"})
    assert_translated(err.value, "config_entry_not_found", entry_id="nope")


async def test_entry_of_another_domain(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An entry of another integration is refused like an unknown one."""
    other = MockConfigEntry(domain="demo", title="Other")
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_voice", {"config_entry_id": other.entry_id, "voice_id": NARRATOR})
    assert_translated(err.value, "config_entry_not_found")


async def test_entry_not_loaded(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry
) -> None:
    """An unloaded account is a validation error, and nothing is sent."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    emulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "list_voices", {"config_entry_id": entry.entry_id})
    assert_translated(err.value, "config_entry_not_loaded", account=entry.title)
    assert not emulator.requests


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("create_voice", {"title": "X", "audio": ["/nonexistent.wav"]}),
        ("update_voice", {"voice_id": OWN_PRIVATE, "title": "X"}),
        ("delete_voice", {"voice_id": OWN_PRIVATE}),
        ("synthesize", {"message": "Hi", "filename": "/media/x.mp3"}),
    ],
)
async def test_mutating_actions_are_admin_only(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    hass_read_only_user: MockUser,
    service: str,
    data: dict[str, Any],
) -> None:
    """A non-admin user cannot change the voice library or write files."""
    emulator.requests.clear()
    with pytest.raises(Unauthorized):
        await call(
            hass,
            service,
            {"config_entry_id": entry.entry_id, **data},
            response=service in ("create_voice", "synthesize"),
            context=Context(user_id=hass_read_only_user.id),
        )
    assert not emulator.requests
    assert OWN_PRIVATE in emulator.state.voices


async def test_read_actions_open_to_users(
    hass: HomeAssistant, entry: MockConfigEntry, hass_read_only_user: MockUser
) -> None:
    """Listing voices needs no admin rights."""
    result = await call(
        hass,
        "list_voices",
        {"config_entry_id": entry.entry_id},
        context=Context(user_id=hass_read_only_user.id),
    )
    assert result["total"] == 2


# -------------------------------------------------------------------- list / get


# list_voices calls: (the action's fields besides the entry; the voices listed, by title in the
# answer's order; the total; the query the API got, each key with all its values; keys the
# query must not have).
LIST_CALLS: dict[str, tuple[dict[str, Any], list[str], int, dict[str, list[str]], set[str]]] = {
    # By default the account's own voices, with the API's paging defaults.
    "defaults": (
        {},
        ["My Shared Voice", "My Kitchen Voice"],
        2,
        {"self": ["true"], "page_size": ["10"], "page_number": ["1"], "sort_by": ["task_count"]},
        {"title", "tag", "language"},
    ),
    # Every field reaches the query string.
    "every filter": (
        {
            "self_only": False,
            "title": "host",
            "tags": ["podcast", "energetic"],
            "language": "en",
            "sort_by": "score",
            "page_size": 5,
            "page_number": 1,
        },
        ["Energetic Host"],
        1,
        {
            "self": ["false"],
            "title": ["host"],
            "tag": ["podcast", "energetic"],
            "language": ["en"],
            "sort_by": ["score"],
            "page_size": ["5"],
            "page_number": ["1"],
        },
        set(),
    ),
    # page_number selects a later page: of the five public voices (the own private one is
    # not listed), newest first, the oldest.
    "second page": (
        {"self_only": False, "sort_by": "created_at", "page_size": 4, "page_number": 2},
        ["Documentary Narrator"],
        5,
        {"self": ["false"], "sort_by": ["created_at"], "page_size": ["4"], "page_number": ["2"]},
        {"title", "tag", "language"},
    ),
}


@pytest.mark.parametrize("case", LIST_CALLS)
async def test_list_voices(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, case: str
) -> None:
    """Each call's fields become the API's query; the answer is the voices, JSON-ready."""
    data, titles, total, query, absent = LIST_CALLS[case]
    result = await call(hass, "list_voices", {"config_entry_id": entry.entry_id, **data})
    json.dumps(result)  # a response must be JSON-serialisable
    assert [v["title"] for v in result["voices"]] == titles
    assert result["total"] == total
    for voice in result["voices"]:
        assert set(voice) >= VOICE_KEYS
    if data.get("self_only", True):
        assert {v["author"]["id"] for v in result["voices"]} == {TEST_USER_ID}
    request = emulator.requests[-1]
    assert request.path == "/model"
    assert {key: request.query.getall(key) for key in query} == query
    assert not absent & set(request.query)


@pytest.mark.parametrize(
    "data",
    [
        {"page_size": 0},
        {"page_size": 101},
        {"page_number": 0},
        {"sort_by": "likes"},
    ],
)
async def test_list_voices_invalid(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, data: dict[str, Any]
) -> None:
    """Out-of-range paging and unknown sort orders are refused before any request."""
    emulator.requests.clear()
    with pytest.raises(vol.Invalid):
        await call(hass, "list_voices", {"config_entry_id": entry.entry_id, **data})
    assert not emulator.requests


async def test_get_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry
) -> None:
    """A public voice of another account can be read."""
    result = await call(
        hass, "get_voice", {"config_entry_id": entry.entry_id, "voice_id": NARRATOR}
    )
    json.dumps(result)
    voice = result["voice"]
    assert set(voice) >= VOICE_KEYS
    assert voice["id"] == NARRATOR
    assert voice["title"] == "Documentary Narrator"
    assert voice["author"]["nickname"] == "Storyteller"
    assert voice["created_at"].startswith("2024-03-01")
    assert emulator.requests[-1].path == f"/model/{NARRATOR}"


# ------------------------------------------------------------------------ create


async def test_create_voice_every_field(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
) -> None:
    """Every field goes into the multipart upload, in the SDK's part order."""
    first = make_wav(allowed_dir / "one.wav", 1.0)
    second = make_wav(allowed_dir / "two.wav", 2.0)
    cover = allowed_dir / "cover.png"
    cover.write_bytes(b"\x89PNG\r\n\x1a\nfake image")
    result = await call(
        hass,
        "create_voice",
        {
            "config_entry_id": entry.entry_id,
            "title": "Kitchen",
            "audio": [str(allowed_dir / "one.wav"), str(allowed_dir / "two.wav")],
            "texts": ["Dinner is ready.", "Come and eat."],
            "description": "Two samples",
            "tags": ["home", "kitchen"],
            "visibility": "public",
            "enhance_audio_quality": False,
            "cover_image": str(cover),
        },
    )
    json.dumps(result)
    voice = result["voice"]
    assert set(voice) >= VOICE_KEYS
    assert voice["title"] == "Kitchen"
    assert voice["visibility"] == "public"
    assert voice["tags"] == ["home", "kitchen"]
    assert voice["id"] in emulator.state.voices
    (request,) = posts(emulator, "/model")
    assert parts_of(request) == [
        ("title", b"Kitchen"),
        ("description", b"Two samples"),
        ("visibility", b"public"),
        ("type", b"tts"),
        ("train_mode", b"fast"),
        ("texts", b"Dinner is ready."),
        ("texts", b"Come and eat."),
        ("tags", b"home"),
        ("tags", b"kitchen"),
        ("enhance_audio_quality", b"false"),
        ("voices", first),
        ("voices", second),
        ("cover_image", cover.read_bytes()),
    ]
    assert request.parts[-2].filename == "upload"
    # The voice picker and Assist's voice list see the new voice at once.
    assert voice["id"] in {v.id for v in entry.runtime_data.voices.data}
    assert emulator.requests[-1].method == "GET"
    assert emulator.requests[-1].query["self"] == "true"
    assert emulator.requests[-1].query["page_size"] == "100"


async def test_create_voice_defaults(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, sample: Path
) -> None:
    """Without optional fields: private, enhanced, no transcripts, tags or cover."""
    await call(
        hass,
        "create_voice",
        {"config_entry_id": entry.entry_id, "title": "Plain", "audio": str(sample)},
        response=False,
    )
    (request,) = posts(emulator, "/model")
    assert parts_of(request) == [
        ("title", b"Plain"),
        ("visibility", b"private"),
        ("type", b"tts"),
        ("train_mode", b"fast"),
        ("enhance_audio_quality", b"true"),
        ("voices", sample.read_bytes()),
    ]
    assert len(entry.runtime_data.voices.data) == 3


async def test_create_voice_from_local_media(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, media_dir: Path
) -> None:
    """A media-source id of local media is read from its file."""
    (media_dir / "voices").mkdir()
    data = make_wav(media_dir / "voices" / "me.wav")
    await call(
        hass,
        "create_voice",
        {
            "config_entry_id": entry.entry_id,
            "title": "From media",
            "audio": ["media-source://media_source/local/voices/me.wav"],
        },
    )
    (request,) = posts(emulator, "/model")
    assert ("voices", data) in parts_of(request)


def _too_big_together(folder: Path) -> list[str]:
    """Three samples, each under the per-file cap, over the total cap together."""
    size = SAMPLES_TOTAL_MAX_BYTES // 3 + 1
    assert size <= SAMPLE_MAX_BYTES
    return [str(sparse_file(folder / f"{i}.wav", size)) for i in range(3)]


# What create_voice refuses before it reads or sends anything: (the call's data from the
# good sample and the allowed folder, the error's key, its placeholders).
REFUSED_BEFORE_UPLOAD: dict[
    str, tuple[Callable[[str, Path], dict[str, Any]], str, dict[str, str]]
] = {
    "no sample": (lambda good, _: {"audio": []}, "audio_count", {"count": "0", "max": "20"}),
    "21 samples": (
        lambda good, _: {"audio": [good] * 21},
        "audio_count",
        {"count": "21", "max": "20"},
    ),
    # One transcript per sample, or none.
    "2 samples, 1 text": (
        lambda good, _: {"audio": [good, good], "texts": ["Only one."]},
        "texts_count_mismatch",
        {"audio": "2", "texts": "1"},
    ),
    "over the total cap": (
        lambda _, folder: {"audio": _too_big_together(folder)},
        "audio_too_large",
        {"max_mb": "50"},
    ),
    # The cover image is checked (and capped) before the upload as well.
    "cover too large": (
        lambda good, folder: {
            "audio": [good],
            "cover_image": str(sparse_file(folder / "cover.png", COVER_IMAGE_MAX_BYTES + 1)),
        },
        "file_too_large",
        {"max_mb": "5"},
    ),
}


@pytest.mark.parametrize("case", REFUSED_BEFORE_UPLOAD)
async def test_create_voice_refused_before_upload(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    sample: Path,
    case: str,
) -> None:
    """Bad counts and sizes are refused, translated, before anything is read or sent; the
    same action with good input then creates the voice."""
    data, key, placeholders = REFUSED_BEFORE_UPLOAD[case]
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "create_voice",
            {"config_entry_id": entry.entry_id, "title": "X", **data(str(sample), allowed_dir)},
        )
    assert_translated(err.value, key, **placeholders)
    assert not posts(emulator, "/model")
    await call(
        hass,
        "create_voice",
        {"config_entry_id": entry.entry_id, "title": "X", "audio": [str(sample)]},
    )
    assert len(posts(emulator, "/model")) == 1


@pytest.mark.parametrize(
    ("bad", "key"),
    [("symlink_escape", "path_not_allowed"), ("oversize", "file_too_large")],
)
async def test_create_voice_rejected_file(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    outside_dir: Path,
    sample: Path,
    bad: str,
    key: str,
) -> None:
    """One bad file among good ones: nothing is uploaded, no voice is created.

    Every kind of bad file is in test_files.py; these two show the action checks all of
    its files before the API is called.
    """
    if bad == "symlink_escape":
        secret = outside_dir / "secret.wav"
        make_wav(secret)
        (allowed_dir / "link.wav").symlink_to(secret)
        path = str(allowed_dir / "link.wav")
    else:
        path = str(sparse_file(allowed_dir / "big.wav", SAMPLE_MAX_BYTES + 1))
    voices_before = dict(emulator.state.voices)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "create_voice",
            {"config_entry_id": entry.entry_id, "title": "X", "audio": [str(sample), path]},
        )
    assert_translated(err.value, key, path=path)
    assert not posts(emulator, "/model")
    assert emulator.state.voices == voices_before


# ----------------------------------------------------------------- media source


class _RemoteSource(MediaSource):
    """A media source whose media is only a URL (like a camera or a radio stream)."""

    name = "Remote"

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        return PlayMedia("https://example.com/stream.mp3", "audio/mpeg")


class _Media(NamedTuple):
    """Where a refused recording comes from."""

    hass: HomeAssistant
    media: Path  # the "local" media folder
    allowed: Path
    outside: Path


async def _remote_media(m: _Media) -> str:
    # A media source of another integration, registered as integrations do: through the
    # media_source platform of a loaded integration.
    async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
        return _RemoteSource("remote_test")

    mock_integration(m.hass, MockModule("remote_test"))
    mock_platform(
        m.hass,
        "remote_test.media_source",
        SimpleNamespace(async_get_media_source=async_get_media_source),
    )
    assert await async_setup_component(m.hass, "remote_test", {})
    return "media-source://remote_test/stream"


async def _media_linking_out(m: _Media) -> str:
    secret = m.outside / "secret.wav"
    make_wav(secret)
    (m.media / "escape.wav").symlink_to(secret)
    return "media-source://media_source/local/escape.wav"


async def _too_large(m: _Media) -> str:
    return str(sparse_file(m.allowed / "long.wav", ASR_MAX_BYTES + 1))


async def _unresolvable(_: _Media) -> str:
    return "media-source://media_source/nope/x.wav"


# transcribe refused before the upload: (the recording, made from the places; the key;
# which placeholders name the recording, and the others).
TRANSCRIBE_REFUSALS: dict[
    str, tuple[Callable[[_Media], Awaitable[str]], str, tuple[str, ...], dict[str, str]]
] = {
    "unresolvable media": (_unresolvable, "media_unresolvable", ("media_id",), {}),
    "remote media": (_remote_media, "media_not_local", ("media_id",), {}),
    "media linking out": (_media_linking_out, "path_not_allowed", (), {}),
    # Above the API's 20 MB limit.
    "too large": (_too_large, "file_too_large", ("path",), {"max_mb": "20"}),
}


@pytest.mark.parametrize("case", TRANSCRIBE_REFUSALS)
async def test_transcribe_refused_then_recovery(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    media_dir: Path,
    allowed_dir: Path,
    outside_dir: Path,
    sample: Path,
    case: str,
) -> None:
    """Unresolvable, remote, escaping and oversized recordings are refused with clear
    errors before anything is uploaded; a good recording is then transcribed."""
    make, key, naming, placeholders = TRANSCRIBE_REFUSALS[case]
    audio = await make(_Media(hass, media_dir, allowed_dir, outside_dir))
    data = {"config_entry_id": entry.entry_id}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "transcribe", {**data, "audio": audio})
    assert_translated(err.value, key, **dict.fromkeys(naming, audio), **placeholders)
    assert not posts(emulator, "/v1/asr")

    result = await call(hass, "transcribe", {**data, "audio": str(sample)})
    assert result["text"]
    assert len(posts(emulator, "/v1/asr")) == 1


async def test_media_source_not_loaded(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry
) -> None:
    """Without media_source, a media-source id cannot be resolved."""
    assert media_source.DOMAIN not in hass.config.components
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "transcribe",
            {"config_entry_id": entry.entry_id, "audio": "media-source://media_source/local/a.wav"},
        )
    assert_translated(err.value, "media_unresolvable")


# ------------------------------------------------------------------------ update


async def test_update_voice_every_field(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry
) -> None:
    """Without a cover image the update is url-encoded, and the cached list follows."""
    await call(
        hass,
        "update_voice",
        {
            "config_entry_id": entry.entry_id,
            "voice_id": OWN_PRIVATE,
            "title": "Renamed",
            "description": "New text",
            "tags": ["a", "b"],
            "visibility": "unlist",
        },
        response=False,
    )
    (request,) = posts(emulator, "/model")
    assert request.method == "PATCH"
    assert request.path == f"/model/{OWN_PRIVATE}"
    assert parse_qs(request.body.decode()) == {
        "title": ["Renamed"],
        "description": ["New text"],
        "visibility": ["unlist"],
        "tags": ["a", "b"],
    }
    voice = emulator.state.voices[OWN_PRIVATE]
    assert (voice["title"], voice["visibility"], voice["tags"]) == ("Renamed", "unlist", ["a", "b"])
    cached = {v.id: v for v in entry.runtime_data.voices.data}
    assert cached[OWN_PRIVATE].title == "Renamed"


async def test_update_voice_only_given_fields(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry
) -> None:
    """Fields not given are not sent (and so not cleared)."""
    await call(
        hass,
        "update_voice",
        {"config_entry_id": entry.entry_id, "voice_id": OWN_PRIVATE, "title": "Only"},
        response=False,
    )
    (request,) = posts(emulator, "/model")
    assert parse_qs(request.body.decode()) == {"title": ["Only"]}
    assert emulator.state.voices[OWN_PRIVATE]["tags"] == ["home", "clone"]


async def test_update_voice_cover_image(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """With a cover image the update is multipart."""
    cover = allowed_dir / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    await call(
        hass,
        "update_voice",
        {
            "config_entry_id": entry.entry_id,
            "voice_id": OWN_PRIVATE,
            "visibility": "public",
            "cover_image": str(cover),
        },
        response=False,
    )
    (request,) = posts(emulator, "/model")
    assert parts_of(request) == [("visibility", b"public"), ("cover_image", cover.read_bytes())]
    assert emulator.state.voices[OWN_PRIVATE]["cover_image"] == f"coverimage/{OWN_PRIVATE}"


# ------------------------------------------------------------------------ delete


async def test_delete_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry
) -> None:
    """The voice is deleted and leaves the cached list."""
    await call(
        hass,
        "delete_voice",
        {"config_entry_id": entry.entry_id, "voice_id": OWN_PRIVATE},
        response=False,
    )
    (request,) = posts(emulator, "/model")
    assert (request.method, request.path) == ("DELETE", f"/model/{OWN_PRIVATE}")
    assert OWN_PRIVATE not in emulator.state.voices
    assert [v.id for v in entry.runtime_data.voices.data] == [OWN_PUBLIC]


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("create_voice", {"title": "Listed later"}),
        ("update_voice", {"voice_id": OWN_PUBLIC, "title": "Renamed later"}),
        ("delete_voice", {"voice_id": OWN_PUBLIC}),
    ],
)
async def test_voice_action_refresh_failure_then_recovery(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    sample: Path,
    action: str,
    fields: dict[str, Any],
) -> None:
    """The change succeeded, so a failed re-list is no error; the list catches up later."""
    voices = entry.runtime_data.voices
    before = voices.data
    emulator.faults.http("GET /model", 500)
    data = {"config_entry_id": entry.entry_id, **fields}
    if action == "create_voice":
        data["audio"] = [str(sample)]
    await call(hass, action, data, response=action == "create_voice")
    assert emulator.requests[-1].status == 500
    assert voices.data == before  # nothing patched by hand
    assert not voices.last_update_success
    # Recovery: the coordinator's next poll lists the change.
    async_fire_time_changed(hass, dt_util.utcnow() + VOICES_UPDATE_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert voices.last_update_success
    own = {
        v["_id"]: v["title"]
        for v in emulator.state.voices.values()
        if v["author"]["_id"] == TEST_USER_ID
    }
    assert {v.id: v.title for v in voices.data} == own
    assert voices.data != before


def _outside_cover(outside: Path) -> str:
    cover = outside / "cover.png"
    cover.write_bytes(b"png")
    return str(cover)


# Voice actions refused: (action, its data besides the entry, from the folder outside the
# allow-list; refused before any request (ServiceValidationError) or by the server; the
# error's key and placeholders).
type VoiceCall = Callable[[Path], dict[str, Any]]
VOICE_ACTION_REFUSALS: dict[str, tuple[str, VoiceCall, bool, str, dict[str, str]]] = {
    # A 404 names the voice.
    "get unknown": (
        "get_voice", lambda _: {"voice_id": UNKNOWN_VOICE}, False,
        "voice_not_found", {"voice_id": UNKNOWN_VOICE},
    ),
    # An id that cannot be a Fish Audio id is refused without a request.
    "get malformed id": (
        "get_voice", lambda _: {"voice_id": "../wallet"}, True,
        "invalid_voice_id", {"voice_id": "../wallet"},
    ),
    "update without a field": (
        "update_voice", lambda _: {"voice_id": OWN_PRIVATE}, True,
        "nothing_to_update", {"voice_id": OWN_PRIVATE},
    ),
    # A cover image outside the allow-list stops the update before it is sent.
    "update cover outside": (
        "update_voice",
        lambda outside: {
            "voice_id": OWN_PRIVATE, "title": "X", "cover_image": _outside_cover(outside)
        },
        True, "path_not_allowed", {},
    ),
    "update unknown (404)": (
        "update_voice", lambda _: {"voice_id": UNKNOWN_VOICE, "title": "X"}, False,
        "voice_not_found", {},
    ),
    "update another account's (403)": (
        "update_voice", lambda _: {"voice_id": NARRATOR, "title": "X"}, False,
        "permission_denied", {},
    ),
    "delete unknown": (
        "delete_voice", lambda _: {"voice_id": UNKNOWN_VOICE}, False,
        "voice_not_found", {"voice_id": UNKNOWN_VOICE},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", VOICE_ACTION_REFUSALS)
async def test_voice_action_refused(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    outside_dir: Path,
    case: str,
) -> None:
    """Each refusal is its translated error and changes nothing (the server's voices, the
    cached list); a good call of the same action then works."""
    service, data, before_request, key, placeholders = VOICE_ACTION_REFUSALS[case]
    voices_before = {k: dict(v) for k, v in emulator.state.voices.items()}
    emulator.requests.clear()
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            service,
            {"config_entry_id": entry.entry_id, **data(outside_dir)},
            response=service == "get_voice",
        )
    assert isinstance(err.value, ServiceValidationError) is before_request
    assert_translated(err.value, key, **placeholders)
    if before_request:
        assert not emulator.requests
    assert emulator.state.voices == voices_before
    assert len(entry.runtime_data.voices.data) == 2
    good = {"voice_id": OWN_PRIVATE, **({"title": "Renamed"} if service == "update_voice" else {})}
    await call(
        hass,
        service,
        {"config_entry_id": entry.entry_id, **good},
        response=service == "get_voice",
    )
    assert emulator.requests


# ------------------------------------------------------------- refused by the server


class _Refusal(NamedTuple):
    """An action the API refuses: the call, the fault, what the user meets, the recovery."""

    action: str
    data: Callable[[str], dict[str, Any]]  # fields besides the entry, from the sample's path
    inject: Callable[[FishAudioEmulator], None]
    key: str
    placeholders: dict[str, str]
    starts: str | None  # "reauth" (a refused key) or "credit issue" (HTTP 402)
    good: Callable[[str], dict[str, Any]] | None = None  # the recovering call, if other data
    restore: Callable[[FishAudioEmulator], None] = lambda emulator: emulator.faults.clear()


def _revoke(emulator: FishAudioEmulator) -> None:
    emulator.state.revoke_api_key(TEST_API_KEY)


def _no_credit(emulator: FishAudioEmulator) -> None:
    emulator.state.credit = Decimal(0)


SERVER_REFUSALS: dict[str, _Refusal] = {
    "list 401": _Refusal(
        "list_voices", lambda _: {},
        lambda emulator: emulator.faults.preset("GET /model", "401-plain"),
        "auth_failed", {}, "reauth",
    ),
    "transcribe, key revoked": _Refusal(
        "transcribe", lambda sample: {"audio": sample}, _revoke, "auth_failed", {}, "reauth",
        restore=lambda emulator: emulator.state.add_api_key(TEST_API_KEY),
    ),
    "create 402": _Refusal(
        "create_voice", lambda sample: {"title": "X", "audio": [sample]},
        lambda emulator: emulator.faults.preset("POST /model", "402"),
        "insufficient_credit", {}, "credit issue",
    ),
    "transcribe, no credit": _Refusal(
        "transcribe", lambda sample: {"audio": sample}, _no_credit,
        "insufficient_credit", {}, "credit issue",
        restore=lambda emulator: setattr(emulator.state, "credit", Decimal(10)),
    ),
    # The emulator's own 422 (a public voice needs a cover image): the server's text is shown.
    "create public without a cover (422)": _Refusal(
        "create_voice",
        lambda sample: {"title": "X", "audio": [sample], "visibility": "public"},
        lambda _: None,
        "invalid_request", {"status": "422"}, None,
        good=lambda sample: {"title": "X", "audio": [sample]},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", SERVER_REFUSALS)
async def test_server_refusal_then_recovery(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    sample: Path,
    case: str,
) -> None:
    """A refusal of the API is its translated error with its one consequence (reauth, the
    credit repair issue, or none) and changes no voice; with the cause gone the action works."""
    refusal = SERVER_REFUSALS[case]
    voices_before = {k: dict(v) for k, v in emulator.state.voices.items()}
    refusal.inject(emulator)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, refusal.action, {"config_entry_id": entry.entry_id, **refusal.data(str(sample))}
        )
    await hass.async_block_till_done()
    assert not isinstance(err.value, ServiceValidationError)  # the server said no
    assert_translated(err.value, refusal.key, **refusal.placeholders)
    if refusal.key == "invalid_request":
        assert err.value.translation_placeholders is not None
        assert "cover_image" in err.value.translation_placeholders["message"]
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == (
        [SOURCE_REAUTH] if refusal.starts == "reauth" else []
    )
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"insufficient_credit_{entry.entry_id}")
    assert (issue is not None) is (refusal.starts == "credit issue")
    assert emulator.state.voices == voices_before
    assert len(entry.runtime_data.voices.data) == 2

    refusal.restore(emulator)
    good = (refusal.good or refusal.data)(str(sample))
    result = await call(hass, refusal.action, {"config_entry_id": entry.entry_id, **good})
    assert result


# -------------------------------------------------------------------- transcribe


async def test_transcribe(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    sample: Path,
) -> None:
    """The file is sent as msgpack; text, duration and segments come back; credit refreshes."""
    emulator.state.asr_text = "Turn on the kitchen lights."
    result = await call(
        hass,
        "transcribe",
        {"config_entry_id": entry.entry_id, "audio": str(sample), "language": "en"},
    )
    json.dumps(result)
    assert set(result) == {"text", "duration", "segments"}
    assert result["text"] == "Turn on the kitchen lights."
    assert result["duration"] == pytest.approx(1.5)
    assert result["segments"]
    assert {"text", "start", "end"} == set(result["segments"][0])
    (request,) = posts(emulator, "/v1/asr")
    assert request.decoded == {
        "audio": sample.read_bytes(),
        "ignore_timestamps": False,
        "language": "en",
    }
    # Usage makes the credit sensor refresh soon after.
    await hass.async_block_till_done()
    credit_reads = sum(r.path.endswith("/api-credit") for r in emulator.requests)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=USAGE_REFRESH_DELAY + 1))
    await hass.async_block_till_done()
    assert sum(r.path.endswith("/api-credit") for r in emulator.requests) == credit_reads + 1


async def test_transcribe_without_timestamps_or_language(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, media_dir: Path
) -> None:
    """No language means detection; no timestamps means no segments."""
    data = make_wav(media_dir / "memo.wav", 2.0)
    result = await call(
        hass,
        "transcribe",
        {
            "config_entry_id": entry.entry_id,
            "audio": "media-source://media_source/local/memo.wav",
            "include_timestamps": False,
        },
    )
    assert result["segments"] == []
    assert result["duration"] == pytest.approx(2.0)
    (request,) = posts(emulator, "/v1/asr")
    assert request.decoded == {"audio": data, "ignore_timestamps": True}


# -------------------------------------------------------------------- synthesize


def _tts_entity(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Return the entity id of the entry's TTS entity (unique id: the subentry id)."""
    (subentry,) = entry.subentries.values()
    entity_id = er.async_get(hass).async_get_entity_id("tts", DOMAIN, subentry.subentry_id)
    assert entity_id is not None
    return entity_id


async def test_synthesize_with_entity(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """The entity's voice settings are used, changed by explicit fields; the file is whole."""
    (subentry,) = entry.subentries.values()
    target = allowed_dir / "hello.wav"
    result = await call(
        hass,
        "synthesize",
        {
            "config_entry_id": entry.entry_id,
            "entity_id": _tts_entity(hass, entry),
            "message": LONG_MESSAGE,
            "filename": str(target),
            "format": "wav",
            "speed": 1.25,
        },
    )
    json.dumps(result)
    data = target.read_bytes()
    assert result == {"path": str(target), "format": "wav", "bytes": len(data)}
    assert len(data) > 2 * WRITE_BUFFER_BYTES  # written in several pieces
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    (request,) = posts(emulator, "/v1/tts")
    assert request.decoded["text"] == LONG_MESSAGE
    assert request.decoded["reference_id"] == subentry.data["voice_id"]
    assert request.decoded["format"] == "wav"
    assert request.decoded["prosody"]["speed"] == 1.25
    assert request.decoded["latency"] == subentry.data["latency"]
    assert request.model == subentry.data["model"]
    assert [p.name for p in allowed_dir.iterdir()] == ["hello.wav"]  # no temporary file left


async def test_synthesize_explicit_settings(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """Without an entity every setting comes from the call; an existing file is replaced."""
    target = allowed_dir / "out.pcm"
    target.write_bytes(b"old content")
    result = await call(
        hass,
        "synthesize",
        {
            "config_entry_id": entry.entry_id,
            "message": "Public voice, free model.",
            "filename": str(target),
            "voice_id": NARRATOR,
            "model": "s2.1-pro-free",
            "latency": "low",
            "speed": 0.8,
            "volume": -3,
            "temperature": 0.5,
            "top_p": 0.4,
            "normalize": False,
            "format": "pcm",
        },
    )
    assert result["format"] == "pcm"
    assert result["bytes"] == target.stat().st_size > 0
    assert target.read_bytes() != b"old content"
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    (request,) = posts(emulator, "/v1/tts")
    body = request.decoded
    assert request.model == "s2.1-pro-free"
    assert (body["reference_id"], body["latency"], body["format"]) == (NARRATOR, "low", "pcm")
    assert body["prosody"] == {"speed": 0.8, "volume": -3.0, "normalize_loudness": True}
    assert (body["temperature"], body["top_p"], body["normalize"]) == (0.5, 0.4, False)


async def test_synthesize_default_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """Neither entity nor settings: Fish Audio's default voice with the default settings."""
    result = await call(
        hass,
        "synthesize",
        {
            "config_entry_id": entry.entry_id,
            "message": "Default voice.",
            "filename": str(allowed_dir / "default.mp3"),
        },
    )
    assert result["format"] == "mp3"
    (request,) = posts(emulator, "/v1/tts")
    assert "reference_id" not in request.decoded
    assert request.model == "s2.1-pro"


class _Places(NamedTuple):
    """What a refused synthesize call is made from."""

    hass: HomeAssistant
    entry: MockConfigEntry
    allowed: Path
    outside: Path


def _other_platform_entity(p: _Places) -> dict[str, Any]:
    return {"entity_id": er.async_get(p.hass).async_get_or_create("tts", "demo", "x").entity_id}


def _stt_entity(p: _Places) -> dict[str, Any]:
    registry = er.async_get(p.hass)
    return {
        "entity_id": registry.async_get_or_create(
            "stt", DOMAIN, "stt-x", config_entry=p.entry
        ).entity_id
    }


def _other_account_entity(p: _Places) -> dict[str, Any]:
    other_entry = MockConfigEntry(domain=DOMAIN, title="Other account", unique_id="user-2")
    other_entry.add_to_hass(p.hass)
    registry = er.async_get(p.hass)
    return {
        "entity_id": registry.async_get_or_create(
            "tts", DOMAIN, "other-subentry", config_entry=other_entry
        ).entity_id
    }


def _target_through_a_link(p: _Places) -> dict[str, Any]:
    (p.allowed / "linkdir").symlink_to(p.outside, target_is_directory=True)
    return {"filename": str(p.allowed / "linkdir" / "x.mp3")}


def _refused_stored_settings(p: _Places) -> dict[str, Any]:
    # A voice whose stored settings the API would refuse (the entry reloads with them).
    (subentry,) = p.entry.subentries.values()
    p.hass.config_entries.async_update_subentry(
        p.entry, subentry, data={**subentry.data, "speed": 5.0}
    )
    return {"entity_id": _tts_entity(p.hass, p.entry)}


# synthesize refused before any audio is paid for: (what the call changes, made from the
# places; the translation key, None for the schema's own refusal; which fields of the change
# the error names). Every bad target: test_files.py.
type SynthesizeChange = Callable[[_Places], dict[str, Any]]
SYNTHESIZE_REFUSALS: dict[str, tuple[SynthesizeChange, str | None, tuple[str, ...]]] = {
    # Only this account's own TTS entities lend their voice.
    "unknown entity": (
        lambda _: {"entity_id": "tts.does_not_exist"}, "not_a_voice_entity", ("entity_id",)
    ),
    "another platform's TTS entity": (
        _other_platform_entity, "not_a_voice_entity", ("entity_id",)
    ),
    "a speech-to-text entity": (_stt_entity, "not_a_voice_entity", ("entity_id",)),
    "another account's voice": (_other_account_entity, "entity_not_in_entry", ("entity_id",)),
    "empty message": (lambda _: {"message": "   "}, "empty_message", ()),
    "speed out of range": (lambda _: {"speed": 3}, None, ()),
    "target through a link out": (_target_through_a_link, "path_not_allowed", ()),
    "stored settings the API refuses": (_refused_stored_settings, "invalid_voice_settings", ()),
}  # fmt: skip


@pytest.mark.parametrize("case", SYNTHESIZE_REFUSALS)
async def test_synthesize_refused_then_recovery(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    outside_dir: Path,
    case: str,
) -> None:
    """Each refusal comes before any audio is paid for and writes nothing; a good call then
    writes the file."""
    change, key, named = SYNTHESIZE_REFUSALS[case]
    target = allowed_dir / "x.mp3"
    good = {"config_entry_id": entry.entry_id, "message": "Hi", "filename": str(target)}
    data = change(_Places(hass, entry, allowed_dir, outside_dir))
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError if key else vol.Invalid) as err:
        await call(hass, "synthesize", {**good, **data})
    if key is not None:
        assert isinstance(err.value, ServiceValidationError)
        assert_translated(err.value, key, **{name: data[name] for name in named})
    assert not posts(emulator, "/v1/tts")
    assert not [path for path in allowed_dir.rglob("*") if path.is_file()]
    assert not list(outside_dir.iterdir())

    result = await call(hass, "synthesize", good)
    assert result["bytes"] == target.stat().st_size > 0
    assert len(posts(emulator, "/v1/tts")) == 1


def _revoke_key(emulator: FishAudioEmulator) -> None:
    emulator.state.revoke_api_key(TEST_API_KEY)


def _unknown_reference(emulator: FishAudioEmulator) -> None:
    emulator.state.unknown_reference_status = 404


# synthesize failing at the API: (the fault, how it goes away, the voice asked for, the
# translation key and placeholders).
type EmulatorChange = Callable[[FishAudioEmulator], None]
SYNTHESIZE_FAILURES: dict[str, tuple[EmulatorChange, EmulatorChange, str, str, dict[str, str]]] = {
    "402": (
        _no_credit, lambda emulator: setattr(emulator.state, "credit", Decimal(10)),
        OWN_PRIVATE, "insufficient_credit", {},
    ),
    "401": (
        _revoke_key, lambda emulator: emulator.state.add_api_key(TEST_API_KEY),
        OWN_PRIVATE, "auth_failed", {},
    ),
    "unknown voice (404)": (
        _unknown_reference, lambda _: None, UNKNOWN_VOICE,
        "voice_not_found", {"voice_id": UNKNOWN_VOICE},
    ),
    # Broken off after some audio was written to the temporary file.
    "broken off": (
        lambda emulator: emulator.faults.truncate("POST /v1/tts", after_bytes=3000),
        lambda emulator: emulator.faults.clear(),
        OWN_PRIVATE, "cannot_connect", {},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", SYNTHESIZE_FAILURES)
async def test_synthesize_failure_leaves_no_file(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    case: str,
) -> None:
    """API failures are translated, and neither the file nor a temporary file is left; with
    the cause gone the same call writes the file."""
    inject, restore, voice_id, key, placeholders = SYNTHESIZE_FAILURES[case]
    target = allowed_dir / "x.wav"
    data = {
        "config_entry_id": entry.entry_id,
        "message": "A sentence long enough to be streamed in several chunks of audio.",
        "filename": str(target),
        "voice_id": voice_id,
        "format": "wav",
    }
    inject(emulator)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "synthesize", data)
    assert_translated(err.value, key, **placeholders)
    assert not list(allowed_dir.iterdir())

    restore(emulator)
    result = await call(hass, "synthesize", {**data, "voice_id": OWN_PRIVATE})
    assert result["bytes"] == target.stat().st_size > 0
    assert [p.name for p in allowed_dir.iterdir()] == ["x.wav"]


async def test_synthesize_write_failure_leaves_no_file(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """A file that cannot be put in place is a translated error; the temporary file goes."""
    emulator.faults.latency("POST /v1/tts", first_byte=0.0, per_chunk=0.05)
    target = allowed_dir / "race.wav"
    task = hass.async_create_task(
        call(
            hass,
            "synthesize",
            {
                "config_entry_id": entry.entry_id,
                "message": "Slow audio that arrives in several chunks.",
                "filename": str(target),
                "format": "wav",
            },
        )
    )
    async with asyncio.timeout(5):
        while not list(allowed_dir.iterdir()):
            await asyncio.sleep(0.01)
    target.mkdir()  # the rename into place now fails
    (target / "keep").touch()
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert_translated(err.value, "write_failed", path=str(target))
    assert [p.name for p in allowed_dir.iterdir()] == ["race.wav"]
    assert target.is_dir()


async def test_names_too_long(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """A file name the file system refuses is a translated error, and nothing is left."""
    name = str(allowed_dir / ("a" * 300 + ".wav"))
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "transcribe", {"config_entry_id": entry.entry_id, "audio": name})
    assert_translated(err.value, "file_read_failed", path=name)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "synthesize",
            {"config_entry_id": entry.entry_id, "message": "Hi", "filename": name},
        )
    assert_translated(err.value, "write_failed", path=name)
    assert not list(allowed_dir.iterdir())
    # A long name that the file system accepts still gets a temporary file next to it.
    target = allowed_dir / ("b" * 250 + ".wav")
    result = await call(
        hass,
        "synthesize",
        {"config_entry_id": entry.entry_id, "message": "Hi", "filename": str(target)},
    )
    assert result["bytes"] == target.stat().st_size
    assert [p.name for p in allowed_dir.iterdir()] == [target.name]
