"""Run the whole benchmark suite and write the results table.

``scripts/bench`` (or ``.venv/bin/python -m benchmarks``) runs everything in one go:

- the emulator runs in a process of its own (``benchmarks.serve``);
- each client implementation (ours, the official SDK, the raw-aiohttp floor) runs every
  client figure in its own worker process (``benchmarks.worker``), one after the other,
  so process CPU time and traced memory belong to that client only and the two cores are
  not shared between two clients;
- STT buffering (``benchmarks.stt_buffer``) and the cold import/setup of the integration
  in Home Assistant (``benchmarks.ha_setup``, a fresh interpreter per repetition) run in
  processes of their own too.

``--smoke`` runs the same code paths with tiny sizes and one repetition (the test suite
does this, so the benchmarks cannot rot); its figures mean nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass, replace
import datetime as dt
import json
import os
from pathlib import Path
import platform
import subprocess
import sys
import time
from typing import Any

from . import import_time
from .common import ANNOUNCEMENT, LLM_REPLY, Summary, llm_deltas, summarize, text_for_bytes
from .sdk_env import ROOT, sdk_python

DASH = "\u2013"  # en dash, for ranges in the table
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
RESULTS_JSON = ROOT / "benchmarks" / "results" / "latest.json"

MP3_BYTES_PER_SECOND = 128_000 / 8  # the emulator's mp3 at 128 kbps
IMPLS = ("ours", "sdk", "floor")
IMPL_TITLES = {
    "ours": "Ours (`api/` client)",
    "sdk": "SDK 1.1.0 (as HA core uses it)",
    "floor": "Floor (raw aiohttp)",
}


@dataclass(frozen=True)
class Profile:
    """Sizes and repetitions of one run."""

    name: str
    http_reps: int
    live_reps: int
    latency: float  # server latency before the first byte of every answer
    chunk_delay: float  # between streamed audio pieces (0.5 s of audio each)
    segment_latency: float  # per live synthesis segment
    delta_interval: float  # LLM delta cadence
    live_text: str
    announcement: str
    cpu_mb: float
    cpu_reps: int
    mem_mb: tuple[float, float]
    mem_reps: int
    bulk_seconds_per_char: float
    stt_cases: tuple[tuple[str, float, int, int, int], ...]  # id, seconds, chunk ms, reps, q-reps
    ha_reps: int


FULL = Profile(
    name="full",
    http_reps=10,
    live_reps=6,
    latency=0.150,
    chunk_delay=0.050,
    segment_latency=0.300,
    delta_interval=0.030,
    live_text=LLM_REPLY,
    announcement=ANNOUNCEMENT,
    cpu_mb=4.0,
    cpu_reps=9,
    mem_mb=(4.0, 16.0),
    mem_reps=1,
    bulk_seconds_per_char=1.0,
    stt_cases=(
        ("stt_60s_20ms", 60.0, 20, 15, 3),
        ("stt_60s_100ms", 60.0, 100, 15, 3),
        ("stt_120s_20ms", 120.0, 20, 10, 2),
    ),
    ha_reps=3,
)

SMOKE = Profile(
    name="smoke",
    http_reps=1,
    live_reps=1,
    latency=0.005,
    chunk_delay=0.0,
    segment_latency=0.005,
    delta_interval=0.0,
    live_text=LLM_REPLY[:140],
    announcement=ANNOUNCEMENT[:60],
    cpu_mb=0.05,
    cpu_reps=1,
    mem_mb=(0.05, 0.1),
    mem_reps=1,
    bulk_seconds_per_char=1.0,
    stt_cases=(
        ("stt_60s_20ms", 1.0, 20, 1, 1),
        ("stt_60s_100ms", 1.0, 100, 1, 1),
        ("stt_120s_20ms", 2.0, 20, 1, 1),
    ),
    ha_reps=1,
)


# ----------------------------------------------------------------------------- processes


@contextlib.contextmanager
def emulators(configs: list[dict[str, Any]], python: str) -> Iterator[dict[str, Any]]:
    """Start the emulators in one separate process; yield its ready line."""
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [python, "-m", "benchmarks.serve", json.dumps(configs)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None  # noqa: S101 - Popen with PIPE
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process did not start (see its stderr above)")
        yield json.loads(line)
    finally:
        if process.stdin is not None:
            process.stdin.close()  # the serve process stops when its stdin closes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_json(command: Sequence[str], *, stdin: str | None = None, timeout: float) -> Any:
    """Run a helper process and return the JSON of its last stdout line."""
    done = subprocess.run(  # noqa: S603 - our own modules, fixed arguments
        list(command),
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(command[:4])} failed ({done.returncode}): {tail}")
    return json.loads(lines[-1])


# --------------------------------------------------------------------------------- plans


def client_plan(profile: Profile, ready: dict[str, Any], impl: str) -> list[dict[str, Any]]:
    """Tasks of one worker, in an order that keeps one client per emulator."""
    live_url, bulk_url = ready["urls"][0], ready["urls"][1]
    voice = ready["voice_ids"][0]
    deltas = llm_deltas(profile.live_text)
    plan: list[dict[str, Any]] = [
        {
            "id": "tts_http",
            "kind": "http",
            "url": live_url,
            "voice_id": voice,
            "format": "mp3",
            "text": profile.announcement,
            "reps": profile.http_reps,
        }
    ]
    for flush in ("none", "first", "every"):
        if impl == "sdk" and flush != "none":
            continue  # Home Assistant core never sends a flush
        plan.append(
            {
                "id": f"live_{flush}",
                "kind": "live",
                "url": live_url,
                "voice_id": voice,
                "format": "mp3",
                "deltas": deltas,
                "interval": profile.delta_interval,
                "flush": flush,
                "reps": profile.live_reps,
            }
        )

    def bulk_text(megabytes: float) -> str:
        return text_for_bytes(megabytes * 1e6, MP3_BYTES_PER_SECOND, profile.bulk_seconds_per_char)

    plan.extend(
        {
            "id": f"cpu_{transport}",
            "kind": "cpu",
            "url": bulk_url,
            "voice_id": voice,
            "format": "mp3",
            "transport": transport,
            "text": bulk_text(profile.cpu_mb),
            "reps": profile.cpu_reps,
        }
        for transport in ("http", "ws")
    )
    for transport in ("http", "ws"):
        for size_name, megabytes in zip(("small", "large"), profile.mem_mb, strict=True):
            plan.append(
                {
                    "id": f"mem_{transport}_{size_name}",
                    "kind": "mem",
                    "url": bulk_url,
                    "voice_id": voice,
                    "format": "mp3",
                    "transport": transport,
                    "text": bulk_text(megabytes),
                    "reps": profile.mem_reps,
                }
            )
    return plan


# Cold import of each client library in a fresh interpreter (transport stack included).
# Ours: the `api/` package alone, without `custom_components/fish_audio_suite/__init__.py`
# (that one imports Home Assistant, which is already loaded when Home Assistant imports us;
# the integration table measures it).
IMPORT_CODE = {
    "ours": (
        "import sys, types; "
        "p = types.ModuleType('custom_components.fish_audio_suite'); "
        "p.__path__ = ['custom_components/fish_audio_suite']; "
        "sys.modules[p.__name__] = p; "
        "import custom_components.fish_audio_suite.api"
    ),
    "sdk": "import fishaudio",
    "floor": "import aiohttp, ormsgpack",
}


def import_seconds(python: str, impl: str, reps: int) -> dict[str, Any]:
    """Seconds to import a client library in a fresh interpreter, `reps` times."""
    timer = "import time; _t = time.perf_counter(); {code}; print(time.perf_counter() - _t)"
    samples = []
    for _ in range(reps):
        out = run_json([python, "-c", timer.format(code=IMPORT_CODE[impl])], timeout=60)
        samples.append(float(out))
    return {"seconds": samples, "bytes": 0}


def parse_importtime(stderr: str) -> float:
    """Seconds of self import time of our own modules in ``-X importtime`` output."""
    return sum(import_time.own_self_times(stderr).values()) / 1e6


def run_ha_setup(python: str, base_url: str, reps: int) -> dict[str, Any]:
    """Cold import and setup, one fresh interpreter per repetition."""
    samples: dict[str, list[float]] = {}
    extra: dict[str, Any] = {}
    # Bytecode cached and allowed, as Home Assistant runs after its first start (import_time).
    import_time.warm_up(python)
    for _ in range(reps):
        done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
            [python, "-X", "importtime", "-m", "benchmarks.ha_setup", base_url],
            cwd=ROOT,
            env=import_time.bytecode_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0 or not lines:
            tail = [
                line for line in done.stderr.splitlines() if not line.startswith("import time:")
            ][-5:]
            raise RuntimeError(f"benchmarks.ha_setup failed ({done.returncode}): {tail}")
        data = json.loads(lines[-1])
        data["own_import_self"] = parse_importtime(done.stderr)
        for key, value in data.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                samples.setdefault(key, []).append(float(value))
            else:
                extra[key] = value
    return {"samples": samples, **extra}


# -------------------------------------------------------------------------------- report


@dataclass
class Row:
    """One line of a results table."""

    id: str
    label: str
    cells: dict[str, Summary | str]
    unit: str
    scale: float  # multiply samples by this for display


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cell_text(cell: Summary | str | None, scale: float) -> str:
    """Format a cell: median (p10 to p90), or the reason it has no number."""
    if cell is None:
        return DASH
    if isinstance(cell, str):
        return cell
    median = _fmt(cell.median * scale)
    if cell.n == 1:
        return median
    return f"{median} ({_fmt(cell.p10 * scale)}{DASH}{_fmt(cell.p90 * scale)})"


def ratio_text(cell: Summary | str | None, floor: Summary | str | None) -> str:
    """Ratio of medians to the floor's."""
    if isinstance(cell, Summary) and isinstance(floor, Summary) and floor.median > 0:
        return f"{cell.median / floor.median:.2f}x"
    return DASH


