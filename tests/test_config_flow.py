"""Tests of the config flow: account, reauth, reconfigure, options and voice subentries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.fish_audio_suite.config_flow import (
    CONF_PASTED_VOICE_ID,
    OWN_VOICE_MARK,
    _voice_schema,
)
from custom_components.fish_audio_suite.const import (
    BACKEND_FISH_AUDIO,
    CONF_BACKEND,
    CONF_BASE_URL,
    CONF_FORMAT,
    CONF_LOW_CREDIT_THRESHOLD,
    CONF_MODEL,
    CONF_NAME,
    CONF_STT_LANGUAGE_MODE,
    CONF_VOICE_ID,
    DEFAULT_BASE_URL,
    DOMAIN,
    STT_LANGUAGE_AUTO,
    SUBENTRY_VOICE,
)
from custom_components.fish_audio_suite.voice_settings import SECTION_ADVANCED, subentry_settings
from emulator import FishAudioEmulator

from .conftest import TEST_API_KEY, TEST_USER_ID, voice_form

pytestmark = pytest.mark.usefixtures("socket_enabled")

type Configure = Callable[..., Awaitable[Any]]  # a flow manager's async_configure

OTHER_KEY = "other-account-key"
NEW_KEY = "rotated-key"


def _own_voice(emulator: FishAudioEmulator) -> dict[str, Any]:
    return next(v for v in emulator.state.voices.values() if v["author"]["_id"] == TEST_USER_ID)


def _public_voice(emulator: FishAudioEmulator) -> dict[str, Any]:
    return next(v for v in emulator.state.voices.values() if v["author"]["_id"] != TEST_USER_ID)


async def _start_custom(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["cloud", "custom", "fish_speech"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "custom"}
    )


async def _account_validated(hass: HomeAssistant, emulator: FishAudioEmulator) -> dict[str, Any]:
    result = await _start_custom(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: emulator.base_url + "/", CONF_API_KEY: TEST_API_KEY}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "voice_menu"
    return result


async def test_custom_endpoint_without_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator
) -> None:
    """A custom endpoint creates the account; the trailing slash is dropped."""
    result = await _account_validated(hass, emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "finish"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Fish Audio (127.0.0.1)"
    assert result["data"] == {
        CONF_BACKEND: BACKEND_FISH_AUDIO,
        CONF_API_KEY: TEST_API_KEY,
        CONF_BASE_URL: emulator.base_url,
    }
    assert result["result"].unique_id == TEST_USER_ID
    assert result["result"].subentries == {}
    # Validation went through the credit endpoint with the key as a bearer token.
    credit_calls = [r for r in emulator.requests if r.path == "/wallet/self/api-credit"]
    assert credit_calls
    assert credit_calls[0].headers["Authorization"] == f"Bearer {TEST_API_KEY}"


async def test_built_in_texts_in_the_language_of_home_assistant(
    hass: HomeAssistant, emulator: FishAudioEmulator
) -> None:
    """Picker labels and the default voice's title are translated, not English from code."""
    hass.config.language = "de"
    result = await _account_validated(hass, emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voice_search"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    public = _public_voice(emulator)
    labels = {o["value"]: o["label"] for o in _voice_options(result)}
    assert labels[public["_id"]].endswith(f" · {public['task_count']:,}-mal verwendet")
    assert not any(label.endswith(" uses") for label in labels.values())
    # No voice picked: Fish Audio's default voice, titled in German.
    result = await hass.config_entries.flow.async_configure(result["flow_id"], voice_form())
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = result["result"].subentries.values()
    assert subentry.title == "Standardstimme"
    await hass.async_block_till_done()


async def test_custom_endpoint_with_first_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator
) -> None:
    """The last step adds a first voice, so the account ends with a TTS entity."""
    voice = _own_voice(emulator)
    result = await _account_validated(hass, emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voice_search"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "voice_search"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "voice"
    # The picker lists own voices first, then public ones with their use counts.
    options = _voice_options(result)
    own_ids = {
        v["_id"] for v in emulator.state.voices.values() if v["author"]["_id"] == TEST_USER_ID
    }
    assert {o["value"] for o in options[: len(own_ids)]} == own_ids
    # The frontend sorts options by label, so the labels themselves mark the own voices.
    assert all(o["label"].startswith(f"{OWN_VOICE_MARK} ") for o in options[: len(own_ids)])
    assert all("uses" not in o["label"] for o in options[: len(own_ids)])
    assert all("uses" in o["label"] for o in options[len(own_ids) :])
    assert not any(OWN_VOICE_MARK in o["label"] for o in options[len(own_ids) :])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        voice_form(**{CONF_VOICE_ID: voice["_id"], CONF_MODEL: "s2-pro"}),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = result["result"].subentries.values()
    assert subentry.subentry_type == SUBENTRY_VOICE
    assert subentry.title == voice["title"]
    assert subentry.data[CONF_VOICE_ID] == voice["_id"]
    assert subentry.data[CONF_MODEL] == "s2-pro"
    assert subentry.data[CONF_NAME] == voice["title"]
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_voice_search_without_match(hass: HomeAssistant, emulator: FishAudioEmulator) -> None:
    """A search that finds nothing says so on the search form; searching again works."""
    result = await _account_validated(hass, emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voice_search"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"search": "no voice has this title"}
    )
    assert result["step_id"] == "voice_search"
    assert result["errors"] == {"base": "no_matching_voice"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"search": "narrator"}
    )
    assert result["step_id"] == "voice"
    assert _voice_options(result)


