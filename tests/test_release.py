"""Release chores: one repository URL, one version everywhere, the changelog, the HACS zip."""

from __future__ import annotations

import json
from pathlib import Path
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from .conftest import load_script

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "fish_audio_suite"


release = load_script("release")
URL = release.repository_url()
SLUG = URL.removeprefix("https://github.com/")
# Files a contributor or user reads that may name the repository.
DOCS = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]


def _manifest() -> dict[str, object]:
    result: dict[str, object] = json.loads((INTEGRATION / "manifest.json").read_text("utf-8"))
    return result


def test_repository_url_is_one_github_repository() -> None:
    """pyproject.toml names one GitHub repository (owner/name)."""
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", URL)


def test_manifest_uses_the_repository_url() -> None:
    """The manifest's documentation and issue tracker are the repository's."""
    manifest = _manifest()
    assert manifest["documentation"] == URL
    assert manifest["issue_tracker"] == f"{URL}/issues"


@pytest.mark.parametrize("name", DOCS)
def test_docs_name_only_this_repository(name: str) -> None:
    """Every github.com link (and shields.io badge) in the docs is to this repository."""
    text = (ROOT / name).read_text(encoding="utf-8")
    for owner_repo in re.findall(r"github\.com/([\w.-]+/[\w.-]+)", text):
        assert owner_repo == SLUG, f"{name} links to {owner_repo}"
    for owner_repo in re.findall(r"img\.shields\.io/github/[\w-]+/([\w.-]+/[\w.-]+)", text):
        assert owner_repo == SLUG, f"{name} has a badge for {owner_repo}"


def test_readme_badges_and_install_link() -> None:
    """README shows a status badge for each workflow and the URL to add in HACS."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for workflow in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        badge = f"{URL}/actions/workflows/{workflow.name}/badge.svg"
        assert badge in readme, f"no badge for {workflow.name}"
    assert f"`{URL}`" in readme


def test_versions_agree() -> None:
    """pyproject.toml, the manifest and the client carry the same version."""
    import tomllib  # noqa: PLC0415

    from custom_components.fish_audio_suite.api import __version__  # noqa: PLC0415

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["version"] == _manifest()["version"] == __version__
    assert release.current_version() == __version__


def test_changelog_format() -> None:
    """Keep a Changelog: an Unreleased section first, then dated releases, newest first;
    the manifest's version is either released there or the pending Unreleased one."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    headings = re.findall(r"^## (.*)$", text, flags=re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    versions = []
    for heading in headings[1:]:
        match = re.fullmatch(r"\[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})", heading)
        assert match, heading
        versions.append(tuple(int(p) for p in match[1].split(".")))
    assert versions == sorted(versions, reverse=True)
    for kind in re.findall(r"^### (.*)$", text, flags=re.MULTILINE):
        assert kind in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    released = release.released_versions()
    if released:
        assert release.current_version() == released[0]
        assert f"[{released[0]}]: {URL}/" in text


def _copy_tree(tmp_path: Path) -> Path:
    """Copy what the release script reads and writes into a scratch repository."""
    for path in [
        *release.VERSION_FILES,
        "CHANGELOG.md",
        "scripts/release.py",
        "scripts/bump_version",
    ]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, tmp_path / path)
    return tmp_path


def _versions_in(root: Path) -> set[str]:
    found = set()
    for path in release.VERSION_FILES:
        text = (root / path).read_text(encoding="utf-8")
        pattern = (
            r"""(?:version|__version__: Final|'client_version')["']?:? =? ?["'](\d+\.\d+\.\d+)"""
        )
        found |= set(re.findall(pattern, text))
    return found


def test_bump_version_command(tmp_path: Path) -> None:
    """`scripts/bump_version X.Y.Z` sets the version in every file that carries it, dates the
    Unreleased section and writes the compare links; the files change nowhere else."""
    root = _copy_tree(tmp_path)
    before = {p: (root / p).read_text("utf-8") for p in release.VERSION_FILES}
    current = release.current_version(root)
    major, minor, _ = (int(p) for p in current.split("."))
    new = f"{major}.{minor + 1}.0"
    result = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        ["/bin/bash", str(root / "scripts" / "bump_version"), new],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert _versions_in(root) == {new}
    for path, old in before.items():
        changed = (root / path).read_text("utf-8")
        assert changed != old, path
        # Only the version changed: putting the old one back restores the file exactly.
        assert changed.replace(new, current) == old, path
    changelog = (root / "CHANGELOG.md").read_text("utf-8")
    heading = rf"^## \[Unreleased\]\n\n## \[{re.escape(new)}\] - \d{{4}}-\d{{2}}-\d{{2}}$"
    assert re.search(heading, changelog, re.MULTILINE)
    assert f"[Unreleased]: {URL}/compare/v{new}...HEAD" in changelog
    assert release.check_tag(f"v{new}", root) == new
    assert release.notes(new, root).strip()
    # The same version again, or an older one, is refused and changes nothing.
    snapshot = {p: (root / p).read_text("utf-8") for p in [*release.VERSION_FILES, "CHANGELOG.md"]}
    for again in (new, current):
        with pytest.raises(release.ReleaseError):
            release.bump(again, root)
    assert snapshot == {p: (root / p).read_text("utf-8") for p in snapshot}


