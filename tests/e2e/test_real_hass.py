"""A real Home Assistant process with the integration, configured and used over HTTP only.

What the in-process tests cannot show: that Home Assistant's loader finds the integration in a
configuration directory, that the config flow works through the REST API the frontend uses,
and that TTS audio, STT, actions and sensors work through the real HTTP server, with a clean
shutdown and a clean log. The emulator runs as its own process, as in ``scripts/develop --demo``;
both processes are started, onboarded and configured by ``scripts/demo.py``.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from decimal import Decimal
import importlib.util
import io
import json
import math
from pathlib import Path
import re
import struct
import time
from typing import Any
import wave

import aiohttp
from mutagen.mp3 import MP3
import pytest

from emulator.const import DEFAULT_TRANSCRIPT
from scripts.demo import (
    DOMAIN,
    FISH_SPEECH_ARGS,
    FISH_SPEECH_TITLE,
    HomeAssistantApi,
    add_account,
    add_assistant,
    add_local_server,
    free_port,
    launch_emulator,
    launch_hass,
    prepare_config_dir,
    stop_process,
)
from tests.audio_probe import Clip, probe

API_KEY = "e2e-key"
MESSAGE = "Hello from the end-to-end test of Fish Audio Suite."
STT_HEADER = "format=wav; codec=pcm; sample_rate=16000; bit_rate=16; channel=1; language=en-US"
SAMPLE_RATE = 16000

# Log records that come from the machine, not from the integration: the tts component's
# ffmpeg dependency logs an error when no ffmpeg binary is installed (CI machines have none).
ALLOWED_ERROR_LOGGERS = ("haffmpeg.",)
# Home Assistant warns once about every custom integration.
ALLOWED_WARNINGS = ("We found a custom integration fish_audio_suite which has not been tested",)
LOG_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (?P<level>[A-Z]+) \((?P<thread>[^)]*)\) "
    r"\[(?P<logger>[^\]]+)\] ",
    re.MULTILINE,
)

pytestmark = [
    # A backstop only: every wait inside is bounded, and the whole test takes well under a
    # minute once Home Assistant has started (20-60 s on a small machine).
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        importlib.util.find_spec("hass_frontend") is None,
        reason=(
            "Home Assistant cannot start without its frontend (it falls into recovery mode "
            "and loads no integration): home-assistant-frontend is not installed; pin the "
            "version homeassistant/components/frontend/manifest.json names in "
            "the leg's requirements/*.txt"
        ),
    ),
]


@dataclass(slots=True)
class LogRecord:
    """One record of home-assistant.log: its first line and any traceback below it."""

    level: str
    logger: str
    text: str


def parse_log(text: str) -> list[LogRecord]:
    """Split ``home-assistant.log`` into records (a traceback belongs to its record)."""
    starts = list(LOG_RECORD.finditer(text))
    return [
        LogRecord(
            level=match.group("level"),
            logger=match.group("logger"),
            text=text[match.start() : starts[i + 1].start() if i + 1 < len(starts) else None],
        )
        for i, match in enumerate(starts)
    ]


def unexpected_log_records(text: str) -> list[str]:
    """Return the records that show a problem: errors, tracebacks, warnings about us."""
    problems = []
    for record in parse_log(text):
        ours = DOMAIN in record.logger or DOMAIN in record.text
        if record.level in ("ERROR", "CRITICAL"):
            if ours or not record.logger.startswith(ALLOWED_ERROR_LOGGERS):
                problems.append(record.text)
        elif "Traceback (most recent call last)" in record.text or (
            ours
            and record.level == "WARNING"
            and not any(allowed in record.text for allowed in ALLOWED_WARNINGS)
        ):
            problems.append(record.text)
    return problems


def wav_tone(seconds: float) -> bytes:
    """Return a 16 kHz mono 16-bit WAV file of a quiet 440 Hz tone."""
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * n / SAMPLE_RATE)))
        for n in range(int(seconds * SAMPLE_RATE))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(frames)
    return buffer.getvalue()


class Steps:
    """Time each step, so that a slow run says where the time went."""

    def __init__(self) -> None:
        self.durations: dict[str, float] = {}
        self._start = time.monotonic()

    @contextlib.contextmanager
    def step(self, name: str) -> Any:
        start = time.monotonic()
        try:
            yield
        finally:
            self.durations[name] = time.monotonic() - start

    def report(self) -> str:
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.durations.items())
        return f"total {time.monotonic() - self._start:.1f} s: {steps}"


def find_entity(entities: list[str], prefix: str, suffix: str = "") -> str:
    """Return the one entity id with ``prefix`` (and ``suffix``)."""
    found = [e for e in entities if e.startswith(prefix) and e.endswith(suffix)]
    assert len(found) == 1, f"expected one {prefix}*{suffix} entity in {entities}"
    return found[0]


async def emulator_requests(
    session: aiohttp.ClientSession, emulator_url: str, path: str
) -> list[dict[str, Any]]:
    """Return the requests to ``path`` the emulator recorded (its control API)."""
    async with session.get(f"{emulator_url}/_emulator/requests") as response:
        assert response.status == 200
        requests: list[dict[str, Any]] = await response.json()
    return [r for r in requests if r["path"] == path]


async def check_tts(api: HomeAssistantApi, emulator_url: str, tts_entity: str) -> None:
    """Fetch speech through the TTS proxy: the emulator's MP3 for exactly our text."""
    url = await api.call("POST", "/api/tts_get_url", {"engine_id": tts_entity, "message": MESSAGE})
    status, audio = await api.request("GET", url["path"])
    assert status == 200, audio[:200]
    # Real MPEG audio as long as the emulator makes this text (0.06 s per character).
    assert MP3(io.BytesIO(audio)).info.length == pytest.approx(0.06 * len(MESSAGE), abs=0.5)
    requests = await emulator_requests(api.session, emulator_url, "/v1/tts")
    assert len(requests) == 1
    assert requests[0]["method"] == "POST"
    assert requests[0]["decoded"]["text"] == MESSAGE
    assert requests[0]["decoded"]["format"] == "mp3"


