"""Tests of the Home Assistant 2026.11 compatibility guard (scripts/check_ha_compat.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
import zipfile

import pytest

from .conftest import load_script

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def compat() -> ModuleType:
    """Import the guard script as a module."""
    return load_script("check_ha_compat")


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A tiny stand-in for the Home Assistant wheel."""
    path = tmp_path / "homeassistant-0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("homeassistant/__init__.py", "")
        archive.writestr("homeassistant/const.py", "CONF_API_KEY = 'api_key'\nPlatform = object\n")
        archive.writestr("homeassistant/helpers/__init__.py", "")
        archive.writestr(
            "homeassistant/helpers/config_validation.py",
            "def string(value): return value\n"
            "try:\n    import x as positive_int\nexcept ImportError:\n    pass\n",
        )
        archive.writestr(
            "homeassistant/core.py",
            # Python 3.14 syntax (PEP 758) that this interpreter cannot parse as is.
            "class HomeAssistant: ...\ntype CALLBACK_TYPE = object\n"
            "try:\n    pass\nexcept KeyError, ValueError:\n    pass\n",
        )
        archive.writestr(
            "homeassistant/future.py",
            # Syntax no parser here knows: found by shape.
            "NEW = t'{x}' if 1 else 2\nclass Gadget: ...\nasync def go(): ...\n"
            "from x import (\n    a as aliased,\n    b,\n)\n",
        )
    return path


def _write(tmp_path: Path, source: str) -> list[Path]:
    file = tmp_path / "integration.py"
    file.write_text(source, encoding="utf-8")
    return [file]


def test_resolves_present_names(compat: ModuleType, wheel: Path, tmp_path: Path) -> None:
    """Names, submodules, aliases and module attributes that exist pass."""
    files = _write(
        tmp_path,
        "from homeassistant.const import CONF_API_KEY, Platform\n"
        "from homeassistant.helpers import config_validation as cv\n"
        "from homeassistant.core import HomeAssistant, CALLBACK_TYPE\n"
        "import homeassistant.helpers.config_validation as cv2\n"
        "x = cv.string\ny = cv2.positive_int\nz = HomeAssistant.anything\n",
    )
    assert compat.check(files, tmp_path, compat.Wheel(wheel)) == []


def test_reports_missing_names(compat: ModuleType, wheel: Path, tmp_path: Path) -> None:
    """A removed name, module or module attribute is reported with where it is used."""
    files = _write(
        tmp_path,
        "from homeassistant.const import CONF_GONE\n"
        "from homeassistant.helpers import config_validation as cv\n"
        "import homeassistant.components.gone\n"
        "x = cv.removed_validator\n",
    )
    missing = compat.check(files, tmp_path, compat.Wheel(wheel))
    found = {(use.module, use.name) for use in missing}
    assert found == {
        ("homeassistant.const", "CONF_GONE"),
        ("homeassistant.components.gone", None),
        ("homeassistant.helpers.config_validation", "removed_validator"),
    }
    assert all(use.where.startswith("integration.py:") for use in missing)


def test_newer_syntax(compat: ModuleType, wheel: Path, tmp_path: Path) -> None:
    """Modules in newer Python syntax are still read, by parse or by shape."""
    files = _write(
        tmp_path,
        "from homeassistant.future import NEW, Gadget, go, aliased, b\n"
        "from homeassistant.future import Missing\n",
    )
    missing = compat.check(files, tmp_path, compat.Wheel(wheel))
    assert [(use.module, use.name) for use in missing] == [("homeassistant.future", "Missing")]


def test_main_against_given_wheel(compat: ModuleType, wheel: Path) -> None:
    """Against a wheel that lacks our imports, the guard fails loudly."""
    assert compat.main(["--wheel", str(wheel)]) == 1
