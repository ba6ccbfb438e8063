"""``POST /v1/voice-design``: voices designed from a description, as candidate audio.

What the OpenAPI file specifies: header ``model: voice-design-1`` (required, the only value), a
JSON ``VoiceDesignRequest`` (``additionalProperties: false``) and a 200 answer
``{"candidates": [VoiceDesignCandidate]}``, each with ``id``, ``index``, ``audio_base64``,
``sample_rate`` and ``duration_ms`` (plus optional ``text``, ``instruct``, ``language``). The
audio's container is not specified; the emulator returns WAV, which every player and the voice
creation endpoint accept.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Final

from .audio import render_file
from .validation import ErrorList, Validator

DESIGN_MODEL: Final = "voice-design-1"
DESIGN_FIELDS: Final = frozenset(
    {
        "instruction", "reference_text", "language", "n", "speed", "num_step",
        "guidance_scale", "instruct_guidance_scale", "seed",
    }
)  # fmt: skip
DESIGN_SAMPLE_RATE: Final = 24000
DEFAULT_PREVIEW_TEXT: Final = "Hello! This is a preview of the voice you designed."


def validate_design(data: Any) -> tuple[dict[str, Any] | None, ErrorList]:
    """Validate a ``VoiceDesignRequest``; return the settings or the errors."""
    if not isinstance(data, dict):
        return None, [
            {"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}
        ]
    v = Validator(data)
    for key in data:
        if key not in DESIGN_FIELDS:
            v.fail(str(key), "Extra inputs are not permitted", "extra_forbidden", data[key])
    instruction = v.string("instruction", required=True)
    if instruction is not None and not 1 <= len(instruction) <= 2000:
        v.fail("instruction", "Instruction must have 1 to 2000 characters", "string_too_long",
               instruction)  # fmt: skip
    reference_text = v.string("reference_text")
    if reference_text is not None and len(reference_text) > 150:
        v.fail("reference_text", "String should have at most 150 characters", "string_too_long",
               reference_text)  # fmt: skip
    settings = {
        "instruction": instruction,
        "reference_text": reference_text,
        "language": v.string("language"),
        "n": v.integer("n", 2, 1, 4),
        "speed": v.number("speed", 1.0, 0.0, 3.0),
        "num_step": v.integer("num_step", 32, 1, 128),
        "guidance_scale": v.number("guidance_scale", 2.0, 0.0),
        "instruct_guidance_scale": v.number("instruct_guidance_scale", 0.0, 0.0),
        "seed": data.get("seed"),
    }
    if settings["speed"] == 0.0 and data.get("speed") is not None:
        v.fail("speed", "Input should be greater than 0", "greater_than", data.get("speed"))
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        v.fail("seed", "Input should be a valid integer", "int_type", seed)
    if v.errors:
        return None, v.errors
    return settings, []


def design_candidates(settings: dict[str, Any], seconds_per_char: float) -> list[dict[str, Any]]:
    """Return the candidates for validated ``settings`` (same request and seed: same ids)."""
    text = settings["reference_text"] or DEFAULT_PREVIEW_TEXT
    seconds = max(1.0, len(text) * seconds_per_char / settings["speed"])
    candidates = []
    for index in range(settings["n"]):
        key = f"{settings['instruction']}|{settings['seed']}|{index}"
        candidate_id = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
        audio = b"".join(render_file("wav", seconds, sample_rate=DESIGN_SAMPLE_RATE))
        frames = (len(audio) - 44) // 2
        candidates.append(
            {
                "id": candidate_id,
                "index": index,
                "audio_base64": base64.b64encode(audio).decode("ascii"),
                "sample_rate": DESIGN_SAMPLE_RATE,
                "duration_ms": round(frames * 1000 / DESIGN_SAMPLE_RATE),
                "text": text,
                "instruct": settings["instruction"],
                "language": settings["language"],
            }
        )
    return candidates
