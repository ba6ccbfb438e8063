"""What our response models cost at import, as they are and rebuilt on mashumaro.

Usage: ``.venv/bin/python -m benchmarks.model_classes``. For every response model of
``api/models.py`` it times (CPU, median of 15) creating the same frozen, slotted dataclass
twice: plain, as the module does, and with mashumaro's ``DataClassDictMixin`` (what
python-elgato uses), which generates its ``from_dict``/``to_dict`` code when the class is
created. mashumaro itself is already imported by Home Assistant, so the difference is the
whole import-time cost of the switch. Figures are in benchmarks/README.md.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any

from mashumaro import DataClassDictMixin

from custom_components.fish_audio_suite.api import models

RESPONSE_MODELS = ("Credit", "Package", "VoiceAuthor", "VoiceSample", "Voice", "VoicePage")
RESPONSE_MODELS += ("ASRSegment", "ASRResult")
REPS = 15


def _fields(cls: type[Any]) -> list[tuple[str, Any, Any]]:
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    return [
        (f.name, hints[f.name], dataclasses.field(default=f.default))
        if f.default is not dataclasses.MISSING
        else (f.name, hints[f.name])
        for f in dataclasses.fields(cls)
    ]


def _build(*, mashumaro: bool) -> float:
    """Create every response model once; return the CPU milliseconds it took."""
    namespace = dict(vars(models))
    start = time.process_time()
    for name in RESPONSE_MODELS:
        cls = getattr(models, name)
        new = dataclasses.make_dataclass(
            name,
            _fields(cls),
            bases=(DataClassDictMixin,) if mashumaro else (),
            namespace={"__module__": models.__name__},
            frozen=True,
            slots=True,
            kw_only=True,
        )
        namespace[name] = new
        if mashumaro:
            # Nested models resolve by name in the module namespace, as they would in the file.
            vars(models)[name] = new
    elapsed = (time.process_time() - start) * 1000
    for name in RESPONSE_MODELS:
        vars(models)[name] = getattr(models, name)
    return elapsed


def main() -> None:
    """Print the two figures."""
    originals = {name: getattr(models, name) for name in RESPONSE_MODELS}
    plain, mash = [], []
    for _ in range(REPS):
        plain.append(_build(mashumaro=False))
        mash.append(_build(mashumaro=True))
        vars(models).update(originals)
    print(
        f"{len(RESPONSE_MODELS)} response models: plain dataclasses "
        f"{statistics.median(plain):.2f} ms CPU, mashumaro DataClassDictMixin "
        f"{statistics.median(mash):.2f} ms CPU (median of {REPS})"
    )


if __name__ == "__main__":
    main()
