"""What hassfest checks that can be checked offline, by Home Assistant's own rules.

hassfest (Home Assistant's validator, run by the `hassfest` workflow) is not part of the
`homeassistant` wheel, but most of what it enforces is: the manifest keys the loader reads
(`loader.Manifest`) and the version check it applies to custom integrations, the schema the
service helper loads `services.yaml` with, and the loaders for `translations/en.json` and
`icons.json`. These tests use those, so they follow whichever Home Assistant the leg runs.
Where the wheel states no rule (the order of manifest keys, which translation keys a flow
needs), the rule is hassfest's as documented at https://developers.home-assistant.io/ and
is written out here. README.md ("Validation") lists what only the workflows check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
import re
from types import ModuleType, UnionType
import typing
from typing import Any, Literal, get_args, get_origin

from homeassistant import loader
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, icon, service, translation
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest

from custom_components.fish_audio_suite.const import DOMAIN

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / DOMAIN
# Keys the loader adds itself; a manifest must not carry them.
COMPUTED_MANIFEST_KEYS = {"is_built_in", "overwrites_built_in"}
# hassfest's icon rule: a Material Design Icons name.
MDI = re.compile(r"mdi:[a-z0-9]+(-[a-z0-9]+)*")
# hassfest's rule for translation keys (select options, entity, field and section keys):
# lowercase letters, digits, "-" and "_", never two separators in a row or one at either end.
TRANSLATION_KEY = re.compile(r"(?!.+[_-]{2})(?![_-])[a-z0-9_-]+(?<![_-])")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _manifest() -> dict[str, Any]:
    result: dict[str, Any] = _json(INTEGRATION / "manifest.json")
    return result


def _strings() -> dict[str, Any]:
    result: dict[str, Any] = _json(INTEGRATION / "translations" / "en.json")
    return result


def _services_yaml() -> dict[str, Any]:
    return load_yaml_dict(str(INTEGRATION / "services.yaml"))


def _matches(value: Any, annotation: Any) -> bool:
    """Return whether a JSON value has the type of a `loader.Manifest` annotation."""
    origin = get_origin(annotation)
    if origin is Literal:
        return value in get_args(annotation)
    if origin is list:
        (item,) = get_args(annotation)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        key, item = get_args(annotation)
        return isinstance(value, dict) and all(
            _matches(k, key) and _matches(v, item) for k, v in value.items()
        )
    if origin in (typing.Union, UnionType):
        return any(_matches(value, arg) for arg in get_args(annotation))
    if annotation is bool:
        return isinstance(value, bool)
    return isinstance(value, annotation) and not isinstance(value, bool)


def test_manifest_has_only_keys_the_loader_reads_with_their_types() -> None:
    """Every manifest key is one `loader.Manifest` declares, with the declared type."""
    hints = typing.get_type_hints(loader.Manifest)
    manifest = _manifest()
    for key, value in manifest.items():
        assert key in hints, f"manifest key {key!r} is unknown to Home Assistant"
        assert key not in COMPUTED_MANIFEST_KEYS, key
        assert _matches(value, hints[key]), f"manifest {key!r}: {value!r} is not {hints[key]}"


def test_manifest_key_order() -> None:
    """hassfest: "domain, name, then alphabetical order"."""
    keys = list(_manifest())
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_has_what_hassfest_requires_of_a_custom_integration() -> None:
    """Required keys, the domain matching the folder, no collision with a core domain."""
    manifest = _manifest()
    for key in ("domain", "name", "codeowners", "documentation", "version", "iot_class"):
        assert manifest.get(key), key
    assert manifest["domain"] == INTEGRATION.name
    # hassfest warns when a custom domain shadows a core one; ours runs beside it (README.md).
    core = Path(loader.__file__).parent / "components" / manifest["domain"]
    assert not core.exists()


async def test_home_assistant_loads_the_manifest(hass: HomeAssistant) -> None:
    """The loader accepts the manifest: it blocks a custom integration whose version it
    cannot parse, and reads the rest as the running Home Assistant understands it."""
    integration = await loader.async_get_integration(hass, DOMAIN)
    manifest = _manifest()
    assert not integration.is_built_in
    assert integration.version is not None
    assert str(integration.version) == manifest["version"]
    assert integration.config_flow is True
    assert integration.integration_type == manifest["integration_type"]
    assert integration.iot_class == manifest["iot_class"]
    assert integration.requirements == manifest["requirements"]


@pytest.mark.parametrize(("version", "accepted"), [(None, True), ("not a version", False)])
async def test_home_assistant_checks_the_version(
    hass: HomeAssistant, tmp_path: Path, version: str | None, accepted: bool
) -> None:
    """The loader's version check can fail: a copy of the manifest with a version it cannot
    parse is blocked, the unchanged copy is not (so a malformed bump would be caught)."""
    (tmp_path / DOMAIN).mkdir()
    manifest = _manifest() if version is None else {**_manifest(), "version": version}
    (tmp_path / DOMAIN / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    root = ModuleType("copy_of_custom_components")
    root.__path__ = [str(tmp_path)]
    integration = await hass.async_add_executor_job(
        loader.Integration.resolve_from_root, hass, root, DOMAIN
    )
    assert (integration is not None) is accepted


def test_services_yaml_passes_home_assistants_schema() -> None:
    """`services.yaml` passes the schema Home Assistant loads it with (selectors included)."""
    # helpers/service.py validates every services.yaml with this schema when it loads it
    # (and then ignores a file that fails); it is private, but it is the rule itself.
    service._SERVICES_SCHEMA(_services_yaml())


def _fields(definition: dict[str, Any]) -> Iterator[tuple[str | None, str, dict[str, Any]]]:
    """Yield (section or None, field, field definition) for one action."""
    for name, field in (definition or {}).get("fields", {}).items():
        if "fields" in field:
            for inner, inner_field in field["fields"].items():
                yield name, inner, inner_field
        else:
            yield None, name, field


async def test_registered_actions_are_the_described_ones(hass: HomeAssistant) -> None:
    """hassfest: an integration that registers actions describes each in services.yaml."""
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    assert registered == set(_services_yaml())
    descriptions = await service.async_get_all_descriptions(hass)
    assert set(descriptions[DOMAIN]) == registered


def test_actions_are_translated() -> None:
    """hassfest: every action, section and field has a name and description, and the
    translations name nothing services.yaml lacks."""
    strings = _strings()["services"]
    actions = _services_yaml()
    assert set(strings) == set(actions)
    for action, definition in actions.items():
        text = strings[action]
        assert text["name"], action
        assert text["description"], action
        fields = {(sec, name) for sec, name, _ in _fields(definition)}
        assert set(text.get("fields", {})) == {name for _, name in fields}, action
        for _, name in fields:
            assert text["fields"][name]["name"], (action, name)
            assert text["fields"][name]["description"], (action, name)
        sections = {sec for sec, _ in fields if sec}
        assert set(text.get("sections", {})) == sections, action
        for sec in sections:
            assert text["sections"][sec]["name"], (action, sec)


def test_select_options_are_translated() -> None:
    """A select with a `translation_key` has a label for each option (services and flow)."""
    selectors = _strings()["selector"]
    for definition in _services_yaml().values():
        for _, name, field in _fields(definition):
            select = (field.get("selector") or {}).get("select") or {}
            if key := select.get("translation_key"):
                options = {o if isinstance(o, str) else o["value"] for o in select["options"]}
                assert options <= set(selectors[key]["options"]), (name, key)
    for key, value in selectors.items():
        assert value["options"], key
        assert all(value["options"].values()), key


async def test_icons_cover_every_action_and_entity(hass: HomeAssistant) -> None:
    """Every action (and section) and every entity translation key has an icon, and icons
    name nothing that does not exist; read through Home Assistant's own icon loader."""
    services_icons = (await icon.async_get_icons(hass, "services", {DOMAIN}))[DOMAIN]
    actions = _services_yaml()
    assert set(services_icons) == set(actions)
    for action, definition in actions.items():
        assert MDI.fullmatch(services_icons[action]["service"]), action
        sections = {sec for sec, _, _ in _fields(definition) if sec}
        assert set(services_icons[action].get("sections", {})) == sections, action
        for sec in sections:
            assert MDI.fullmatch(services_icons[action]["sections"][sec]), (action, sec)

    entity_icons = (await icon.async_get_icons(hass, "entity", {DOMAIN}))[DOMAIN]
    entity_strings = _strings()["entity"]
    assert set(entity_icons) == set(entity_strings)
    for platform, keys in entity_strings.items():
        assert set(entity_icons[platform]) == set(keys), platform
        for key, value in entity_icons[platform].items():
            assert MDI.fullmatch(value["default"]), (platform, key)
            for state_icon in value.get("state", {}).values():
                assert MDI.fullmatch(state_icon), (platform, key)


