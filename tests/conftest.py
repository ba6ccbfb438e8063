"""Shared fixtures: the Fish Audio emulator and a configured account against it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
import contextlib
import functools
import importlib.util
import io
import json
from pathlib import Path
import subprocess
import sys
from types import ModuleType
from typing import Any
from unittest.mock import patch
import wave

from homeassistant.components import conversation, stt, tts
from homeassistant.components.assist_pipeline import (
    Pipeline,
    PipelineEvent,
    PipelineInput,
    PipelineRun,
    PipelineStage,
    async_create_default_pipeline,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import Context, HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import chat_session, device_registry as dr, entity_registry as er, intent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
    HomeAssistantSnapshotSerializer,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.types import SerializableData

import custom_components.fish_audio_suite as integration_init
from custom_components.fish_audio_suite import config_flow
from custom_components.fish_audio_suite.api import FishAudioClient
from custom_components.fish_audio_suite.const import (
    CONF_BASE_URL,
    CONF_VOICE_ID,
    DOMAIN,
    SUBENTRY_VOICE,
)
from custom_components.fish_audio_suite.helpers import ERROR_KEYS
from custom_components.fish_audio_suite.voice_settings import (
    SECTION_ADVANCED,
    VOICE_DEFAULTS,
    subentry_settings,
)
from emulator import FishAudioEmulator, FishSpeechEmulator

from .audio_probe import Clip, probe

INTEGRATION = Path(__file__).parent.parent / "custom_components" / DOMAIN
TRANSLATIONS = json.loads((INTEGRATION / "translations" / "en.json").read_text())

TEST_API_KEY = "test-key"
TEST_USER_ID = "user-1"
# A voice the emulator seeds for the test account (see emulator/voices.py).
TEST_VOICE_NAME = "Narrator"
# Fixed ids, so that snapshots (unique ids, device identifiers) are the same at every run.
TEST_ENTRY_ID = "01KB0FASACC0VNTENTRY000001"
TEST_VOICE_SUBENTRY_ID = "01KB0FASV01CESVBENTRY00001"

# What an action or the client's as_dict() shows of a voice, at least.
VOICE_KEYS = {
    "id",
    "title",
    "description",
    "state",
    "visibility",
    "languages",
    "tags",
    "author",
    "created_at",
    "task_count",
    "like_count",
}


# What an Assist pipeline hands the STT entity: headerless 16 kHz, 16-bit mono PCM.
PCM_16K_MONO = stt.SpeechMetadata(
    language="en-US",
    format=stt.AudioFormats.WAV,
    codec=stt.AudioCodecs.PCM,
    bit_rate=stt.AudioBitRates.BITRATE_16,
    sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
    channel=stt.AudioChannels.CHANNEL_MONO,
)


# Retries must be exercised without making the suite slow: the client's real retry logic,
# with its backoff and Retry-After capped to milliseconds through its constructor.
FAST_RETRY: dict[str, Any] = {
    "retry_backoff": 0.001,
    "retry_backoff_max": 0.004,
    "retry_after_max": 0.01,
}


@pytest.fixture
def client_options(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Return a setter: clients the integration builds from then on get these constructor
    arguments (beside the fast retries). Reload the entry for its client to be rebuilt."""

    def apply(**options: Any) -> None:
        client = functools.partial(FishAudioClient, **FAST_RETRY, **options)
        for module in (integration_init, config_flow):
            monkeypatch.setattr(module, "FishAudioClient", client)

    return apply