async def test_pasted_voice_id_wins_over_the_picker(
    hass: HomeAssistant, emulator: FishAudioEmulator
) -> None:
    """A pasted id is used even when a voice is picked as well: the user typed it."""
    own = _own_voice(emulator)
    public = _public_voice(emulator)
    result = await _account_validated(hass, emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voice_search"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        voice_form(**{CONF_VOICE_ID: own["_id"], CONF_PASTED_VOICE_ID: public["_id"]}),
    )
    (subentry,) = result["result"].subentries.values()
    assert subentry.data[CONF_VOICE_ID] == public["_id"]
    assert CONF_PASTED_VOICE_ID not in subentry.data
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


def test_advanced_section_default_holds_every_inner_default() -> None:
    """The frontend takes a section's default as its whole value: {} would leave the inner
    required fields empty and the form refused ("Not all required fields are filled in")."""
    schema = _voice_schema([], "fish_audio").schema
    (marker,) = [key for key in schema if str(key) == SECTION_ADVANCED]
    expected = {
        s.key: str(s.default) if s.kind == "choice" else s.default
        for s in subentry_settings()
        if s.advanced and s.default is not None and "fish_audio" in s.backends
    }
    assert expected
    assert marker.default() == expected


def _voice_options(result: dict[str, Any]) -> list[dict[str, str]]:
    schema = result["data_schema"].schema
    for key, selector in schema.items():
        if key == CONF_VOICE_ID:
            return list(selector.config["options"])
    raise AssertionError("no voice picker")


