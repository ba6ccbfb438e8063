"""Config flow of Fish Audio Suite: the account, its options and its voices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import ClientSession
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowHandler, FlowResult, SectionConfig, section
from homeassistant.helpers import translation
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    LanguageSelector,
    LanguageSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol
from yarl import URL

from .api import (
    SAMPLE_RATES,
    Credit,
    FishAudioAuthenticationError,
    FishAudioClient,
    FishAudioError,
    FishAudioNotFoundError,
    FishAudioPermissionError,
    Voice,
)
from .const import (
    BACKEND_FISH_AUDIO,
    BASE_LANGUAGES,
    CONF_BACKEND,
    CONF_BASE_URL,
    CONF_FORMAT,
    CONF_LOW_CREDIT_THRESHOLD,
    CONF_MODEL,
    CONF_NAME,
    CONF_SAMPLE_RATE,
    CONF_STT_LANGUAGE_MODE,
    CONF_VOICE_ID,
    DEFAULT_BASE_URL,
    DEFAULT_LOW_CREDIT_THRESHOLD,
    DEFAULT_STT_LANGUAGE_MODE,
    DOMAIN,
    LOGGER,
    OWN_VOICES_LIMIT,
    POPULAR_VOICES_COUNT,
    STT_LANGUAGE_MODES,
    SUBENTRY_VOICE,
)
from .helpers import async_load_modules, is_fish_speech
from .voice_settings import (
    SECTION_ADVANCED,
    VOICE_DEFAULTS,
    VoiceSetting,
    not_for_model,
    subentry_settings,
    validator,
)

if TYPE_CHECKING:
    from .coordinator import FishAudioConfigEntry, FishAudioVoicesCoordinator

DEFAULT_TITLE = "Fish Audio"
CONF_SEARCH = "search"
CONF_LANGUAGE = "language"
# A voice id pasted from fish.audio: a field of its own beside the picker, whose free text
# (custom_value) would make the frontend show the bare id instead of the voice's title.
CONF_PASTED_VOICE_ID = "pasted_voice_id"
# Marks the account's own voices in the picker: the frontend sorts options by label, so
# order alone cannot say which voices are the user's; a symbol needs no translation.
OWN_VOICE_MARK = "★"

# The forms are built when a step shows them, not at import: Home Assistant imports this module
# with the integration, and the first schema built around each selector class costs a few
# tenths of a millisecond (voluptuous' Mapping check walks every registered ABC subclass).


def api_key_selector() -> TextSelector:
    """Return the API key field: a password field (the key is a secret)."""
    return TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _cloud_schema() -> vol.Schema:
    return vol.Schema({vol.Required(CONF_API_KEY): api_key_selector()})


def _custom_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_BASE_URL, default=DEFAULT_BASE_URL): TextSelector(
                TextSelectorConfig(type=TextSelectorType.URL)
            ),
            vol.Required(CONF_API_KEY): api_key_selector(),
        }
    )


def _search_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(CONF_SEARCH): TextSelector(),
            vol.Optional(CONF_LANGUAGE): LanguageSelector(
                LanguageSelectorConfig(languages=BASE_LANGUAGES)
            ),
        }
    )


def _setting_selector(setting: VoiceSetting, voices: list[SelectOptionDict], backend: str) -> Any:
    """Return the form selector of a voice setting."""
    if setting.kind == "voice":
        # Fish Audio: no custom_value, with which the frontend shows the picked option's value
        # (a 32-character id), not its label; a pasted id has its own field
        # (CONF_PASTED_VOICE_ID). A self-hosted server's reference ids are its voices' names,
        # so its picker still takes one typed in.
        return SelectSelector(
            SelectSelectorConfig(
                options=voices,
                custom_value=backend != BACKEND_FISH_AUDIO,
                mode=SelectSelectorMode.DROPDOWN,
            )
        )
    if setting.kind == "choice":
        choices = SelectSelectorConfig(options=[str(choice) for choice in setting.choices])
        if setting.translated_choices:
            choices["translation_key"] = setting.key
        return SelectSelector(choices)
    if setting.kind == "number":
        config = NumberSelectorConfig(
            min=setting.low, max=setting.high, step=setting.step, mode=NumberSelectorMode.SLIDER
        )
        if setting.unit is not None:
            config["unit_of_measurement"] = setting.unit
        return NumberSelector(config)
    if setting.kind == "integer":
        return NumberSelector(
            NumberSelectorConfig(
                min=setting.low, max=setting.high, step=1, mode=NumberSelectorMode.BOX
            )
        )
    return BooleanSelector()


def _form_settings(backend: str) -> tuple[VoiceSetting, ...]:
    """Return the settings the voice form offers for an entry's backend."""
    return subentry_settings(backend)


