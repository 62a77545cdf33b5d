"""`peerbridge risk-examples export --out FILE.jsonl`: the labelled examples staff's corrections of the risk
detector left, when the organisation keeps them (`risk.keep_examples`; docs/risk.md section 4).

The file is the project's labelled JSONL, which `peerbridge risk-eval` measures the detector on and
`peerbridge risk-train` trains its model on. It holds people's words in plain text: it is written readable by
its owner only, and it is the organisation's to protect and delete (docs/privacy.md). Redis is reached as
`peerbridge run` reaches it (`open_redis`), and the text decrypted with the same keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from bot import keys_at_rest
from bot.embedded_redis import EmbeddedRedisError
from bot.services import open_redis
from bot.settings import ConfigError, Settings, config_path, load_settings
from routing.store.cipher import TextCipher
from routing.store.connection import STORE_ERRORS
from routing.store.risk_examples import RiskExamples

OFF = (
    "risk.keep_examples is off: no labelled examples are kept, so there are none to export. An organisation that "
    "opts in sets risk.keep_examples = true (docs/privacy.md says what that keeps and for how long)."
)


class _Failed(Exception):
    """A problem already put into words for the coordinator."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the `export` subcommand to the `peerbridge risk-examples` parser."""
    sub = parser.add_subparsers(dest="examples_command", required=True)
    export = sub.add_parser("export", help="write the kept examples as labelled JSONL (for risk-eval, risk-train)")
    export.add_argument("--out", required=True, help="the file to write (FILE.jsonl; readable by you only)")
    export.add_argument("--config", help="config file (default: $PEERBRIDGE_CONFIG or config/peerbridge.toml)")


def main(args: argparse.Namespace) -> int:
    """Run `peerbridge risk-examples export`; 0 when written, 2 with the reason on stderr otherwise."""
    try:
        settings = _settings(args.config)
        if not settings.risk.keep_examples:
            raise _Failed(OFF)
        lines, unreadable = asyncio.run(_read(settings))
        _write(lines, Path(args.out))
    except _Failed as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"Wrote {len(lines)} labelled example(s) to {args.out}.")
    if unreadable:
        print(f"{unreadable} example(s) could not be decrypted with the configured keys and were left out.")
    return 0


def _settings(explicit: str | None) -> Settings:
    try:
        return load_settings(config_path(explicit, os.environ))
    except ConfigError as exc:
        problems = "\n".join(f"  - {p}" for p in exc.problems)
        raise _Failed(f"Configuration problems:\n{problems}\nfix them first (see `peerbridge check-config`)") from None


async def _read(settings: Settings) -> tuple[list[dict[str, Any]], int]:
    sec = settings.security
    try:
        keys = keys_at_rest.encryption_keys(sec.encryption_key, sec.previous_encryption_keys, settings.storage.dir)
        connection = await asyncio.to_thread(open_redis, settings)
    except (EmbeddedRedisError, ValueError, OSError) as exc:
        raise _Failed(f"cannot start: {exc}") from None
    try:
        return await RiskExamples(connection.redis, TextCipher(keys)).lines()
    except STORE_ERRORS as exc:
        raise _Failed(f"cannot reach Redis: {exc}") from None
    finally:
        await connection.close()


def _write(lines: list[dict[str, Any]], path: Path) -> None:
    """One JSON object a line, written whole or not at all, readable by its owner only (people's words)."""
    partial = path.with_name(path.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        partial.replace(path)
    except OSError as exc:
        raise _Failed(f"cannot write {path}: {exc.strerror}") from None
