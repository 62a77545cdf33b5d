"""py-spy on the bridge process during chosen runs (sampling from outside, so the bridge runs unchanged), and a
summary of where its busy time went: by package, by function, and our own functions inclusive."""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Recording:
    """A py-spy recording under way, and the raw file it writes."""

    process: asyncio.subprocess.Process
    out: Path


async def start_recording(pid: int, out: Path) -> Recording:
    """Attach py-spy to `pid` at 250 Hz, writing raw stacks to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "250",
        "--format",
        "raw",
        "--nolineno",
        "--nonblocking",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(0.3)  # attached before the load starts
    return Recording(process, out)


async def stop_recording(recording: Recording) -> list[str]:
    """Stop py-spy (it writes its file on SIGINT) and summarise the recording."""
    recording.process.send_signal(signal.SIGINT)
    async with asyncio.timeout(20):
        await recording.process.wait()
    return summarise_profile(recording.out)


def _package(frame: str) -> str:
    """The package a py-spy frame ("func (pkg/module.py)") belongs to, grouped for the summary."""
    path = frame.rpartition("(")[2].rstrip(")")
    head = path.split("/", 1)[0] if "/" in path else path.removesuffix(".py")
    groups = {
        "telegram": "python-telegram-bot", "httpx": "httpx/httpcore/h11/anyio", "httpcore": "httpx/httpcore/h11/anyio",
        "h11": "httpx/httpcore/h11/anyio", "anyio": "httpx/httpcore/h11/anyio", "discord": "discord.py",
        "aiohttp": "aiohttp/yarl/multidict", "yarl": "aiohttp/yarl/multidict", "multidict": "aiohttp/yarl/multidict",
        "redis": "redis-py", "asyncio": "asyncio (event loop, tasks)", "selectors": "asyncio (event loop, tasks)",
        "routing": "peerbridge routing/", "adapters": "peerbridge adapters/", "bot": "peerbridge bot/",
        "cryptography": "cryptography (AES-GCM)", "json": "json", "pydantic": "pydantic",
    }  # fmt: skip
    return groups.get(head, "other (stdlib, typing, ...)")


def summarise_profile(path: Path, top: int = 12) -> list[str]:
    """Self time by package and by function, and inclusive time of our own frames, from a py-spy raw file."""
    own: dict[str, int] = {}
    by_package: dict[str, int] = {}
    ours: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [f.strip() for f in stack.split(";") if f.strip()]
        if not frames or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        by_package[_package(frames[-1])] = by_package.get(_package(frames[-1]), 0) + count
        for frame in {f for f in frames if _package(f).startswith("peerbridge")}:
            ours[frame] = ours.get(frame, 0) + count
    lines = [f"  py-spy {path.name}: {total} busy samples at 250 Hz (idle excluded); % of busy samples"]
    for title, table, limit in (
        ("self time by package", by_package, 20),
        ("self time by function", own, top),
        ("inclusive time of peerbridge functions", ours, top),
    ):
        lines.append(f"    {title}:")
        for frame, count in sorted(table.items(), key=lambda kv: -kv[1])[:limit]:
            lines.append(f"      {100 * count / max(total, 1):5.1f}%  {frame[:100]}")
    return lines
