"""The client package stays standalone and in step with the manifest."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from custom_components.fish_audio_suite import api

API_DIR = Path(api.__file__).parent
ALLOWED = {"aiohttp", "yarl", "ormsgpack"}


def test_no_home_assistant_import() -> None:
    for path in API_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top != "homeassistant", f"{path.name} imports {name}"
                assert top in ALLOWED or top in _stdlib(), f"{path.name} imports {name}"


def _stdlib() -> frozenset[str]:
    import sys  # noqa: PLC0415

    return frozenset(sys.stdlib_module_names) | {"__future__"}


def test_version_matches_manifest() -> None:
    manifest = json.loads((API_DIR.parent / "manifest.json").read_text(encoding="utf-8"))
    assert api.__version__ == manifest["version"]


def test_everything_is_exported() -> None:
    for name in api.__all__:
        assert hasattr(api, name)
