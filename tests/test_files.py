"""Tests of the file-system boundary (files.py) on the real file system, without actions."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import os
from pathlib import Path
import stat

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.fish_audio_suite.files import (
    WRITE_BUFFER_BYTES,
    OutputFile,
    async_read_files,
    async_write_stream,
    open_output,
)

from .conftest import assert_translated, make_wav, sparse_file

MAX_BYTES = 1024 * 1024


def _bad_source(kind: str, allowed: Path, outside: Path) -> str:
    """Create the file system state of one kind of bad input; return the path to read."""
    secret = outside / "secret.wav"
    make_wav(secret)
    match kind:
        case "missing":
            return str(allowed / "nope.wav")
        case "outside":
            return str(secret)
        case "outside_missing":
            return str(outside / "nope.wav")
        case "relative":
            return "sample.wav"
        case "symlink_escape":
            (allowed / "link.wav").symlink_to(secret)
            return str(allowed / "link.wav")
        case "symlink_dir_escape":
            (allowed / "linkdir").symlink_to(outside, target_is_directory=True)
            return str(allowed / "linkdir" / "secret.wav")
        case "symlink_loop":
            (allowed / "loop.wav").symlink_to(allowed / "loop.wav")
            return str(allowed / "loop.wav")
        case "directory":
            (allowed / "dir.wav").mkdir()
            return str(allowed / "dir.wav")
        case "fifo":
            os.mkfifo(allowed / "pipe.wav")
            return str(allowed / "pipe.wav")
        case "empty":
            (allowed / "empty.wav").touch()
            return str(allowed / "empty.wav")
        case _:
            return str(sparse_file(allowed / "big.wav", MAX_BYTES + 1))


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("missing", "file_not_found"),
        ("outside", "path_not_allowed"),
        ("outside_missing", "path_not_allowed"),
        ("relative", "path_not_allowed"),
        ("symlink_escape", "path_not_allowed"),
        ("symlink_dir_escape", "path_not_allowed"),
        ("symlink_loop", "file_read_failed"),
        ("directory", "not_a_file"),
        ("fifo", "not_a_file"),
        ("empty", "file_empty"),
        ("oversize", "file_too_large"),
    ],
)
async def test_read_refused_then_recovers(
    hass: HomeAssistant, allowed_dir: Path, outside_dir: Path, kind: str, key: str
) -> None:
    """Each bad input is a translated refusal naming the path; a good file then reads."""
    path = _bad_source(kind, allowed_dir, outside_dir)
    with pytest.raises(ServiceValidationError) as err:
        await async_read_files(hass, [path], MAX_BYTES)
    assert_translated(err.value, key, path=path)
    if key == "file_too_large":
        assert_translated(err.value, key, max_mb="1")

    good = make_wav(allowed_dir / "good.wav")
    assert await async_read_files(hass, [str(allowed_dir / "good.wav")], MAX_BYTES) == [good]


async def test_read_follows_a_symlink_that_stays_inside(
    hass: HomeAssistant, allowed_dir: Path
) -> None:
    """A symlink is fine while it lands inside the allow-list; files come back in order."""
    first = make_wav(allowed_dir / "one.wav", 1.0)
    second = make_wav(allowed_dir / "two.wav", 2.0)
    (allowed_dir / "alias.wav").symlink_to(allowed_dir / "two.wav")
    paths = [str(allowed_dir / "one.wav"), str(allowed_dir / "alias.wav")]
    assert await async_read_files(hass, paths, MAX_BYTES) == [first, second]


async def test_read_exactly_at_the_cap(hass: HomeAssistant, allowed_dir: Path) -> None:
    """The cap is inclusive: a file of exactly max_bytes is read whole."""
    path = sparse_file(allowed_dir / "edge.wav", MAX_BYTES)
    (data,) = await async_read_files(hass, [str(path)], MAX_BYTES)
    assert len(data) == MAX_BYTES


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("outside", "path_not_allowed"),
        ("relative", "path_not_allowed"),
        ("no_directory", "directory_not_found"),
        ("symlink_target", "path_not_allowed"),
        ("symlink_dir_escape", "path_not_allowed"),
        ("directory", "not_a_file"),
        ("dir_name", "path_not_allowed"),
    ],
)
async def test_output_refused_then_recovers(
    hass: HomeAssistant, allowed_dir: Path, outside_dir: Path, kind: str, key: str
) -> None:
    """A target outside or through a symlink is refused; nothing is created."""
    match kind:
        case "outside":
            filename = str(outside_dir / "x.mp3")
        case "relative":
            filename = "x.mp3"
        case "no_directory":
            filename = str(allowed_dir / "missing" / "x.mp3")
        case "symlink_target":
            (allowed_dir / "x.mp3").symlink_to(allowed_dir / "real.mp3")
            filename = str(allowed_dir / "x.mp3")
        case "symlink_dir_escape":
            (allowed_dir / "linkdir").symlink_to(outside_dir, target_is_directory=True)
            filename = str(allowed_dir / "linkdir" / "x.mp3")
        case "directory":
            (allowed_dir / "x.mp3").mkdir()
            filename = str(allowed_dir / "x.mp3")
        case _:
            filename = str(allowed_dir) + "/"
    with pytest.raises(ServiceValidationError) as err:
        await hass.async_add_executor_job(open_output, hass, filename)
    assert_translated(err.value, key, path=filename)
    assert not list(outside_dir.iterdir())
    assert not (allowed_dir / "real.mp3").exists()

    output = await hass.async_add_executor_job(open_output, hass, str(allowed_dir / "ok.mp3"))
    await hass.async_add_executor_job(output.commit, b"ok")
    assert (allowed_dir / "ok.mp3").read_bytes() == b"ok"


async def _chunks(*parts: bytes, fail: BaseException | None = None) -> AsyncGenerator[bytes]:
    for part in parts:
        yield part
    if fail is not None:
        raise fail


async def test_write_stream_commits_whole_file(hass: HomeAssistant, allowed_dir: Path) -> None:
    """Data reaches the target in buffered pieces, readable by others, only when complete."""
    target = allowed_dir / "out.wav"
    output = await hass.async_add_executor_job(open_output, hass, str(target))
    parts = [bytes([i]) * (WRITE_BUFFER_BYTES // 2 + 1) for i in range(5)]
    written = await async_write_stream(hass, output, _chunks(*parts))
    assert written == sum(len(part) for part in parts)
    assert target.read_bytes() == b"".join(parts)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in allowed_dir.iterdir()] == ["out.wav"]


async def test_write_stream_replaces_existing_file(hass: HomeAssistant, allowed_dir: Path) -> None:
    """An existing regular file is replaced atomically."""
    target = allowed_dir / "out.wav"
    target.write_bytes(b"old")
    output = await hass.async_add_executor_job(open_output, hass, str(target))
    assert target.read_bytes() == b"old"  # untouched until the new file is complete
    assert await async_write_stream(hass, output, _chunks(b"new")) == 3
    assert target.read_bytes() == b"new"


async def test_write_stream_failure_leaves_nothing(hass: HomeAssistant, allowed_dir: Path) -> None:
    """A stream that breaks off passes its error on, and the temporary file is removed."""
    output = await hass.async_add_executor_job(open_output, hass, str(allowed_dir / "x.wav"))
    big = b"x" * WRITE_BUFFER_BYTES
    with pytest.raises(RuntimeError, match="broken"):
        await async_write_stream(hass, output, _chunks(big, big, fail=RuntimeError("broken")))
    assert not list(allowed_dir.iterdir())


async def test_write_stream_rename_failure_is_translated(
    hass: HomeAssistant, allowed_dir: Path
) -> None:
    """A target that cannot be put in place is a translated write error; no temp file stays."""
    target = allowed_dir / "race.wav"
    output = await hass.async_add_executor_job(open_output, hass, str(target))
    target.mkdir()  # appeared after the check: the rename now fails
    (target / "keep").touch()
    with pytest.raises(HomeAssistantError) as err:
        await async_write_stream(hass, output, _chunks(b"data"))
    assert_translated(err.value, "write_failed", path=str(target))
    assert [p.name for p in allowed_dir.iterdir()] == ["race.wav"]


def test_output_temp_name_fits_long_targets(tmp_path: Path) -> None:
    """A target name near the 255-byte limit still gets a temporary name beside it."""
    target = tmp_path / ("a" * 250 + ".mp3")
    output = OutputFile(target)
    output.commit(b"x")
    assert target.read_bytes() == b"x"


def _swap_dir_on_check(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, directory: Path, outside: Path, nth: int
) -> list[str]:
    """Swap ``directory`` for a symlink to ``outside`` right after the ``nth`` allow-list check.

    This is the attacker's race made deterministic: the checks see the real directory, the
    open that follows sees a symlink in its place. Home Assistant's own check is wrapped,
    not ours.
    """
    original = hass.config.is_allowed_path
    calls: list[str] = []

    def racing_check(path: str) -> bool:
        allowed = original(path)
        calls.append(path)
        if len(calls) == nth:
            directory.rename(directory.with_name(directory.name + ".old"))
            directory.symlink_to(outside, target_is_directory=True)
        return allowed

    monkeypatch.setattr(hass.config, "is_allowed_path", racing_check)
    return calls


async def test_read_parent_swapped_for_a_symlink_is_refused(
    hass: HomeAssistant, allowed_dir: Path, outside_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O_NOFOLLOW on every component: a parent swapped after the checks is not followed."""
    sub = allowed_dir / "sub"
    sub.mkdir()
    make_wav(sub / "clip.wav")
    make_wav(outside_dir / "clip.wav", 3.0)  # what the attacker wants uploaded
    calls = _swap_dir_on_check(hass, monkeypatch, sub, outside_dir, nth=2)
    with pytest.raises(ServiceValidationError) as err:
        await async_read_files(hass, [str(sub / "clip.wav")], MAX_BYTES)
    assert len(calls) == 2  # both checks passed on the real directory
    assert_translated(err.value, "file_read_failed", path=str(sub / "clip.wav"))


