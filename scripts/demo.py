"""Run a real Home Assistant with Fish Audio Suite, optionally against the local emulator.

``scripts/develop`` runs this file; the end-to-end test (``tests/e2e``) imports it, so the
demo and CI start, onboard and configure Home Assistant with the same code.

Everything goes through Home Assistant's own interfaces, as a user's browser would: the
onboarding HTTP API creates the owner, ``/auth/token`` gives the access token, and the
integration is added with the config flow over ``/api/config/config_entries/flow``. Nothing
is written into ``.storage`` by hand. Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import importlib
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
from typing import IO, Any, Final

import aiohttp
from yarl import URL

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
DOMAIN: Final = "fish_audio_suite"
INTEGRATION_DIR: Final = REPO_ROOT / "custom_components" / DOMAIN
LOOPBACK: Final = "127.0.0.1"

DEFAULT_CONFIG_DIR: Final = REPO_ROOT / "config"  # git ignores /config/
# The demo keeps its own instance (owner demo/demo, emulator account) out of the developer's.
DEFAULT_DEMO_CONFIG_DIR: Final = DEFAULT_CONFIG_DIR / "demo"
DEFAULT_HASS_PORT: Final = 8123
DEFAULT_EMULATOR_PORT: Final = 8099  # the emulator's own default (emulator/__main__.py)
# The demo's second entry: a self-hosted Fish Speech server (the emulator in that mode), one
# port up, at a few hundred milliseconds a sentence as a small GPU takes.
FISH_SPEECH_TITLE: Final = "Local Fish Speech"
FISH_SPEECH_ARGS: Final = ("--fish-speech", "--sentence-latency-ms", "300")

# The demo account: a newcomer logs in with these, so they are printed, not secret.
DEMO_NAME: Final = "Demo"
DEMO_USERNAME: Final = "demo"
DEMO_PASSWORD: Final = "demo"  # noqa: S105 - a local demo instance on loopback only
DEMO_API_KEY: Final = "demo-key"  # the emulator accepts exactly this key in the demo

# A cold start on a small machine takes 20-60 s; the first start of `scripts/develop` may also
# install the frontend from PyPI (Home Assistant does that itself), so it gets much longer.
HASS_START_TIMEOUT: Final = 180.0
HASS_FIRST_START_TIMEOUT: Final = 900.0
EMULATOR_START_TIMEOUT: Final = 30.0
ENTRY_SETUP_TIMEOUT: Final = 60.0
PROCESS_STOP_TIMEOUT: Final = 60.0
REQUEST_TIMEOUT: Final = aiohttp.ClientTimeout(total=60)
POLL_INTERVAL: Final = 0.5
WEBSOCKET_MAX_MESSAGE: Final = 16 * 1024 * 1024  # a result fits; a runaway answer does not
# The Assist assistant the demo creates (Settings > Voice assistants).
ASSISTANT_NAME: Final = "Fish Audio"

LOADED: Final = "loaded"
FAILED_ENTRY_STATES: Final = frozenset({"setup_error", "migration_error", "failed_unload"})


class HarnessError(RuntimeError):
    """Home Assistant or the emulator did not do what the harness asked."""


def free_port() -> int:
    """Return a TCP port on the loopback interface that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_port_free(port: int, what: str) -> None:
    """Fail early if ``port`` is taken: the harness would otherwise talk to another server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves do: connections of an earlier run still in TIME_WAIT must
        # not count, a listening socket still does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            raise HarnessError(
                f"port {port} on {LOOPBACK} is in use: stop what runs there or choose "
                f"another port for {what}"
            ) from None


def prepare_config_dir(config_dir: Path, *, port: int) -> None:
    """Create a configuration directory that loads the integration from this repository.

    The integration is linked (relative symlink), not copied, so edits in the repository take
    effect at the next restart. ``configuration.yaml`` is regenerated on every start so the
    port always matches; own settings belong in ``packages/*.yaml``.
    """
    custom = config_dir / "custom_components"
    custom.mkdir(parents=True, exist_ok=True)
    (config_dir / "packages").mkdir(exist_ok=True)
    link = custom / DOMAIN
    target = Path(os.path.relpath(INTEGRATION_DIR, custom))
    if link.is_symlink() and link.readlink() != target:
        link.unlink()
    if not link.is_symlink():
        if link.exists():
            raise HarnessError(f"{link} exists and is not the link to {INTEGRATION_DIR}")
        link.symlink_to(target, target_is_directory=True)
    http_stored = _store_http_config(config_dir, port)
    # A small configuration instead of default_config, whose integrations (bluetooth, usb,
    # zeroconf, ...) need requirements and hardware a demo has no use for. What a README example
    # needs is here: Assist (assist_pipeline, conversation), the history graph and long-term
    # statistics (recorder, history), Media > Text-to-speech (media_source). internal_url makes
    # HA's get_url() (used by /api/tts_get_url) work without a LAN address.
    (config_dir / "configuration.yaml").write_text(
        "# Written by scripts/demo.py at every start: put your own settings in packages/.\n"
        "homeassistant:\n"
        "  name: Fish Audio Suite development\n"
        # Without a country Home Assistant raises a repair issue on every new instance.
        "  country: US\n"
        f"  internal_url: http://{LOOPBACK}:{port}\n"
        "  packages: !include_dir_named packages\n"
        # Media > Text-to-speech: type a message and hear the voice in the browser.
        "media_source:\n"
        # Settings > Voice assistants: an assistant with our speech-to-text and a Fish voice.
        "assist_pipeline:\n"
        "conversation:\n"
        # History graphs and long-term statistics of the credit and usage sensors.
        "recorder:\n"
        "history:\n"
        + ("" if http_stored else f"http:\n  server_host: {LOOPBACK}\n  server_port: {port}\n")
        + "logger:\n"
        "  default: warning\n"
        "  logs:\n"
        "    custom_components.fish_audio_suite: debug\n",
        encoding="utf-8",
    )


def _store_http_config(config_dir: Path, port: int) -> bool:
    """Write the HTTP server's settings where Home Assistant 2026.10 and later keep them.

    Since 2026.10 an ``http:`` section in YAML is migrated once into ``.storage/http`` as a
    *pending* setting: the frontend asks to confirm it, a repair issue calls the YAML deprecated,
    an unconfirmed setting is reverted (a restart on port 8123) after five minutes, and later
    changes to the YAML are ignored. Stored as the confirmed ("stable") setting, with that
    version's own schema and storage version, the demo starts on its port without any of that.
    Returns False for older versions, which read ``http:`` from YAML.
    """
    try:
        http_config: Any = importlib.import_module("homeassistant.components.http.config")
    except ImportError:
        return False
    settings = dict(
        http_config.HTTP_STORAGE_SCHEMA({"server_host": [LOOPBACK], "server_port": port})
    )
    settings.update(created_at=datetime.now(UTC).isoformat(), error=None, error_message=None)
    store = {
        "version": http_config.STORAGE_VERSION,
        "minor_version": http_config.STORAGE_MINOR_VERSION,
        "key": http_config.STORAGE_KEY,
        "data": {"stable": settings, "pending": None, "yaml_migration_done": True},
    }
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    path = storage / http_config.STORAGE_KEY
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")
    path.chmod(0o600)  # as Home Assistant keeps it (a private store)
    return True


def start_hass(
    config_dir: Path, *, skip_pip: bool, extra_args: Sequence[str] = (), output: IO[bytes] | None
) -> subprocess.Popen[bytes]:
    """Start Home Assistant from the running interpreter's environment (the project's .venv).

    The working directory is the configuration directory so that the repository root (whose
    ``custom_components`` is a regular package) does not shadow the config's custom_components.
    """
    command = [sys.executable, "-m", "homeassistant", "--config", str(config_dir)]
    if skip_pip:
        command.append("--skip-pip")
    command.extend(extra_args)
    return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        command,
        cwd=config_dir,
        stdin=subprocess.DEVNULL,  # nothing to read; never compete with pytest for the terminal
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )


def start_emulator(
    port: int, *, api_key: str | None, output: IO[bytes] | None, extra_args: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """Start the project's emulator on the loopback interface (``extra_args``: its mode)."""
    command = [sys.executable, "-m", "emulator", "--host", LOOPBACK, "--port", str(port)]
    if api_key is not None:
        command += ["--api-key", api_key]
    command += extra_args
    return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        command,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )


async def stop_process(
    process: subprocess.Popen[bytes], *, grace: float = PROCESS_STOP_TIMEOUT
) -> int:
    """Stop ``process`` with SIGTERM (a clean shutdown), then SIGKILL after ``grace`` seconds.

    Returns the exit code. Waiting runs in a thread: no asyncio child watcher is involved, which
    keeps this usable inside the test harness's event loop.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.to_thread(process.wait, grace)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait, 10)
        raise HarnessError(f"process {process.pid} ignored SIGTERM for {grace:.0f} s") from None


@contextlib.asynccontextmanager
async def bounded(seconds: float, what: str) -> AsyncIterator[None]:
    """Bound a wait: a block that runs longer than ``seconds`` fails with a clear message."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise HarnessError(f"{what}: not done within {seconds:.0f} s") from None


async def wait_until_serving(
    session: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes], *, what: str
) -> None:
    """Poll ``url`` until it answers (any status below 500); fail at once if ``process`` died.

    Unbounded by itself: callers wrap it in ``bounded()``.
    """
    while (code := process.poll()) is None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                if response.status < 500:
                    return
        await asyncio.sleep(POLL_INTERVAL)
    raise HarnessError(f"{what} exited with code {code} before serving {url}")


@dataclass(slots=True)
class HomeAssistantApi:
    """A minimal client of Home Assistant's HTTP API, as the frontend uses it."""

    session: aiohttp.ClientSession
    base_url: str
    token: str | None = None

    @property
    def client_id(self) -> str:
        """The OAuth client id: the instance's own URL, like the frontend's."""
        return f"{self.base_url}/"

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> tuple[int, bytes]:
        """Send a request; return the status and the raw body."""
        all_headers = dict(headers or {})
        if auth and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.request(
            method,
            f"{self.base_url}{path}",
            json=json_body,
            data=form if form is not None else data,
            headers=all_headers,
            timeout=REQUEST_TIMEOUT,
        ) as response:
            return response.status, await response.read()

    async def call(
        self, method: str, path: str, json_body: Any = None, *, auth: bool = True
    ) -> Any:
        """Send JSON, expect a 2xx JSON answer, return it decoded."""
        status, body = await self.request(method, path, json_body=json_body, auth=auth)
        if not 200 <= status < 300:
            raise HarnessError(f"{method} {path} answered {status}: {body[:500]!r}")
        return json.loads(body) if body else None

    async def _token_from_code(self, code: str) -> None:
        status, body = await self.request(
            "POST",
            "/auth/token",
            form={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
            auth=False,
        )
        if status != 200:
            raise HarnessError(f"/auth/token answered {status}: {body[:200]!r}")
        self.token = json.loads(body)["access_token"]

    async def login(self, username: str, password: str) -> None:
        """Log in with the login flow (an instance onboarded before)."""
        flow = await self.call(
            "POST",
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.base_url}/?auth_callback=1",
            },
            auth=False,
        )
        result = await self.call(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
            auth=False,
        )
        if result.get("type") != "create_entry":
            raise HarnessError(
                f"cannot log in as {username!r} ({result.get('errors')}): this configuration "
                "directory was onboarded with another owner; start with a fresh one"
            )
        await self._token_from_code(result["result"])

    async def onboard(
        self, *, name: str, username: str, password: str, language: str = "en", complete: bool
    ) -> None:
        """Onboard the instance like the frontend does and keep the owner's access token.

        ``complete`` also finishes the core config, analytics and integration steps, so the
        browser goes straight to the dashboard. Finishing core config starts the flows of the
        integrations Home Assistant proposes to every new instance (Google Translate, Met,
        Radio Browser, Shopping list), which need their requirements: the test leaves it out.
        An instance onboarded before gets a login instead.
        """
        status, body = await self.request("GET", "/api/onboarding", auth=False)
        if status == 404:
            # Onboarding removes its views once every step is done.
            done = {"user", "core_config", "analytics", "integration"}
        elif status == 200:
            done = {step["step"] for step in json.loads(body) if step["done"]}
        else:
            raise HarnessError(f"/api/onboarding answered {status}: {body[:200]!r}")
        if "user" in done:
            await self.login(username, password)
        else:
            result = await self.call(
                "POST",
                "/api/onboarding/users",
                {
                    "client_id": self.client_id,
                    "name": name,
                    "username": username,
                    "password": password,
                    "language": language,
                },
                auth=False,
            )
            await self._token_from_code(result["auth_code"])
        if not complete:
            return
        for step in ("core_config", "analytics"):
            if step not in done:
                await self.call("POST", f"/api/onboarding/{step}", {})
        if "integration" not in done:
            await self.call(
                "POST",
                "/api/onboarding/integration",
                {"client_id": self.client_id, "redirect_uri": f"{self.base_url}/?auth_callback=1"},
            )

    async def wait_running(self) -> None:
        """Wait until Home Assistant has finished starting (``/api/config`` state RUNNING)."""
        async with bounded(HASS_START_TIMEOUT, "Home Assistant finishing its start"):
            while True:
                if (await self.call("GET", "/api/config"))["state"] == "RUNNING":
                    return
                await asyncio.sleep(POLL_INTERVAL)

    async def flow_step(self, flow: Mapping[str, Any], user_input: Mapping[str, Any]) -> Any:
        """Answer the current step of a config flow."""
        return await self.call(
            "POST", f"/api/config/config_entries/flow/{flow['flow_id']}", dict(user_input)
        )

    async def entries(self, domain: str = DOMAIN) -> list[dict[str, Any]]:
        """Return the config entries of ``domain``."""
        result: list[dict[str, Any]] = await self.call(
            "GET", f"/api/config/config_entries/entry?domain={domain}"
        )
        return result

    async def wait_entry_loaded(self, entry_id: str) -> None:
        """Wait until the config entry ``entry_id`` is loaded; fail on a setup error.

        A retrying entry (``setup_retry``) is waited for: the deadline then names its reason.
        """
        state: dict[str, Any] = {}
        try:
            async with asyncio.timeout(ENTRY_SETUP_TIMEOUT):
                while True:
                    entries = await self.entries()
                    state = next((e for e in entries if e["entry_id"] == entry_id), {})
                    if not state:
                        raise HarnessError(f"config entry {entry_id} disappeared")
                    if state["state"] == LOADED:
                        return
                    if state["state"] in FAILED_ENTRY_STATES:
                        break
                    await asyncio.sleep(POLL_INTERVAL)
        except TimeoutError:
            pass
        raise HarnessError(f"config entry {entry_id} is {state['state']}: {state.get('reason')}")

    async def websocket(self, message: Mapping[str, Any]) -> Any:
        """Send one command over the WebSocket API (as the frontend does); return its result."""
        url = URL(self.base_url).with_scheme("ws") / "api" / "websocket"
        async with (
            bounded(REQUEST_TIMEOUT.total or 60, f"WebSocket command {message.get('type')}"),
            self.session.ws_connect(url, max_msg_size=WEBSOCKET_MAX_MESSAGE) as ws,
        ):
            if (await ws.receive_json()).get("type") != "auth_required":
                raise HarnessError("the WebSocket API did not ask for authentication")
            await ws.send_json({"type": "auth", "access_token": self.token})
            if (answer := await ws.receive_json()).get("type") != "auth_ok":
                raise HarnessError(f"WebSocket authentication failed: {answer}")
            await ws.send_json({"id": 1, **message})
            while (answer := await ws.receive_json()).get("id") != 1:
                pass  # nothing else is subscribed; skip anything unrelated all the same
        if not answer.get("success"):
            raise HarnessError(f"WebSocket command {message.get('type')}: {answer.get('error')}")
        return answer.get("result")

    async def integration_entities(self, domain: str = DOMAIN) -> list[str]:
        """Return the entity ids of ``domain`` (the template API: REST has no registry)."""
        status, body = await self.request(
            "POST",
            "/api/template",
            json_body={"template": f"{{{{ integration_entities('{domain}') | tojson }}}}"},
        )
        if status != 200:
            raise HarnessError(f"/api/template answered {status}: {body[:200]!r}")
        entities: list[str] = json.loads(body)
        return sorted(entities)


def _expect(result: Mapping[str, Any], kind: str, step_id: str | None = None) -> None:
    """Fail with the flow's own errors when it did not reach the expected step."""
    if result.get("type") != kind or (step_id is not None and result.get("step_id") != step_id):
        raise HarnessError(
            f"config flow: expected {kind} {step_id or ''}, got {result.get('type')} "
            f"{result.get('step_id') or result.get('reason') or ''} "
            f"errors={result.get('errors')}"
        )


def _voice_options(form: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return the voice picker's options from a serialised ``voice`` form."""
    for field in form.get("data_schema") or []:
        if field.get("name") == "voice_id":
            options: list[dict[str, str]] = field["selector"]["select"]["options"]
            return options
    raise HarnessError("the voice form has no voice_id picker")


async def add_account(
    api: HomeAssistantApi, *, base_url: str, api_key: str, voice_name: str | None = None
) -> dict[str, Any]:
    """Add the integration with its config flow, exactly the steps a user clicks through.

    user (menu) -> custom endpoint (base URL, API key) -> voice_menu -> voice_search (no filter)
    -> voice (the first voice offered: the account's own voices come first).
    Returns the created entry as the flow reports it (``entry_id`` among its keys).
    """
    flow = await api.call(
        "POST",
        "/api/config/config_entries/flow",
        {"handler": DOMAIN, "show_advanced_options": False},
    )
    _expect(flow, "menu", "user")
    flow = await api.flow_step(flow, {"next_step_id": "custom"})
    _expect(flow, "form", "custom")
    flow = await api.flow_step(flow, {"base_url": base_url, "api_key": api_key})
    _expect(flow, "menu", "voice_menu")
    flow = await api.flow_step(flow, {"next_step_id": "voice_search"})
    _expect(flow, "form", "voice_search")
    flow = await api.flow_step(flow, {})
    _expect(flow, "form", "voice")
    options = _voice_options(flow)
    if not options:
        raise HarnessError("the voice picker offers no voice")
    voice: dict[str, Any] = {"voice_id": options[0]["value"]}
    if voice_name:
        voice["name"] = voice_name
    flow = await api.flow_step(flow, voice)
    _expect(flow, "create_entry")
    entry: dict[str, Any] = flow["result"]
    return entry


async def add_assistant(
    api: HomeAssistantApi, *, stt_entity: str, tts_entity: str, name: str = ASSISTANT_NAME
) -> dict[str, Any]:
    """Create (once) and prefer an Assist assistant with our speech-to-text and a Fish voice.

    The same WebSocket commands as *Settings > Voice assistants > Add assistant*. The voice is
    the first one the TTS entity offers Assist: the voice its subentry was set up with.
    """
    listed = await api.websocket({"type": "assist_pipeline/pipeline/list"})
    pipeline: dict[str, Any] | None = next(
        (p for p in listed["pipelines"] if p["name"] == name), None
    )
    if pipeline is None:
        voices = await api.websocket(
            {"type": "tts/engine/voices", "engine_id": tts_entity, "language": "en"}
        )
        if not voices.get("voices"):
            raise HarnessError(f"{tts_entity} offers Assist no voice")
        pipeline = await api.websocket(
            {
                "type": "assist_pipeline/pipeline/create",
                "name": name,
                "language": "en",
                "conversation_engine": "conversation.home_assistant",
                "conversation_language": "en",
                "stt_engine": stt_entity,
                "stt_language": "en",
                "tts_engine": tts_entity,
                "tts_language": "en",
                "tts_voice": voices["voices"][0]["voice_id"],
                "wake_word_entity": None,
                "wake_word_id": None,
            }
        )
    if listed.get("preferred_pipeline") != pipeline["id"]:
        await api.websocket(
            {"type": "assist_pipeline/pipeline/set_preferred", "pipeline_id": pipeline["id"]}
        )
    return pipeline


@contextlib.asynccontextmanager
async def running(process: subprocess.Popen[bytes]) -> AsyncIterator[subprocess.Popen[bytes]]:
    """Own ``process``: it is stopped (SIGTERM, then SIGKILL) whatever happens."""
    try:
        yield process
    finally:
        await stop_process(process)


async def launch_emulator(
    stack: contextlib.AsyncExitStack,
    session: aiohttp.ClientSession,
    port: int,
    *,
    api_key: str | None,
    output: IO[bytes] | None,
    extra_args: Sequence[str] = (),
) -> str:
    """Start the emulator, owned by ``stack``; return its base URL once it serves."""
    emulator = await stack.enter_async_context(
        running(start_emulator(port, api_key=api_key, output=output, extra_args=extra_args))
    )
    base_url = f"http://{LOOPBACK}:{port}"
    async with bounded(EMULATOR_START_TIMEOUT, "starting the Fish Audio emulator"):
        await wait_until_serving(
            session, f"{base_url}/_emulator/state", emulator, what="the emulator"
        )
    return base_url


async def launch_hass(
    stack: contextlib.AsyncExitStack,
    session: aiohttp.ClientSession,
    config_dir: Path,
    *,
    port: int,
    skip_pip: bool,
    output: IO[bytes] | None,
    extra_args: Sequence[str] = (),
    start_timeout: float = HASS_START_TIMEOUT,
) -> tuple[subprocess.Popen[bytes], HomeAssistantApi]:
    """Start Home Assistant, owned by ``stack``; return it and its API once it serves.

    Home Assistant's HTTP server starts listening only once the frontend is set up, and the
    frontend depends on onboarding: from then on ``/api/onboarding`` answers 200 (not onboarded
    yet) or 404 (onboarded: the views are gone).
    """
    hass = await stack.enter_async_context(
        running(start_hass(config_dir, skip_pip=skip_pip, extra_args=extra_args, output=output))
    )
    api = HomeAssistantApi(session, f"http://{LOOPBACK}:{port}")
    async with bounded(start_timeout, "starting Home Assistant"):
        await wait_until_serving(
            session, f"{api.base_url}/api/onboarding", hass, what="Home Assistant"
        )
    return hass, api


# --- scripts/develop -------------------------------------------------------------------------


def _banner(lines: Sequence[str]) -> None:
    width = max(len(line) for line in lines) + 4
    print("\n" + "=" * width)
    for line in lines:
        print(f"  {line}")
    print("=" * width + "\n", flush=True)


async def add_local_server(api: HomeAssistantApi, *, base_url: str) -> dict[str, Any]:
    """Add a self-hosted Fish Speech server with the steps a user clicks.

    user (menu) -> fish_speech (address, no key) -> fish_speech_menu -> fish_speech_voice
    (the first stored voice); then the entry gets the demo's name.
    """
    flow = await api.call(
        "POST",
        "/api/config/config_entries/flow",
        {"handler": DOMAIN, "show_advanced_options": False},
    )
    flow = await api.flow_step(flow, {"next_step_id": "fish_speech"})
    flow = await api.flow_step(flow, {"base_url": base_url})
    _expect(flow, "menu", "fish_speech_menu")
    flow = await api.flow_step(flow, {"next_step_id": "fish_speech_voice"})
    _expect(flow, "form", "fish_speech_voice")
    options = _voice_options(flow)
    flow = await api.flow_step(flow, {"voice_id": options[0]["value"]} if options else {})
    _expect(flow, "create_entry")
    entry: dict[str, Any] = flow["result"]
    await api.websocket(
        {"type": "config_entries/update", "entry_id": entry["entry_id"], "title": FISH_SPEECH_TITLE}
    )
    return entry


async def _configure_demo(
    api: HomeAssistantApi, emulator_url: str, fish_speech_url: str | None = None
) -> list[str]:
    """Onboard (or log in), add the account (and the local server) once, return our entities."""
    await api.onboard(name=DEMO_NAME, username=DEMO_USERNAME, password=DEMO_PASSWORD, complete=True)
    await api.wait_running()
    if entries := await api.entries():
        # Configured by an earlier demo run: the emulators listen on the same ports again.
        for entry in entries:
            await api.wait_entry_loaded(entry["entry_id"])
    else:
        entry = await add_account(api, base_url=emulator_url, api_key=DEMO_API_KEY)
        await api.wait_entry_loaded(entry["entry_id"])
        if fish_speech_url is not None:
            local = await add_local_server(api, base_url=fish_speech_url)
            await api.wait_entry_loaded(local["entry_id"])
    entities = await api.integration_entities()
    stt = [e for e in entities if e.startswith("stt.")]
    tts = [e for e in entities if e.startswith("tts.")]
    if stt and tts:
        await add_assistant(api, stt_entity=stt[0], tts_entity=tts[0])
    return entities


async def develop(args: argparse.Namespace, hass_args: Sequence[str]) -> int:
    """Run Home Assistant (and in demo mode the emulator) until Ctrl-C or until HA exits."""
    # SIGTERM would end this process without running the finally blocks that stop the
    # children: turn it into a cancellation, as asyncio.run already does for Ctrl-C.
    main_task = asyncio.current_task()
    assert main_task is not None  # noqa: S101 - asyncio.run always runs a task
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    config_dir: Path = (
        args.config or (DEFAULT_DEMO_CONFIG_DIR if args.demo else DEFAULT_CONFIG_DIR)
    ).resolve()
    ensure_port_free(args.port, "Home Assistant (--port)")
    if args.demo:
        ensure_port_free(args.emulator_port, "the emulator (--emulator-port)")
        ensure_port_free(args.emulator_port + 1, "the Fish Speech emulator (--emulator-port + 1)")
    prepare_config_dir(config_dir, port=args.port)
    async with contextlib.AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        if args.demo:
            emulator_log = stack.enter_context((config_dir / "emulator.log").open("ab"))
            emulator_url = await launch_emulator(
                stack, session, args.emulator_port, api_key=DEMO_API_KEY, output=emulator_log
            )
            print(f"Fish Audio emulator: {emulator_url} (log: {config_dir / 'emulator.log'})")
            fish_speech_url = await launch_emulator(
                stack,
                session,
                args.emulator_port + 1,
                api_key=None,
                output=emulator_log,
                extra_args=FISH_SPEECH_ARGS,
            )
            print(f"Fish Speech server (emulated): {fish_speech_url}")
        # Home Assistant's output goes to this terminal, as `hass` alone would. No --skip-pip:
        # Home Assistant installs what integrations need, the frontend at the very first start.
        hass, api = await launch_hass(
            stack,
            session,
            config_dir,
            port=args.port,
            skip_pip=False,
            output=None,
            extra_args=hass_args,
            start_timeout=HASS_FIRST_START_TIMEOUT,
        )
        lines = [f"Home Assistant: {api.base_url}   (config: {config_dir})"]
        if args.demo:
            entities = await _configure_demo(api, emulator_url, fish_speech_url)
            lines += [
                f"Log in as: {DEMO_USERNAME} / {DEMO_PASSWORD}",
                f"Fish Audio Suite is configured against the emulator {emulator_url}",
                f"(API key {DEMO_API_KEY}; no Fish Audio account needed), and a second entry,",
                f"{FISH_SPEECH_TITLE!r}, against an emulated Fish Speech server:",
                f"{fish_speech_url}. Entities:",
                *(f"  {entity_id}" for entity_id in entities),
                f"Assist: the assistant {ASSISTANT_NAME!r} (our speech-to-text, a Fish voice).",
                "Try: Settings > Devices & services > Fish Audio Suite;",
                "     Settings > Developer tools > Actions > Fish Audio Suite: List voices;",
                "     Media > Text-to-speech, with a Fish Audio voice;",
                "     Settings > Voice assistants; History, with the API credit sensor.",
            ]
        lines.append("Ctrl-C stops everything.")
        _banner(lines)
        return await asyncio.to_thread(hass.wait)
    raise AssertionError("unreachable: the exit stack never swallows exceptions")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``scripts/develop``: unknown options are passed on to ``hass``."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run Home Assistant with Fish Audio Suite loaded from this repository.",
        epilog=(
            f"--demo onboards the instance (log in as {DEMO_USERNAME} / {DEMO_PASSWORD}), adds "
            "the integration against the emulator with its custom endpoint (API key "
            f"{DEMO_API_KEY}) and one voice, and creates the Assist assistant "
            f"{ASSISTANT_NAME!r} with our speech-to-text and that voice. A second entry, "
            f"{FISH_SPEECH_TITLE!r}, speaks through an emulated self-hosted Fish Speech server on "
            "the next port. Recorder and history "
            "are on, so the credit sensor has a history graph. Menus of Home Assistant 2026.2: "
            "the integration under Settings > Devices & services, actions under Settings > "
            "Developer tools > Actions, speech under Media > Text-to-speech (the demo runs "
            "2026.2; 2026.10 and 2026.11 title Developer tools 'Tools'). A failed Say is "
            "explained under Settings (repairs: credit, a deleted voice) or Notifications (Fish "
            "Audio busy or unreachable)."
        ),
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="also run the Fish Audio emulator and configure the integration against it",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="configuration directory (default: config/, or config/demo/ with --demo)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_HASS_PORT, help="Home Assistant port")
    parser.add_argument(
        "--emulator-port", type=int, default=DEFAULT_EMULATOR_PORT, help="emulator port (--demo)"
    )
    args, hass_args = parser.parse_known_args(argv)
    try:
        return asyncio.run(develop(args, hass_args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        # Ctrl-C (which reached Home Assistant and the emulator too: same process group) or
        # SIGTERM; the exit stack has already waited for both to stop.
        return 0
    except HarnessError as err:
        print(f"scripts/develop: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