def _cell(results: dict[str, Any], impl: str, task_id: str, key: str) -> Summary | str:
    impl_results = results.get(impl)
    if isinstance(impl_results, str):
        return impl_results
    if impl_results is None:
        return "not run"
    if "__error__" in impl_results:
        return f"error: {impl_results['__error__']}"
    task = impl_results.get(task_id)
    if task is None:
        return "n/a"
    if "error" in task:
        return f"error: {task['error']}"
    return summarize(task[key])


def client_rows(profile: Profile, results: dict[str, Any]) -> list[Row]:
    """The side-by-side table of client figures."""
    cpu_mb, (small_mb, large_mb) = profile.cpu_mb, profile.mem_mb
    specs: list[tuple[str, str, str, str, str, float]] = [
        ("tts_http.first", "tts_http", "first",
         "Complete message, HTTP: time to first audio byte", "ms", 1e3),
        ("tts_http.last", "tts_http", "last",
         "Complete message, HTTP: time to last audio byte", "ms", 1e3),
        ("live_none.first", "live_none", "first",
         "LLM text over WebSocket, no flush: time to first audio", "ms", 1e3),
        ("live_none.last", "live_none", "last",
         "LLM text over WebSocket, no flush: time to last audio", "ms", 1e3),
        ("live_first.first", "live_first", "first",
         "LLM text, sentence flush (ours: default FlushPolicy; floor: 1st sentence): first audio",
         "ms", 1e3),
        ("live_first.last", "live_first", "last",
         "LLM text, sentence flush (default policy): time to last audio", "ms", 1e3),
        ("live_every.first", "live_every", "first",
         "LLM text, flush at every sentence end: time to first audio", "ms", 1e3),
        ("live_every.last", "live_every", "last",
         "LLM text, flush at every sentence end: time to last audio", "ms", 1e3),
        ("cpu_http", "cpu_http", "cpu_s_per_mb",
         f"CPU per MB of audio, HTTP ({cpu_mb:g} MB clip)", "ms/MB", 1e3),
        ("cpu_ws", "cpu_ws", "cpu_s_per_mb",
         f"CPU per MB of audio, WebSocket ({cpu_mb:g} MB clip)", "ms/MB", 1e3),
        ("mem_http_small", "mem_http_small", "peak_bytes",
         f"Peak traced memory, HTTP, {small_mb:g} MB clip", "KiB", 1 / 1024),
        ("mem_http_large", "mem_http_large", "peak_bytes",
         f"Peak traced memory, HTTP, {large_mb:g} MB clip", "KiB", 1 / 1024),
        ("mem_ws_small", "mem_ws_small", "peak_bytes",
         f"Peak traced memory, WebSocket, {small_mb:g} MB clip", "KiB", 1 / 1024),
        ("mem_ws_large", "mem_ws_large", "peak_bytes",
         f"Peak traced memory, WebSocket, {large_mb:g} MB clip", "KiB", 1 / 1024),
        ("import_client", "import_client", "seconds",
         "Cold import of the client library and its transport (fresh interpreter)", "ms", 1e3),
    ]  # fmt: skip
    rows = []
    for row_id, task_id, key, label, unit, scale in specs:
        cells: dict[str, Summary | str] = {}
        for impl in IMPLS:
            cell = _cell(results, impl, task_id, key)
            if impl == "sdk" and task_id in ("live_first", "live_every") and cell == "n/a":
                cell = "n/a (HA core never flushes)"
            cells[impl] = cell
        rows.append(Row(row_id, label, cells, unit, scale))
    return rows


