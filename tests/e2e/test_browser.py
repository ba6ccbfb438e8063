"""A newcomer's first session in Home Assistant's own frontend, in a real browser.

Debian's ``chromium`` (installed by ``scripts/setup``), driven by Playwright, against a real
``hass`` process and the emulator, both started by ``scripts/demo.py`` as in the REST
end-to-end test. The test clicks what a user clicks and fails on what a user would see: an
error text, a form that does not come, a picker without our voices, speech that does not play.
Playwright's CSS and text locators pierce the open shadow roots of Home Assistant's frontend.

A screenshot of every step goes into the folder the test prints (``FISH_AUDIO_SUITE_SCREENSHOTS``
or a temporary one); ``docs/images/`` holds three of them for the README.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
import os
from pathlib import Path
import re
import shutil
import tempfile
from typing import Any

import aiohttp
from playwright.async_api import TimeoutError as PlaywrightTimeoutError, async_playwright
import pytest

from scripts.demo import (
    DOMAIN,
    HomeAssistantApi,
    free_port,
    launch_emulator,
    launch_hass,
    prepare_config_dir,
    stop_process,
)
from tests.e2e.test_real_hass import _tail, emulator_requests, unexpected_log_records

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright never downloads a browser here
# No sandbox: the tests run as root (CI too), where Chromium refuses its sandbox. The rest keep
# the browser from calling home: this machine reaches nothing but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
API_KEY = "browser-key"
USERNAME = "newcomer"
PASSWORD = "newcomer-password"
MESSAGE = "Hello from the browser test of Fish Audio Suite."
# Every wait on the page is bounded; a step of the frontend takes well under a second here.
STEP_TIMEOUT_MS = 20_000
# A click on a row the page is redrawing is lost; repeated after this long (see open_options).
OPEN_RETRY_MS = 5_000
# A flow against an unreachable address ends after the client's bounded retries.
CONNECT_TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 900}
# What 2026.10's player says about any audio that fails to load; it comes at once.
UNSUPPORTED_MEDIA = "media player does not support this type of media"
FRONTEND_DIALOG_MS = 3_000
# The start of the translated error of an HTTP 402 (strings.json, exceptions.insufficient_credit).
INSUFFICIENT_CREDIT = "Your Fish Audio API credit is not enough for this request"
# The translated errors of the other Says the walk makes fail: a 503 and a deleted voice.
PROVOKED_FAILURES = (
    INSUFFICIENT_CREDIT,
    "Fish Audio had a server error (HTTP 503)",
    "Reference model not found: ",
)
FRONTEND_LOGGER = "[frontend.js."
RADIO_BROWSER_CANCELLED = re.compile(
    r"[^\n]* ERROR \(MainThread\) \[homeassistant\.components\.radio_browser\] "
    r"Setup of config entry 'Radio Browser' for radio_browser integration cancelled\n"
)

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="the browser test needs Debian's chromium: run scripts/setup",
    ),
]


class Walk:
    """The browser page and the screenshots of one walk through the frontend."""

    def __init__(self, page: Any, base_url: str, shots: Path) -> None:
        """Initialise the walk."""
        self.page = page
        self.base_url = base_url
        self.shots = shots
        self.count = 0

    async def shot(self, name: str) -> Path:
        """Save a screenshot of the page as it is now: NN-name.png."""
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        await self.page.screenshot(path=str(path))
        return path

    async def goto(self, path: str) -> None:
        """Open a page of the frontend."""
        await self.page.goto(f"{self.base_url}{path}")

    def text(self, text: str, *, exact: bool = True) -> Any:
        """Return the visible element with ``text``."""
        return self.page.get_by_text(text, exact=exact).filter(visible=True).first

    async def see(self, text: str, *, exact: bool = False, timeout: int = STEP_TIMEOUT_MS) -> None:
        """Wait until ``text`` is visible on the page."""
        await self.text(text, exact=exact).wait_for(timeout=timeout)

    async def see_one_of(self, *texts: str, timeout: int = STEP_TIMEOUT_MS) -> None:
        """Wait until one of ``texts`` is visible (a frontend version's wording of one step)."""
        locator = self.page.get_by_text(texts[0])
        for text in texts[1:]:
            locator = locator.or_(self.page.get_by_text(text))
        await locator.filter(visible=True).first.wait_for(timeout=timeout)

    def field(self, label: str) -> Any:
        """Return the text field labelled ``label``."""
        return self.page.get_by_role("textbox", name=label).filter(visible=True).first

    def search_field(self, label: str) -> Any:
        """Return the search field labelled (2026.2) or with the placeholder (2026.10) ``label``."""
        return (
            self.page.get_by_role("textbox", name=label)
            .or_(self.page.get_by_placeholder(label, exact=True))
            .filter(visible=True)
            .first
        )

    async def picked(self, title: re.Pattern[str]) -> None:
        """Wait until a closed picker shows ``title``.

        2026.2 shows the value in a combobox; 2026.10 as the text of a picker field (no role).
        """
        await (
            self.page.get_by_role("combobox")
            .filter(has_text=title)
            .or_(self.page.get_by_text(title))
            .filter(visible=True)
            .first.wait_for()
        )

    async def bare_voice_ids(self) -> int:
        """Count the visible texts that are a bare 32-character voice id (a hex run)."""
        return int(
            await self.page.get_by_text(re.compile(r"\b[0-9a-f]{24,}\b"))
            .filter(visible=True)
            .count()
        )

    def button(self, name: str) -> Any:
        """Return the visible button named ``name``."""
        return self.page.get_by_role("button", name=name, exact=True).filter(visible=True).first

    async def choose(self, option: str) -> None:
        """Click a menu option of a flow (the dialog's title may carry the same text)."""
        await self.page.get_by_text(option, exact=True).filter(visible=True).last.click()

    async def submit(self) -> None:
        """Press the dialog's Submit button; wait until the flow has answered."""
        async with self.page.expect_response(
            lambda response: response.request.method == "POST" and "/flow/" in response.url
        ):
            await self.button("Submit").click()


@contextlib.asynccontextmanager
async def browser(user_data_dir: Path) -> AsyncIterator[Any]:
    """Start Debian's chromium headless with a fresh profile; yield its first page."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            locale="en-US",
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)
            yield page
        finally:
            await context.close()


def screenshot_dir(tmp_path: Path) -> Path:
    """Return the folder for the screenshots (kept when the variable names one)."""
    folder = Path(os.environ.get("FISH_AUDIO_SUITE_SCREENSHOTS") or tmp_path / "screenshots")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


async def test_newcomer_in_the_browser(socket_enabled: None, tmp_path: Path) -> None:
    """Log in, add the integration and a voice, change options, speak, list voices, Assist."""
    shots = screenshot_dir(tmp_path)
    print(f"\nscreenshots: {shots}")  # noqa: T201 - where a person looks at what the test saw
    config_dir = tmp_path / "config"
    hass_port = free_port()
    prepare_config_dir(config_dir, port=hass_port)
    try:
        await _run(tmp_path, config_dir, hass_port, shots)
    except BaseException:
        print(f"screenshots: {shots}")  # noqa: T201
        print(_tail(config_dir / "home-assistant.log") + _tail(tmp_path / "hass.out"))  # noqa: T201
        raise
    problems = [
        problem
        for problem in unexpected_log_records(
            (config_dir / "home-assistant.log").read_text(encoding="utf-8")
        )
        # The failed Says: Home Assistant's TTS logs each refusal the walk provokes.
        if not (
            "[homeassistant.components.tts]" in problem
            and any(provoked in problem for provoked in PROVOKED_FAILURES)
        )
        # The frontend reports its own uncaught errors to the log (seen: the add-integration
        # dialog's list while the search is typed); Home Assistant's, unless they name us.
        and not (FRONTEND_LOGGER in problem and DOMAIN not in problem)
        # Radio Browser (set up by onboarding) retries a lookup this offline machine cannot
        # make; a stop in the middle of a retry is logged as a cancelled setup (2026.10).
        and not re.match(RADIO_BROWSER_CANCELLED, problem)
    ]
    assert not problems, "home-assistant.log:\n" + "\n".join(problems)


async def _run(tmp_path: Path, config_dir: Path, hass_port: int, shots: Path) -> None:
    async with contextlib.AsyncExitStack() as stack:
        hass_output = stack.enter_context((tmp_path / "hass.out").open("wb"))
        emulator_output = stack.enter_context((tmp_path / "emulator.out").open("wb"))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        emulator_url = await launch_emulator(
            stack, session, free_port(), api_key=API_KEY, output=emulator_output
        )
        hass, api = await launch_hass(
            stack, session, config_dir, port=hass_port, skip_pip=True, output=hass_output
        )
        # The owner, as a newcomer creates it in the onboarding wizard; then the browser.
        await api.onboard(name="Newcomer", username=USERNAME, password=PASSWORD, complete=True)
        await api.wait_running()
        profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))
        page = await stack.enter_async_context(browser(profile))
        walk = Walk(page, api.base_url, shots)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            await login(walk)
            await add_integration(walk, emulator_url)
            await integration_page(walk)
            await add_voice(walk)
            await change_options(walk)
            await reconfigure_voice(walk)
            await say(walk, api, emulator_url)
            await say_without_credit(walk, api, emulator_url)
            await say_while_fish_audio_fails(walk, api, emulator_url)
            await say_with_a_deleted_voice(walk, api, emulator_url)
            await list_voices_action(walk)
            await create_assistant(walk, api)
        except BaseException:
            await walk.shot("failure")  # what the page showed when the step gave up
            raise
        if errors:
            # Home Assistant's frontend throws a few of its own (skipped view transitions,
            # popovers closed mid-animation): shown, not failed on; what a user sees is checked.
            print(f"frontend errors: {errors}")  # noqa: T201
        await stack.aclose()  # the browser first, then Home Assistant and the emulator
        assert hass.returncode == 0 or await stop_process(hass) == 0


async def login(walk: Walk) -> None:
    """The login page: username, password, and the dashboard loads (no endless "Loading")."""
    await walk.goto("/")
    await walk.page.locator("input[name=username]").fill(USERNAME)
    await walk.page.locator("input[name=password]").fill(PASSWORD)
    await walk.shot("login")
    await walk.page.keyboard.press("Enter")
    # The sidebar appears once the frontend has every piece of data (get_services among them).
    await walk.see("Settings", exact=True)
    await walk.see("Overview", exact=True)
    await walk.shot("dashboard")


async def add_integration(walk: Walk, emulator_url: str) -> None:
    """Add integration → Fish Audio Suite → Custom endpoint: a wrong key, a dead URL, then right."""
    await walk.goto("/config/integrations/dashboard")
    await walk.button("Add integration").click()
    await walk.search_field("Search for a brand name").fill("Fish Audio Suite")
    await walk.text("Fish Audio Suite").click()
    await walk.see("Fish Audio cloud", exact=True)
    await walk.shot("add-integration-menu")
    await walk.choose("Custom endpoint")
    await walk.field("Base URL").fill(emulator_url)
    await walk.field("API key").fill("not-the-key")
    await walk.submit()
    await walk.see("Fish Audio did not accept this API key.")
    await walk.shot("wrong-key")
    # A port nothing listens on (free_port released it): connection refused.
    await walk.field("Base URL").fill(f"http://127.0.0.1:{free_port()}")
    await walk.field("API key").fill(API_KEY)
    await walk.submit()
    await walk.see("Could not connect to Fish Audio", timeout=CONNECT_TIMEOUT_MS)
    await walk.shot("unreachable-url")
    await walk.field("Base URL").fill(emulator_url)
    await walk.submit()
    await walk.choose("Add a voice")
    await walk.see("Find a voice")
    await walk.submit()
    await pick_voice(walk, "My Kitchen Voice")
    await walk.shot("first-voice")
    await walk.submit()
    await walk.see_one_of("Devices created", "Name and assign")  # 2026.2, 2026.10
    await walk.shot("created")
    await walk.button("Skip and finish").or_(walk.button("Finish")).first.click()


async def pick_voice(walk: Walk, title: str) -> None:
    """Open the voice picker, check it lists our voices, pick ``title``; the title stays."""
    await walk.page.get_by_label("Voice", exact=True).click()
    # The account's own voices carry the mark, public ones their use count.
    option = walk.text(f"★ {title}", exact=False)
    await option.wait_for()
    await walk.shot("voice-picker")
    await option.click()
    # Once the menu has closed, a click reaches the form again (one during its animation is lost).
    await walk.page.get_by_role("option").filter(visible=True).first.wait_for(state="hidden")
    # The closed picker shows what was picked: the voice's title, never a bare hex id.
    await walk.picked(re.compile(re.escape(title)))
    assert not await walk.bare_voice_ids(), "the picker shows a bare voice id"


async def integration_page(walk: Walk) -> None:
    """The integration page lists the account and the voice, each with its device."""
    await walk.goto(f"/config/integrations/integration/{DOMAIN}")
    await walk.see("Fish Audio (127.0.0.1)", exact=True)
    await walk.see("My Kitchen Voice", exact=True)
    await walk.see("Account", exact=False)
    await walk.shot("integration-page")


async def add_voice(walk: Walk) -> None:
    """Add voice: a search without a match says so, then the picker with a search that matches."""
    await walk.button("Add voice").click()
    await walk.see("Find a voice")
    await walk.field("Title contains").fill("no such voice")
    await walk.submit()
    await walk.see("No voice matches this search.")
    await walk.shot("no-match")
    await walk.field("Title contains").fill("Shared")
    await walk.submit()
    await pick_voice(walk, "My Shared Voice")
    await walk.shot("voice-settings")
    await walk.submit()
    await walk.see("My Shared Voice")
    await walk.shot("voice-added")
    await walk.button("Finish").or_(walk.button("Skip and finish")).first.click()
    await walk.see("My Shared Voice", exact=True)


async def change_options(walk: Walk) -> None:
    """The account's gear icon opens the options; a changed threshold is kept."""
    await walk.goto(f"/config/integrations/integration/{DOMAIN}")
    await walk.see("Fish Audio (127.0.0.1)", exact=True)
    threshold = await open_options(walk)
    await threshold.fill("2.5")
    await walk.shot("options")
    await walk.submit()
    finish = walk.button("Finish")
    await finish.click()
    await walk.text("Fish Audio options").wait_for(state="hidden")
    threshold = await open_options(walk)
    assert await threshold.input_value() == "2.5"
    await walk.page.get_by_role("button", name="Close").filter(visible=True).first.click()
    await walk.text("Fish Audio options").wait_for(state="hidden")


async def reconfigure_voice(walk: Walk) -> None:
    """A voice's gear icon: the picker shows the voice by its title.

    Every gear is named "Configure"; the account's comes first, then one per voice.
    """
    gears = walk.page.get_by_role("button", name="Configure", exact=True).filter(visible=True)
    for attempt in range(3):  # the page may still redraw after the options were saved
        await gears.nth(1).click()
        try:
            await walk.see("Voice settings", timeout=OPEN_RETRY_MS)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    await walk.picked(re.compile(r"My (Kitchen|Shared) Voice"))
    assert not await walk.bare_voice_ids(), "reconfigure shows a bare voice id"
    await walk.shot("reconfigure-voice")
    await walk.page.get_by_role("button", name="Close").filter(visible=True).first.click()
    await walk.text("Voice settings").wait_for(state="hidden")


async def open_options(walk: Walk) -> Any:
    """Click the account's gear icon (Configure); return the low-credit threshold field.

    Saved options reload the entry, and the page redraws its rows while it does: a click in
    that moment lands on a row being replaced, so it is repeated (three tries at most).
    """
    for attempt in range(3):
        await walk.page.get_by_role("button", name="Configure").filter(visible=True).first.click()
        try:
            await walk.see("Fish Audio options", timeout=OPEN_RETRY_MS)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    threshold = walk.page.get_by_role("spinbutton").filter(visible=True).first
    await threshold.wait_for()
    return threshold


async def say(walk: Walk, api: HomeAssistantApi, emulator_url: str) -> None:
    """Media → Text-to-speech → a Fish voice → Say: the browser plays audio made by Fish Audio.

    Home Assistant titles each engine's tile with the entity's own name, which leaves out the
    device (the voice); the page behind it names the voice (README, "Media").
    """
    await walk.goto("/media-browser/browser")
    await walk.text("Text-to-speech").click()
    await walk.see("Google Translate", exact=False)
    await walk.shot("media-tts")
    # What README "Known limitations" says of 2026.2, 2026.10 and 2026.11: the tiles do not
    # name the voices (each reads "Text-to-speech"); the page behind one does. A frontend
    # that names them fails here, so that the README is corrected.
    for title in ("My Kitchen Voice", "My Shared Voice"):
        assert not await walk.page.get_by_text(title).filter(visible=True).count(), title
    # The engines, sorted by title: Google Translate's first, then our two voices.
    await walk.page.get_by_text("Text-to-speech", exact=True).filter(visible=True).last.click()
    message = walk.page.get_by_role("textbox", name="Message")
    await message.fill(MESSAGE)
    await walk.see("My Shared Voice")  # the voice menu names the voice, not an id
    async with walk.page.expect_response(
        lambda response: "/api/tts_proxy/" in response.url, timeout=STEP_TIMEOUT_MS
    ) as audio:
        await walk.button("Say").click()
    response = await audio.value
    assert response.status == 200, f"the audio request answered {response.status}"
    await walk.shot("said")
    requests = await emulator_requests(api.session, emulator_url, "/v1/tts")
    assert [r["decoded"]["text"] for r in requests] == [MESSAGE]


async def say_without_credit(walk: Walk, api: HomeAssistantApi, emulator_url: str) -> None:
    """With no credit left, Say fails; Settings shows why (the credit repair issue)."""
    async with api.session.post(f"{emulator_url}/_emulator/credit", json={"credit": "0"}) as r:
        assert r.status == 200
    await walk.page.get_by_role("textbox", name="Message").fill(f"{MESSAGE} Again.")
    async with walk.page.expect_response(
        lambda response: "/api/tts_proxy/" in response.url, timeout=STEP_TIMEOUT_MS
    ) as audio:
        await walk.button("Say").click()
    assert (await audio.value).status != 200
    await walk.shot("say-without-credit")
    await walk.goto("/config/dashboard")
    await walk.see("Fish Audio credit is running out")
    await walk.shot("credit-repair")
    async with api.session.post(f"{emulator_url}/_emulator/credit", json={"credit": "10"}) as r:
        assert r.status == 200


async def open_voice_page(walk: Walk, voice: str) -> None:
    """Media → Text-to-speech → the last tile (``voice``'s, sorted after the other's)."""
    await walk.goto("/media-browser/browser")
    await walk.text("Text-to-speech").click()
    await walk.see("Google Translate", exact=False)
    await walk.page.get_by_text("Text-to-speech", exact=True).filter(visible=True).last.click()
    await walk.see(voice)


async def say_and_fail(walk: Walk, message: str) -> None:
    """Type ``message``, press Say: the audio request fails (the player shows no reason)."""
    await walk.page.get_by_role("textbox", name="Message").fill(message)
    async with walk.page.expect_response(
        lambda response: "/api/tts_proxy/" in response.url, timeout=CONNECT_TIMEOUT_MS
    ) as audio:
        await walk.button("Say").click()
    assert (await audio.value).status != 200
    # 2026.10 and 2026.11 answer a failed load with a dialog of their own, whatever the
    # reason (README, Troubleshooting); 2026.2 shows nothing.
    unsupported = walk.text(UNSUPPORTED_MEDIA, exact=False)
    with contextlib.suppress(PlaywrightTimeoutError):
        await unsupported.wait_for(timeout=FRONTEND_DIALOG_MS)
        await walk.shot("say-failed-dialog")
        await walk.button("OK").click()
        await unsupported.wait_for(state="hidden")


async def say_while_fish_audio_fails(walk: Walk, api: HomeAssistantApi, emulator_url: str) -> None:
    """Fish Audio answers 503 (after the client's retries): Notifications says why."""
    fault = {"route": "POST /v1/tts", "status": 503, "headers": {"Retry-After": "0"}, "times": None}
    async with api.session.post(f"{emulator_url}/_emulator/faults", json=fault) as r:
        assert r.status == 200
    await open_voice_page(walk, "My Shared Voice")
    await say_and_fail(walk, f"{MESSAGE} Busy.")
    await walk.text("Notifications").click()
    await walk.see("My Shared Voice could not speak: Fish Audio")
    await walk.shot("say-failed-notification")
    async with api.session.delete(f"{emulator_url}/_emulator/faults") as r:
        assert r.status == 200


async def say_with_a_deleted_voice(walk: Walk, api: HomeAssistantApi, emulator_url: str) -> None:
    """The voice was deleted at Fish Audio: Settings shows a repair issue naming it."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    query = {"self": "true", "title": "My Shared Voice"}
    async with api.session.get(f"{emulator_url}/model", params=query, headers=headers) as r:
        (voice,) = (await r.json())["items"]
    async with api.session.delete(f"{emulator_url}/model/{voice['_id']}", headers=headers) as r:
        assert r.status == 200
    await open_voice_page(walk, "My Shared Voice")
    await say_and_fail(walk, f"{MESSAGE} Gone.")
    await walk.goto("/config/dashboard")
    await walk.see("A Fish Audio voice no longer exists")
    await walk.text("A Fish Audio voice no longer exists").click()
    await walk.see("pick another voice")
    await walk.shot("voice-gone-repair")
    # Left open: the next step loads another page (closing the dialog goes back in the
    # browser's history, which raced with that load once).


async def list_voices_action(walk: Walk) -> None:
    """Settings → Developer tools → Actions → List voices: the response names the voices."""
    await walk.goto("/developer-tools/action")
    await walk.see("Perform action")
    await walk.page.locator("ha-service-picker").filter(visible=True).first.click()
    await walk.search_field("Search").fill("list_voices")
    await walk.text("List voices").click()
    await walk.see("Lists Fish Audio voices", exact=False)
    await walk.page.get_by_label("Integration", exact=False).filter(visible=True).first.click()
    await (
        walk.page.get_by_role("option", name="Fish Audio (127.0.0.1)")
        .or_(walk.text("Fish Audio (127.0.0.1)"))
        .filter(visible=True)
        .last.click()
    )
    await walk.shot("action-form")
    await walk.button("Perform action").click()
    await walk.see("My Kitchen Voice")
    await walk.shot("action-response")


async def create_assistant(walk: Walk, api: HomeAssistantApi) -> None:
    """Settings → Voice assistants → Add assistant with our speech-to-text and a Fish voice."""
    await walk.goto("/config/voice-assistants/assistants")
    await walk.button("Add assistant").click()
    await walk.field("Name").fill("Fish Audio")
    await choose_in(walk, "Speech-to-text", "Fish Audio (127.0.0.1) Speech-to-text")
    await choose_in(walk, "Text-to-speech", "My Kitchen Voice Text-to-speech")
    # The voice select of the Fish voice ("Voice *" when 2026.10 marks it required).
    voice = walk.page.get_by_text(re.compile(r"^Voice( \*)?$")).filter(visible=True).first
    await voice.scroll_into_view_if_needed()
    await walk.shot("assist-setup")
    await walk.button("Create").click()
    await walk.see("Fish Audio", exact=True)
    pipelines = await api.websocket({"type": "assist_pipeline/pipeline/list"})
    created = next(p for p in pipelines["pipelines"] if p["name"] == "Fish Audio")
    assert created["stt_engine"].startswith("stt.")
    assert created["tts_engine"].startswith("tts.")


async def choose_in(walk: Walk, label: str, option: str) -> None:
    """Open the select labelled ``label`` and choose ``option``."""
    await walk.page.get_by_label(label, exact=True).filter(visible=True).first.click()
    await (
        walk.page.get_by_role("option", name=option)
        .or_(walk.page.get_by_text(option, exact=True))  # 2026.10's menu items have no role
        .filter(visible=True)
        .last.click()
    )