async def test_output_parent_swapped_after_open_stays_put(
    hass: HomeAssistant, allowed_dir: Path, outside_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The directory is held open: a swap after the checks cannot redirect the write."""
    sub = allowed_dir / "sub"
    sub.mkdir()
    output = await hass.async_add_executor_job(open_output, hass, str(sub / "out.wav"))
    sub.rename(allowed_dir / "sub.old")
    sub.symlink_to(outside_dir, target_is_directory=True)
    await async_write_stream(hass, output, _chunks(b"audio"))
    assert not list(outside_dir.iterdir())
    assert (allowed_dir / "sub.old" / "out.wav").read_bytes() == b"audio"


async def test_output_parent_swapped_before_open_is_refused(
    hass: HomeAssistant, allowed_dir: Path, outside_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = allowed_dir / "sub"
    sub.mkdir()
    _swap_dir_on_check(hass, monkeypatch, sub, outside_dir, nth=2)
    with pytest.raises(ServiceValidationError) as err:
        await hass.async_add_executor_job(open_output, hass, str(sub / "out.wav"))
    assert_translated(err.value, "write_failed", path=str(sub / "out.wav"))
    assert not list(outside_dir.iterdir())


@pytest.mark.parametrize("name", ["a\0b.wav", "\0"])
async def test_nul_in_a_path_is_refused(hass: HomeAssistant, allowed_dir: Path, name: str) -> None:
    """A NUL byte is a translated refusal, never a raw ValueError."""
    path = f"{allowed_dir}/{name}"
    with pytest.raises(ServiceValidationError) as err:
        await async_read_files(hass, [path], MAX_BYTES)
    assert err.value.translation_key == "path_not_allowed"
    assert "\0" not in (err.value.translation_placeholders or {})["path"]
    with pytest.raises(ServiceValidationError) as err:
        await hass.async_add_executor_job(open_output, hass, path)
    assert err.value.translation_key == "path_not_allowed"