def test_second_release_compares_with_the_first(tmp_path: Path) -> None:
    """The second release links its changes from the first; notes stop at the next one."""
    root = _copy_tree(tmp_path)
    release.bump("7.0.0", root, date="2030-01-02")
    changelog = root / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text("utf-8").replace(
            "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- Something.\n", 1
        ),
        encoding="utf-8",
    )
    release.bump("7.1.0", root, date="2030-02-03")
    text = changelog.read_text("utf-8")
    assert f"[7.1.0]: {URL}/compare/v7.0.0...v7.1.0" in text
    assert f"[7.0.0]: {URL}/releases/tag/v7.0.0" in text
    assert text.count("[Unreleased]: ") == 1
    assert release.notes("7.1.0", root) == "### Fixed\n\n- Something.\n"
    assert release.released_versions(root) == ["7.1.0", "7.0.0"]


@pytest.mark.parametrize(
    ("version", "reason"),
    [("1.2", "not X.Y.Z"), ("v1.2.3", "not X.Y.Z"), ("0.0.1", "older than the current")],
)
def test_bump_refuses(tmp_path: Path, version: str, reason: str) -> None:
    """A malformed or older version is refused with the reason."""
    root = _copy_tree(tmp_path)
    with pytest.raises(release.ReleaseError, match=reason):
        release.bump(version, root)


def test_bump_refuses_an_empty_unreleased_section(tmp_path: Path) -> None:
    """Nothing to release: the bump says so instead of writing an empty section."""
    root = _copy_tree(tmp_path)
    release.bump("7.0.0", root)
    with pytest.raises(release.ReleaseError, match="empty"):
        release.bump("7.0.1", root)


@pytest.mark.parametrize("tag", ["0.1.0", "v0.1", "v99.0.0", "refs/tags/v99.0.0"])
def test_check_tag_refuses(tag: str) -> None:
    """A tag that is not v<the version every file carries> (or has no release) fails."""
    with pytest.raises(release.ReleaseError):
        release.check_tag(tag)


def test_release_zip(tmp_path: Path) -> None:
    """The zip holds the integration's files at its top (HACS unpacks it into
    custom_components/fish_audio_suite/), byte for byte, and nothing else; it depends on
    the files only."""
    hacs = json.loads((ROOT / "hacs.json").read_text("utf-8"))
    assert hacs["zip_release"] is True
    assert hacs["filename"] == release.ZIP_NAME
    first, second = tmp_path / "a" / release.ZIP_NAME, tmp_path / "b" / release.ZIP_NAME
    names = release.build_zip(first)
    release.build_zip(second)
    assert first.read_bytes() == second.read_bytes()
    expected = sorted(
        p.relative_to(INTEGRATION).as_posix()
        for p in INTEGRATION.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert names == expected
    assert "manifest.json" in names
    assert "translations/en.json" in names
    with zipfile.ZipFile(first) as archive:
        assert archive.testzip() is None
        for name in names:
            assert archive.read(name) == (INTEGRATION / name).read_bytes(), name


def test_release_script_command_line(tmp_path: Path) -> None:
    """The release workflow's commands run on a bare Python (no venv, no Home Assistant)."""
    out = tmp_path / release.ZIP_NAME
    for args, expect in [
        (["version"], release.current_version()),
        (["zip", str(out)], f"wrote {out}"),
    ]:
        result = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
            [sys.executable, "-I", str(ROOT / "scripts" / "release.py"), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(expect)
    refused = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [sys.executable, "-I", str(ROOT / "scripts" / "release.py"), "check-tag", "nope"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "release: tag 'nope' is not vX.Y.Z" in refused.stderr


@pytest.mark.parametrize("name", ["CONTRIBUTING.md", "CHANGELOG.md"])
def test_paths_named_in_the_docs_exist(name: str) -> None:
    """Every repository path the contributor docs name (scripts, tests, files) exists."""
    text = (ROOT / name).read_text(encoding="utf-8")
    paths = set(
        re.findall(r"(?<![\w./-])((?:scripts|tests|benchmarks|docs|emulator)/[\w./-]*\w)", text)
    )
    paths |= set(re.findall(r"`([\w-]+\.(?:md|json|txt|toml|yaml))`", text))
    assert paths, name
    for path in sorted(paths):
        assert (ROOT / path).exists() or (INTEGRATION / path).exists(), f"{name}: {path}"
