"""Voice models (``ModelEntity``) and the seed library.

Every entity carries every field the SDK's ``Voice`` model requires, with ``train_mode: "fast"``
and ``author._id`` (fish-audio-sdk 1.3.0 ``Voice``), so any client generation parses them.
"""

from __future__ import annotations

from datetime import UTC, datetime
import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

SEED_OWN_AUTHOR = {"nickname": "Emulated user", "avatar": "avatars/user-1.png"}

# Stable ids (32 hex digits, like the real ones) so snapshot tests don't churn.
SEED_VOICE_IDS = {
    "own_private": "0f0e0d0c0b0a09080706050403020100",
    "own_public": "1f1e1d1c1b1a19181716151413121110",
    "narrator": "802e3bc2b27e49c2995d23ef70e6ac89",
    "energetic": "7f2c4a1e9b8d4c3fa6e5d2c1b0a99887",
    "calm_zh": "54e3a85ac9594ffa83264b8a494b901b",
    "anime_ja": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
}


def voice_id_for(counter: int) -> str:
    """Return a deterministic 32-hex-digit id for the ``counter``-th created voice."""
    return hashlib.md5(f"emulator-voice-{counter}".encode(), usedforsecurity=False).hexdigest()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_voice(
    *,
    voice_id: str,
    title: str,
    author_id: str,
    author_nickname: str,
    description: str = "",
    visibility: str = "private",
    tags: Sequence[str] = (),
    languages: Sequence[str] = ("en",),
    texts: Sequence[str] = (),
    train_mode: str = "fast",
    cover_image: str = "",
    task_count: int = 0,
    like_count: int = 0,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """Return a complete ``ModelEntity`` dict.

    Args:
        voice_id: The ``_id``.
        title: Display title.
        author_id: ``author._id``, the owning account's user id.
        author_nickname: ``author.nickname``.
        description: Free text.
        visibility: ``public``, ``unlist`` or ``private``.
        tags: Tags.
        languages: Language codes.
        texts: Transcripts; each becomes a sample.
        train_mode: ``fast`` (what clients expect) or ``full``.
        cover_image: Path of the cover image, empty when none.
        task_count: Number of generations (used for sorting).
        like_count: Number of likes (used for ``score`` sorting).
        created_at: Creation time; now when None.
    """
    created = created_at or datetime.now(UTC)
    return {
        "_id": voice_id,
        "type": "tts",
        "title": title,
        "description": description,
        "cover_image": cover_image,
        "train_mode": train_mode,
        "state": "trained",
        "tags": list(tags),
        "samples": [
            {
                "title": f"Sample {index + 1}",
                "text": text,
                "task_id": f"task-{voice_id[:8]}-{index + 1}",
                "audio": f"samples/{voice_id}/{index + 1}.wav",
            }
            for index, text in enumerate(texts)
        ],
        "created_at": _iso(created),
        "updated_at": _iso(created),
        "languages": list(languages),
        "visibility": visibility,
        "lock_visibility": False,
        "like_count": like_count,
        "mark_count": like_count // 4,
        "shared_count": like_count // 10,
        "task_count": task_count,
        "unliked": False,
        "liked": False,
        "marked": False,
        "author": {
            "_id": author_id,
            "nickname": author_nickname,
            "avatar": f"avatars/{author_id}.png",
        },
        "dmca_taken_down": False,
        "default_text": texts[0] if texts else "",
        "source": None,
    }


def seed_voices(user_id: str) -> dict[str, dict[str, Any]]:
    """Return the seed library: two voices of ``user_id`` and four public voices of others."""
    day = datetime(2025, 3, 1, tzinfo=UTC)
    voices = [
        make_voice(
            voice_id=SEED_VOICE_IDS["own_private"],
            title="My Kitchen Voice",
            author_id=user_id,
            author_nickname=SEED_OWN_AUTHOR["nickname"],
            description="Cloned from a kitchen recording",
            tags=("home", "clone"),
            texts=("Dinner is ready.",),
            task_count=12,
            like_count=0,
            created_at=day,
        ),
        make_voice(
            voice_id=SEED_VOICE_IDS["own_public"],
            title="My Shared Voice",
            author_id=user_id,
            author_nickname=SEED_OWN_AUTHOR["nickname"],
            visibility="public",
            cover_image=f"coverimage/{SEED_VOICE_IDS['own_public']}",
            tags=("clone", "friendly"),
            languages=("en", "de"),
            task_count=40,
            like_count=3,
            created_at=day.replace(month=4),
        ),
        make_voice(
            voice_id=SEED_VOICE_IDS["narrator"],
            title="Documentary Narrator",
            author_id="author-narrator",
            author_nickname="Storyteller",
            description="Deep, warm narration voice",
            visibility="public",
            cover_image=f"coverimage/{SEED_VOICE_IDS['narrator']}",
            tags=("male", "narration", "deep"),
            texts=("In the beginning, there was sound.",),
            task_count=98_000,
            like_count=5_400,
            created_at=day.replace(year=2024),
        ),
        make_voice(
            voice_id=SEED_VOICE_IDS["energetic"],
            title="Energetic Host",
            author_id="author-host",
            author_nickname="Podcaster",
            visibility="public",
            cover_image=f"coverimage/{SEED_VOICE_IDS['energetic']}",
            tags=("female", "podcast", "energetic"),
            languages=("en", "es"),
            task_count=45_000,
            like_count=9_100,
            created_at=day.replace(month=2),
        ),
        make_voice(
            voice_id=SEED_VOICE_IDS["calm_zh"],
            title="Calm Mandarin",
            author_id="author-zh",
            author_nickname="Xiao",
            visibility="public",
            cover_image=f"coverimage/{SEED_VOICE_IDS['calm_zh']}",
            tags=("female", "calm"),
            languages=("zh",),
            task_count=150_000,
            like_count=2_000,
            created_at=day.replace(month=1),
        ),
        make_voice(
            voice_id=SEED_VOICE_IDS["anime_ja"],
            title="Anime Hero",
            author_id="author-ja",
            author_nickname="Kaito",
            visibility="public",
            cover_image=f"coverimage/{SEED_VOICE_IDS['anime_ja']}",
            tags=("male", "anime", "energetic"),
            languages=("ja",),
            task_count=30_000,
            like_count=12_000,
            created_at=day.replace(month=5),
        ),
    ]
    return {voice["_id"]: voice for voice in voices}
