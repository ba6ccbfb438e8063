"""Checks of the project's metadata: manifest, HACS, translations, brand images, citations."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
import re
import struct
import subprocess
from typing import Any

import pytest

from custom_components.fish_audio_suite.api import __version__ as client_version

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "fish_audio_suite"
# Keys HACS accepts in hacs.json (https://hacs.xyz/docs/publish/start#hacsjson).
HACS_KEYS = {
    "name", "content_in_root", "zip_release", "filename", "hide_default_branch", "country",
    "homeassistant", "hacs", "persistent_directory", "render_readme",
}  # fmt: skip


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest() -> None:
    """The manifest has what hassfest and HACS require (key order: tests/test_hassfest.py)."""
    manifest = _json(INTEGRATION / "manifest.json")
    assert manifest["domain"] == "fish_audio_suite"
    assert manifest["name"] == "Fish Audio Suite"
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "service"
    assert manifest["iot_class"] == "cloud_polling"
    for key in ("documentation", "issue_tracker"):
        assert manifest[key].startswith("https://")
    assert manifest["codeowners"]
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    # ormsgpack is the one runtime requirement, pinned exactly.
    assert [r.split("==")[0] for r in manifest["requirements"]] == ["ormsgpack"]
    assert all(re.fullmatch(r"[\w-]+==[\w.]+", r) for r in manifest["requirements"])
    # The client reports the integration's version in its User-Agent.
    assert client_version == manifest["version"]


@pytest.mark.parametrize("leg", ["oldest", "newest", "latest"])
def test_manifest_requirement_matches_test_pin(leg: str) -> None:
    """Every test leg runs against the version the manifest installs."""
    manifest = _json(INTEGRATION / "manifest.json")
    pins = (ROOT / "requirements" / f"{leg}.txt").read_text(encoding="utf-8").split()
    for requirement in manifest["requirements"]:
        assert requirement in pins


def test_hacs_json() -> None:
    """hacs.json holds only keys HACS allows and the minimum Home Assistant version."""
    hacs = _json(ROOT / "hacs.json")
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == "Fish Audio Suite"
    assert hacs["homeassistant"] == "2026.2.0"


def test_strings_match_translations() -> None:
    """strings.json and translations/en.json stay identical (HA reads the latter)."""
    assert _json(INTEGRATION / "strings.json") == _json(INTEGRATION / "translations" / "en.json")


def _translation_keys_used() -> set[tuple[str, str]]:
    """Return (kind, key) for every literal translation key in the integration's code."""
    used: set[tuple[str, str]] = set()
    for path in INTEGRATION.rglob("*.py"):
        if "api" in path.relative_to(INTEGRATION).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant):
                if node.arg == "translation_key" and isinstance(node.value.value, str):
                    used.add(("key", node.value.value))
                elif node.arg == "reason" and isinstance(node.value.value, str):
                    used.add(("abort", node.value.value))
    return used


def test_translation_keys_exist() -> None:
    """Every literal translation key and abort reason in the code has a translation."""
    strings = _json(INTEGRATION / "translations" / "en.json")
    known: set[str] = set(strings.get("exceptions", {}))
    known |= set(strings.get("issues", {}))
    known |= set(strings.get("selector", {}))
    for platform in strings.get("entity", {}).values():
        known |= set(platform)
    aborts = set(strings["config"]["abort"])
    for subentry in strings.get("config_subentries", {}).values():
        aborts |= set(subentry.get("abort", {}))
    for kind, key in _translation_keys_used():
        assert key in (aborts if kind == "abort" else known), f"untranslated {kind}: {key}"


def test_every_exception_translation_is_a_sentence() -> None:
    """Exception messages are complete text, with placeholders only in braces."""
    strings = _json(INTEGRATION / "translations" / "en.json")
    for key, value in strings["exceptions"].items():
        message = value["message"]
        assert message.strip() == message, key
        assert message[-1] in ".:}" or message.endswith(")"), key


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path.name
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("icon.png", (256, 256)),
        ("icon@2x.png", (512, 512)),
        ("dark_icon.png", (256, 256)),
        ("dark_icon@2x.png", (512, 512)),
    ],
)
def test_brand_icons(name: str, size: tuple[int, int]) -> None:
    """Icons are square at the sizes home-assistant/brands asks for."""
    assert _png_size(INTEGRATION / "brand" / name) == size


@pytest.mark.parametrize(
    ("name", "short_side"),
    [("logo.png", 128), ("logo@2x.png", 256), ("dark_logo.png", 128), ("dark_logo@2x.png", 256)],
)
def test_brand_logos(name: str, short_side: int) -> None:
    """Logos are landscape with the short side brands asks for."""
    width, height = _png_size(INTEGRATION / "brand" / name)
    assert height == short_side
    assert width > height


def test_icons_exist_in_the_frontend() -> None:
    """Every icon icons.json names is one the installed frontend can draw (else it is blank)."""
    import hass_frontend  # noqa: PLC0415 - only this test needs the frontend package

    icon_list = Path(hass_frontend.where()) / "static" / "mdi" / "iconList.json"
    known = {icon["name"] for icon in _json(icon_list)}
    used = set(re.findall(r'"mdi:([a-z0-9-]+)"', (INTEGRATION / "icons.json").read_text()))
    assert used
    assert used <= known, f"unknown icons: {sorted(used - known)}"


# A citation of the team's design notes, which do not ship: a reader of the repository cannot
# open them. Cite the vendor's docs, the SDK, Home Assistant's code or a file in the repository.
_UNSHIPPED_DOC = re.compile(r"\b(?:PROTOCOL|DESIGN|STYLE)(?:\.md\b|\s*§)")
# Directories .gitignore keeps out of the repository, for a tree without git.
_UNTRACKED_DIRS = {".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "htmlcov"}


def _repository_files() -> list[Path]:
    """Every file in the repository: git's list, or (no git, say an unpacked archive) a walk."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"],  # noqa: S607 - git from PATH, fixed arguments
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        found = []
        for top, dirs, names in os.walk(ROOT):
            dirs[:] = [
                d
                for d in dirs
                if d not in _UNTRACKED_DIRS
                and not d.startswith(".venv")
                and not d.endswith(".egg-info")
                and not (top == str(ROOT) and d in {".cache", "config"})
            ]
            found += [Path(top, name) for name in names]
        return found
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_citations_name_documents_that_ship() -> None:
    """No file cites the design notes kept outside the repository."""
    files = _repository_files()
    assert ROOT / "README.md" in files
    found = []
    for path in files:
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, FileNotFoundError):  # images; a deleted, uncommitted file
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _UNSHIPPED_DOC.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "cites a document that does not ship:\n" + "\n".join(found)