async def test_home_assistant_reads_our_translations(hass: HomeAssistant) -> None:
    """Custom integrations are translated from translations/<lang>.json: HA finds ours."""
    for category in ("config", "options", "services", "exceptions", "entity", "selector"):
        loaded = await translation.async_get_translations(hass, "en", category, {DOMAIN})
        prefix = f"component.{DOMAIN}.{category}."
        assert any(key.startswith(prefix) for key in loaded), category
    loaded = await translation.async_get_translations(hass, "en", "config", {DOMAIN})
    assert (
        loaded[f"component.{DOMAIN}.config.step.user.title"]
        == (_strings()["config"]["step"]["user"]["title"])
    )


def _strings_in(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings_in(value, (*path, key))
    else:
        yield path, node


def test_translation_values() -> None:
    """Every text is a string without HTML (`cv.string_with_no_html`, the validator hassfest
    applies), quotes no placeholder in single quotes (hassfest), and uses no `[%key:...]`
    reference: those are resolved only when core builds its translations, so a custom
    integration would show them literally."""
    for path, value in _strings_in(_strings()):
        where = ".".join(path)
        assert isinstance(value, str), where
        cv.string_with_no_html(value)
        assert not re.search(r"'\{\w+\}'", value), f"{where}: single-quoted placeholder"
        assert "[%key:" not in value, f"{where}: reference"
        assert value == value.strip(), f"{where}: surrounding whitespace"


def test_translation_keys() -> None:
    """Entity keys, select option keys and action field and section keys follow hassfest's
    translation-key rule; exception, issue and selector names are slugs (`cv.slug`). A
    select whose values break the rule (a model called s2.1-pro) cannot be translated."""
    strings = _strings()
    keys = [key for platform in strings.get("entity", {}).values() for key in platform]
    for value in strings.get("selector", {}).values():
        keys += list(value.get("options", {}))
    for action in strings.get("services", {}).values():
        keys += [*action.get("fields", {}), *action.get("sections", {})]
    for key in keys:
        assert TRANSLATION_KEY.fullmatch(key), key
    slugs = [*strings.get("exceptions", {}), *strings.get("issues", {})]
    for key in [*slugs, *strings.get("selector", {})]:
        assert cv.slug(key) == key


def test_imported_integrations_are_declared() -> None:
    """hassfest's dependencies rule, made stricter: every other integration the code imports
    is an entity platform (`homeassistant.const.Platform`), one we provide a platform file
    for (diagnostics.py), or in the manifest's dependencies or after_dependencies."""
    manifest = _manifest()
    allowed = {str(p) for p in Platform} | set(manifest["dependencies"])
    allowed |= set(manifest.get("after_dependencies", []))
    allowed |= {p.stem for p in INTEGRATION.glob("*.py")}
    used: set[str] = set()
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value]  # importlib.import_module("homeassistant.components.x")
            for name in names:
                if match := re.fullmatch(r"homeassistant\.components\.(\w+)(\..*)?", name):
                    used.add(match[1])
    assert used, "the reader found no import of another integration"
    assert used <= allowed, f"undeclared: {sorted(used - allowed)}"


