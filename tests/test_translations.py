"""Every translation has exactly the strings and placeholders of translations/en.json.

Home Assistant reads a custom integration's texts from translations/<language>.json and falls
back to English key by key, so a missing key shows English in the middle of a translated form,
and a placeholder that is missing, extra or renamed breaks or garbles the rendered message.
Language codes are the file names Home Assistant's frontend asks for (pt-BR, zh-Hans, zh-Hant).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import translation
import pytest

from custom_components.fish_audio_suite.const import DOMAIN

TRANSLATIONS = Path(__file__).parent.parent / "custom_components" / DOMAIN / "translations"
# The languages the integration ships beside English (issue 14).
LANGUAGES = (
    "de", "es", "fr", "it", "nl", "pl", "pt-BR", "ru", "ja", "ko", "zh-Hans", "zh-Hant",
)  # fmt: skip
# A placeholder as Home Assistant substitutes it: {name}.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PRESENT = [lang for lang in LANGUAGES if (TRANSLATIONS / f"{lang}.json").is_file()]


def _load(name: str) -> Any:
    return json.loads((TRANSLATIONS / f"{name}.json").read_text(encoding="utf-8"))


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Map every leaf's dotted key path to its value (a dict in place of a text is a leaf
    of another path, so a changed structure shows up as missing and extra keys)."""
    if not isinstance(node, dict):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
    return flat


ENGLISH = _flatten(_load("en"))


def test_english_is_what_the_other_languages_are_checked_against() -> None:
    """The reference itself is usable: every leaf is a non-empty text."""
    assert len(ENGLISH) > 100
    assert all(isinstance(text, str) and text.strip() for text in ENGLISH.values())


def test_no_translation_file_under_a_name_home_assistant_does_not_ask_for() -> None:
    """A misnamed file (pt_BR.json, zh-CN.json) would never be shown to anybody."""
    names = {path.stem for path in TRANSLATIONS.glob("*.json")}
    assert names <= {"en", *LANGUAGES}, names - {"en", *LANGUAGES}


@pytest.mark.parametrize("lang", PRESENT)
def test_translation_has_exactly_the_english_keys(lang: str) -> None:
    """Same key paths as en.json: none missing, none extra, every value a non-empty text."""
    translated = _flatten(_load(lang))
    assert sorted(ENGLISH.keys() - translated.keys()) == [], "missing"
    assert sorted(translated.keys() - ENGLISH.keys()) == [], "extra"
    empty = [
        key for key, text in translated.items() if not isinstance(text, str) or not text.strip()
    ]
    assert empty == []


@pytest.mark.parametrize("lang", PRESENT)
def test_translation_has_exactly_the_english_placeholders(lang: str) -> None:
    """Per string, the set of {placeholder} names equals the English one."""
    translated = _flatten(_load(lang))
    wrong = {
        key: (sorted(set(PLACEHOLDER.findall(text))), sorted(set(PLACEHOLDER.findall(english))))
        for key, english in ENGLISH.items()
        if isinstance(text := translated.get(key), str)
        and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(english))
    }
    assert wrong == {}, "key: (translated placeholders, English placeholders)"


@pytest.mark.parametrize("lang", PRESENT)
async def test_home_assistant_serves_the_translation(hass: HomeAssistant, lang: str) -> None:
    """Home Assistant finds the file and serves its texts, not the English fallback."""
    translated = _flatten(_load(lang))
    for category in ("config", "exceptions", "services", "entity", "selector"):
        loaded = await translation.async_get_translations(hass, lang, category, {DOMAIN})
        ours = {
            key.removeprefix(f"component.{DOMAIN}."): text
            for key, text in loaded.items()
            if key.startswith(f"component.{DOMAIN}.")
        }
        expected = {key: text for key, text in translated.items() if key.startswith(f"{category}.")}
        assert ours == expected


def test_every_language_is_shipped() -> None:
    """All twelve languages of issue 14 ship beside English."""
    assert [lang for lang in LANGUAGES if lang not in PRESENT] == []