async def check_local_server(api: HomeAssistantApi, server_url: str) -> str:
    """Add the demo's second entry, a self-hosted Fish Speech server, and speak with it.

    The server streams headerless PCM; what the TTS proxy serves is a real WAV file (our
    header), at the model's 44.1 kHz, and the entry has no credit sensor or speech-to-text.
    """
    before = set(await api.integration_entities())
    entry = await add_local_server(api, base_url=server_url)
    await api.wait_entry_loaded(entry["entry_id"])
    assert [e["title"] for e in await api.entries() if e["entry_id"] == entry["entry_id"]] == [
        FISH_SPEECH_TITLE
    ]
    added = set(await api.integration_entities()) - before
    assert len(added) == 1, added
    (tts_entity,) = added
    assert tts_entity.startswith("tts.")
    url = await api.call("POST", "/api/tts_get_url", {"engine_id": tts_entity, "message": MESSAGE})
    status, audio = await api.request("GET", url["path"])
    assert status == 200, audio[:200]
    assert audio.startswith(b"RIFF")
    with wave.open(io.BytesIO(audio[:44] + audio[44 : 44 + 4410 * 2])) as clip:
        assert clip.getframerate() == 44100
    return tts_entity


async def check_assistant(api: HomeAssistantApi, entities: list[str]) -> None:
    """The demo's Assist assistant, over the WebSocket API; a second run keeps it."""
    stt, tts = find_entity(entities, "stt."), find_entity(entities, "tts.")
    pipeline = await add_assistant(api, stt_entity=stt, tts_entity=tts)
    assert (pipeline["stt_engine"], pipeline["tts_engine"]) == (stt, tts)
    assert pipeline["tts_voice"]
    again = await add_assistant(api, stt_entity=stt, tts_entity=tts)
    assert again["id"] == pipeline["id"]
    listed = await api.websocket({"type": "assist_pipeline/pipeline/list"})
    assert listed["preferred_pipeline"] == pipeline["id"]