def test_config_schema_with_async_setup() -> None:
    """hassfest: an integration with `async_setup` defines `CONFIG_SCHEMA`."""
    tree = ast.parse((INTEGRATION / "__init__.py").read_text(encoding="utf-8"))
    functions = {n.name for n in tree.body if isinstance(n, ast.AsyncFunctionDef)}
    names = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if "async_setup" in functions:
        assert "CONFIG_SCHEMA" in names


# --- config flow strings -------------------------------------------------------------------
# Which translations a flow needs is not stated by the wheel; hassfest's translation rules
# (developers.home-assistant.io, "Translations": config, options and subentry flows) are:
# every step shown has an entry under its flow's `step`, a menu lists each option under
# `menu_options`, every error is under `error` and every abort reason under `abort`.
# The flow's code is read for the literal names it uses.

_FLOW_BASES = {"ConfigFlow": "config", "OptionsFlow": "options", "ConfigSubentryFlow": "subentry"}


class _FlowUse:
    """The step ids, menus, errors and abort reasons one flow class uses."""

    def __init__(self) -> None:
        self.steps: set[str] = set()
        self.methods: set[str] = set()
        self.menus: dict[str, list[str]] = {}
        self.errors: set[str] = set()
        self.aborts: set[str] = set()
        self.bases: set[str] = set()


