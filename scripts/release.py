"""Release chores in one place: bump the version, check a tag, release notes, the HACS zip.

    python scripts/release.py bump 0.2.0      # every file that carries the version + CHANGELOG
    python scripts/release.py check-tag v0.2.0  # the release workflow: tag == version
    python scripts/release.py notes 0.2.0     # the CHANGELOG section, for the release text
    python scripts/release.py zip dist/fish_audio_suite.zip

`scripts/bump_version X.Y.Z` is the short form of `bump`. The repository URL lives only in
pyproject.toml's [project.urls] (`Repository`); tests/test_release.py checks that the manifest
and README use it, and `bump` writes the CHANGELOG's compare links from it.
Standard library only: the release workflow runs it on the runner's own Python.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import datetime as dt
import json
from pathlib import Path
import re
import sys
import tomllib
import zipfile

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "fish_audio_suite"
INTEGRATION = Path("custom_components") / DOMAIN
ZIP_NAME = f"{DOMAIN}.zip"
VERSION = re.compile(r"\d+\.\d+\.\d+")
# A fixed timestamp makes the zip depend on the files only (zip cannot store dates < 1980).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
UNRELEASED = "## [Unreleased]"


class ReleaseError(Exception):
    """A release step that cannot go on; the message says why."""


def _read(root: Path, path: str | Path) -> str:
    return (root / path).read_text(encoding="utf-8")


def _write(root: Path, path: str | Path, text: str) -> None:
    (root / path).write_text(text, encoding="utf-8")


def repository_url(root: Path = ROOT) -> str:
    """Return the repository URL: pyproject.toml, [project.urls] Repository."""
    project = tomllib.loads(_read(root, "pyproject.toml"))["project"]
    return str(project["urls"]["Repository"]).rstrip("/")


def _sub_once(pattern: str, repl: str, text: str, where: str) -> str:
    new, count = re.subn(pattern, repl, text, count=1, flags=re.MULTILINE)
    if count != 1:
        raise ReleaseError(f"{where}: no version found to replace")
    return new


def _pyproject(text: str, version: str) -> str:
    return _sub_once(r'^version = "[^"]*"$', f'version = "{version}"', text, "pyproject.toml")


def _manifest(text: str, version: str) -> str:
    # A line edit keeps the file as it is laid out (hassfest's key order included).
    where = "manifest.json"
    return _sub_once(r'^(\s*"version": )"[^"]*"', rf'\g<1>"{version}"', text, where)


def _client_const(text: str, version: str) -> str:
    where = "api/const.py"
    return _sub_once(r'^(__version__: Final = )"[^"]*"$', rf'\g<1>"{version}"', text, where)


def _diagnostics_snapshot(text: str, version: str) -> str:
    # The diagnostics dump the client's version; its snapshot records it.
    where = "the diagnostics snapshot"
    return _sub_once(r"('client_version': )'[^']*'", rf"\g<1>'{version}'", text, where)


# Every file that carries the version, and how to change it there.
VERSION_FILES: dict[str, Callable[[str, str], str]] = {
    "pyproject.toml": _pyproject,
    str(INTEGRATION / "manifest.json"): _manifest,
    str(INTEGRATION / "api" / "const.py"): _client_const,
    "tests/snapshots/test_diagnostics.ambr": _diagnostics_snapshot,
}


def current_version(root: Path = ROOT) -> str:
    """Return the manifest's version (the one Home Assistant and HACS read)."""
    return str(json.loads(_read(root, INTEGRATION / "manifest.json"))["version"])


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _changelog(text: str, version: str, previous: str | None, date: str, url: str) -> str:
    """Move the Unreleased section under a new version heading and rewrite the links."""
    if UNRELEASED not in text:
        raise ReleaseError(f"CHANGELOG.md has no '{UNRELEASED}' section")
    if re.search(rf"^## \[{re.escape(version)}\]", text, flags=re.MULTILINE):
        raise ReleaseError(f"CHANGELOG.md already has a section for {version}")
    start = text.index(UNRELEASED) + len(UNRELEASED)
    end = text.find("\n## [", start)
    body = text[start : end if end != -1 else len(text)]
    if not body.split("\n[", 1)[0].strip():
        raise ReleaseError("the Unreleased section of CHANGELOG.md is empty")
    text = text.replace(UNRELEASED, f"{UNRELEASED}\n\n## [{version}] - {date}", 1)
    # Link definitions at the end: Unreleased compares from the new tag; the new version
    # from the previous one (or is the first release).
    text = re.sub(r"^\[Unreleased\]: .*\n?", "", text, flags=re.MULTILINE).rstrip("\n")
    new_link = (
        f"[{version}]: {url}/compare/v{previous}...v{version}"
        if previous
        else f"[{version}]: {url}/releases/tag/v{version}"
    )
    links = f"[Unreleased]: {url}/compare/v{version}...HEAD\n{new_link}"
    first_link = re.search(r"^\[\d+\.\d+\.\d+\]: ", text, flags=re.MULTILINE)
    if first_link:
        text = f"{text[: first_link.start()]}{links}\n{text[first_link.start() :]}\n"
    else:
        text = f"{text}\n\n{links}\n"
    return text