def _voice_schema(voices: list[SelectOptionDict], backend: str) -> vol.Schema:
    """Return the voice settings form; less-used settings sit in a collapsed section."""
    main: dict[Any, Any] = {vol.Optional(CONF_NAME): TextSelector()}
    advanced: dict[Any, Any] = {}
    for setting in _form_settings(backend):
        # An empty voice means Fish Audio's default voice, so the picker may stay empty.
        # A setting without a default (the sample rate: the format's own) may stay empty.
        marker = (
            vol.Optional(setting.key)
            if setting.kind == "voice" or setting.default is None
            # A select's values are strings: "128" for the bitrate 128.
            else vol.Required(
                setting.key,
                default=str(setting.default) if setting.kind == "choice" else setting.default,
            )
        )
        (advanced if setting.advanced else main)[marker] = _setting_selector(
            setting, voices, backend
        )
        if setting.kind == "voice" and backend == BACKEND_FISH_AUDIO:
            # A self-hosted server's picker lists every voice it has: nothing to paste.
            main[vol.Optional(CONF_PASTED_VOICE_ID)] = TextSelector()
    # The default: a client of the flow API that leaves the section out gets its defaults.
    # It holds them, not {}: the frontend starts a section from the section's default, and
    # with {} a new voice's advanced settings would look unset.
    defaults = {
        marker.schema: marker.default()
        for marker in advanced
        if isinstance(marker, vol.Required) and not isinstance(marker.default, vol.Undefined)
    }
    main[vol.Required(SECTION_ADVANCED, default=defaults)] = section(
        vol.Schema(advanced), SectionConfig(collapsed=True)
    )
    return vol.Schema(main)


def _form_values(data: Mapping[str, Any], backend: str) -> dict[str, Any]:
    """Return stored voice settings as the form shows them (advanced ones in their section)."""
    values: dict[str, Any] = {key: data[key] for key in (CONF_NAME,) if key in data}
    advanced: dict[str, Any] = {}
    for setting in _form_settings(backend):
        if setting.kind == "voice" and not data.get(setting.key):
            continue  # the default voice: an empty picker (no option has an empty value)
        if setting.key in data:
            value = data[setting.key]
            if setting.kind == "choice" and value is not None:
                value = str(value)  # as the select offers it
            (advanced if setting.advanced else values)[setting.key] = value
    values[SECTION_ADVANCED] = advanced
    return values


def _stored_values(
    user_input: Mapping[str, Any], backend: str = BACKEND_FISH_AUDIO
) -> dict[str, Any]:
    """Return the form's input flat, each setting as the table's validator gives it.

    Raises:
        vol.Invalid: A value the table refuses (the selectors normally prevent it).
    """
    flat = {**user_input, **user_input.get(SECTION_ADVANCED, {})}
    flat.pop(SECTION_ADVANCED, None)
    # A pasted id wins over the picker: the user typed it on purpose.
    if pasted := str(flat.pop(CONF_PASTED_VOICE_ID, None) or "").strip():
        flat[CONF_VOICE_ID] = pasted
    for setting in subentry_settings(backend):
        if setting.key in flat and setting.kind != "voice":
            flat[setting.key] = validator(setting)(flat[setting.key])
    return flat


# Texts the flows build in code (a subentry's title, a picker label), translated as the forms
# are: strings.json, selector "flow_text" (a flow does not know the browser's language, so
# Home Assistant's own language is used; English where a language lacks one).
FLOW_TEXT_KEYS: Final = ("default_voice", "public_voice")