# What Home Assistant delivers for a satellite's preferences: exactly what was asked, on every
# leg, whether Fish Audio made it (where Home Assistant then leaves it alone) or Home Assistant
# converted it. A row: the engine ("cloud" or the self-hosted "server"), the options, the clip
# delivered, and whether Fish Audio makes it natively (then, on 2026.11, nothing is converted:
# Fish Audio was asked for exactly that). `preferred_bitrate` rows run where Home Assistant
# has the option (2026.10 and later).
FORMAT_CASES: list[tuple[str, dict[str, Any], Clip, bool]] = [
    # Fish Audio's MP3 comes at 32 or 44.1 kHz (api/const.py, SAMPLE_RATES).
    (
        "cloud",
        {"preferred_format": "mp3", "preferred_sample_rate": 32000},
        Clip("mp3", 32000, 1),
        True,
    ),
    (
        "cloud",
        {"preferred_format": "mp3", "preferred_sample_rate": 16000},
        Clip("mp3", 16000, 1),
        False,
    ),
    # An Assist satellite's WAV.
    (
        "cloud",
        {
            "preferred_format": "wav",
            "preferred_sample_rate": 16000,
            "preferred_sample_channels": 1,
            "preferred_sample_bytes": 2,
        },
        Clip("wav", 16000, 1, 2),
        True,
    ),
    (
        "cloud",
        {"preferred_format": "wav", "preferred_sample_rate": 22050},
        Clip("wav", 22050, 1, 2),
        False,
    ),
    (
        "cloud",
        {"preferred_format": "wav", "preferred_sample_rate": 16000, "preferred_sample_channels": 2},
        Clip("wav", 16000, 2, 2),
        False,
    ),
    # Home Assistant's own conversion writes 16-bit samples whatever the width asked.
    (
        "cloud",
        {"preferred_format": "wav", "preferred_sample_bytes": 4},
        Clip("wav", 44100, 1, 2),
        True,
    ),
    # The Voice PE's FLAC, converted on every release.
    (
        "cloud",
        {
            "preferred_format": "flac",
            "preferred_sample_rate": 48000,
            "preferred_sample_channels": 1,
            "preferred_sample_bytes": 2,
        },
        Clip("flac", 48000, 1, 2),
        False,
    ),
    ("cloud", {"preferred_bitrate": 64}, Clip("mp3", 44100, 1, None, 64), True),
    ("cloud", {"preferred_bitrate": 96}, Clip("mp3", 44100, 1, None, 96), False),
    (
        "cloud",
        {"format": "opus", "preferred_format": "opus", "preferred_bitrate": 48},
        Clip("opus", 48000, 1),
        True,
    ),
    # The self-hosted server makes 44.1 kHz only (its model's codec).
    (
        "server",
        {"preferred_format": "wav", "preferred_sample_rate": 16000},
        Clip("wav", 16000, 1, 2),
        False,
    ),
]


async def check_formats(api: HomeAssistantApi, emulator_url: str, engines: dict[str, str]) -> None:
    """Every row of FORMAT_CASES through the TTS proxy, probed from the bytes delivered."""
    config = await api.call("GET", "/api/config")
    version = tuple(int(part) for part in str(config["version"]).split(".")[:2])
    wrong = []  # every row that fails, not only the first
    for number, (engine, options, expected, native) in enumerate(FORMAT_CASES):
        if "preferred_bitrate" in options and version < (2026, 10):
            continue  # Home Assistant 2026.2 has no such option
        message = f"Format check number {number}."
        url = await api.call(
            "POST",
            "/api/tts_get_url",
            {"engine_id": engines[engine], "message": message, "options": options},
        )
        status, audio = await api.request("GET", url["path"])
        delivered = probe(audio) if status == 200 else status
        made = None
        if engine == "cloud":
            requests = await emulator_requests(api.session, emulator_url, "/v1/tts")
            made = [
                {key: r["decoded"].get(key) for key in _MADE}
                for r in requests
                if r["decoded"]["text"] == message
            ]
        if not (isinstance(delivered, Clip) and delivered.matches(expected)):
            wrong.append((options, delivered, made))
        elif native and version >= (2026, 11) and made != [_asked(options)]:
            # Made by Fish Audio as asked, so that Home Assistant has nothing to convert.
            wrong.append((options, "converted", made))
    assert not wrong, f"Home Assistant {version}: " + "\n".join(map(str, wrong))