async def _voice_search(
    hass: HomeAssistant, emulator: FishAudioEmulator, config_entry: MockConfigEntry, kind: str
) -> tuple[Configure, dict[str, Any]]:
    """Open the voice search of a new account ("account") or of a new voice ("subentry")."""
    if kind == "account":
        result = await _account_validated(hass, emulator)
        configure: Configure = hass.config_entries.flow.async_configure
        result = await configure(result["flow_id"], {"next_step_id": "voice_search"})
    else:
        config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        configure = hass.config_entries.subentries.async_configure
        result = await hass.config_entries.subentries.async_init(
            (config_entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "voice_search"
    return configure, result


def _voice_lookups(emulator: FishAudioEmulator) -> list[str]:
    return [r.path for r in emulator.requests if r.path.startswith("/model/")]


# Errors of the voice steps, which the account flow and the voice subentry share: (the step,
# the preset the voice list ("GET /model") or the id lookup ("GET /model/*") answers, if
# any; what the user submits; the errors shown; whether the id was looked up).
type VoiceStepError = tuple[str, tuple[str, str] | None, dict[str, Any], dict[str, str], bool]
VOICE_STEP_ERRORS: dict[str, VoiceStepError] = {
    "search, 500": (
        "voice_search", ("GET /model", "500"), {"search": "narrator"},
        {"base": "cannot_connect"}, False,
    ),
    "search, 503 (retried)": (
        "voice_search", ("GET /model", "503"), {}, {"base": "cannot_connect"}, False
    ),
    "pasted id unknown": (
        "voice", None, voice_form(**{CONF_PASTED_VOICE_ID: "no-such-voice"}),
        {CONF_PASTED_VOICE_ID: "voice_not_found"}, True,
    ),
    # What cannot be a voice id is refused before any request.
    "pasted path": (
        "voice", None, voice_form(**{CONF_PASTED_VOICE_ID: "../wallet/self"}),
        {CONF_PASTED_VOICE_ID: "voice_not_found"}, False,
    ),
    "pasted page URL": (
        "voice", None, voice_form(**{CONF_PASTED_VOICE_ID: "https://fish.audio/m/abc/"}),
        {CONF_PASTED_VOICE_ID: "voice_not_found"}, False,
    ),
    # The API failing while checking the id is a connection error.
    "lookup, 500": (
        "voice", ("GET /model/*", "500"), voice_form(**{CONF_PASTED_VOICE_ID: "another-voice"}),
        {"base": "cannot_connect"}, True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", ["account", "subentry"])
@pytest.mark.parametrize("case", VOICE_STEP_ERRORS)
async def test_voice_step_errors_recover(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
    case: str,
    kind: str,
) -> None:
    """Each error is shown on the step it belongs to, in both flows; the same flow then
    ends with the voice added."""
    step, answer, user_input, errors, looked_up = VOICE_STEP_ERRORS[case]
    configure, result = await _voice_search(hass, emulator, config_entry, kind)
    if step == "voice":
        result = await configure(result["flow_id"], {})
    if answer is not None:
        emulator.faults.preset(*answer, times=None)
    emulator.requests.clear()
    result = await configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    assert result["errors"] == errors
    assert bool(_voice_lookups(emulator)) is looked_up

    emulator.faults.clear()
    if step == "voice_search":
        result = await configure(result["flow_id"], {})
    assert result["step_id"] == "voice"
    result = await configure(result["flow_id"], voice_form(**{CONF_NAME: "House"}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"] if kind == "account" else config_entry
    assert "House" in {s.title for s in entry.subentries.values()}
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


async def test_first_voice_search_and_a_pasted_public_id(
    hass: HomeAssistant, emulator: FishAudioEmulator
) -> None:
    """Searching by title and language filters the list on the server; a pasted id of a
    public voice the search did not list works (looked up by id), and an empty name takes
    the voice's title."""
    result = await _account_validated(hass, emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voice_search"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"search": "narrator", "language": "en"}
    )
    assert result["step_id"] == "voice"
    listing = [r for r in emulator.requests if r.path == "/model"][-1]
    assert listing.query.get("title") == "narrator"
    assert listing.query.get("language") == "en"
    public = next(v for v in emulator.state.voices.values() if v["languages"] == ["zh"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], voice_form(**{CONF_PASTED_VOICE_ID: f" {public['_id']} ", CONF_NAME: ""})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = result["result"].subentries.values()
    assert subentry.title == public["title"]
    assert subentry.data[CONF_VOICE_ID] == public["_id"]
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_cloud_step(hass: HomeAssistant, emulator: FishAudioEmulator) -> None:
    """The cloud path asks only for the key and stores the official base URL."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "cloud"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cloud"
    assert list(result["data_schema"].schema) == [CONF_API_KEY]
    # The real cloud is out of reach here: point the official URL at the emulator.
    with patch(
        "custom_components.fish_audio_suite.config_flow.DEFAULT_BASE_URL", emulator.base_url
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_API_KEY: f"  {TEST_API_KEY}  "}
        )
        assert result["step_id"] == "voice_menu"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "finish"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == TEST_API_KEY


async def test_cloud_title_is_plain(hass: HomeAssistant) -> None:
    """An entry on the official endpoint is titled without a host."""
    from custom_components.fish_audio_suite.config_flow import FishAudioConfigFlow  # noqa: PLC0415

    flow = FishAudioConfigFlow()
    flow._data = {CONF_BASE_URL: DEFAULT_BASE_URL}
    assert flow._title == "Fish Audio"


# Errors of the account form: (the preset the credit check answers, if any; what the user
# changes in good input, from the emulator's URL; the errors shown; whether anything was
# sent).
type AccountError = tuple[str | None, Callable[[str], dict[str, str]], dict[str, str], bool]
ACCOUNT_ERRORS: dict[str, AccountError] = {
    "401-plain": ("401-plain", lambda _: {}, {"base": "invalid_auth"}, True),
    "401-json": ("401-json", lambda _: {}, {"base": "invalid_auth"}, True),
    "403": ("403", lambda _: {}, {"base": "invalid_auth"}, True),
    "500": ("500", lambda _: {}, {"base": "cannot_connect"}, True),
    "404": ("404", lambda _: {}, {"base": "cannot_connect"}, True),
    # A key the server does not know, and a server that is not there.
    "unknown key": (None, lambda _: {CONF_API_KEY: "wrong"}, {"base": "invalid_auth"}, True),
    "nothing listening": (
        None, lambda _: {CONF_BASE_URL: "http://127.0.0.1:9"}, {"base": "cannot_connect"}, False
    ),
    "not http": (
        None, lambda _: {CONF_BASE_URL: "ftp://example.invalid"},
        {CONF_BASE_URL: "invalid_url"}, False,
    ),
    "unclosed bracket": (
        None, lambda _: {CONF_BASE_URL: "http://[::1"}, {CONF_BASE_URL: "invalid_url"}, False
    ),
    "lone surrogate in the host": (
        None, lambda _: {CONF_BASE_URL: "http://\ud800.test"},
        {CONF_BASE_URL: "invalid_url"}, False,
    ),
    # A base URL carrying a user or password is refused before anything is sent.
    "URL with user and password": (
        None, lambda url: {CONF_BASE_URL: url.replace("http://", "http://user:secret@")},
        {CONF_BASE_URL: "url_has_credentials"}, False,
    ),
    "URL with user": (
        None, lambda url: {CONF_BASE_URL: url.replace("http://", "http://user@")},
        {CONF_BASE_URL: "url_has_credentials"}, False,
    ),
    "URL with password": (
        None, lambda url: {CONF_BASE_URL: url.replace("http://", "http://:secret@")},
        {CONF_BASE_URL: "url_has_credentials"}, False,
    ),
    # A key with control or non-ASCII characters is refused, not a raw error.
    "key with a newline": (
        None, lambda _: {CONF_API_KEY: "key\nInjected: 1"}, {"base": "invalid_auth"}, False
    ),
    "non-ASCII key": (None, lambda _: {CONF_API_KEY: "ключ"}, {"base": "invalid_auth"}, False),
    "key with a lone surrogate": (
        None, lambda _: {CONF_API_KEY: "key\ud800"}, {"base": "invalid_auth"}, False
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", ACCOUNT_ERRORS)
async def test_account_errors_recover(
    hass: HomeAssistant, emulator: FishAudioEmulator, case: str
) -> None:
    """Each validation error is shown in the same form, which then succeeds."""
    preset, change, errors, sends = ACCOUNT_ERRORS[case]
    result = await _start_custom(hass)
    if preset is not None:
        emulator.faults.preset("GET /wallet/self/api-credit", preset)
    good = {CONF_BASE_URL: emulator.base_url, CONF_API_KEY: TEST_API_KEY}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**good, **change(emulator.base_url)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "custom"
    assert result["errors"] == errors
    assert bool(emulator.requests) is sends
    result = await hass.config_entries.flow.async_configure(result["flow_id"], good)
    assert result["step_id"] == "voice_menu"


async def test_unexpected_error(hass: HomeAssistant, emulator: FishAudioEmulator) -> None:
    """An error outside the client's tree is the last-resort `unknown`."""
    result = await _start_custom(hass)
    user_input = {CONF_BASE_URL: emulator.base_url, CONF_API_KEY: TEST_API_KEY}
    # Nothing on the wire produces a non-client error: patching is the only way here.
    with patch(
        "custom_components.fish_audio_suite.api.FishAudioClient.get_credit",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["step_id"] == "voice_menu"


async def test_already_configured(
    hass: HomeAssistant, emulator: FishAudioEmulator, config_entry: MockConfigEntry
) -> None:
    """The same account cannot be added twice."""
    config_entry.add_to_hass(hass)
    result = await _start_custom(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: emulator.base_url, CONF_API_KEY: TEST_API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# Errors of the flows that change a stored key (reauth: the key; reconfigure: key and base
# URL): (what the user changes in good input; the errors shown, or the flow's abort reason).
KEY_ERRORS: dict[str, tuple[dict[str, str], dict[str, str] | str]] = {
    "unknown key": ({CONF_API_KEY: "still-wrong"}, {"base": "invalid_auth"}),
    # A key of another account is refused: it would silently switch accounts.
    "another account's key": ({CONF_API_KEY: OTHER_KEY}, "wrong_account"),
    "not a URL": ({CONF_BASE_URL: "not a url"}, {CONF_BASE_URL: "invalid_url"}),
}
KEY_FLOWS = {"reauth": "reauth_confirm", "reconfigure": "reconfigure"}


@pytest.mark.parametrize(
    ("flow", "case"),
    [
        (flow, case)
        for flow in KEY_FLOWS
        for case in KEY_ERRORS
        if flow == "reconfigure" or CONF_BASE_URL not in KEY_ERRORS[case][0]
    ],
)
async def test_key_errors_recover(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    flow: str,
    case: str,
) -> None:
    """Each error leaves the stored key as it was; a new key of the same account is then
    stored and the entry reloads with it."""
    change, expected = KEY_ERRORS[case]
    emulator.state.add_api_key(NEW_KEY)
    emulator.state.add_api_key(OTHER_KEY, user_id="user-2")

    async def start() -> dict[str, Any]:
        if flow == "reauth":
            result = await init_integration.start_reauth_flow(hass)
        else:
            result = await init_integration.start_reconfigure_flow(hass)
        assert result["step_id"] == KEY_FLOWS[flow]
        return result

    good = {CONF_API_KEY: NEW_KEY}
    if flow == "reconfigure":  # the trailing slash is dropped
        good[CONF_BASE_URL] = emulator.base_url + "/"
    result = await start()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], good | change)
    if isinstance(expected, str):
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == expected
        result = await start()
    else:
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == expected
    assert init_integration.data[CONF_API_KEY] == TEST_API_KEY

    result = await hass.config_entries.flow.async_configure(result["flow_id"], good)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == f"{flow}_successful"
    await hass.async_block_till_done()
    assert init_integration.data == {
        CONF_BACKEND: BACKEND_FISH_AUDIO,  # added by the 1.2 migration at setup
        CONF_API_KEY: NEW_KEY,
        CONF_BASE_URL: emulator.base_url,
    }
    assert init_integration.state is ConfigEntryState.LOADED
    # The reloaded entry uses the new key.
    assert emulator.requests[-1].headers["Authorization"] == f"Bearer {NEW_KEY}"


async def test_reauth_after_failed_setup(
    hass: HomeAssistant, emulator: FishAudioEmulator, config_entry: MockConfigEntry
) -> None:
    """When setup failed on a revoked key, reauth reloads the entry itself."""
    emulator.state.revoke_api_key(TEST_API_KEY)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"
    emulator.state.add_api_key(NEW_KEY)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: NEW_KEY}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_options(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Options set the STT language mode and the low-credit threshold."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_STT_LANGUAGE_MODE: STT_LANGUAGE_AUTO, CONF_LOW_CREDIT_THRESHOLD: 5.5},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options == {
        CONF_STT_LANGUAGE_MODE: STT_LANGUAGE_AUTO,
        CONF_LOW_CREDIT_THRESHOLD: 5.5,
    }
    assert init_integration.state is ConfigEntryState.LOADED


async def test_add_voice_subentry(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A voice added to a loaded account becomes a subentry (errors: the voice step table);
    with no voice id it is Fish Audio's default voice, named by the user."""
    result = await hass.config_entries.subentries.async_init(
        (init_integration.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    assert result["step_id"] == "voice_search"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["step_id"] == "voice"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {k: v for k, v in voice_form(**{CONF_NAME: "House"}).items() if k != CONF_VOICE_ID},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    titles = {s.title: s for s in init_integration.subentries.values()}
    assert titles["House"].data[CONF_VOICE_ID] == ""
    assert init_integration.state is ConfigEntryState.LOADED


async def test_reconfigure_voice_subentry(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Reconfiguring a voice keeps its current id selectable and saves new settings."""
    (subentry,) = init_integration.subentries.values()
    emulator.state.voices.pop(subentry.data[CONF_VOICE_ID])  # no longer listed
    result = await init_integration.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["step_id"] == "voice"
    # Fish Audio no longer knows the voice: it keeps the name the user knows it by.
    assert _voice_options(result)[0] == {
        "value": subentry.data[CONF_VOICE_ID],
        "label": subentry.title,
    }
    public = _public_voice(emulator)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], voice_form(**{CONF_PASTED_VOICE_ID: "gone"})
    )
    assert result["errors"] == {CONF_PASTED_VOICE_ID: "voice_not_found"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        voice_form(
            **{
                CONF_VOICE_ID: public["_id"],
                CONF_NAME: "Deep",
                "speed": 1.25,
                "latency": "low",
                CONF_FORMAT: "wav",
            }
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    updated = init_integration.subentries[subentry.subentry_id]
    assert updated.title == "Deep"
    assert updated.data["speed"] == 1.25
    assert updated.data[CONF_FORMAT] == "wav"
    assert init_integration.state is ConfigEntryState.LOADED


async def test_reconfigure_voice_cannot_list(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Reconfigure aborts when the voices cannot be listed."""
    (subentry,) = init_integration.subentries.values()
    emulator.faults.preset("GET /model", "500")
    result = await init_integration.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_voice_subentry_needs_loaded_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Voices need a working account: adding or changing one aborts otherwise."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (config_entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"
    (subentry,) = config_entry.subentries.values()
    result = await config_entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"