def released_versions(root: Path = ROOT) -> list[str]:
    """Return the versions CHANGELOG.md has sections for, newest first."""
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\]", _read(root, "CHANGELOG.md"), re.MULTILINE)


def bump(version: str, root: Path = ROOT, date: str | None = None) -> list[str]:
    """Set `version` everywhere and date the CHANGELOG; return the files changed.

    The current version may be given again only while it has no CHANGELOG section (the
    first release of a version that was never tagged).
    """
    if not VERSION.fullmatch(version):
        raise ReleaseError(f"{version!r} is not X.Y.Z")
    released = released_versions(root)
    previous = released[0] if released else None
    if previous and _key(version) <= _key(previous):
        raise ReleaseError(f"{version} is not newer than the last release {previous}")
    if _key(version) < _key(current_version(root)):
        raise ReleaseError(f"{version} is older than the current {current_version(root)}")
    date = date or dt.datetime.now(dt.UTC).date().isoformat()
    changes = {path: change(_read(root, path), version) for path, change in VERSION_FILES.items()}
    changes["CHANGELOG.md"] = _changelog(
        _read(root, "CHANGELOG.md"), version, previous, date, repository_url(root)
    )
    # Everything is computed before anything is written: a failure changes nothing.
    for path, text in changes.items():
        _write(root, path, text)
    return list(changes)


def check_tag(tag: str, root: Path = ROOT) -> str:
    """Return the version a release tag names, or fail unless every file agrees with it."""
    version = tag.removeprefix("refs/tags/").removeprefix("v")
    if f"v{version}" != tag.removeprefix("refs/tags/") or not VERSION.fullmatch(version):
        raise ReleaseError(f"tag {tag!r} is not vX.Y.Z")
    for path, change in VERSION_FILES.items():
        text = _read(root, path)
        if change(text, version) != text:
            raise ReleaseError(f"{path} does not carry version {version}")
    if version not in released_versions(root):
        raise ReleaseError(f"CHANGELOG.md has no section for {version}")
    return version


def notes(version: str, root: Path = ROOT) -> str:
    """Return the CHANGELOG section of one version, without its heading."""
    text = _read(root, "CHANGELOG.md")
    match = re.search(rf"^## \[{re.escape(version)}\][^\n]*\n", text, flags=re.MULTILINE)
    if not match:
        raise ReleaseError(f"CHANGELOG.md has no section for {version}")
    end = re.search(r"^(## \[|\[[^\]]+\]: )", text[match.end() :], flags=re.MULTILINE)
    body = text[match.end() : match.end() + end.start() if end else len(text)]
    return body.strip() + "\n"


def build_zip(out: Path, root: Path = ROOT) -> list[str]:
    """Write the HACS release zip and return the names in it.

    The integration's files sit at the top of the archive: HACS unpacks it into
    custom_components/fish_audio_suite/.
    """
    source = root / INTEGRATION
    files = sorted(
        p
        for p in source.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    names = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = path.relative_to(source).as_posix()
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
            names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; print what it did, or the reason it refused."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bump_cmd = commands.add_parser("bump", help="set the version everywhere, date the CHANGELOG")
    bump_cmd.add_argument("version")
    bump_cmd.add_argument("--date", help="release date (default: today, UTC)")
    commands.add_parser("check-tag", help="fail unless the tag is v<version>").add_argument("tag")
    commands.add_parser("notes", help="print a version's CHANGELOG section").add_argument("version")
    commands.add_parser("zip", help="write the HACS release zip").add_argument("out", type=Path)
    commands.add_parser("version", help="print the current version")
    args = parser.parse_args(argv)
    try:
        if args.command == "bump":
            for path in bump(args.version, date=args.date):
                print(f"updated {path}")
        elif args.command == "check-tag":
            print(check_tag(args.tag))
        elif args.command == "notes":
            sys.stdout.write(notes(args.version))
        elif args.command == "zip":
            names = build_zip(args.out)
            print(f"wrote {args.out} ({len(names)} files)")
        else:
            print(current_version())
    except ReleaseError as err:
        print(f"release: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