# The request fields that say what Fish Audio made.
_MADE = ("format", "sample_rate", "mp3_bitrate", "opus_bitrate")


def _asked(options: dict[str, Any]) -> dict[str, Any]:
    """Return the request fields for exactly the audio `options` ask for (an MP3 voice)."""
    audio_format = options.get("preferred_format", "mp3")
    kbps = options.get("preferred_bitrate")
    return {
        "format": audio_format,
        "sample_rate": options.get("preferred_sample_rate"),
        "mp3_bitrate": kbps if audio_format == "mp3" and kbps is not None else 128,
        "opus_bitrate": kbps * 1000 if audio_format == "opus" and kbps else -1000,
    }


async def check_stt(api: HomeAssistantApi, emulator_url: str, stt_entity: str) -> None:
    """Post a WAV file to the STT API: the emulator's transcript comes back."""
    wav = wav_tone(1.5)  # the API refuses audio shorter than 1 s
    status, body = await api.request(
        "POST",
        f"/api/stt/{stt_entity}",
        data=wav,
        headers={"X-Speech-Content": STT_HEADER, "Content-Type": "audio/wav"},
    )
    assert status == 200, body[:200]
    assert json.loads(body) == {"result": "success", "text": DEFAULT_TRANSCRIPT}
    requests = await emulator_requests(api.session, emulator_url, "/v1/asr")
    assert len(requests) == 1
    # A real RIFF file is passed on as it is.
    assert base64.b64decode(requests[0]["decoded"]["audio"]["base64"]) == wav


async def check_list_voices(api: HomeAssistantApi, entry_id: str) -> None:
    """Call the list_voices action with a response over REST."""
    response = await api.call(
        "POST",
        f"/api/services/{DOMAIN}/list_voices?return_response",
        {"config_entry_id": entry_id, "self_only": False},
    )
    result = response["service_response"]
    assert result["total"] >= len(result["voices"]) > 0
    assert all({"id", "title", "author", "languages"} <= v.keys() for v in result["voices"])


async def check_credit_sensor(api: HomeAssistantApi, credit_sensor: str) -> None:
    """Read the credit sensor's state."""
    state = await api.call("GET", f"/api/states/{credit_sensor}")
    # The emulator starts every account at 10.00 USD; usage only lowers it.
    assert Decimal(0) < Decimal(state["state"]) <= Decimal("10.00")
    assert state["attributes"]["unit_of_measurement"] == "USD"


# Seed voices of the emulator (emulator/voices.py): two public voices for a dialogue.
NARRATOR = "802e3bc2b27e49c2995d23ef70e6ac89"
ENERGETIC = "7f2c4a1e9b8d4c3fa6e5d2c1b0a99887"
DIALOGUE = "<|speaker:0|>[excited] Dinner is ready!<|speaker:1|>Thanks, I am coming down now."
CLONE_MESSAGE = "This is how the recording sounds."


async def action(api: HomeAssistantApi, service: str, data: dict[str, Any]) -> Any:
    """Call one of our actions over REST and return its response."""
    response = await api.call("POST", f"/api/services/{DOMAIN}/{service}?return_response", data)
    return response["service_response"]


async def usage_states(api: HomeAssistantApi, entities: list[str]) -> dict[str, Decimal]:
    """Return the values of the three usage sensors."""
    values: dict[str, Decimal] = {}
    for suffix in ("_synthesized_characters", "_transcribed_duration", "_estimated_cost"):
        state = await api.call("GET", f"/api/states/{find_entity(entities, 'sensor.', suffix)}")
        values[suffix] = Decimal(state["state"])
    return values


