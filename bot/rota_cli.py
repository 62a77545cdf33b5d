"""`peerbridge rota import|export|show|check`: the live rota in Redis, from and to `config/rota.toml`.

Redis is reached exactly as `peerbridge run` reaches it (`open_redis`): `redis.url`, the sentinels, or, when
neither is set, the embedded redis-server over `storage.dir`, started for the command and stopped after. Nothing
else is loaded: a rota command needs no phrase files, crisis resources or keys.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tomllib
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from bot.embedded_redis import EmbeddedRedisError
from bot.services import open_redis
from bot.settings import ConfigError, Settings, config_path, load_settings
from routing.rota import Rota, RotaError, parse_date, parse_rota
from routing.rota.render import render_rota
from routing.rota.toml import rota_to_toml
from routing.store.connection import STORE_ERRORS
from routing.store.rota_store import RotaStore, StoredRota

T = TypeVar("T")
# What open_redis raises when Redis will not start or the URL is malformed.
_START_ERRORS = (EmbeddedRedisError, ValueError, OSError)


class _Failed(Exception):
    """A problem already put into words for the coordinator."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the `rota` subcommands to the `peerbridge rota` parser."""
    sub = parser.add_subparsers(dest="rota_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="config file (default: $PEERBRIDGE_CONFIG or config/peerbridge.toml)")
    imp = sub.add_parser("import", parents=[common], help="check a rota file and make it the live rota")
    imp.add_argument("file", nargs="?", help="rota file (default: rota.file from the settings)")
    exp = sub.add_parser("export", parents=[common], help="write the live rota as a rota file")
    exp.add_argument("file", nargs="?", help="where to write (default: print it)")
    show = sub.add_parser("show", parents=[common], help="coverage, gaps and on call for a day and the next")
    show.add_argument("--day", help="YYYY-MM-DD (default: today in the rota's timezone)")
    chk = sub.add_parser("check", parents=[common], help="check a rota file without touching the live rota")
    chk.add_argument("file", nargs="?", help="rota file (default: rota.file from the settings)")


def main(args: argparse.Namespace) -> int:
    """Run one `peerbridge rota` subcommand; 0 on success, 2 with the problems on stderr otherwise."""
    try:
        settings = _settings(args.config)
        if args.rota_command in ("import", "check"):
            rota = _read(Path(args.file) if args.file else settings.rota.file)
            if args.rota_command == "check":
                print(f"Rota OK: {_summary(rota)}.")
                return 0
            version = _with_store(settings, lambda store: store.save(rota, by="cli"))
            print(f"Imported the rota as version {version}: {_summary(rota)}.")
        elif args.rota_command == "export":
            _export(_live(settings), args.file)
        else:
            day = _day(args.day)
            stored = _live(settings)
            print(f"Live rota, version {stored.version}")
            print(render_rota(stored.rota, datetime.now(UTC), day))
    except _Failed as exc:
        print(exc, file=sys.stderr)
        return 2
    except RotaError as exc:
        _print_problems("Rota problems (nothing was changed):", exc.problems)
        return 2
    return 0


def _day(text: str | None) -> date | None:
    try:
        return parse_date(text) if text else None
    except RotaError as exc:
        raise _Failed(f"--day: {exc}") from None


def _settings(explicit: str | None) -> Settings:
    try:
        return load_settings(config_path(explicit, os.environ))
    except ConfigError as exc:
        _print_problems("Configuration problems:", exc.problems)
        raise _Failed("fix the configuration first (see `peerbridge check-config`)") from None


def _read(path: Path) -> Rota:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise _Failed(f"there is no rota file at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _Failed(f"{path} is not valid TOML: {exc}; the rota was not changed") from None
    except OSError as exc:
        raise _Failed(f"{path} cannot be read: {exc.strerror}") from None
    try:
        return parse_rota(data)
    except RotaError as exc:
        _print_problems(f"Problems in {path}:", exc.problems)
        raise _Failed(f"{len(exc.problems)} problem(s) in {path}; the rota was not changed") from None


def _live(settings: Settings) -> StoredRota:
    stored = _with_store(settings, lambda store: store.load())
    if stored is None:
        raise _Failed("there is no live rota yet; load one with `peerbridge rota import FILE`")
    return stored


def _with_store(settings: Settings, action: Callable[[RotaStore], Awaitable[T]]) -> T:
    async def _run() -> T:
        try:
            connection = await asyncio.to_thread(open_redis, settings)
        except _START_ERRORS as exc:
            raise _Failed(f"cannot start Redis: {exc}") from None
        try:
            return await action(RotaStore(connection.redis))
        except STORE_ERRORS as exc:
            raise _Failed(f"cannot reach Redis: {exc}") from None
        finally:
            await connection.close()

    return asyncio.run(_run())


def _export(stored: StoredRota, file: str | None) -> None:
    text = rota_to_toml(stored.rota)
    if file is None:
        sys.stdout.write(text)
        return
    path = Path(file)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)  # atomic: a failed export never leaves half a rota file
    except OSError as exc:
        raise _Failed(f"cannot write {path}: {exc.strerror}") from None
    print(f"Exported the live rota (version {stored.version}) to {path}.")


def _summary(rota: Rota) -> str:
    return (
        f"{len(rota.staff)} staff, {len(rota.shifts)} weekly shifts, {len(rota.covers)} cover, "
        f"{len(rota.absences)} absences, {len(rota.oncall)} on-call blocks ({rota.timezone})"
    )


def _print_problems(title: str, problems: tuple[str, ...] | list[str]) -> None:
    print(title, file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