@pytest.fixture(autouse=True)
def fast_retries(client_options: Callable[..., None]) -> None:
    """Have the integration build its clients with fast retries (constructor arguments)."""
    client_options()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Let Home Assistant load custom_components/fish_audio_suite in every test."""
    return


@pytest.fixture(autouse=True)
def tts_cache_dir(tmp_path: Path) -> Generator[Path]:
    """Keep Home Assistant's TTS file cache in the test's own directory.

    By default it lives in the harness's shared configuration directory, where a reply cached
    by one run would answer the next one without asking the emulator.
    """
    with patch("homeassistant.components.tts._init_tts_cache_dir", return_value=str(tmp_path)):
        yield tmp_path


class _SameOnEveryLegSerializer(HomeAssistantSnapshotSerializer):
    """Home Assistant's snapshot format, written the same on the oldest and the newest leg.

    From 2026.10 (harness 0.13.3xx) states and capabilities key their attributes by
    `EntityStateAttribute`/`...CapabilityAttribute` members, entity aliases hold a
    `COMPUTED_NAME` marker for "the entity's own name", and devices name their config entry
    `config_entry_id`/`config_subentry_id` instead of `config_entries`/`..._subentries`/
    `primary_config_entry`. Written raw, one `.ambr` file could not serve both legs. Here keys
    are plain strings, aliases the sorted names a user gave, and the config-entry links (which
    the harness writes as ANY on both versions) are left out: nothing that could differ
    because of the integration is dropped, so a snapshot still fails on a real change.
    """

    @classmethod
    def _serializable_state(cls, data: State) -> SerializableData:
        serialized = super()._serializable_state(data)
        serialized["attributes"] = {str(key): value for key, value in data.attributes.items()}
        return serialized

    @classmethod
    def _serializable_entity_registry_entry(cls, data: er.RegistryEntry) -> SerializableData:
        serialized = super()._serializable_entity_registry_entry(data)
        serialized["aliases"] = sorted(alias for alias in data.aliases if isinstance(alias, str))
        if data.capabilities is not None:
            serialized["capabilities"] = {str(k): v for k, v in data.capabilities.items()}
        return serialized

    @classmethod
    def _serializable_device_registry_entry(cls, data: dr.DeviceEntry) -> SerializableData:
        serialized = super()._serializable_device_registry_entry(data)
        for key in (
            "config_entries",
            "config_entries_subentries",
            "primary_config_entry",
            "config_entry_id",
            "config_subentry_id",
        ):
            serialized.pop(key, None)
        return serialized


class _SameOnEveryLegExtension(HomeAssistantSnapshotExtension):
    serializer_class = _SameOnEveryLegSerializer


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format, in tests/snapshots/, with every harness.

    The harness overrides syrupy's fixture the same way, but with harness 0.13.375 (syrupy 6)
    syrupy's own fixture wins: the snapshots were looked for in __snapshots__/ in syrupy's
    plain format. A conftest fixture takes precedence over both plugins. One file serves both
    legs (see `_SameOnEveryLegSerializer`).
    """
    return snapshot.use_extension(_SameOnEveryLegExtension)


type EmulatorFactory = Callable[..., Awaitable[FishAudioEmulator]]
type FishSpeechFactory = Callable[..., Awaitable[FishSpeechEmulator]]


@contextlib.asynccontextmanager
async def _started[E: (FishAudioEmulator, FishSpeechEmulator)](
    kind: type[E],
) -> AsyncIterator[Callable[..., Awaitable[E]]]:
    """A factory of started emulators of one kind, every one stopped at the end."""
    started: list[E] = []

    async def start(**settings: Any) -> E:
        emu = kind(**settings)
        await emu.start()
        started.append(emu)
        return emu

    try:
        yield start
    finally:
        for emu in started:
            await emu.stop()


@pytest.fixture
async def make_emulator(socket_enabled: None) -> AsyncGenerator[EmulatorFactory]:
    """Return a factory of started Fish Audio emulators (custom settings) on free loopback
    ports, all stopped after the test."""
    async with _started(FishAudioEmulator) as start:
        yield start


@pytest.fixture
async def emulator(make_emulator: EmulatorFactory) -> FishAudioEmulator:
    """The Fish Audio emulator on a free loopback port, stopped after the test."""
    return await make_emulator()


@pytest.fixture
async def make_fish_speech(socket_enabled: None) -> AsyncGenerator[FishSpeechFactory]:
    """Return a factory of started Fish Speech servers (emulated, custom settings) on free
    loopback ports, all stopped after the test."""
    async with _started(FishSpeechEmulator) as start:
        yield start


def voice_subentry_data(**overrides: Any) -> dict[str, Any]:
    """Return the data of a voice subentry with the defaults, changed by ``overrides``."""
    return {**VOICE_DEFAULTS, "name": TEST_VOICE_NAME, **overrides}


def voice_form(**values: Any) -> dict[str, Any]:
    """Return voice form input: the defaults changed by ``values``, less-used ones in their
    collapsed section, as the frontend submits them."""
    flat = {**VOICE_DEFAULTS, **values}
    for setting in subentry_settings():  # a select submits its option as a string
        if setting.kind == "choice" and flat.get(setting.key) is not None:
            flat[setting.key] = str(flat[setting.key])
    if not flat.get(CONF_VOICE_ID):
        flat.pop(CONF_VOICE_ID, None)  # a picker left empty is not submitted
    advanced = {s.key: flat.pop(s.key) for s in subentry_settings() if s.advanced and s.key in flat}
    return {**flat, SECTION_ADVANCED: advanced}


