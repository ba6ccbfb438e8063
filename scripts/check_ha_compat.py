"""Check that every Home Assistant name the integration uses exists in a newer release.

The integration is tested on Home Assistant 2026.2.3 but must run unchanged on 2026.11
(README.md, the test legs). 2026.11 needs Python 3.14, so its wheel cannot be imported here: it is
downloaded once (cached per user) and read as text. For every ``from homeassistant.x import y``,
``import homeassistant.x as m`` and ``m.attr`` in the integration, the module must exist in the
wheel and define the name (at top level, by assignment, definition, import or ``__all__``).

Exit status: 0 when everything resolves, or when the wheel cannot be had (then a line that says
SKIPPED and why: never silent); 1 when a name is missing.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
import os
from pathlib import Path
import re
import subprocess
import sys
import zipfile

TARGET_VERSION = "2026.11.0"
# 2026.11 requires Python 3.14; pip needs a matching interpreter version to pick the wheel.
TARGET_PYTHON = "3.14.2"
ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "fish_audio_suite"


@dataclass(frozen=True, slots=True)
class Use:
    """One Home Assistant name used by the integration."""

    module: str  # dotted module, e.g. "homeassistant.components.tts"
    name: str | None  # attribute looked up in it; None = the module itself
    where: str  # file:line, for the report


def _is_ha_module(node: ast.ImportFrom) -> bool:
    """Return whether an absolute ``from X import`` imports from Home Assistant."""
    module = node.module or ""
    return node.level == 0 and (module == "homeassistant" or module.startswith("homeassistant."))


def _module_bindings(tree: ast.Module) -> dict[str, str]:
    """Map local names bound to Home Assistant modules to the module they stand for."""
    bindings: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("homeassistant") and alias.asname:
                    bindings[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and _is_ha_module(node):
            for alias in node.names:
                # "from homeassistant.helpers import config_validation as cv" binds a module
                # when the name is a submodule; whether it is gets decided against the wheel.
                bindings[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bindings


def collect_uses(files: Iterable[Path], base: Path) -> Iterator[Use]:
    """Yield every Home Assistant import and module attribute used in ``files``."""
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(base)
        bindings = _module_bindings(tree)
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("homeassistant"):
                        yield Use(alias.name, None, where)
            elif isinstance(node, ast.ImportFrom) and _is_ha_module(node):
                for alias in node.names:
                    yield Use(str(node.module), alias.name, where)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bindings
            ):
                yield Use(bindings[node.value.id], node.attr, where)


class Wheel:
    """The Python sources of a Home Assistant wheel, read without importing them."""

    def __init__(self, path: Path) -> None:
        """Open the wheel and index its Python files."""
        self._zip = zipfile.ZipFile(path)
        self._files = {n for n in self._zip.namelist() if n.endswith(".py")}
        self._names: dict[str, set[str] | None] = {}

    def module_file(self, module: str) -> str | None:
        """Return the wheel path of a dotted module, or None when it does not exist."""
        base = module.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self._files:
                return candidate
        return None

    def defined_names(self, module: str) -> set[str] | None:
        """Return the names a module defines at top level (None if it does not exist)."""
        if module in self._names:
            return self._names[module]
        file = self.module_file(module)
        if file is None:
            self._names[module] = None
            return None
        source = self._zip.read(file).decode("utf-8")
        try:
            tree = _parse_newer(source)
        except SyntaxError:
            names = _scan_definitions(source)
            self._names[module] = names
            return names
        names: set[str] = set()
        for node in ast.walk(tree):
            # Top-level and conditional (try/except, if TYPE_CHECKING) bindings all count.
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    names.update(_target_names(target))
            elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                names.update(_target_names(node.target))
            elif isinstance(node, ast.TypeAlias):
                names.add(node.name.id)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    names.add(alias.asname or alias.name.split(".")[0])
        self._names[module] = names
        return names

    def has(self, use: Use) -> bool:
        """Return whether the wheel provides what ``use`` needs."""
        if use.name is None:
            return self.module_file(use.module) is not None
        # A name can be a submodule ("from homeassistant.helpers import entity_platform").
        if self.module_file(f"{use.module}.{use.name}") is not None:
            return True
        names = self.defined_names(use.module)
        return names is not None and use.name in names


# Python 3.14 (PEP 758) allows "except A, B:"; this interpreter does not, so parenthesise.
_BARE_EXCEPT = re.compile(r"^(\s*except\*?\s+)(?!\()([^:\n]+,[^:\n]+?)(\s+as\s+\w+)?\s*:", re.M)
# Last resort for other newer syntax: top-level definitions by their shape.
_DEFINITION = re.compile(
    r"^(?:async\s+def|def|class|type)\s+(\w+)|^(\w+)\s*(?::[^=\n]*)?=|^(?:from\s+\S+\s+)?"
    r"import\s+.*?\bas\s+(\w+)\s*$",
    re.M,
)


def _parse_newer(source: str) -> ast.Module:
    """Parse source written for a newer Python, as far as this one can."""
    try:
        return ast.parse(source)
    except SyntaxError:
        return ast.parse(_BARE_EXCEPT.sub(r"\1(\2)\3:", source))


def _scan_definitions(source: str) -> set[str]:
    """Return top-level names found by pattern when the source cannot be parsed at all."""
    names = {name for match in _DEFINITION.finditer(source) for name in match.groups() if name}
    imported = re.finditer(r"^from\s+\S+\s+import\s+(?:\(([^)]*)\)|([^(\n]+)$)", source, re.M)
    for match in imported:
        for part in (match.group(1) or match.group(2)).split(","):
            names.add(part.split(" as ")[-1].strip())
    names.discard("")
    return names


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)


def check(files: Iterable[Path], base: Path, wheel: Wheel) -> list[Use]:
    """Return the uses that the wheel does not provide (deduplicated)."""
    missing: dict[tuple[str, str | None], Use] = {}
    for use in collect_uses(files, base):
        if use.name is not None and wheel.module_file(f"{use.module}") is None:
            # ``bindings`` guessed that ``m.attr`` is a module attribute, but ``m`` is a
            # class or function imported from a module (e.g. ``vol.Schema``): the import
            # itself is checked separately, so skip the attribute.
            parent, _, leaf = use.module.rpartition(".")
            if wheel.module_file(parent) is not None and wheel.has(Use(parent, leaf, use.where)):
                continue
        if not wheel.has(use):
            missing.setdefault((use.module, use.name), use)
    return list(missing.values())


def fetch_wheel(cache: Path) -> Path | str:
    """Return the cached 2026.11 wheel, downloading it once; or a reason it cannot be had."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"homeassistant-{TARGET_VERSION}-*.whl"))
    if found:
        return found[0]
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", TARGET_PYTHON, "--dest", str(cache), "--quiet",
        f"homeassistant=={TARGET_VERSION}",
    ]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603 - fixed argument list
            cmd, capture_output=True, text=True, timeout=600, check=False
        )
    except subprocess.TimeoutExpired:
        return "pip download timed out after 600 s"
    found = sorted(cache.glob(f"homeassistant-{TARGET_VERSION}-*.whl"))
    if result.returncode != 0 or not found:
        lines = (result.stderr or result.stdout).strip().splitlines()
        return lines[-1] if lines else f"pip exited {result.returncode}"
    return found[0]


def main(argv: list[str] | None = None) -> int:
    """Run the check and print a report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="use this wheel instead of downloading")
    args = parser.parse_args(argv)
    cache_root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    wheel_path = args.wheel or fetch_wheel(cache_root / "fish_audio_suite" / "wheels")
    if isinstance(wheel_path, str):
        print(f"SKIPPED: Home Assistant {TARGET_VERSION} wheel unavailable ({wheel_path})")
        return 0
    files = sorted(INTEGRATION.rglob("*.py"))
    missing = check(files, ROOT, Wheel(wheel_path))
    uses = {(u.module, u.name) for u in collect_uses(files, ROOT)}
    if missing:
        print(f"Missing in Home Assistant {TARGET_VERSION}:")
        for use in missing:
            name = f"{use.module}.{use.name}" if use.name else use.module
            print(f"  {name}  (used at {use.where})")
        return 1
    print(f"OK: {len(uses)} Home Assistant names resolve in {TARGET_VERSION} ({wheel_path.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