def _const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _error_values(node: ast.AST) -> Iterator[str]:
    """Error codes in `errors[...] = "code"` and in `{KEY: "code"}` literals of one entry
    keyed by `"base"` or a `CONF_*` name (how the flow hands errors between helpers)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assign):
            for target in sub.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "errors"
                    and (code := _const(sub.value))
                ):
                    yield code
        if isinstance(sub, ast.Dict) and len(sub.keys) == 1:
            key = sub.keys[0]
            keyed = _const(key) == "base" or (
                isinstance(key, ast.Name) and key.id.startswith("CONF_")
            )
            if keyed and (code := _const(sub.values[0])):
                yield code


def _flow_uses(path: Path, steps: Path | None = None) -> dict[str, tuple[str, _FlowUse]]:
    """Return {class name: (kind, uses)} for every flow class in a module.

    ``steps``: a module of steps loaded on demand, functions run on the flow handed to them
    (``flow: FishAudioConfigFlow``); each counts as part of the class it names.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    trees = [tree, *([ast.parse(steps.read_text(encoding="utf-8"))] if steps else [])]
    module_functions = {
        f.name: f
        for t in trees
        for f in t.body
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    delegated: dict[str, list[ast.AST]] = {}
    for f in module_functions.values():
        first = f.args.args[0] if f.args.args else None
        if first is not None and first.arg == "flow" and isinstance(first.annotation, ast.Name):
            delegated.setdefault(first.annotation.id, []).append(f)
    result: dict[str, tuple[str, _FlowUse]] = {}
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for cls in classes.values():
        # A base may be generic (`VoiceSteps[ConfigFlowResult]`): its name is the subscripted one.
        bases = {
            b.id
            for b in (c.value if isinstance(c, ast.Subscript) else c for c in cls.bases)
            if isinstance(b, ast.Name)
        }
        kinds = [_FLOW_BASES[b] for b in bases if b in _FLOW_BASES]
        if not kinds:
            continue
        # Steps a flow inherits from a class of the same module (shared voice steps) count too.
        nodes = [cls, *(classes[b] for b in bases if b in classes), *delegated.get(cls.name, [])]
        use = _FlowUse()
        use.bases = bases
        methods = {
            f.name: f
            for node in nodes
            for f in node.body
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        use.methods = {
            name.removeprefix("async_step_") for name in methods if name.startswith("async_step_")
        }
        # Helpers whose first parameter is the step id (e.g. one body for two account steps).
        step_helpers = {
            name
            for name, f in methods.items()
            if len(f.args.args) > 1 and f.args.args[1].arg == "step_id"
        }
        for sub in (n for node in nodes for n in ast.walk(node)):
            if not isinstance(sub, ast.Call) or not isinstance(sub.func, ast.Attribute):
                continue
            kwargs = {k.arg: k.value for k in sub.keywords}
            name = sub.func.attr
            if name in ("async_show_form", "async_show_menu") and (
                step := _const(kwargs.get("step_id"))
            ):
                use.steps.add(step)
                if name == "async_show_menu":
                    options = kwargs["menu_options"]
                    assert isinstance(options, ast.List)
                    use.menus[step] = [c for o in options.elts if (c := _const(o))]
            elif name in step_helpers and sub.args and (step := _const(sub.args[0])):
                use.steps.add(step)
            elif name in ("async_abort", "_abort_if_unique_id_mismatch") and (
                reason := _const(kwargs.get("reason"))
            ):
                use.aborts.add(reason)
            elif name == "_abort_if_unique_id_configured":
                use.aborts.add("already_configured")
            elif name in ("async_update_reload_and_abort", "async_update_and_abort"):
                # The default reason follows the source: reauth or reconfigure.
                if "reauth" in use.methods:
                    use.aborts.add("reauth_successful")
                if "reconfigure" in use.methods:
                    use.aborts.add("reconfigure_successful")
        use.errors = {code for node in nodes for code in _error_values(node)}
        # Module-level helpers the class calls (e.g. one account validation for all steps).
        for sub in (n for node in nodes for n in ast.walk(node)):
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Name)
                and (helper := module_functions.get(sub.func.id))
            ):
                use.errors |= set(_error_values(helper))
        result[cls.name] = (kinds[0], use)
    return result


