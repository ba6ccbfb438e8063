"""The GitHub workflows: what they run, when, with which pins and permissions.

They cannot run on this machine. scripts/test validates them against GitHub's workflow schema
(check-jsonschema) and audits them (zizmor, offline); these tests check what neither knows:
that they run this project's commands, on every leg, pinned and least-privileged.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
# A full commit SHA, or a version tag (v1, v1.2, v1.2.3).
PINNED = re.compile(r"[\w.-]+/[\w./-]+@([0-9a-f]{40}|v\d+(\.\d+){0,2})")
# The legs scripts/test runs, in its order (one `run_<leg>()` function each).
LEGS = re.findall(
    r"^run_(\w+)\(\) \{", (ROOT / "scripts" / "test").read_text("utf-8"), re.MULTILINE
)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _uses(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(workflow) if str(s.get("uses", "")).startswith(f"{action}@")]


ALL = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def test_the_four_workflows_exist() -> None:
    """Tests, hassfest, HACS validation and releases."""
    assert set(ALL) == {"tests.yml", "hassfest.yml", "hacs.yml", "release.yml"}


@pytest.mark.parametrize("name", ALL)
def test_actions_are_pinned(name: str) -> None:
    """Every action is pinned to a full commit SHA or a version tag."""
    for step in _steps(_load(name)):
        if uses := step.get("uses"):
            assert PINNED.fullmatch(uses), f"{name}: {uses} is not pinned"


@pytest.mark.parametrize("name", ALL)
def test_least_privilege(name: str) -> None:
    """Top-level permissions are read-only or none; only the release job may write, and
    only contents; no checkout keeps the token in the clone."""
    workflow = _load(name)
    assert workflow["permissions"] in ({}, {"contents": "read"}), name
    for job_name, job in workflow["jobs"].items():
        permissions = job.get("permissions", {})
        writes = {k for k, v in permissions.items() if v == "write"}
        if name == "release.yml":
            assert writes == {"contents"}, job_name
        else:
            assert not writes, f"{name}/{job_name} writes {writes}"
        assert job.get("timeout-minutes"), f"{name}/{job_name} has no timeout"
    for step in _uses(workflow, "actions/checkout"):
        assert step["with"]["persist-credentials"] is False, name


@pytest.mark.parametrize("name", ["tests.yml", "hassfest.yml", "hacs.yml"])
def test_checks_run_on_push_pull_request_and_weekly(name: str) -> None:
    """The checks run on pushes to main, on pull requests and once a week."""
    triggers = _load(name)["on"]
    assert triggers["push"]["branches"] == ["main"]
    assert "pull_request" in triggers
    (schedule,) = triggers["schedule"]
    _minute, _hour, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*")
    assert weekday.isdigit()


def test_tests_run_every_leg_with_the_readme_command() -> None:
    """One job per leg runs the test command; the built Pythons are cached."""
    workflow = _load("tests.yml")
    (job,) = workflow["jobs"].values()
    assert LEGS == ["oldest", "newest", "latest"]
    assert job["strategy"]["matrix"]["leg"] == LEGS
    assert job["strategy"]["fail-fast"] is False
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert 'bash scripts/test --leg "$LEG"' in runs
    (test_step,) = [s for s in job["steps"] if s.get("run") == 'bash scripts/test --leg "$LEG"']
    assert test_step["env"]["LEG"] == "${{ matrix.leg }}"
    (cache,) = _uses(workflow, "actions/cache")
    assert cache["with"]["path"] == "~/.cache/fish_audio_suite"
    assert "${{ matrix.leg }}" in cache["with"]["key"]
    assert "hashFiles('scripts/setup" in cache["with"]["key"]
    # The README names the same command.
    assert "scripts/test" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_hassfest_and_hacs_validation() -> None:
    """hassfest runs on the checkout; HACS validates category integration, no comment."""
    hassfest = _load("hassfest.yml")
    assert _uses(hassfest, "actions/checkout")
    assert _uses(hassfest, "home-assistant/actions/hassfest")
    (hacs,) = _uses(_load("hacs.yml"), "hacs/action")
    assert hacs["with"]["category"] == "integration"
    assert hacs["with"]["comment"] == "false"


def test_release_on_a_version_tag() -> None:
    """A vX.Y.Z tag checks the version, builds the zip hacs.json names, and attaches it."""
    workflow = _load("release.yml")
    assert workflow["on"] == {"push": {"tags": ["v*.*.*"]}}
    runs = "\n".join(s.get("run", "") for s in _steps(workflow))
    assert 'python3 scripts/release.py check-tag "$TAG"' in runs
    assert "python3 scripts/release.py zip dist/fish_audio_suite.zip" in runs
    assert "gh release create" in runs
    assert "dist/fish_audio_suite.zip" in runs.split("gh release create", 1)[1]
    # The tag is checked before anything is built or published.
    order = [s.get("run", "") for s in _steps(workflow)]
    check = next(i for i, r in enumerate(order) if "check-tag" in r)
    publish = next(i for i, r in enumerate(order) if "gh release create" in r)
    assert check < publish


@pytest.mark.parametrize("name", ALL)
def test_no_expression_in_a_shell_line(name: str) -> None:
    """Values reach shell commands through env, never as `${{ }}` pasted into a script."""
    for step in _steps(_load(name)):
        assert "${{" not in step.get("run", ""), f"{name}: {step.get('name')}"