def stt_rows(profile: Profile, stt: dict[str, Any] | str) -> list[Row]:
    """STT buffering table: our assembly vs list+join vs the quadratic pattern."""
    rows = []
    for case_id, seconds, chunk_ms, _, _ in profile.stt_cases:
        label = f"{seconds:g} s of 16 kHz 16-bit mono in {chunk_ms} ms chunks"
        cells: dict[str, Summary | str] = {}
        for name in ("ours", "join", "concat"):
            if isinstance(stt, str):
                cells[name] = stt
            else:
                cells[name] = summarize(stt[case_id][name])
        rows.append(Row(case_id, label, cells, "ms", 1e3))
    return rows


HA_PHASES: tuple[tuple[str, str, str], ...] = (
    ("ha_core", "ha_core", "Home Assistant core + test harness import (context, not ours)"),
    ("import_integration", "import_integration", "`import custom_components.fish_audio_suite`"),
    ("import_platforms", "import_platforms", "import config flow + platforms ({platforms})"),
    ("own_import_self", "own_import_self",
     "… of which our own modules, both imports (self time, -X importtime)"),
    ("ha_components", "ha_components", "Set up HA's http/tts/stt/sensor (context, not ours)"),
    ("setup_entry", "setup_entry",
     "Config entry setup until idle ({requests} API requests, {entities} entities)"),
)  # fmt: skip


