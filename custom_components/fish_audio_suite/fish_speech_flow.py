"""Config flow steps of a self-hosted Fish Speech server, and of its voice subentry.

The account flow's menu offers the server as a third path. Most setups never take it, so
these steps are not part of ``config_flow.py`` (which Home Assistant imports with the
integration): the flow's Fish Speech steps and the Fish Speech voice subentry flow are short
methods there that load this module off the event loop
(``config_flow.async_load_fish_speech_steps``) and hand the flow to the function of the same
name here. Validation calls ``/v1/health`` and tells three failures apart: nothing answers,
the server refuses the key, something answers that is not Fish Speech.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, SubentryFlowResult
from homeassistant.const import CONF_API_KEY
from homeassistant.helpers.selector import (
    SelectOptionDict,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .api import (
    FishAudioAuthenticationError,
    FishAudioConnectionError,
    FishAudioError,
    FishSpeechNotServerError,
)

# One set of form rules for both backends: the account flow's (this module is its part).
from .config_flow import (
    _form_values,
    _normalise_base_url,
    _stored_values,
    _voice_schema,
    api_key_selector,
    async_flow_texts,
)
from .const import (
    BACKEND_FISH_SPEECH,
    CONF_BACKEND,
    CONF_BASE_URL,
    CONF_NAME,
    CONF_VOICE_ID,
    LOGGER,
)
from .fish_speech import EXAMPLE_URL, make_client, server_title, server_unique_id
from .helpers import as_fish_speech, async_load_fish_speech
from .voice_settings import voice_defaults

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .config_flow import FishAudioConfigFlow, FishSpeechVoiceSubentryFlow
    from .fish_speech import FishSpeechConfigEntry

URL_SELECTOR: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
SERVER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_BASE_URL): URL_SELECTOR,
        vol.Optional(CONF_API_KEY): api_key_selector(),
    }
)
KEY_SCHEMA: Final = vol.Schema({vol.Optional(CONF_API_KEY): api_key_selector()})


def server_data(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Return entry data from the server form, or errors for a bad address."""
    base_url, error = _normalise_base_url(str(user_input.get(CONF_BASE_URL, "")))
    if base_url is None:
        return {}, {CONF_BASE_URL: error}
    data: dict[str, Any] = {CONF_BACKEND: BACKEND_FISH_SPEECH, CONF_BASE_URL: base_url}
    if key := str(user_input.get(CONF_API_KEY) or "").strip():
        data[CONF_API_KEY] = key
    return data, {}