@pytest.fixture
def voice_settings(emulator: FishAudioEmulator) -> dict[str, Any]:
    """Data of the voice subentry the test account starts with: the first own voice."""
    own = [v for v in emulator.state.voices.values() if v["author"]["_id"] == TEST_USER_ID]
    return voice_subentry_data(**{CONF_VOICE_ID: own[0]["_id"]} if own else {})


@pytest.fixture
def config_entry(emulator: FishAudioEmulator, voice_settings: dict[str, Any]) -> MockConfigEntry:
    """An account entry against the emulator, with one voice."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Fish Audio",
        entry_id=TEST_ENTRY_ID,
        unique_id=TEST_USER_ID,
        data={CONF_API_KEY: TEST_API_KEY, CONF_BASE_URL: emulator.base_url},
        subentries_data=[
            {
                "subentry_type": SUBENTRY_VOICE,
                "data": voice_settings,
                "title": TEST_VOICE_NAME,
                "subentry_id": TEST_VOICE_SUBENTRY_ID,
                "unique_id": None,
            }
        ],
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set the account up in Home Assistant; unload it at the end of the test."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry
    if config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
def allowed_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A directory Home Assistant may read and write; tmp_path itself stays outside."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    hass.config.allowlist_external_dirs = {str(allowed)}
    return allowed


@pytest.fixture
def outside_dir(tmp_path: Path) -> Path:
    """A directory outside the allow-list."""
    outside = tmp_path / "outside"
    outside.mkdir()
    return outside


def wav_bytes(seconds: float = 1.5, rate: int = 16000) -> bytes:
    """Return a mono 16-bit WAV file of a quiet tone, ``seconds`` long."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = int(seconds * rate)
        out.writeframes(b"".join((i % 64 * 8).to_bytes(2, "little") for i in range(frames)))
    return buffer.getvalue()


def make_wav(path: Path, seconds: float = 1.5, rate: int = 16000) -> bytes:
    """Write :func:`wav_bytes` to ``path`` and return them."""
    data = wav_bytes(seconds, rate)
    path.write_bytes(data)
    return data


def sparse_file(path: Path, size: int) -> Path:
    """Create a file of ``size`` bytes without writing them (a hole)."""
    with path.open("wb") as file:
        file.truncate(size)
    return path


@contextlib.contextmanager
def streaming_agent(
    llm: Callable[[], AsyncIterator[conversation.AssistantContentDeltaDict]], speech: str
) -> Generator[None]:
    """Stand in for a streaming LLM conversation agent in every Assist pipeline run.

    Only the agent is replaced (Home Assistant's conversation call): the pipeline, its text
    queue, the TTS manager and the integration are the real ones. `llm()` gives the deltas
    the agent writes, on its own schedule; `speech` is its whole reply.
    """

    async def converse(hass: HomeAssistant, **kwargs: Any) -> conversation.ConversationResult:
        # The pipeline passes everything by keyword.
        with (
            chat_session.async_get_chat_session(hass, kwargs["conversation_id"]) as session,
            conversation.async_get_chat_log(hass, session) as chat_log,
        ):
            async for _content in chat_log.async_add_delta_content_stream("test-agent", llm()):
                pass
            response = intent.IntentResponse(kwargs.get("language") or "en")
            response.async_set_speech(speech)
            return conversation.ConversationResult(
                response=response, conversation_id=session.conversation_id
            )

    pipeline = "homeassistant.components.assist_pipeline.pipeline.conversation"
    with (
        patch(
            f"{pipeline}.async_get_agent_info",
            return_value=conversation.AgentInfo(
                id="test-agent", name="Test LLM", supports_streaming=True
            ),
        ),
        patch(f"{pipeline}.async_converse", converse),
    ):
        yield


def stt_entity(hass: HomeAssistant, entry: MockConfigEntry) -> stt.SpeechToTextEntity:
    """The account's speech-to-text entity."""
    entity_id = er.async_get(hass).async_get_entity_id("stt", DOMAIN, f"{entry.entry_id}_stt")
    assert entity_id is not None
    entity = stt.async_get_speech_to_text_entity(hass, entity_id)
    assert entity is not None
    return entity