def ha_rows(ha: dict[str, Any] | str) -> list[Row]:
    """Import/setup table."""
    rows = []
    for row_id, key, label in HA_PHASES:
        if isinstance(ha, str):
            rows.append(Row(row_id, label.format(platforms="…", requests="?", entities="?"),
                            {"value": ha}, "ms", 1e3))  # fmt: skip
            continue
        text = label.format(
            platforms=", ".join(ha.get("platform_modules", [])),
            requests=f"{summarize(ha['samples'].get('setup_requests', [0.0])).median:.0f}",
            entities=f"{summarize(ha['samples'].get('entities', [0.0])).median:.0f}",
        )
        samples = ha["samples"].get(key)
        cell: Summary | str = summarize(samples) if samples else "missing"
        rows.append(Row(row_id, text, {"value": cell}, "ms", 1e3))
    return rows


def machine() -> dict[str, str]:
    """CPU model, cores, OS and Python."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def markdown(
    profile: Profile,
    rows: list[Row],
    stt: list[Row],
    ha: list[Row],
    info: dict[str, Any],
) -> str:
    """The results as markdown."""
    out = [
        "# Benchmark results",
        "",
        (
            f"Generated by `{info['command']}` on {info['date']} ({profile.name} profile). "
            f"Medians with p10{DASH}p90 over the repetitions; ratios are medians over the "
            "floor's. See `benchmarks/README.md` for what each figure measures."
        ),
        "",
        "**Machine:** " + ", ".join(f"{k} {v}" for k, v in info["machine"].items()),
        "",
        "**Versions:** " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        "",
        "**Emulator (separate process):** " + ", ".join(info["server"]),
        "",
        "## TTS client: ours vs the official SDK vs a raw-aiohttp floor",
        "",
        "| Figure | unit | "
        + " | ".join(IMPL_TITLES[i] for i in IMPLS)
        + " | ours / floor | SDK / floor |",
        "|---|---|" + "---:|" * (len(IMPLS) + 2),
    ]
    for row in rows:
        cells = [cell_text(row.cells.get(impl), row.scale) for impl in IMPLS]
        ratios = [
            ratio_text(row.cells.get("ours"), row.cells.get("floor")),
            ratio_text(row.cells.get("sdk"), row.cells.get("floor")),
        ]
        out.append(f"| {row.label} | {row.unit} | " + " | ".join(cells + ratios) + " |")
    out += [
        "",
        "## STT: assembling pipeline audio for an upload (read the stream + wrap as WAV)",
        "",
        f"Ours: {info['stt_note']}.",
        "",
        '| Audio | unit | ours | list + `b"".join` | `bytes +=` (quadratic) | `+=` / ours |',
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in stt:
        cells = [cell_text(row.cells.get(n), row.scale) for n in ("ours", "join", "concat")]
        ratio = ratio_text(row.cells.get("concat"), row.cells.get("ours"))
        out.append(f"| {row.label} | {row.unit} | " + " | ".join(cells) + f" | {ratio} |")
    out += [
        "",
        "## Integration: cold import and setup inside Home Assistant (fresh interpreter each)",
        "",
        "| Phase | unit | time |",
        "|---|---|---:|",
    ]
    out.extend(
        f"| {row.label} | {row.unit} | {cell_text(row.cells['value'], row.scale)} |" for row in ha
    )
    if info["notes"]:
        out += ["", "## Notes", ""] + [f"- {note}" for note in info["notes"]]
    return "\n".join(out) + "\n"


def table_text(rows: list[Row], stt: list[Row], ha: list[Row]) -> str:
    """A plain-text rendering for the terminal."""
    lines = []
    width = 78
    header = f"{'figure':<{width}} " + " ".join(f"{i:>22}" for i in IMPLS)
    lines.append(header)
    for row in rows:
        cells = " ".join(f"{cell_text(row.cells.get(i), row.scale)[:22]:>22}" for i in IMPLS)
        lines.append(f"{(row.label + ' [' + row.unit + ']')[:width]:<{width}} {cells}")
    lines.append("")
    lines.append(
        f"{'STT assembly':<{width}} " + " ".join(f"{n:>22}" for n in ("ours", "join", "bytes +="))
    )
    for row in stt:
        cells = " ".join(
            f"{cell_text(row.cells.get(n), row.scale)[:22]:>22}" for n in ("ours", "join", "concat")
        )
        lines.append(f"{(row.label + ' [ms]')[:width]:<{width}} {cells}")
    lines.append("")
    lines.extend(
        f"{(row.label + ' [ms]')[:width]:<{width}} {cell_text(row.cells['value'], row.scale):>22}"
        for row in ha
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repetition")
    parser.add_argument("--latency-ms", type=float, help="server latency to first byte")
    parser.add_argument("--segment-latency-ms", type=float, help="cost per live segment")
    parser.add_argument("--chunk-delay-ms", type=float, help="delay between audio pieces")
    parser.add_argument("--reps", type=int, help="repetitions of the latency figures")
    parser.add_argument(
        "--sdk",
        choices=("install", "auto", "skip"),
        help="install: create .cache/bench-sdk if needed (default of a full run); auto: use "
        "it if present (default of --smoke); skip: leave the SDK out",
    )
    parser.add_argument("--output", type=Path, help=f"markdown file (default {RESULTS_MD})")
    parser.add_argument("--json", type=Path, help=f"raw results (default {RESULTS_JSON})")
    return parser.parse_args(argv)


def _step(name: str) -> Callable[[], None]:
    start = time.perf_counter()
    print(f"==> {name}", flush=True)

    def done() -> None:
        print(f"    done in {time.perf_counter() - start:.1f} s", flush=True)

    return done


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0915 - a linear script
    """Run the suite; return the process exit status."""
    args = parse_args(argv)
    profile = SMOKE if args.smoke else FULL
    if args.latency_ms is not None:
        profile = replace(profile, latency=args.latency_ms / 1000)
    if args.segment_latency_ms is not None:
        profile = replace(profile, segment_latency=args.segment_latency_ms / 1000)
    if args.chunk_delay_ms is not None:
        profile = replace(profile, chunk_delay=args.chunk_delay_ms / 1000)
    if args.reps is not None:
        profile = replace(profile, http_reps=args.reps, live_reps=args.reps)
    sdk_mode = args.sdk or ("auto" if args.smoke else "install")
    output = args.output or (None if args.smoke else RESULTS_MD)
    json_path = args.json or (None if args.smoke else RESULTS_JSON)
    python = sys.executable
    notes: list[str] = []
    started = time.perf_counter()

    sdk_py: str | None = None
    if sdk_mode == "skip":
        sdk_note = "SDK figures skipped (--sdk skip)"
    else:
        sdk_py, sdk_note = sdk_python(install=sdk_mode == "install")
    print(f"==> SDK: {sdk_note}", flush=True)
    if sdk_py is None:
        notes.append(f"SDK skipped: {sdk_note}.")

    server_configs = [
        {  # latency-bound figures
            "latency": profile.latency,
            "chunk_delay": profile.chunk_delay,
            "segment_latency": profile.segment_latency,
            "seed_voices": True,
        },
        {  # throughput figures (CPU, memory) and the Home Assistant setup: no artificial waits
            "latency": 0.0,
            "chunk_delay": 0.0,
            "segment_latency": 0.0,
            "audio_seconds_per_char": profile.bulk_seconds_per_char,
            "seed_voices": True,
        },
    ]
    results: dict[str, Any] = {}
    with emulators(server_configs, python) as ready:
        if ready.get("ignored"):
            notes.append(f"Emulator settings it does not know (ignored): {ready['ignored']}.")
        for impl in ("floor", "ours", "sdk"):
            impl_python = sdk_py if impl == "sdk" else python
            if impl_python is None:
                results[impl] = "skipped (SDK not installed)"
                continue
            done = _step(f"client figures: {impl}")
            plan = client_plan(profile, ready, impl)
            try:
                results[impl] = run_json(
                    [impl_python, "-m", "benchmarks.worker", impl],
                    stdin=json.dumps(plan),
                    timeout=600,
                )
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as err:
                results[impl] = {"__error__": str(err)[:300]}
            try:
                imported = import_seconds(impl_python, impl, profile.ha_reps)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as err:
                imported = {"error": str(err)[:300]}
            if isinstance(results[impl], dict):
                results[impl]["import_client"] = imported
            done()

        done = _step("integration cold import + setup in Home Assistant")
        ha: dict[str, Any] | str
        try:
            ha = run_ha_setup(python, ready["urls"][1], profile.ha_reps)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as err:
            ha = f"error: {err}"[:300]
        done()

    done = _step("STT buffering")
    cases = [
        {"id": c[0], "seconds": c[1], "chunk_ms": c[2], "reps": c[3], "quadratic_reps": c[4]}
        for c in profile.stt_cases
    ]
    stt: dict[str, Any] | str
    try:
        stt = run_json([python, "-m", "benchmarks.stt_buffer", json.dumps(cases)], timeout=300)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as err:
        stt = f"error: {err}"[:300]
    done()

    versions: dict[str, str] = {}
    for impl in IMPLS:
        impl_results = results.get(impl)
        if isinstance(impl_results, dict):
            versions.update(impl_results.get("__env__", {}))
            for task_id, task in impl_results.items():
                if isinstance(task, dict) and "error" in task:
                    notes.append(f"{impl} / {task_id} failed: {task['error']}")
            if "__error__" in impl_results:
                notes.append(f"{impl} worker failed: {impl_results['__error__']}")
    if isinstance(ha, dict) and "ha_version" in ha:
        versions["homeassistant"] = str(ha["ha_version"])
    info = {
        "command": "scripts/bench" + (" --smoke" if args.smoke else ""),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions,
        "server": [
            f"latency to first byte {profile.latency * 1e3:g} ms",
            f"{profile.chunk_delay * 1e3:g} ms between 0.5 s audio pieces (mp3 128 kbps)",
            f"{profile.segment_latency * 1e3:g} ms per live synthesis segment",
            (
                f"chunk_length 200; LLM reply {len(profile.live_text)} chars in "
                f"{len(llm_deltas(profile.live_text))} deltas every "
                f"{profile.delta_interval * 1e3:g} ms"
            ),
            f"complete message {len(profile.announcement)} chars",
            (
                f"repetitions: {profile.http_reps} (HTTP), {profile.live_reps} (live), "
                f"{profile.cpu_reps} (CPU), {profile.ha_reps} (HA setup)"
            ),
        ],
        "stt_note": stt.get("__note__", "?") if isinstance(stt, dict) else stt,
        "notes": notes,
    }
    rows = client_rows(profile, results)
    stt_table = stt_rows(profile, stt)
    ha_table = ha_rows(ha)
    text = markdown(profile, rows, stt_table, ha_table, info)
    print()
    print(table_text(rows, stt_table, ha_table))
    for note in notes:
        print(f"note: {note}")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        print(f"\nwrote {output}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        raw = {
            "profile": profile.name,
            "info": info,
            "rows": [r.id for r in rows],
            "stt_rows": [r.id for r in stt_table],
            "ha_rows": [r.id for r in ha_table],
            "results": results,
            "stt": stt,
            "ha": ha,
            "markdown": text,
        }
        json_path.write_text(json.dumps(raw, indent=1, default=str))
        print(f"wrote {json_path}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0
