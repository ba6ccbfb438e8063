"""scripts/setup's garbage collection of Python 3.14 chroots made from an older package list.

A changed package list makes a chroot with a new id; the old one may still be in use by a clone
that has not rebased yet. Run for real on a scratch cache folder: what is removed, what stays.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
import shutil
import subprocess
import time

ROOT = Path(__file__).resolve().parents[1]
BASH = shutil.which("bash") or "/bin/bash"
DAY = 24 * 3600


def bash(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run bash with ``args`` in the repository; fail on a non-zero exit."""
    return subprocess.run(  # noqa: S603 - the repository's own script, fixed arguments
        [BASH, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60
    )


def current_id() -> str:
    """Return the chroot id scripts/setup computes from its package list."""
    script = 'eval "$(sed -n "/^FORKY_PACKAGES=/,/^FORKY_ID=/p" scripts/setup)"; echo "$FORKY_ID"'
    return bash("-c", script).stdout.strip()


def chroot(cache: Path, name: str, *, age: float, used: float | None = None) -> Path:
    """Make a fake ready chroot made ``age`` seconds ago and last used ``used`` seconds ago."""
    folder = cache / name
    (folder / "usr/bin").mkdir(parents=True)
    ready = folder / ".ready"
    ready.write_text("2026-01-01T00:00:00Z\n")
    os.utime(ready, (time.time() - age,) * 2)
    if used is not None:
        stamp = folder / ".last-used"
        stamp.touch()
        os.utime(stamp, (time.time() - used,) * 2)
    return folder


def gc(cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/setup --gc-chroots on ``cache`` with the extra variables ``env``."""
    return bash(
        "scripts/setup",
        "--gc-chroots",
        env={**os.environ, **env, "FISH_AUDIO_SUITE_CACHE": str(cache)},
    )


def test_only_chroots_nobody_uses_are_removed(tmp_path: Path) -> None:
    """Old and idle for a day: removed. In use, recent, current or half-built: kept."""
    current = current_id()
    assert current.startswith("forky-")
    assert len(current) == len("forky-") + 12
    cache = tmp_path / "cache"
    idle = chroot(cache, "forky-000000000001", age=3 * DAY)
    idle_stamped = chroot(cache, "forky-000000000002", age=5 * DAY, used=2 * DAY)
    recently_used = chroot(cache, "forky-000000000003", age=5 * DAY, used=3600)
    recently_made = chroot(cache, "forky-000000000004", age=3600)
    locked = chroot(cache, "forky-000000000005", age=3 * DAY, used=3 * DAY)
    mine = chroot(cache, current, age=9 * DAY, used=9 * DAY)
    half_built = cache / "forky-000000000006.tmp"
    half_built.mkdir()
    no_ready = cache / "forky-000000000007"
    no_ready.mkdir()
    interrupted = chroot(cache, "forky-000000000008.gc", age=3 * DAY)

    # What scripts/leg-run holds while a command runs in the chroot.
    with (locked / ".ready").open() as held:
        fcntl.flock(held, fcntl.LOCK_SH)
        result = gc(cache)

    assert not idle.exists()
    assert not idle_stamped.exists()
    assert not interrupted.exists()
    for kept in (recently_used, recently_made, locked, mine, half_built, no_ready):
        assert kept.exists(), kept.name
    assert f"Removed the unused chroot {idle}" in result.stdout
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        p.name for p in (recently_used, recently_made, locked, mine, half_built, no_ready)
    )

    # Once the lock is released, the next setup collects it.
    gc(cache)
    assert not locked.exists()
    assert recently_used.exists()


def test_the_age_is_configurable(tmp_path: Path) -> None:
    """FISH_AUDIO_SUITE_CHROOT_GC_HOURS=0 removes any idle old chroot at once."""
    cache = tmp_path / "cache"
    fresh = chroot(cache, "forky-00000000000a", age=60, used=60)
    gc(cache)
    assert fresh.exists()
    gc(cache, FISH_AUDIO_SUITE_CHROOT_GC_HOURS="0")
    assert not fresh.exists()