async def async_validate_server(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> tuple[list[str] | None, dict[str, str]]:
    """Check the server; return its reference voices, or the form errors."""
    await async_load_fish_speech(hass)
    client = make_client(hass, data)
    try:
        await client.health()
        return await client.list_references(), {}
    except FishAudioAuthenticationError:
        return None, {"base": "server_refused_key"}
    except FishSpeechNotServerError as err:
        LOGGER.debug("Not a Fish Speech server at %s: %s", data[CONF_BASE_URL], err)
        return None, {"base": "not_fish_speech"}
    except FishAudioConnectionError as err:
        LOGGER.debug("Cannot reach the Fish Speech server: %s", err)
        return None, {"base": "server_unreachable"}
    except FishAudioError as err:
        LOGGER.debug("The Fish Speech server failed: %s", err)
        return None, {"base": "server_failed"}
    except Exception:  # noqa: BLE001 - the last-resort branch of a config flow
        LOGGER.exception("Unexpected error while validating the Fish Speech server")
        return None, {"base": "unknown"}


def voice_schema(references: list[str]) -> vol.Schema:
    """Return the voice form of a Fish Speech server: the settings the table marks for it."""
    options = [SelectOptionDict(value=ref, label=ref) for ref in references]
    return _voice_schema(options, BACKEND_FISH_SPEECH)


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a stored voice's settings as the form shows them."""
    return _form_values(data, BACKEND_FISH_SPEECH)


async def _default_title(hass: HomeAssistant) -> str:
    """Return the title of a voice that uses the server's default voice, translated."""
    return (await async_flow_texts(hass))["default_voice"]


def voice_data(
    user_input: Mapping[str, Any], references: list[str], default_title: str
) -> tuple[str, dict[str, Any]]:
    """Return the subentry title and data of a submitted voice form.

    ``default_title`` (translated) names a voice that uses the server's default voice.

    Raises:
        ValueError: The voice is not among the server's stored voices.
    """
    flat = _stored_values(user_input, BACKEND_FISH_SPEECH)
    voice_id = str(flat.get(CONF_VOICE_ID) or "").strip()
    if voice_id and voice_id not in references:
        raise ValueError(voice_id)
    title = str(flat.get(CONF_NAME) or "").strip() or voice_id or default_title
    data = {**voice_defaults(BACKEND_FISH_SPEECH), **flat, CONF_VOICE_ID: voice_id}
    data[CONF_NAME] = title
    return title, data


# The account flow's steps for a Fish Speech server. `FishAudioConfigFlow` has a method of each
# name that hands itself to the function here; the flow keeps the state (`_data`, `_references`).


async def async_step_fish_speech(
    flow: FishAudioConfigFlow, user_input: dict[str, Any] | None = None
) -> ConfigFlowResult:
    """Connect to a self-hosted Fish Speech server."""
    errors: dict[str, str] = {}
    if user_input is not None:
        data, errors = server_data(user_input)
        if not errors:
            await flow.async_set_unique_id(server_unique_id(data[CONF_BASE_URL]))
            flow._abort_if_unique_id_configured()
            references, errors = await async_validate_server(flow.hass, data)
            if references is not None:
                flow._data, flow._references = data, references
                return await flow.async_step_fish_speech_menu()
    return flow.async_show_form(
        step_id="fish_speech",
        data_schema=flow.add_suggested_values_to_schema(SERVER_SCHEMA, user_input),
        errors=errors,
        description_placeholders={"example": EXAMPLE_URL},
    )


async def async_step_fish_speech_menu(
    flow: FishAudioConfigFlow, user_input: dict[str, Any] | None = None
) -> ConfigFlowResult:
    """Offer to add a first voice, so the server ends with a working TTS entity."""
    return flow.async_show_menu(
        step_id="fish_speech_menu", menu_options=["fish_speech_voice", "fish_speech_finish"]
    )


async def async_step_fish_speech_finish(
    flow: FishAudioConfigFlow, user_input: dict[str, Any] | None = None
) -> ConfigFlowResult:
    """Create the server's entry without a voice."""
    data = flow._data
    return flow.async_create_entry(title=server_title(data[CONF_BASE_URL]), data=data)


async def async_step_fish_speech_voice(
    flow: FishAudioConfigFlow, user_input: dict[str, Any] | None = None
) -> ConfigFlowResult:
    """Set up the first voice and create the server's entry with it."""
    references = flow._references
    errors: dict[str, str] = {}
    if user_input is not None:
        try:
            title, data = voice_data(user_input, references, await _default_title(flow.hass))
        except ValueError:
            errors[CONF_VOICE_ID] = "reference_not_found"
        else:
            server = flow._data
            return flow.async_create_entry(
                title=server_title(server[CONF_BASE_URL]),
                data=server,
                subentries=[
                    {"subentry_type": "voice", "data": data, "title": title, "unique_id": None}
                ],
            )
    return flow.async_show_form(
        step_id="fish_speech_voice",
        data_schema=flow.add_suggested_values_to_schema(voice_schema(references), user_input),
        errors=errors,
    )


async def async_step_fish_speech_reauth(
    flow: FishAudioConfigFlow, user_input: dict[str, Any] | None = None
) -> ConfigFlowResult:
    """Ask for the server's (new) API key after it refused the old one."""
    entry = flow._get_reauth_entry()
    errors: dict[str, str] = {}
    if user_input is not None:
        data = {k: v for k, v in entry.data.items() if k != CONF_API_KEY}
        if key := str(user_input.get(CONF_API_KEY) or "").strip():
            data[CONF_API_KEY] = key
        references, errors = await async_validate_server(flow.hass, data)
        if references is not None:
            return flow._async_finish_update(entry, data)
    return flow.async_show_form(
        step_id="fish_speech_reauth",
        data_schema=KEY_SCHEMA,
        errors=errors,
        description_placeholders={"account": entry.title},
    )


async def async_step_fish_speech_reconfigure(
    flow: FishAudioConfigFlow, user_input: dict[str, Any] | None = None
) -> ConfigFlowResult:
    """Change the server's address or key; the unique id follows the address."""
    entry = flow._get_reconfigure_entry()
    errors: dict[str, str] = {}
    if user_input is not None:
        data, errors = server_data(user_input)
        if not errors:
            unique_id = server_unique_id(data[CONF_BASE_URL])
            if unique_id != entry.unique_id:
                await flow.async_set_unique_id(unique_id)
                flow._abort_if_unique_id_configured()
            references, errors = await async_validate_server(flow.hass, data)
            if references is not None:
                return flow._async_finish_update(
                    entry, data, unique_id=unique_id, title=server_title(data[CONF_BASE_URL])
                )
    suggested = {CONF_BASE_URL: entry.data[CONF_BASE_URL], **(user_input or {})}
    return flow.async_show_form(
        step_id="fish_speech_reconfigure",
        data_schema=flow.add_suggested_values_to_schema(SERVER_SCHEMA, suggested),
        errors=errors,
    )


# The voice subentry of a Fish Speech server: `FishSpeechVoiceSubentryFlow`'s steps (`user`,
# `reconfigure` and the form's `local_voice`) all hand themselves to this one.


def _loaded_entry(flow: FishSpeechVoiceSubentryFlow) -> FishSpeechConfigEntry | None:
    entry = flow._get_entry()
    return as_fish_speech(entry) if entry.state is ConfigEntryState.LOADED else None


async def async_step_local_voice(
    flow: FishSpeechVoiceSubentryFlow, user_input: dict[str, Any] | None = None
) -> SubentryFlowResult:
    """Pick one of the server's voices (listed afresh) and its settings, or change them."""
    entry = _loaded_entry(flow)
    if entry is None:
        return flow.async_abort(reason="entry_not_loaded")
    runtime = entry.runtime_data
    if user_input is None:
        try:
            runtime.references = await runtime.client.list_references()
        except FishAudioError as err:
            LOGGER.debug("Cannot list the Fish Speech voices: %s", err)
            return flow.async_abort(reason="cannot_connect")
    reconfiguring = flow.source == "reconfigure"
    errors: dict[str, str] = {}
    if user_input is not None:
        try:
            title, data = voice_data(
                user_input, runtime.references, await _default_title(flow.hass)
            )
        except ValueError:
            errors[CONF_VOICE_ID] = "reference_not_found"
        else:
            if reconfiguring:
                return flow.async_update_and_abort(
                    entry,
                    flow._get_reconfigure_subentry(),
                    title=title,
                    data=data,
                )
            return flow.async_create_entry(title=title, data=data)
    suggested: Mapping[str, Any] | None = user_input
    if suggested is None and reconfiguring:
        suggested = form_values(flow._get_reconfigure_subentry().data)
    return flow.async_show_form(
        step_id="local_voice",
        data_schema=flow.add_suggested_values_to_schema(
            voice_schema(runtime.references), suggested
        ),
        errors=errors,
    )