async def async_flow_texts(hass: HomeAssistant) -> dict[str, str]:
    """Return the flows' built-in texts in Home Assistant's language."""
    translations = await translation.async_get_translations(
        hass, hass.config.language, "selector", {DOMAIN}
    )
    prefix = f"component.{DOMAIN}.selector.flow_text.options."
    return {key: translations[prefix + key] for key in FLOW_TEXT_KEYS}


def _voice_label(voice: Voice, *, own: bool, texts: Mapping[str, str]) -> str:
    languages = ", ".join(voice.languages)
    label = f"{voice.title} ({languages})" if languages else voice.title
    if own:
        return f"{OWN_VOICE_MARK} {label}"
    return texts["public_voice"].format(label=label, count=f"{voice.task_count:,}")


class SettingNotForModelError(Exception):
    """A voice setting was given a value that the chosen model does not take."""

    def __init__(self, key: str, model: str) -> None:
        """Record the setting and the model."""
        super().__init__(key, model)
        self.key = key
        self.model = model


class SampleRateNotForFormatError(Exception):
    """The voice's sample rate is one its audio format does not offer."""

    def __init__(self, audio_format: str) -> None:
        """Record the format."""
        super().__init__(audio_format)
        self.audio_format = audio_format


class VoiceCatalog:
    """The voices a picker offers: the account's own first, then public ones."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: FishAudioClient,
        voices: FishAudioVoicesCoordinator | None = None,
    ) -> None:
        """Initialise the catalog; with the entry's voices coordinator, when there is one."""
        self.hass = hass
        self.client = client
        self.voices = voices
        self.texts: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        self.options: list[SelectOptionDict] = []

    async def async_load(
        self,
        *,
        search: str | None = None,
        language: str | None = None,
        current: str = "",
        current_title: str = "",
    ) -> None:
        """List own voices and popular (or matching) public voices.

        ``current`` (reconfigure) stays selectable, under its title, even when the lists do
        not show it; ``current_title`` names it when Fish Audio no longer knows it.
        """
        self.texts = self.texts or await async_flow_texts(self.hass)
        own = await self.client.list_voices(
            self_only=True, page_size=OWN_VOICES_LIMIT, title=search, language=language
        )
        public = await self.client.list_voices(
            self_only=False,
            page_size=POPULAR_VOICES_COUNT,
            title=search,
            language=language,
            sort_by="task_count",
        )
        if self.voices is not None and search is None and language is None:
            # The full own list, just read: the voices Assist offers are brought up to date
            # whenever the picker is opened, without a request of their own.
            self.voices.async_set_updated_data(own.items)
        self.titles.clear()
        self.options.clear()
        for voices, is_own in ((own.items, True), (public.items, False)):
            for voice in voices:
                if voice.id not in self.titles:
                    self.titles[voice.id] = voice.title
                    self.options.append(
                        SelectOptionDict(
                            value=voice.id,
                            label=_voice_label(voice, own=is_own, texts=self.texts),
                        )
                    )
        if current and current not in self.titles:
            # Keep a voice chosen earlier selectable even when the list no longer shows it.
            try:
                title = (await self.client.get_voice(current)).title
            except FishAudioNotFoundError:
                title = current_title or current
            self.titles[current] = title
            self.options.insert(0, SelectOptionDict(value=current, label=title))

    async def async_validate(self, user_input: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Check a pasted voice id; return the subentry title and data.

        Raises FishAudioNotFoundError for an unknown id, ValueError for a malformed one,
        SettingNotForModelError for a setting the chosen model does not take.
        """
        user_input = _stored_values(user_input)
        model = str(user_input.get(CONF_MODEL, VOICE_DEFAULTS[CONF_MODEL]))
        if (setting := not_for_model(user_input, model)) is not None:
            raise SettingNotForModelError(setting.key, model)
        rate = user_input.get(CONF_SAMPLE_RATE)
        audio_format = str(user_input.get(CONF_FORMAT, VOICE_DEFAULTS[CONF_FORMAT]))
        if rate is not None and rate not in SAMPLE_RATES[audio_format]:
            raise SampleRateNotForFormatError(audio_format)
        voice_id = str(user_input.get(CONF_VOICE_ID) or "").strip()
        if voice_id and voice_id not in self.titles:
            voice = await self.client.get_voice(voice_id)
            self.titles[voice_id] = voice.title
        name = str(user_input.get(CONF_NAME) or "").strip()
        title = name or self.titles.get(voice_id) or self.texts["default_voice"]
        data = {**VOICE_DEFAULTS, **user_input, CONF_VOICE_ID: voice_id, CONF_NAME: title}
        return title, data


def _normalise_base_url(value: str) -> tuple[str | None, str]:
    """Return the base URL without trailing slash, or None and the form error's key."""
    try:
        url = URL(value.strip())
    except (ValueError, UnicodeError):  # UnicodeError: a lone surrogate, a bad IDN
        return None, "invalid_url"
    if url.scheme not in ("http", "https") or not url.host:
        return None, "invalid_url"
    if url.user is not None or url.password is not None:
        # The client refuses them: aiohttp would send them as Basic auth beside the key,
        # and the URL is shown in the UI and in logs.
        return None, "url_has_credentials"
    return str(url).rstrip("/"), ""


async def _async_validate_account(
    session: ClientSession, data: Mapping[str, Any]
) -> tuple[Credit | None, dict[str, str]]:
    """Check the key against the API; return the credit or the form errors."""
    try:
        client = FishAudioClient(data[CONF_API_KEY], session=session, base_url=data[CONF_BASE_URL])
    except ValueError:  # a key no HTTP header can carry (control or non-ASCII characters)
        return None, {"base": "invalid_auth"}
    try:
        return await client.get_credit(), {}
    except (FishAudioAuthenticationError, FishAudioPermissionError):
        return None, {"base": "invalid_auth"}
    except FishAudioError as err:
        LOGGER.debug("Cannot validate the Fish Audio account: %s", err)
        return None, {"base": "cannot_connect"}
    except Exception:  # noqa: BLE001 - the last-resort branch of a config flow
        LOGGER.exception("Unexpected error while validating the Fish Audio account")
        return None, {"base": "unknown"}


class VoiceSteps[ResultT: FlowResult[Any, Any]](FlowHandler[Any, ResultT, Any]):
    """The voice-picking steps, once: the account flow's first voice and the voice subentry.

    `voice_search` filters the picker, `voice` takes the voice and its settings. A flow
    says where its client comes from, which backend it serves and what a finished voice
    becomes (`_async_voice_done`).
    """

    _catalog: VoiceCatalog | None = None
    # The settings the form starts from: stored ones when reconfiguring, else the defaults.
    _voice_settings: dict[str, Any] | None = None

    def _voice_catalog(self) -> VoiceCatalog | None:
        """Return a new catalog, or None when the voices cannot be listed now."""
        raise NotImplementedError

    def _voice_backend(self) -> str:
        raise NotImplementedError

    async def _async_voice_done(self, title: str, data: dict[str, Any]) -> ResultT:
        raise NotImplementedError

    async def async_step_voice_search(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Filter the voice picker by title and language."""
        catalog = self._voice_catalog()
        if user_input is None or catalog is None:
            return self.async_show_form(step_id="voice_search", data_schema=_search_schema())
        try:
            await catalog.async_load(
                search=user_input.get(CONF_SEARCH), language=user_input.get(CONF_LANGUAGE)
            )
        except FishAudioError as err:
            LOGGER.debug("Cannot list Fish Audio voices: %s", err)
            return self.async_show_form(
                step_id="voice_search",
                data_schema=self.add_suggested_values_to_schema(_search_schema(), user_input),
                errors={"base": "cannot_connect"},
            )
        if not catalog.options and (user_input.get(CONF_SEARCH) or user_input.get(CONF_LANGUAGE)):
            # Say so and let the user search again, rather than show an empty picker.
            return self.async_show_form(
                step_id="voice_search",
                data_schema=self.add_suggested_values_to_schema(_search_schema(), user_input),
                errors={"base": "no_matching_voice"},
            )
        self._catalog = catalog
        return await self.async_step_voice()

    async def async_step_voice(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Choose the voice and its settings."""
        catalog = self._catalog
        assert catalog is not None  # noqa: S101 - voice_search or reconfigure runs first
        backend = self._voice_backend()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            try:
                title, data = await catalog.async_validate(user_input)
            except (FishAudioNotFoundError, ValueError):
                # ValueError: not even shaped like a voice id (e.g. a pasted page URL). The
                # error sits on the field the id came from.
                pasted = str(user_input.get(CONF_PASTED_VOICE_ID) or "").strip()
                errors[CONF_PASTED_VOICE_ID if pasted else CONF_VOICE_ID] = "voice_not_found"
            except SettingNotForModelError as err:
                errors["base"] = "setting_not_for_model"
                placeholders = {"setting": err.key, "model": err.model}
            except SampleRateNotForFormatError as err:
                errors["base"] = "sample_rate_not_for_format"
                placeholders = {
                    "format": err.audio_format,
                    "rates": ", ".join(str(rate) for rate in SAMPLE_RATES[err.audio_format]),
                }
            except FishAudioError as err:
                LOGGER.debug("Cannot check the Fish Audio voice: %s", err)
                errors["base"] = "cannot_connect"
            else:
                return await self._async_voice_done(title, data)
        suggested = _form_values(self._voice_settings or {}, backend)
        if user_input is not None:
            suggested = user_input
        return self.async_show_form(
            step_id="voice",
            data_schema=self.add_suggested_values_to_schema(
                _voice_schema(catalog.options, backend), suggested
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


async def async_load_fish_speech_steps(hass: HomeAssistant) -> None:
    """Import the Fish Speech steps' module off the event loop (once; then a dict lookup).

    Home Assistant imports this module with the integration; the self-hosted server's steps
    (and the backend they pull in) load only when a flow takes that path. Each step method
    below imports its function after this call.
    """
    await async_load_modules(hass, "fish_speech_flow")


class FishAudioConfigFlow(VoiceSteps[ConfigFlowResult], ConfigFlow, domain=DOMAIN):
    """The account flow: cloud, custom endpoint or a self-hosted server, then a first voice."""

    VERSION = 1
    # 1.2: entries carry `backend` (public names); 1.1 entries are migrated.
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Initialise the flow."""
        self._data: dict[str, Any] = {}
        self._references: list[str] = []

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry types: voices (of the cloud, or of the entry's own server)."""
        if is_fish_speech(config_entry):
            return {SUBENTRY_VOICE: FishSpeechVoiceSubentryFlow}
        return {SUBENTRY_VOICE: VoiceSubentryFlow}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow."""
        return FishAudioOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose between the Fish Audio cloud and a custom endpoint."""
        return self.async_show_menu(step_id="user", menu_options=["cloud", "custom", "fish_speech"])

    async def async_step_cloud(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Connect to the Fish Audio cloud with an API key."""
        return await self._async_account_step("cloud", _cloud_schema(), user_input)

    async def async_step_custom(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Connect to a custom (regional, proxy or test) endpoint."""
        return await self._async_account_step("custom", _custom_schema(), user_input)

    async def _async_account_step(
        self, step_id: str, schema: vol.Schema, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._account_data(user_input, DEFAULT_BASE_URL)
            if not errors:
                credit, errors = await _async_validate_account(
                    async_get_clientsession(self.hass), data
                )
                if credit is not None:
                    await self.async_set_unique_id(credit.user_id)
                    self._abort_if_unique_id_configured()
                    self._data = data
                    return await self.async_step_voice_menu()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    @staticmethod
    def _account_data(
        user_input: Mapping[str, Any], default_url: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Return the entry data from a form, or errors for a bad base URL."""
        base_url, error = _normalise_base_url(str(user_input.get(CONF_BASE_URL, default_url)))
        if base_url is None:
            return {}, {CONF_BASE_URL: error}
        return {
            CONF_BACKEND: BACKEND_FISH_AUDIO,
            CONF_API_KEY: str(user_input[CONF_API_KEY]).strip(),
            CONF_BASE_URL: base_url,
        }, {}

    async def async_step_voice_menu(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer to add a first voice so that the account ends with a working TTS entity."""
        return self.async_show_menu(step_id="voice_menu", menu_options=["voice_search", "finish"])

    async def async_step_finish(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Create the account without a voice."""
        return self.async_create_entry(title=self._title, data=self._data)

    def _voice_catalog(self) -> VoiceCatalog | None:
        return VoiceCatalog(
            self.hass,
            FishAudioClient(
                self._data[CONF_API_KEY],
                session=async_get_clientsession(self.hass),
                base_url=self._data[CONF_BASE_URL],
            ),
        )

    def _voice_backend(self) -> str:
        return str(self._data.get(CONF_BACKEND, BACKEND_FISH_AUDIO))

    async def _async_voice_done(self, title: str, data: dict[str, Any]) -> ConfigFlowResult:
        """Create the account with its first voice."""
        return self.async_create_entry(
            title=self._title,
            data=self._data,
            subentries=[
                {"subentry_type": SUBENTRY_VOICE, "data": data, "title": title, "unique_id": None}
            ],
        )

    @property
    def _title(self) -> str:
        base_url = self._data[CONF_BASE_URL]
        if base_url == DEFAULT_BASE_URL:
            return DEFAULT_TITLE
        return f"{DEFAULT_TITLE} ({URL(base_url).host})"

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start reauthentication after the API refused the key."""
        if is_fish_speech(self._get_reauth_entry()):
            return await self.async_step_fish_speech_reauth()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key of the same account."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_API_KEY: str(user_input[CONF_API_KEY]).strip()}
            result, errors = await self._async_update_account(entry, data)
            if result is not None:
                return result
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=_cloud_schema(),
            errors=errors,
            description_placeholders={"account": entry.title},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the API key or the endpoint of the account."""
        entry = self._get_reconfigure_entry()
        if is_fish_speech(entry):
            return await self.async_step_fish_speech_reconfigure(user_input)
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = self._account_data(user_input, entry.data[CONF_BASE_URL])
            if not errors:
                result, errors = await self._async_update_account(entry, {**entry.data, **data})
                if result is not None:
                    return result
        suggested = {CONF_BASE_URL: entry.data[CONF_BASE_URL], **(user_input or {})}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(_custom_schema(), suggested),
            errors=errors,
        )

    async def _async_update_account(
        self, entry: ConfigEntry, data: dict[str, Any]
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Validate new account data; return the finished flow, or the form errors."""
        credit, errors = await _async_validate_account(async_get_clientsession(self.hass), data)
        if credit is None:
            return None, errors
        await self.async_set_unique_id(credit.user_id)
        self._abort_if_unique_id_mismatch(reason="wrong_account")
        return self._async_finish_update(entry, data), {}

    def _async_finish_update(
        self, entry: ConfigEntry[Any], data: dict[str, Any], **changes: Any
    ) -> ConfigFlowResult:
        """Store the new data and finish (reauth and reconfigure, of either backend)."""
        if entry.state is ConfigEntryState.LOADED:
            # The entry's update listener reloads it; reloading here too would do it twice.
            return self.async_update_and_abort(entry, data=data, **changes)
        # Not loaded (setup failed, e.g. on the old key): no listener, so reload here.
        return self.async_update_reload_and_abort(entry, data=data, **changes)

    # A self-hosted Fish Speech server: each step runs the function of its name in
    # fish_speech_flow.py, loaded when the path is taken.

    async def async_step_fish_speech(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect to a self-hosted Fish Speech server."""
        await async_load_fish_speech_steps(self.hass)
        from .fish_speech_flow import async_step_fish_speech as step  # noqa: PLC0415 - loaded

        return await step(self, user_input)

    async def async_step_fish_speech_menu(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer to add a first voice, so the server ends with a working TTS entity."""
        await async_load_fish_speech_steps(self.hass)
        from .fish_speech_flow import async_step_fish_speech_menu as step  # noqa: PLC0415 - loaded

        return await step(self, user_input)

    async def async_step_fish_speech_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Create the server's entry without a voice."""
        await async_load_fish_speech_steps(self.hass)
        from .fish_speech_flow import async_step_fish_speech_finish as step  # noqa: PLC0415 - loaded

        return await step(self, user_input)

    async def async_step_fish_speech_voice(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up the first voice and create the server's entry with it."""
        await async_load_fish_speech_steps(self.hass)
        from .fish_speech_flow import async_step_fish_speech_voice as step  # noqa: PLC0415 - loaded

        return await step(self, user_input)

    async def async_step_fish_speech_reauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the server's (new) API key after it refused the old one."""
        await async_load_fish_speech_steps(self.hass)
        from .fish_speech_flow import async_step_fish_speech_reauth as step  # noqa: PLC0415 - loaded

        return await step(self, user_input)

    async def async_step_fish_speech_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the server's address or key; the unique id follows the address."""
        await async_load_fish_speech_steps(self.hass)
        from .fish_speech_flow import async_step_fish_speech_reconfigure as step  # noqa: PLC0415 - loaded

        return await step(self, user_input)


class FishAudioOptionsFlow(OptionsFlow):
    """Options of the account: speech-to-text language and the low-credit threshold."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and save the options."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_STT_LANGUAGE_MODE, default=DEFAULT_STT_LANGUAGE_MODE
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=STT_LANGUAGE_MODES, translation_key=CONF_STT_LANGUAGE_MODE
                    )
                ),
                vol.Required(
                    CONF_LOW_CREDIT_THRESHOLD, default=DEFAULT_LOW_CREDIT_THRESHOLD
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=0,
                        max=10000,
                        step=0.01,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="USD",
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
        )


class VoiceSubentryFlow(VoiceSteps[SubentryFlowResult], ConfigSubentryFlow):
    """Add or reconfigure a voice: one text-to-speech entity each.

    Adding starts with the search, reconfiguring at the settings; both then share the
    account flow's voice steps (as openai_conversation's subentry flow shares its init step).
    """

    def _voice_catalog(self) -> VoiceCatalog | None:
        entry: FishAudioConfigEntry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return None
        return VoiceCatalog(self.hass, entry.runtime_data.client, entry.runtime_data.voices)

    def _voice_backend(self) -> str:
        return str(self._get_entry().data.get(CONF_BACKEND, BACKEND_FISH_AUDIO))

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a voice: find it first."""
        if self._voice_catalog() is None:
            return self.async_abort(reason="entry_not_loaded")
        return await self.async_step_voice_search()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a voice's settings, starting from the stored ones."""
        if (catalog := self._voice_catalog()) is None:
            return self.async_abort(reason="entry_not_loaded")
        subentry = self._get_reconfigure_subentry()
        self._voice_settings = dict(subentry.data)
        try:
            await catalog.async_load(
                current=subentry.data.get(CONF_VOICE_ID, ""), current_title=subentry.title
            )
        except FishAudioError as err:
            LOGGER.debug("Cannot list Fish Audio voices: %s", err)
            return self.async_abort(reason="cannot_connect")
        self._catalog = catalog
        return await self.async_step_voice()

    async def _async_voice_done(self, title: str, data: dict[str, Any]) -> SubentryFlowResult:
        """Create the voice, or save the reconfigured one."""
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_and_abort(
                self._get_entry(), self._get_reconfigure_subentry(), title=title, data=data
            )
        return self.async_create_entry(title=title, data=data)


class FishSpeechVoiceSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure a voice of a Fish Speech server: one TTS entity each.

    Adding, reconfiguring and the form (`local_voice`) are one step, in fish_speech_flow.py
    (loaded with the first of them).
    """

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick one of the server's voices (listed afresh) and its settings."""
        return await self.async_step_local_voice(user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a voice's settings."""
        return await self.async_step_local_voice(user_input)

    async def async_step_local_voice(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Handle the voice form."""
        await async_load_fish_speech_steps(self.hass)
        from .fish_speech_flow import async_step_local_voice as step  # noqa: PLC0415 - loaded

        return await step(self, user_input)
