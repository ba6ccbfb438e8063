"""The platform features of the actions, against the emulator over loopback HTTP.

`synthesize` with dialogue speakers, reference recordings (instant clone) and subtitles;
`design_voice` writing candidates that `create_voice` accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any
import wave

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
import voluptuous as vol

from custom_components.fish_audio_suite.api import ASRSegment
from custom_components.fish_audio_suite.const import DOMAIN
from custom_components.fish_audio_suite.services import REFERENCES_TOTAL_MAX_BYTES
from custom_components.fish_audio_suite.subtitles import Cue, build_cues, render
from custom_components.fish_audio_suite.voice_settings import SPEAKERS_MAX
from emulator import FishAudioEmulator, RecordedRequest

from .conftest import assert_translated, make_wav, sparse_file

pytestmark = pytest.mark.usefixtures("socket_enabled")

NARRATOR = "802e3bc2b27e49c2995d23ef70e6ac89"
ENERGETIC = "7f2c4a1e9b8d4c3fa6e5d2c1b0a99887"
DIALOGUE = "<|speaker:0|>Dinner is ready!<|speaker:1|>Thanks, I am coming down now."
SPEECH = (
    "Good evening. The washing machine has finished, and the back door has been open for "
    "ten minutes. Dinner is at seven, so there is still time for a walk."
)


async def call(
    hass: HomeAssistant, service: str, data: dict[str, Any], *, context: Context | None = None
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True, context=context
    )


def requests_to(emulator: FishAudioEmulator, path: str) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.method == "POST" and r.path == path]


@pytest.fixture
async def entry(init_integration: MockConfigEntry) -> MockConfigEntry:
    """The loaded account entry."""
    return init_integration


# ------------------------------------------------------------------------ dialogue


async def test_synthesize_dialogue(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    target = allowed_dir / "dialogue.mp3"
    result = await call(
        hass,
        "synthesize",
        {
            "config_entry_id": entry.entry_id,
            "message": DIALOGUE,
            "filename": str(target),
            "model": "s2-pro",
            "speakers": [NARRATOR, ENERGETIC],
        },
    )
    assert result["bytes"] == target.stat().st_size > 0
    (request,) = requests_to(emulator, "/v1/tts")
    assert request.decoded["reference_id"] == [NARRATOR, ENERGETIC]
    assert request.decoded["text"] == DIALOGUE
    assert request.model == "s2-pro"


async def test_synthesize_dialogue_refused_on_s1_before_sending(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    emulator.requests.clear()
    data = {
        "config_entry_id": entry.entry_id,
        "message": DIALOGUE,
        "filename": str(allowed_dir / "x.mp3"),
        "model": "s1",
        "speakers": [NARRATOR, ENERGETIC],
    }
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "synthesize", data)
    assert_translated(err.value, "setting_not_for_model", setting="speakers", model="s1")
    assert not emulator.requests
    assert not list(allowed_dir.iterdir())


@pytest.mark.parametrize("speakers", [["not a voice id!"], [NARRATOR] * (SPEAKERS_MAX + 1), []])
async def test_synthesize_dialogue_bad_speakers(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    speakers: list[str],
) -> None:
    emulator.requests.clear()
    data = {
        "config_entry_id": entry.entry_id,
        "message": DIALOGUE,
        "filename": str(allowed_dir / "x.mp3"),
        "speakers": speakers,
    }
    with pytest.raises(vol.Invalid):
        await call(hass, "synthesize", data)
    assert not emulator.requests


async def test_synthesize_dialogue_without_tags_is_the_servers_refusal(
    hass: HomeAssistant, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    data = {
        "config_entry_id": entry.entry_id,
        "message": "Nobody is tagged here.",
        "filename": str(allowed_dir / "x.mp3"),
        "speakers": [NARRATOR, ENERGETIC],
    }
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "synthesize", data)
    assert_translated(err.value, "invalid_request", status="422")
    assert not list(allowed_dir.iterdir())


# ------------------------------------------------------------------- instant clone


async def test_synthesize_with_reference_recordings(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    first = make_wav(allowed_dir / "me1.wav")
    second = make_wav(allowed_dir / "me2.wav", seconds=1.0)
    result = await call(
        hass,
        "synthesize",
        {
            "config_entry_id": entry.entry_id,
            "message": "Speak like me.",
            "filename": str(allowed_dir / "clone.wav"),
            "format": "wav",
            "reference_audio": [str(allowed_dir / "me1.wav"), str(allowed_dir / "me2.wav")],
            "reference_text": ["First sample.", "Second sample."],
        },
    )
    assert result["format"] == "wav"
    (request,) = requests_to(emulator, "/v1/tts")
    assert request.content_type == "application/msgpack"
    assert request.decoded["references"] == [
        {"audio": first, "text": "First sample."},
        {"audio": second, "text": "Second sample."},
    ]
    assert "reference_id" not in request.decoded  # the recordings replace the voice


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"reference_text": ["orphan"]}, "reference_text_without_audio"),
        ({"reference_audio": ["{dir}/me.wav"]}, "reference_text_count"),
        (
            {"reference_audio": ["{dir}/me.wav"], "reference_text": ["a", "b"]},
            "reference_text_count",
        ),
        ({"reference_audio": ["/etc/passwd"], "reference_text": ["a"]}, "path_not_allowed"),
        ({"reference_audio": ["{dir}/missing.wav"], "reference_text": ["a"]}, "file_not_found"),
        ({"reference_audio": ["{dir}/link.wav"], "reference_text": ["a"]}, "path_not_allowed"),
        ({"reference_audio": ["{dir}/big.wav"], "reference_text": ["a"]}, "file_too_large"),
        (
            {"reference_audio": ["{dir}/me.wav"] * 21, "reference_text": ["a"] * 21},
            "audio_count",
        ),
        (
            {"reference_audio": ["{dir}/me.wav"], "reference_text": ["a"], "speakers": [NARRATOR]},
            "speakers_with_references",
        ),
    ],
)
async def test_synthesize_reference_checks(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    tmp_path: Path,
    extra: dict[str, Any],
    key: str,
) -> None:
    """Reference files follow create_voice's rules; nothing is sent or written on refusal."""
    make_wav(allowed_dir / "me.wav")
    outside = tmp_path / "outside.wav"
    make_wav(outside)
    (allowed_dir / "link.wav").symlink_to(outside)
    sparse_file(allowed_dir / "big.wav", 20 * 1024 * 1024 + 1)
    emulator.requests.clear()
    data: dict[str, Any] = {
        "config_entry_id": entry.entry_id,
        "message": "Hi",
        "filename": str(allowed_dir / "out.mp3"),
    }
    for name, value in extra.items():
        data[name] = [v.replace("{dir}", str(allowed_dir)) for v in value]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "synthesize", data)
    assert_translated(err.value, key)
    assert not emulator.requests
    assert not (allowed_dir / "out.mp3").exists()