def _subentry_types(path: Path) -> dict[str, str]:
    """Return {flow class name: subentry type} from `async_get_supported_subentry_types`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    consts = {
        t.id: n.value.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    const_module = ast.parse((INTEGRATION / "const.py").read_text(encoding="utf-8"))
    for n in ast.walk(const_module):
        if isinstance(n, ast.AnnAssign | ast.Assign) and isinstance(n.value, ast.Constant):
            targets = [n.target] if isinstance(n, ast.AnnAssign) else n.targets
            consts.update({t.id: n.value.value for t in targets if isinstance(t, ast.Name)})
    result: dict[str, str] = {}
    for f in ast.walk(tree):
        if isinstance(f, ast.FunctionDef) and f.name == "async_get_supported_subentry_types":
            for d in (n for n in ast.walk(f) if isinstance(n, ast.Dict)):
                for key, value in zip(d.keys, d.values, strict=True):
                    name = _const(key) or (
                        consts.get(key.id) if isinstance(key, ast.Name) else None
                    )
                    if isinstance(value, ast.Name) and name:
                        result[value.id] = name
    return result


def _flow_sections() -> list[tuple[str, _FlowUse, dict[str, Any]]]:
    path = INTEGRATION / "config_flow.py"
    strings = _strings()
    subentry_types = _subentry_types(path)
    sections = []
    # The Fish Speech server's steps live in their own module, run on the account flow and the
    # Fish Speech voice subentry flow.
    uses = _flow_uses(path, INTEGRATION / "fish_speech_flow.py")
    for _kind, use in uses.values():
        for base in use.bases & set(uses):  # steps a flow inherits are its own too
            use.methods |= uses[base][1].methods
    for cls, (kind, use) in uses.items():
        if kind == "subentry":
            section = strings["config_subentries"][subentry_types[cls]]
        else:
            section = strings[kind]
        sections.append((cls, use, section))
    return sections


def test_flow_reading_finds_the_flows() -> None:
    """The reader above sees the account, options and voice flows with their steps (so the
    checks below have something to check)."""
    found = {cls: use for cls, use, _ in _flow_sections()}
    assert len(found) >= 3
    assert all(use.steps for use in found.values())
    assert any(use.errors for use in found.values())
    assert any(use.aborts for use in found.values())
    assert any(use.menus for use in found.values())


@pytest.mark.parametrize("flow", [cls for cls, _, _ in _flow_sections()])
def test_config_flow_strings(flow: str) -> None:
    """Every step, menu option, error and abort a flow uses has its translation."""
    ((use, section),) = [(u, s) for c, u, s in _flow_sections() if c == flow]
    steps = section.get("step", {})
    for step in use.steps:
        assert step in use.methods, f"{flow}: step {step} has no async_step_{step}"
        assert step in steps, f"{flow}: step {step} is not translated"
        text = steps[step]
        assert set(text.get("data_description", {})) <= set(text.get("data", {})), step
    for step, options in use.menus.items():
        assert set(steps[step]["menu_options"]) == set(options), f"{flow}: menu {step}"
        assert all(option in use.methods for option in options), f"{flow}: menu {step}"
    assert use.errors <= set(section.get("error", {})), f"{flow}: untranslated errors"
    assert use.aborts <= set(section.get("abort", {})), f"{flow}: untranslated aborts"