async def check_usage_sensors(api: HomeAssistantApi, entities: list[str]) -> dict[str, Decimal]:
    """The usage sensors count the steps before, at Fish Audio's published prices."""
    # tts.speak, the dialogue through TTS and synthesize, the instant clone; STT: 1.5 s,
    # billed as 2 s.
    spoken = MESSAGE + DIALOGUE + CLONE_MESSAGE + DIALOGUE
    cost = Decimal(15) / 1_000_000 * len(spoken.encode()) + Decimal("0.0002")
    values = await usage_states(api, entities)
    assert values == {
        "_synthesized_characters": len(spoken),
        "_transcribed_duration": Decimal("1.5"),
        "_estimated_cost": cost + Decimal("0.01"),  # and one voice design
    }
    return values


async def check_design_and_create(api: HomeAssistantApi, entry_id: str, media: Path) -> str:
    """Design voices into the media folder, then clone one of the candidates (README)."""
    designed = await action(
        api,
        "design_voice",
        {
            "config_entry_id": entry_id,
            "instruction": "A warm, calm narrator with a slight smile in the voice",
            "reference_text": "Welcome home. The lights are on.",
            "count": 2,
            "folder": str(media),
        },
    )
    candidates = designed["candidates"]
    assert len(candidates) == 2
    for candidate in candidates:
        path = Path(candidate["path"])
        assert path.parent == media
        with wave.open(str(path)) as wav:
            assert wav.getframerate() == candidate["sample_rate"]
    created = await action(
        api,
        "create_voice",
        {
            "config_entry_id": entry_id,
            "title": "Designed narrator",
            "audio": [candidates[0]["path"]],
        },
    )
    voices = await action(api, "list_voices", {"config_entry_id": entry_id})
    assert created["voice"]["id"] in {voice["id"] for voice in voices["voices"]}
    return str(candidates[1]["path"])


async def check_tts_dialogue(api: HomeAssistantApi, emulator_url: str, tts_entity: str) -> None:
    """A two-voice announcement through the TTS proxy, with per-call platform settings."""
    url = await api.call(
        "POST",
        "/api/tts_get_url",
        {
            "engine_id": tts_entity,
            "message": DIALOGUE,
            "options": {
                "model": "s2-pro",
                "speakers": [NARRATOR, ENERGETIC],
                "mp3_bitrate": 64,
                "normalize_loudness": False,
            },
        },
    )
    status, audio = await api.request("GET", url["path"])
    assert status == 200, audio[:200]
    assert MP3(io.BytesIO(audio)).info.bitrate == 64000
    body = (await emulator_requests(api.session, emulator_url, "/v1/tts"))[-1]["decoded"]
    assert body["reference_id"] == [NARRATOR, ENERGETIC]
    assert body["prosody"]["normalize_loudness"] is False


async def check_instant_clone(
    api: HomeAssistantApi, emulator_url: str, entry_id: str, media: Path, recording: str
) -> None:
    """Speak like a recording without saving a voice (the recording inline, as msgpack)."""
    result = await action(
        api,
        "synthesize",
        {
            "config_entry_id": entry_id,
            "message": CLONE_MESSAGE,
            "filename": str(media / "clone.wav"),
            "format": "wav",
            "reference_audio": [recording],
            "reference_text": ["Welcome home. The lights are on."],
        },
    )
    assert result["bytes"] == (media / "clone.wav").stat().st_size
    requests = await emulator_requests(api.session, emulator_url, "/v1/tts")
    reference = requests[-1]["decoded"]["references"][0]
    assert base64.b64decode(reference["audio"]["base64"]) == Path(recording).read_bytes()
    assert reference["text"] == "Welcome home. The lights are on."


