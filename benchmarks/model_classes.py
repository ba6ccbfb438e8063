"""What our answer models cost at import: as shipped, as dataclasses, and on mashumaro.

Usage: ``.venv/bin/python -m benchmarks.model_classes``. For every answer model of
``api/models.py`` it times (CPU, median of 15) creating the same class three ways from the
module's own field declarations: on ``_Model`` (as shipped: its fields collected once, no
code generated), as a frozen, slotted, keyword-only dataclass (what the module used before),
and that dataclass on mashumaro's ``DataClassDictMixin`` (what python-elgato uses), which
generates its ``from_dict``/``to_dict`` code when the class is created. mashumaro itself is
already imported by Home Assistant, so each difference is the whole import-time cost of the
choice. Figures are in benchmarks/README.md.
"""

from __future__ import annotations

import dataclasses
import inspect
import statistics
import time
from typing import Any

from mashumaro import DataClassDictMixin

from custom_components.fish_audio_suite.api import models

ANSWER_MODELS = ("Credit", "Package", "VoiceAuthor", "VoiceSample", "Voice", "VoicePage")
ANSWER_MODELS += ("ASRSegment", "ASRResult", "TimestampAlignment", "TimestampEvent")
ANSWER_MODELS += ("VoiceDesignCandidate",)
REPS = 15
MISSING: Any = models._MISSING  # noqa: SLF001 - the benchmark rebuilds the module's classes


def _declared(cls: type[Any]) -> list[tuple[str, str, Any]]:
    """(name, annotation, default or MISSING) of every field, from the class as shipped."""
    hints = inspect.get_annotations(cls)
    return [(f.name, hints[f.name], f.default) for f in cls._fields]


def _dataclass_fields(cls: type[Any]) -> list[tuple[str, Any] | tuple[str, Any, Any]]:
    return [
        (name, hint) if default is MISSING else (name, hint, dataclasses.field(default=default))
        for name, hint, default in _declared(cls)
    ]


def _build(kind: str) -> float:
    """Create every answer model once; return the CPU milliseconds it took."""
    start = time.process_time()
    for name in ANSWER_MODELS:
        cls = getattr(models, name)
        if kind == "model":
            namespace: dict[str, Any] = {"__module__": models.__name__}
            namespace["__annotations__"] = {n: hint for n, hint, _ in _declared(cls)}
            namespace.update(
                (n, models.wire(field.read, key=field.keys, default=default))
                for (n, _, default), field in zip(_declared(cls), cls._fields, strict=True)
            )
            new = type(name, (models._Model,), namespace)  # noqa: SLF001
        else:
            new = dataclasses.make_dataclass(
                name,
                _dataclass_fields(cls),
                bases=(DataClassDictMixin,) if kind == "mashumaro" else (),
                namespace={"__module__": models.__name__},
                frozen=True,
                slots=True,
                kw_only=True,
            )
        if kind == "mashumaro":
            # Nested models resolve by name in the module namespace, as they would in the file.
            vars(models)[name] = new
    return (time.process_time() - start) * 1000


def main() -> None:
    """Print the three figures."""
    originals = {name: getattr(models, name) for name in ANSWER_MODELS}
    times: dict[str, list[float]] = {"model": [], "dataclass": [], "mashumaro": []}
    for _ in range(REPS):
        for kind, runs in times.items():
            runs.append(_build(kind))
            vars(models).update(originals)
    print(
        f"{len(ANSWER_MODELS)} answer models, CPU ms at class creation (median of {REPS}): "
        + ", ".join(f"{kind} {statistics.median(runs):.2f}" for kind, runs in times.items())
    )


if __name__ == "__main__":
    main()