async def test_synthesize_references_total_size(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    size = REFERENCES_TOTAL_MAX_BYTES // 2 + 1
    for name in ("a.wav", "b.wav"):
        sparse_file(allowed_dir / name, size)
    emulator.requests.clear()
    data = {
        "config_entry_id": entry.entry_id,
        "message": "Hi",
        "filename": str(allowed_dir / "out.mp3"),
        "reference_audio": [str(allowed_dir / "a.wav"), str(allowed_dir / "b.wav")],
        "reference_text": ["a", "b"],
    }
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "synthesize", data)
    assert_translated(err.value, "audio_too_large")
    assert not emulator.requests


# ------------------------------------------------------------------------ subtitles


def _parse_cues(text: str, fmt: str) -> list[tuple[float, float, str]]:
    sep = "," if fmt == "srt" else "."
    stamp = rf"(\d\d):(\d\d):(\d\d){re.escape(sep)}(\d\d\d)"
    cues = []
    for match in re.finditer(rf"{stamp} --> {stamp}\n(.+)\n", text):
        h1, m1, s1, ms1, h2, m2, s2, ms2, words = match.groups()
        start = int(h1) * 3600 + int(m1) * 60 + int(s1) + int(ms1) / 1000
        end = int(h2) * 3600 + int(m2) * 60 + int(s2) + int(ms2) / 1000
        cues.append((start, end, words))
    return cues


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
async def test_synthesize_with_subtitles(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    fmt: str,
) -> None:
    target = allowed_dir / "evening.wav"
    result = await call(
        hass,
        "synthesize",
        {
            "config_entry_id": entry.entry_id,
            "message": f"[calm] {SPEECH}",
            "filename": str(target),
            "format": "wav",
            "subtitles": fmt,
        },
    )
    subtitles = allowed_dir / f"evening.{fmt}"
    assert result == {
        "path": str(target),
        "format": "wav",
        "bytes": target.stat().st_size,
        "subtitles": str(subtitles),
    }
    (request,) = requests_to(emulator, "/v1/tts/stream/with-timestamp")
    assert request.decoded["text"] == f"[calm] {SPEECH}"
    with wave.open(str(target)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    text = subtitles.read_text()
    if fmt == "vtt":
        assert text.startswith("WEBVTT\n\n")
    else:
        assert text.startswith("1\n00:00:00,")
    cues = _parse_cues(text, fmt)
    words = [w.strip(".,") for w in SPEECH.split()]
    assert " ".join(c[2] for c in cues).split() == words  # every word, none of the cue
    assert all(len(c[2]) <= 42 for c in cues)
    starts = [c[0] for c in cues]
    assert starts == sorted(starts)
    assert all(start < end for start, end, _ in cues)
    # Timing follows the stream's segments: the emulator's alignment of the same text.
    assert cues[-1][1] == pytest.approx(seconds, abs=0.2)
    assert [p.name for p in sorted(allowed_dir.iterdir())] == sorted(
        ["evening.wav", f"evening.{fmt}"]
    )


async def test_subtitles_match_the_streams_segments(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """The cue times are the segments' times, replaced per chunk and offset, exactly."""
    events = [
        {"audio_base64": "//uQAA==", "content": "Hi there", "alignment": None,
         "chunk_seq": 0, "chunk_audio_offset_sec": 0},
        {"audio_base64": "//uQAA==", "content": "Hi there",
         "alignment": {"segments": [{"text": "Hi", "start": 0.1, "end": 0.3}],
                       "audio_duration": 0.4}, "chunk_seq": 0, "chunk_audio_offset_sec": 0},
        {"audio_base64": "//uQAA==", "content": "Hi there",
         "alignment": {"segments": [{"text": "Hi", "start": 0.12, "end": 0.3},
                                    {"text": "there", "start": 0.35, "end": 0.8}],
                       "audio_duration": 0.9}, "chunk_seq": 0, "chunk_audio_offset_sec": 0},
        {"audio_base64": "//uQAA==", "content": "Bye",
         "alignment": {"segments": [{"text": "Bye", "start": 0.05, "end": 0.5}],
                       "audio_duration": 0.6}, "chunk_seq": 1, "chunk_audio_offset_sec": 0.9},
    ]  # fmt: skip
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    emulator.faults.http(
        "POST /v1/tts/stream/with-timestamp", 200, body=body, content_type="text/event-stream"
    )
    await call(
        hass,
        "synthesize",
        {
            "config_entry_id": entry.entry_id,
            "message": "Hi there. Bye.",
            "filename": str(allowed_dir / "short.mp3"),
            "subtitles": "srt",
        },
    )
    assert (allowed_dir / "short.mp3").read_bytes() == b"\xff\xfb\x90\x00" * 4
    assert (allowed_dir / "short.srt").read_text() == (
        "1\n00:00:00,120 --> 00:00:01,400\nHi there Bye\n"
    )


async def test_subtitles_failure_leaves_no_file(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    emulator.faults.http("POST /v1/tts/stream/with-timestamp", 503, times=None)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "synthesize",
            {
                "config_entry_id": entry.entry_id,
                "message": SPEECH,
                "filename": str(allowed_dir / "x.mp3"),
                "subtitles": "vtt",
            },
        )
    assert_translated(err.value, "server_error")
    assert not list(allowed_dir.iterdir())


async def test_subtitles_target_checks(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    emulator.requests.clear()
    base = {"config_entry_id": entry.entry_id, "message": SPEECH}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "synthesize", {**base, "filename": str(allowed_dir / "x.srt"),
                                        "subtitles": "srt"})  # fmt: skip
    assert_translated(err.value, "subtitles_same_file")
    (allowed_dir / "x.vtt").mkdir()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "synthesize", {**base, "filename": str(allowed_dir / "x.mp3"),
                                        "subtitles": "vtt"})  # fmt: skip
    assert_translated(err.value, "not_a_file")
    assert not emulator.requests
    assert sorted(p.name for p in allowed_dir.iterdir()) == ["x.vtt"]
    with pytest.raises(vol.Invalid):
        await call(hass, "synthesize", {**base, "filename": str(allowed_dir / "y.mp3"),
                                        "subtitles": "ass"})  # fmt: skip


def test_cue_building_and_rendering() -> None:
    segments = [
        ASRSegment(text="one", start=0.0, end=0.5),
        ASRSegment(text=" ", start=0.5, end=0.6),  # nothing to show
        ASRSegment(text="two-->three", start=0.6, end=1.0),
        ASRSegment(text="x" * 50, start=1.0, end=2.0),  # longer than a cue: its own
        ASRSegment(text="late", start=2.0, end=9.5),  # beyond the cue duration: its own
    ]
    cues = build_cues(segments)
    assert cues == [
        Cue(0.0, 1.0, "one two->three"),
        Cue(1.0, 2.0, "x" * 50),
        Cue(2.0, 9.5, "late"),
    ]
    assert render([Cue(3661.0015, 3662.5, "a")], "srt") == "1\n01:01:01,002 --> 01:01:02,500\na\n"
    assert render([], "vtt") == "WEBVTT\n"
    assert build_cues([]) == []


# ---------------------------------------------------------------------- design_voice


async def test_design_then_create_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    result = await call(
        hass,
        "design_voice",
        {
            "config_entry_id": entry.entry_id,
            "instruction": "A warm, calm narrator with a slight smile in the voice",
            "reference_text": "Welcome home. The lights are on.",
            "language": "en",
            "count": 3,
            "speed": 1.1,
            "seed": 7,
            "folder": str(allowed_dir),
        },
    )
    json.dumps(result)
    (request,) = requests_to(emulator, "/v1/voice-design")
    assert request.headers["model"] == "voice-design-1"
    assert json.loads(request.body) == {
        "instruction": "A warm, calm narrator with a slight smile in the voice",
        "reference_text": "Welcome home. The lights are on.",
        "language": "en",
        "n": 3,
        "speed": 1.1,
        "seed": 7,
    }
    candidates = result["candidates"]
    assert len(candidates) == 3
    for candidate in candidates:
        assert set(candidate) == {"id", "path", "duration", "sample_rate"}
        path = Path(candidate["path"])
        assert path.parent == allowed_dir
        assert path.suffix == ".wav"
        with wave.open(str(path)) as wav:
            assert wav.getframerate() == candidate["sample_rate"]
            assert wav.getnframes() / wav.getframerate() == pytest.approx(
                candidate["duration"], abs=0.001
            )
    assert len(list(allowed_dir.iterdir())) == 3  # no temporary file left
    # The candidate the user likes becomes a voice.
    created = await call(
        hass,
        "create_voice",
        {
            "config_entry_id": entry.entry_id,
            "title": "Designed narrator",
            "audio": [candidates[1]["path"]],
            "texts": ["Welcome home. The lights are on."],
        },
    )
    assert created["voice"]["title"] == "Designed narrator"
    (upload,) = requests_to(emulator, "/model")
    voices = [part.data for part in upload.parts if part.name == "voices"]
    assert voices == [Path(candidates[1]["path"]).read_bytes()]


async def test_design_voice_minimal(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    result = await call(
        hass,
        "design_voice",
        {"config_entry_id": entry.entry_id, "instruction": "Calm", "folder": str(allowed_dir)},
    )
    assert len(result["candidates"]) == 2  # the API's default
    (request,) = requests_to(emulator, "/v1/voice-design")
    assert json.loads(request.body) == {"instruction": "Calm"}


@pytest.mark.parametrize(
    ("folder", "key"),
    [
        ("/etc", "path_not_allowed"),
        ("relative", "path_not_allowed"),
        ("{dir}/nope", "directory_not_found"),
    ],
)
async def test_design_voice_folder_checked_before_the_call(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    folder: str,
    key: str,
) -> None:
    emulator.requests.clear()
    data = {
        "config_entry_id": entry.entry_id,
        "instruction": "Calm",
        "folder": folder.replace("{dir}", str(allowed_dir)),
    }
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "design_voice", data)
    assert_translated(err.value, key)
    assert not emulator.requests


async def test_design_voice_failures(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    data = {"config_entry_id": entry.entry_id, "instruction": "Calm", "folder": str(allowed_dir)}
    emulator.state.credit = 0
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "design_voice", data)
    assert_translated(err.value, "insufficient_credit")
    for bad in ({**data, "count": 5}, {**data, "speed": 0}, {**data, "instruction": ""}):
        with pytest.raises(vol.Invalid):
            await call(hass, "design_voice", bad)
    assert not list(allowed_dir.iterdir())


async def test_design_voice_odd_candidate_ids_and_formats(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """Server ids never become paths; the extension follows the audio's container."""
    body = {
        "candidates": [
            {"id": "../../etc/x", "index": 0, "audio_base64": "T2dnUw==", "sample_rate": 48000,
             "duration_ms": 10},
            {"id": "ok_id", "index": 1, "audio_base64": "ZkxhQw==", "sample_rate": 44100,
             "duration_ms": 10},
            {"id": "mp3", "index": 2, "audio_base64": "//uQAA==", "sample_rate": 44100,
             "duration_ms": 10},
        ]
    }  # fmt: skip
    emulator.faults.http("POST /v1/voice-design", 200, body=body)
    data = {"config_entry_id": entry.entry_id, "instruction": "Calm", "folder": str(allowed_dir)}
    result = await call(hass, "design_voice", data)
    paths = [Path(c["path"]) for c in result["candidates"]]
    assert all(path.parent == allowed_dir for path in paths)
    assert [path.suffix for path in paths] == [".ogg", ".flac", ".mp3"]
    assert paths[1].name == "fish_audio_voice_1_ok_id.flac"
    assert ".." not in paths[0].name


async def test_design_voice_existing_directory_in_the_way(
    hass: HomeAssistant, emulator: FishAudioEmulator, entry: MockConfigEntry, allowed_dir: Path
) -> None:
    """A candidate that cannot be written leaves none behind."""
    body = {"candidates": [
        {"id": "a", "index": 0, "audio_base64": "//uQAA==", "sample_rate": 1, "duration_ms": 1},
        {"id": "b", "index": 1, "audio_base64": "//uQAA==", "sample_rate": 1, "duration_ms": 1},
    ]}  # fmt: skip
    emulator.faults.http("POST /v1/voice-design", 200, body=body)
    (allowed_dir / "fish_audio_voice_1_b.mp3").mkdir()
    data = {"config_entry_id": entry.entry_id, "instruction": "Calm", "folder": str(allowed_dir)}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "design_voice", data)
    assert_translated(err.value, "not_a_file")
    assert [p.name for p in allowed_dir.iterdir()] == ["fish_audio_voice_1_b.mp3"]


async def test_design_voice_is_admin_only(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    entry: MockConfigEntry,
    allowed_dir: Path,
    hass_read_only_user: MockUser,
) -> None:
    emulator.requests.clear()
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "design_voice",
            {"config_entry_id": entry.entry_id, "instruction": "x", "folder": str(allowed_dir)},
            context=Context(user_id=hass_read_only_user.id),
        )
    assert not emulator.requests