async def check_dialogue_with_subtitles(
    api: HomeAssistantApi, emulator_url: str, entry_id: str, media: Path
) -> None:
    """A two-voice dialogue written to a file with WebVTT subtitles beside it (README)."""
    target = media / "dinner.mp3"
    result = await action(
        api,
        "synthesize",
        {
            "config_entry_id": entry_id,
            "message": DIALOGUE,
            "filename": str(target),
            "model": "s2-pro",
            "speakers": [NARRATOR, ENERGETIC],
            "subtitles": "vtt",
        },
    )
    assert result["subtitles"] == str(media / "dinner.vtt")
    assert MP3(io.BytesIO(target.read_bytes())).info.length > 1
    vtt = (media / "dinner.vtt").read_text()
    assert vtt.startswith("WEBVTT\n\n00:00:00.")
    assert "Dinner is ready" in vtt
    assert "speaker" not in vtt
    assert "excited" not in vtt
    (request,) = await emulator_requests(api.session, emulator_url, "/v1/tts/stream/with-timestamp")
    assert request["decoded"]["reference_id"] == [NARRATOR, ENERGETIC]


async def test_real_home_assistant(socket_enabled: None, tmp_path: Path) -> None:
    """Onboard a real Home Assistant, add the integration, use every entity and an action."""
    steps = Steps()
    config_dir = tmp_path / "config"
    hass_port = free_port()
    prepare_config_dir(config_dir, port=hass_port)
    # A folder the file actions may use, as a user would allow one (README).
    media = config_dir / "media"
    media.mkdir()
    configuration = config_dir / "configuration.yaml"
    configuration.write_text(
        configuration.read_text().replace(
            "homeassistant:\n",
            f"homeassistant:\n  allowlist_external_dirs:\n    - {json.dumps(str(media))}\n",
            1,
        )
    )
    try:
        await _run(steps, tmp_path, config_dir, hass_port)
    except BaseException:
        # CI keeps no temporary directory: show where it stopped and what Home Assistant said.
        print(steps.report())  # noqa: T201
        print(_tail(config_dir / "home-assistant.log") + _tail(tmp_path / "hass.out"))  # noqa: T201
        raise
    # Home Assistant moves the previous run's log to .log.1 when it starts again.
    logs = [config_dir / name for name in ("home-assistant.log.1", "home-assistant.log")]
    assert logs[0].exists()
    problems = unexpected_log_records("".join(log.read_text(encoding="utf-8") for log in logs))
    assert not problems, "home-assistant.log:\n" + "\n".join(problems)
    print(steps.report())  # noqa: T201 - shown with -s: where the time went


def _tail(path: Path, lines: int = 80) -> str:
    """Return the last ``lines`` lines of ``path``, headed by its name."""
    if not path.exists():
        return f"--- {path.name}: missing\n"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"--- last {lines} lines of {path.name}:\n" + "\n".join(text) + "\n"


