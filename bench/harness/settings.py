"""The bridge's settings for benchmark runs: fixed secrets (benchmark data only, never a deployment's), a rota
file naming the volunteers, and the rest of the tables, as `Settings(**...)` takes them."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bot import shipped

PSEUDONYM_SECRET = "bench-pseudonym-secret-0123456789"
ENCRYPTION_KEY = base64.b64encode(bytes(range(32))).decode()  # benchmark data only
ROUTER_ONLY_STAFF = {"platform": "telegram", "volunteer_chat": "-1001000000001", "escalation_chat": "-1001000000002"}


def staff_rota(path: Path, platform: str, accounts: Iterable[object], capacity: int, *, named: bool = True) -> Path:
    """Write a rota file of `[[staff]]` tables only: volunteers vol0, vol1, ... (named "Vol 0", ... unless
    `named` is false) with these `platform` accounts, each taking up to `capacity` conversations."""
    tables = [
        f'[[staff]]\nid = "vol{i}"\n'
        + (f'name = "Vol {i}"\n' if named else "")
        + f"{platform} = {json.dumps(str(account))}\nmax_concurrent = {capacity}\n\n"
        for i, account in enumerate(accounts)
    ]
    path.write_text("".join(tables))
    return path


def bridge_settings(
    redis_url: str,
    tmp: Path,
    rota: Path,
    *,
    platform: Mapping[str, Any],
    routing: Mapping[str, Any] | None = None,
    web_port: int | None = None,
    ack_timeout: float | None = None,
) -> dict[str, Any]:
    """Settings for a bridge on `redis_url`, its data under `tmp`: `platform` holds the platform's table and the
    staff table; `routing` adds to "no intake topics" (every message of a load is conversation); a web server
    (/readyz) only with `web_port`; `ack_timeout` per level of the escalation chain, else the default."""
    escalation: dict[str, Any] = {"resources_dir": str(shipped.CRISIS_RESOURCES)}
    if ack_timeout is not None:
        escalation["ack_timeout"] = ack_timeout
    settings: dict[str, Any] = {
        "redis": {"url": redis_url},
        "storage": {"dir": str(tmp / "data")},
        "risk": {"phrases_dir": str(shipped.RISK_PHRASES)},
        "rota": {"file": str(rota)},
        "security": {"pseudonym_secret": PSEUDONYM_SECRET, "encryption_key": ENCRYPTION_KEY},
        "routing": {"topics": [], **(routing or {})},
        "escalation": escalation,
        **platform,
    }
    if web_port is not None:
        settings["web"] = {"host": "127.0.0.1", "port": web_port}
    return settings


def router_settings(
    redis_url: str, tmp: Path, volunteers: int = 0, capacity: int = 20, **routing: Any
) -> dict[str, Any]:
    """Settings for a router-only process (no platform): volunteers vol0.. with Telegram ids 900000000.."""
    accounts = [900_000_000 + i for i in range(volunteers)]
    rota = staff_rota(tmp / "rota.toml", "telegram", accounts, capacity, named=False)
    routing = {"match_wait_minutes": 0, **routing}
    return bridge_settings(redis_url, tmp, rota, platform={"staff": dict(ROUTER_ONLY_STAFF)}, routing=routing)
