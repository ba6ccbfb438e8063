"""File-system safety of the actions: every file an action reads or writes goes through here.

Every path must be absolute and pass ``hass.config.is_allowed_path``; it is then resolved
(symlinks followed) and checked again, so a symlink inside an allowed directory cannot reach
outside it. The resolved path is then opened one component at a time (``openat`` with
``O_NOFOLLOW`` on each, relative to the directory opened before it): it has no links left,
so a component swapped for a symlink after the check (the file *or* any parent directory)
makes the open fail instead of being followed.
Files are read in the executor and size-capped. Output is written under a temporary name and
renamed into place only when complete, so a failed stream never leaves a partial file.

Media-source ids (``media-source://...``) are resolved with media_source; local media resolves
to a file under a media directory, which then goes through the same checks. Media that has no
local file (cameras, radio streams, generated TTS) is rejected with a clear error: fetching
arbitrary URLs on the user's behalf would turn the actions into a way to make Home Assistant
download from anywhere.
"""

from __future__ import annotations

import contextlib
from contextlib import aclosing
from dataclasses import dataclass
import os
from pathlib import Path
import secrets
import stat
from typing import TYPE_CHECKING, BinaryIO

from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .helpers import invalid

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from homeassistant.core import HomeAssistant

# Written audio goes to the executor in pieces of at least this size: one executor job per
# network chunk (4 KiB) would cost more than the writing itself.
WRITE_BUFFER_BYTES = 256 * 1024

_MB = 1024 * 1024

# O_NOFOLLOW: a checked path cannot be swapped for a symlink before it is opened.
# O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever (it is then refused
# as not a regular file); regular files ignore the flag.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_OPEN_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
# Directories are walked with O_PATH where it exists (Linux): it needs only search
# permission, as path lookup does, and the descriptor serves only as the next dir_fd.
_DIR_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC


def _open_dir_nofollow(directory: Path) -> int:
    """Open an absolute, already resolved directory without following any link in it.

    Raises:
        OSError: A component is missing, not a directory, or a symlink (ELOOP/ENOTDIR):
            the path changed since it was resolved.
    """
    parts = directory.parts
    fd = os.open(parts[0], _DIR_FLAGS)
    try:
        for part in parts[1:]:
            next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_nofollow(resolved: Path, flags: int) -> int:
    """Open an absolute, already resolved file without following any link on its way."""
    dir_fd = _open_dir_nofollow(resolved.parent)
    try:
        return os.open(resolved.name, flags, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


# ---------------------------------------------------------------------- file input


@dataclass(frozen=True, slots=True)
class _Source:
    """A file an action reads: what the user gave, and the local path it stands for."""

    given: str
    path: Path


async def _async_resolve_source(hass: HomeAssistant, source: str) -> _Source:
    """Turn a path or a media-source id into a local path (not yet checked)."""
    # Imported here: only actions that read files need media_source (import time).
    from homeassistant.components import media_source  # noqa: PLC0415

    if not media_source.is_media_source_id(source):
        return _Source(source, Path(source))
    try:
        media = await media_source.async_resolve_media(hass, source, None)
    except HomeAssistantError as err:  # Unresolvable, or media_source not loaded
        raise invalid("media_unresolvable", media_id=source, error=str(err)) from err
    if media.path is None:
        raise invalid("media_not_local", media_id=source)
    return _Source(source, media.path)


def _open_allowed(hass: HomeAssistant, source: _Source) -> int:
    """Open ``source`` for reading if it, and where its symlinks lead, are allowed.

    Runs in the executor (``is_allowed_path`` and ``resolve`` touch the file system). A path
    outside the allow-list is refused before its existence is looked at, so the action
    cannot probe the rest of the file system.
    """
    path = source.path
    try:
        # A symlink inside an allowed directory may point anywhere: where it lands is
        # checked too (is_allowed_path resolves as well; this keeps the rule explicit here).
        if (
            path.is_absolute()
            and hass.config.is_allowed_path(str(path))
            and hass.config.is_allowed_path(str(resolved := path.resolve(strict=True)))
        ):
            return _open_nofollow(resolved, _OPEN_FLAGS)
    except FileNotFoundError as err:
        raise invalid("file_not_found", path=source.given) from err
    except ValueError as err:  # an embedded NUL character: no file can have that name
        raise invalid("path_not_allowed", path=_printable(source.given)) from err
    except (OSError, RuntimeError) as err:  # permission denied, symlink loop, name too long
        raise invalid("file_read_failed", path=source.given, error=str(err)) from err
    raise invalid("path_not_allowed", path=source.given)


def _printable(path: str) -> str:
    """The path for an error message, without characters that would break the message."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in path)[:300]


def _read_file(hass: HomeAssistant, source: _Source, max_bytes: int) -> bytes:
    """Read one allowed, regular, non-empty file of at most ``max_bytes`` (executor)."""
    fd = _open_allowed(hass, source)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise invalid("not_a_file", path=source.given)
        with open(fd, "rb", closefd=False) as file:
            # One byte past the cap tells an oversize file without reading all of it.
            data = file.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise invalid("file_too_large", path=source.given, max_mb=f"{max_bytes / _MB:g}")
    if not data:
        raise invalid("file_empty", path=source.given)
    return data


def _read_files(hass: HomeAssistant, sources: Sequence[_Source], max_bytes: int) -> list[bytes]:
    """Read several files with `_read_file` (executor)."""
    return [_read_file(hass, source, max_bytes) for source in sources]


async def async_read_files(
    hass: HomeAssistant, given: Sequence[str], max_bytes: int
) -> list[bytes]:
    """Resolve, check and read files given as paths or media-source ids.

    Raises:
        ServiceValidationError: Translated: a file is not allowed, missing, not a regular
            file, empty or larger than ``max_bytes``, or media has no local file.
    """
    sources = [await _async_resolve_source(hass, item) for item in given]
    return await hass.async_add_executor_job(_read_files, hass, sources, max_bytes)


# --------------------------------------------------------------------- file output


class OutputFile:
    """A file written under a temporary name and renamed into place only when complete.

    The directory is held open (a descriptor opened without following links) and the
    temporary file is created, renamed and removed relative to it, so swapping the
    directory for a symlink after the checks cannot redirect the write. Every method does
    blocking I/O and runs in the executor.
    """

    def __init__(self, target: Path) -> None:
        """Create the temporary file next to ``target`` (same directory: atomic rename)."""
        self.target = target
        # A target swapped for a symlink later is harmless: the rename replaces the link
        # itself and never writes through it.
        self._dir_fd = _open_dir_nofollow(target.parent)
        # The name is cut so that a target name near the 255-byte limit still gets a temp name.
        self._temp = f".{target.name[:32]}.{secrets.token_hex(6)}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        try:
            # Private while written, as mkstemp would make it.
            fd = os.open(self._temp, flags, 0o600, dir_fd=self._dir_fd)
        except BaseException:
            os.close(self._dir_fd)
            raise
        self._file: BinaryIO = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        """Append data."""
        self._file.write(data)

    def commit(self, tail: bytes) -> None:
        """Write the last data, close, and move the file into place."""
        self._file.write(tail)
        # Audio for media players is not secret.
        os.fchmod(self._file.fileno(), 0o644)
        self._file.close()
        # A failure here leaves the temporary file for discard(), which the caller runs.
        os.replace(self._temp, self.target.name, src_dir_fd=self._dir_fd, dst_dir_fd=self._dir_fd)
        os.close(self._dir_fd)
        self._dir_fd = -1

    def discard(self) -> None:
        """Close and delete the temporary file: no partial file is left behind."""
        self._file.close()
        if self._dir_fd < 0:  # already committed
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp, dir_fd=self._dir_fd)
        os.close(self._dir_fd)
        self._dir_fd = -1


def open_output(hass: HomeAssistant, filename: str) -> OutputFile:
    """Check the target of a written file and open its temporary file (executor).

    Raises:
        ServiceValidationError: Translated: the target is not allowed, its directory does
            not exist, it is not a regular file, or it cannot be created.
    """
    path = Path(filename)
    if not path.is_absolute() or not path.name or "\0" in filename:
        raise invalid("path_not_allowed", path=_printable(filename))
    try:
        if not hass.config.is_allowed_path(filename):
            raise invalid("path_not_allowed", path=filename)
        try:
            parent = path.parent.resolve(strict=True)
        except FileNotFoundError as err:
            raise invalid("directory_not_found", path=filename) from err
        target = parent / path.name
        # Never write through a symlink, and re-check the resolved directory (a symlinked
        # directory inside an allowed one may point anywhere): the temporary file is
        # created there too, so the directory itself must be allowed.
        if target.is_symlink() or not hass.config.is_allowed_path(str(parent)):
            raise invalid("path_not_allowed", path=filename)
        if target.exists() and not target.is_file():
            raise invalid("not_a_file", path=filename)
        return OutputFile(target)
    except (OSError, RuntimeError) as err:  # permission denied, name too long, symlink loop
        raise invalid("write_failed", path=filename, error=str(err)) from err


async def async_write_stream(
    hass: HomeAssistant, output: OutputFile, chunks: AsyncGenerator[bytes]
) -> int:
    """Write streamed data to ``output`` off the event loop; return the number of bytes.

    On any failure (the stream breaking off included) the temporary file is removed.

    Raises:
        HomeAssistantError: Translated ``write_failed`` when the file cannot be written;
            whatever the stream raises passes through.
    """
    written = 0
    buffer: list[bytes] = []
    buffered = 0
    try:
        # aclosing: a failed write drops the HTTP response at once instead of at GC time.
        async with aclosing(chunks) as stream:
            async for chunk in stream:
                buffer.append(chunk)
                buffered += len(chunk)
                if buffered >= WRITE_BUFFER_BYTES:
                    await hass.async_add_executor_job(output.write, b"".join(buffer))
                    written += buffered
                    buffer, buffered = [], 0
        await hass.async_add_executor_job(output.commit, b"".join(buffer))
        written += buffered
    except OSError as err:
        await hass.async_add_executor_job(output.discard)
        raise write_failed(output.target, err) from err
    except BaseException:
        await hass.async_add_executor_job(output.discard)
        raise
    return written


def write_failed(path: Path | str, err: OSError) -> HomeAssistantError:
    """Return the translated error for a file that could not be written (disk full ...)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="write_failed",
        translation_placeholders={"path": str(path), "error": str(err)},
    )