async def _run(steps: Steps, tmp_path: Path, config_dir: Path, hass_port: int) -> None:
    """Start both processes, configure, use and stop Home Assistant."""
    async with contextlib.AsyncExitStack() as stack:
        hass_output = stack.enter_context((tmp_path / "hass.out").open("wb"))
        emulator_output = stack.enter_context((tmp_path / "emulator.out").open("wb"))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        with steps.step("emulator start"):
            emulator_url = await launch_emulator(
                stack, session, free_port(), api_key=API_KEY, output=emulator_output
            )
        with steps.step("hass start"):
            # --skip-pip: a test never installs packages; everything needed is in the venv.
            hass, api = await launch_hass(
                stack, session, config_dir, port=hass_port, skip_pip=True, output=hass_output
            )
        with steps.step("onboarding"):
            # Only the owner: finishing core config starts the flows of integrations whose
            # requirements the test environment does not install (see HomeAssistantApi.onboard).
            await api.onboard(name="E2E", username="e2e", password="e2e-password", complete=False)
            await api.wait_running()
        with steps.step("config flow"):
            entry = await add_account(api, base_url=emulator_url, api_key=API_KEY)
            await api.wait_entry_loaded(entry["entry_id"])
            entities = await api.integration_entities()
        with steps.step("assist"):
            await check_assistant(api, entities)
        with steps.step("tts"):
            await check_tts(api, emulator_url, find_entity(entities, "tts."))
        with steps.step("stt"):
            await check_stt(api, emulator_url, find_entity(entities, "stt."))
        with steps.step("list_voices"):
            await check_list_voices(api, entry["entry_id"])
        with steps.step("credit sensor"):
            await check_credit_sensor(api, find_entity(entities, "sensor.", "_api_credit"))
        with steps.step("tts dialogue"):
            await check_tts_dialogue(api, emulator_url, find_entity(entities, "tts."))
        with steps.step("design_voice + create_voice"):
            recording = await check_design_and_create(api, entry["entry_id"], config_dir / "media")
        with steps.step("instant clone"):
            await check_instant_clone(
                api, emulator_url, entry["entry_id"], config_dir / "media", recording
            )
        with steps.step("dialogue with subtitles"):
            await check_dialogue_with_subtitles(
                api, emulator_url, entry["entry_id"], config_dir / "media"
            )
        with steps.step("usage sensors"):
            usage = await check_usage_sensors(api, entities)
        with steps.step("self-hosted Fish Speech server"):
            server_url = await launch_emulator(
                stack,
                session,
                free_port(),
                api_key=None,
                output=emulator_output,
                extra_args=FISH_SPEECH_ARGS,
            )
            local_tts = await check_local_server(api, server_url)
        with steps.step("hass stop"):
            assert await stop_process(hass) == 0
        with steps.step("hass restart: usage kept"):
            hass, api = await launch_hass(
                stack, session, config_dir, port=hass_port, skip_pip=True, output=hass_output
            )
            await api.login("e2e", "e2e-password")
            await api.wait_running()
            await api.wait_entry_loaded(entry["entry_id"])
            assert await usage_states(api, entities) == usage
        with steps.step("formats"):
            # Last: the speech it makes is not in the usage totals checked above.
            await check_formats(
                api, emulator_url, {"cloud": find_entity(entities, "tts."), "server": local_tts}
            )
            assert await stop_process(hass) == 0


def record(level: str, logger: str, message: str, *more_lines: str) -> str:
    """Return a record in Home Assistant's log format."""
    return "\n".join(
        [f"2026-11-24 11:37:16.000 {level} (MainThread) [{logger}] {message}", *more_lines, ""]
    )


TRACEBACK = "Traceback (most recent call last):"
SAMPLE_LOG = "".join(
    [
        record("WARNING", "homeassistant.bootstrap", "Skipping pip installation"),
        record("WARNING", "homeassistant.loader", f"{ALLOWED_WARNINGS[0]} by Home Assistant."),
        record("ERROR", "haffmpeg.core", "FFmpeg fails", TRACEBACK, "FileNotFoundError: ffmpeg"),
        record("DEBUG", "custom_components.fish_audio_suite.api.client", "GET /model -> 200"),
    ]
)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("", None),
        (record("ERROR", "custom_components.fish_audio_suite", "x"), "fish_audio_suite] x"),
        (
            record(
                "ERROR",
                "homeassistant.components.tts",
                "Error",
                TRACEBACK,
                '  File "custom_components/fish_audio_suite/tts.py", line 1',
            ),
            "fish_audio_suite/tts.py",
        ),
        (
            record(
                "WARNING",
                "homeassistant.util.loop",
                "Detected blocking call to open inside the event loop by custom integration "
                "'fish_audio_suite'",
            ),
            "Detected blocking call",
        ),
        (record("INFO", "homeassistant.core", "z", TRACEBACK, "ValueError"), "ValueError"),
        (record("ERROR", "homeassistant.setup", "Setup failed for x"), "Setup failed"),
    ],
)
def test_log_check(extra: str, problem: str | None) -> None:
    """The log check passes a clean log and reports what the end-to-end test must not see."""
    problems = unexpected_log_records(SAMPLE_LOG + extra)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problem in problems[0]