async def transcribe_pcm(
    hass: HomeAssistant, entry: MockConfigEntry, pcm: bytes
) -> stt.SpeechResult:
    """Have the account's STT entity transcribe `pcm` as an Assist pipeline hands it over."""

    async def audio() -> AsyncIterator[bytes]:
        yield pcm

    return await stt_entity(hass, entry).async_process_audio_stream(PCM_16K_MONO, audio())


async def async_assist_pipeline(
    hass: HomeAssistant, entry: MockConfigEntry, tts_engine_id: str, name: str
) -> Pipeline:
    """Set up Assist and make a pipeline of the account's STT entity and `tts_engine_id`."""
    # The default conversation agent reads the exposed entities the core integration keeps.
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "assist_pipeline", {})
    await hass.async_block_till_done()
    pipeline = await async_create_default_pipeline(
        hass,
        stt_engine_id=stt_entity(hass, entry).entity_id,
        tts_engine_id=tts_engine_id,
        pipeline_name=name,
    )
    assert pipeline is not None  # None: an engine does not offer the pipeline's language
    return pipeline


async def async_spoken_reply(
    hass: HomeAssistant,
    pipeline: Pipeline,
    session: chat_session.ChatSession,
    event_callback: Callable[[PipelineEvent], None],
) -> PipelineInput:
    """Return a validated Assist run of `pipeline` from a typed request to its spoken reply
    (the intent stage asks the conversation agent, which a test stands in for)."""
    pipeline_input = PipelineInput(
        intent_input="Tell me something long",
        session=session,
        run=PipelineRun(
            hass,
            context=Context(),
            pipeline=pipeline,
            start_stage=PipelineStage.INTENT,
            end_stage=PipelineStage.TTS,
            event_callback=event_callback,
        ),
    )
    await pipeline_input.validate()
    return pipeline_input


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (not a package) as the module ``name``."""
    spec = importlib.util.spec_from_file_location(
        name, INTEGRATION.parent.parent / "scripts" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import does: dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def run_benchmark(module: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <module> --smoke <args>`` from the repository's root, as
    ``scripts/bench`` does; a failed run fails the test with the end of what it printed."""
    done = subprocess.run(  # noqa: S603 - our own benchmark modules, fixed arguments
        [sys.executable, "-m", module, "--smoke", *args],
        cwd=INTEGRATION.parent.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def assert_disabled_by_integration(hass: HomeAssistant, *entity_ids: str) -> None:
    """Each entity is registered and disabled until the user enables it."""
    registry = er.async_get(hass)
    for entity_id in entity_ids:
        entry = registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION, entity_id


async def async_setup_with_sensors_enabled(
    hass: HomeAssistant, entry: MockConfigEntry, *keys: str
) -> None:
    """Set the account up with the sensors of ``keys`` (unique id ``<entry id>_<key>``, off
    by default) already enabled, as a user who turned them on."""
    registry = er.async_get(hass)
    entry.add_to_hass(hass)
    for key in keys:
        registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{entry.entry_id}_{key}",
            config_entry=entry,
            suggested_object_id=f"fish_audio_{key.replace('.', '_').replace('-', '_')}",
            disabled_by=None,
        )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def user_error_key(err: BaseException | None) -> str:
    """The translation key a user meets; a failed update (``update_failed``) names its
    cause's, the key the same client error has everywhere else."""
    assert isinstance(err, HomeAssistantError)
    assert err.translation_domain == DOMAIN
    assert err.translation_key is not None
    if err.translation_key == "update_failed":
        return next(key for cls, key in ERROR_KEYS if isinstance(err.__cause__, cls))
    return err.translation_key


def assert_translated(err: HomeAssistantError, key: str, **placeholders: str) -> None:
    """Assert the error's translation key (which must exist) and some placeholders."""
    assert err.translation_domain == DOMAIN
    assert err.translation_key == key
    assert key in TRANSLATIONS["exceptions"]
    for name, value in placeholders.items():
        assert err.translation_placeholders is not None
        assert err.translation_placeholders[name] == value
    message = TRANSLATIONS["exceptions"][key]["message"]
    assert message.format(**(err.translation_placeholders or {}))  # every placeholder given


async def async_proxy_clip(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entity_id: str,
    message: str,
    options: dict[str, Any],
) -> Clip:
    """Fetch speech from Home Assistant's TTS proxy, as a player does; return what it is."""
    stream = tts.async_create_stream(hass, entity_id, options=options)
    stream.async_set_message(message)
    client = await hass_client()
    response = await client.get(stream.url)
    assert response.status == 200
    return probe(await response.read())
