"""The `peerbridge` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from adapters.telegram.adapter import AdapterStartError
from bot import risk_examples_cli, rota_cli, shipped
from bot.app import ProcessRole, install_signal_handlers, run
from bot.check_config import check, warnings_for
from bot.errors import PortInUse
from bot.settings import Settings, config_path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peerbridge", description="Crisis peer support on Telegram and Discord.")
    parser.add_argument("--version", action="version", version=f"peerbridge {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run the bridge")
    run_p.add_argument("--config", help="config file (default: $PEERBRIDGE_CONFIG or config/peerbridge.toml)")
    run_p.add_argument(
        "--role", choices=[r.value for r in ProcessRole], default=ProcessRole.ALL.value,
        help="all (default), gateway (platform adapters: receive and deliver) or router (routing and escalation)",
    )  # fmt: skip
    run_p.add_argument("--name", help="stable name of this process in the consumer groups (default: host-role)")
    demo_p = sub.add_parser("demo", help="try peerbridge locally: embedded Redis, platform sandbox, the bridge")
    demo_p.add_argument("--port", type=int, default=8081, help="sandbox port (default 8081)")
    demo_p.add_argument("--web-port", type=int, default=8080, help="bridge web port (default 8080)")
    demo_p.add_argument("--data", default="data/demo", help="demo data directory (default data/demo)")
    demo_p.add_argument("--page-port", type=int, default=8082, help="sandbox chat page port (default 8082)")
    demo_p.add_argument("--discord-port", type=int, default=0, help="Discord sandbox port (default: any free port)")
    demo_p.add_argument("--scenario", help="play scripted people and volunteers: quiet, busy or risk")
    check_p = sub.add_parser("check-config", help="validate the configuration and exit")
    check_p.add_argument("--config", help="config file (default: $PEERBRIDGE_CONFIG or config/peerbridge.toml)")
    ids_p = sub.add_parser(
        "chat-ids", help="setting up: answer /chatid in the bot's groups (their ids, your user id) until Ctrl-C"
    )
    ids_p.add_argument("--config", help="config file (default: $PEERBRIDGE_CONFIG or config/peerbridge.toml)")
    doctor_p = sub.add_parser(
        "doctor", help="ask Telegram and Discord, with the real tokens, whether the set-up can work (sends nothing)"
    )
    doctor_p.add_argument("--config", help="config file (default: $PEERBRIDGE_CONFIG or config/peerbridge.toml)")
    risk_p = sub.add_parser("risk-check", help="show how a message would be rated")
    risk_p.add_argument("text", help="the message to rate (quote it)")
    risk_p.add_argument("--phrases", help="phrase directory (default: the phrase files shipped with peerbridge)")
    _model_options(risk_p)
    eval_p = sub.add_parser("risk-eval", help="evaluate the detector on labelled JSONL files (docs/risk.md)")
    eval_p.add_argument(
        "file", nargs="+",
        help='labelled messages, one JSON object a line: {"text": ..., "tier": ...}; each file is reported apart '
        "(the development set and each unseen round separately)",
    )  # fmt: skip
    eval_p.add_argument("--json", action="store_true", help="print one JSON object")
    eval_p.add_argument("--phrases", help="phrase directory (default: the phrase files shipped with peerbridge)")
    _model_options(eval_p)
    train_p = sub.add_parser(
        "risk-train", help="train the risk model on labelled JSONL files (in a checkout; docs/risk.md)"
    )
    train_p.add_argument("file", nargs="*", help="labelled files to train on, in this order")
    train_p.add_argument("--out", help="model file to write (default: the shipped one)")
    train_p.add_argument(
        "--check", action="store_true",
        help="re-train on the files the model names and fail unless the result is the same file",
    )  # fmt: skip
    train_p.add_argument("--phrases", help="phrase directory (default: the phrase files shipped with peerbridge)")
    risk_examples_cli.configure(
        sub.add_parser("risk-examples", help="the labelled examples staff's corrections left (risk.keep_examples)")
    )
    rota_cli.configure(sub.add_parser("rota", help="the live rota: import, export, show or check a rota file"))
    return parser


def _model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--model", help="risk model file (default: the model shipped with peerbridge)")
    group.add_argument("--no-model", action="store_true", help="the phrase rules alone, without the risk model")


def _version() -> str:
    """The installed distribution's version ("unknown" when run from a checkout without installing)."""
    try:
        return metadata.version("peerbridge")
    except metadata.PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # python-telegram-bot 22 warns unless told we accept timedelta periods (RetryAfter.retry_after).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if args.command == "check-config":
        return _check_config(args.config)
    if args.command == "chat-ids":
        return _chat_ids(args.config)
    if args.command == "doctor":
        return _doctor(args.config)
    if args.command == "run":
        return _run(args.config, ProcessRole(args.role), args.name)
    if args.command == "demo":
        return _demo(
            Path(args.data), DemoPorts(args.port, args.web_port, args.page_port, args.discord_port), args.scenario
        )
    if args.command == "rota":
        return rota_cli.main(args)
    if args.command == "risk-examples":
        return risk_examples_cli.main(args)
    from bot import risk_commands

    phrases = Path(args.phrases) if args.phrases else shipped.RISK_PHRASES
    if args.command == "risk-train":
        out = Path(args.out) if args.out else shipped.RISK_MODEL
        return risk_commands.risk_train([Path(f) for f in args.file], phrases, out, check=args.check)
    model = None if args.no_model else Path(args.model) if args.model else shipped.RISK_MODEL
    if args.command == "risk-check":
        return risk_commands.risk_check(args.text, phrases, model)
    return risk_commands.risk_eval([Path(f) for f in args.file], phrases, model, as_json=args.json)


def _check_config(explicit: str | None) -> int:
    return _checked(explicit)[0]


def _checked(explicit: str | None) -> tuple[int, Settings | None]:
    """check-config's report and exit code, and the settings when they are usable."""
    path = config_path(explicit, os.environ)
    settings, problems = check(path)
    where = str(path) if path else "defaults (no config file)"
    if problems or settings is None:
        print(f"Configuration problems in {where}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2, None
    risky = warnings_for(settings)
    for warning in risky:
        print(f"Warning: {warning}", file=sys.stderr)
    print(f"Configuration OK ({where}){', with the warnings above' if risky else ''}.")
    print(_retention(settings))
    print(_risk_coverage(settings))
    return 0, settings


def _retention(settings: Settings) -> str:
    """What is kept for how long (docs/privacy.md), with "0" spelt out: unset means the same as retention."""
    storage = settings.storage
    platform = f"{storage.platform_days:g} days after closing"
    if not storage.platform_retention_days:
        platform += " (storage.platform_retention_days unset: the same as retention_days)"
    kept = storage.safeguarding_kept
    safeguarding = f"kept {kept:g} days without text or ids" if kept else "erased too (safeguarding_records off)"
    examples = settings.risk.examples_kept(storage.retention_days)
    labelled = f"kept {examples:g} days, encrypted" if examples is not None else "not kept (risk.keep_examples off)"
    return (
        f"Retention: messages in Redis {storage.retention_days:g} days; staff topics/threads on the platform "
        f"{platform}; after /forget, escalation records are {safeguarding}; labelled examples {labelled}."
    )


def _risk_coverage(settings: Settings) -> str:
    """Which languages the risk detector reads, and which people may write in without it (docs/risk.md)."""
    from routing.i18n import LANGUAGES
    from routing.risk.detector import RiskDetector

    covered = RiskDetector.from_directory(settings.risk.phrases_dir).languages
    model = " and the risk model" if settings.risk.model is not None else ""
    line = f"Risk screening covers: {', '.join(covered)} (phrase files{model})."
    limited = [lang for lang in LANGUAGES if lang not in covered]
    if limited:
        line += (
            f" People are also served in {', '.join(limited)}, where screening is limited: volunteers see a "
            "warning on those conversations."
        )
    return line


def _chat_ids(explicit: str | None) -> int:
    """Only the Telegram token is needed: this is how the staff chats' ids are found."""
    import telegram

    from bot.chat_ids import answer_chat_ids
    from bot.settings import ConfigError, load_settings

    try:
        settings = load_settings(config_path(explicit, os.environ))
    except ConfigError as exc:
        print("Configuration problems:", *(f"  - {p}" for p in exc.problems), sep="\n", file=sys.stderr)
        return 2
    if not settings.telegram.enabled or settings.telegram.token is None:
        print("set telegram.enabled = true and PEERBRIDGE_TELEGRAM__TOKEN first (docs/go-live.md)", file=sys.stderr)
        return 2

    async def _main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await answer_chat_ids(settings, stop)

    try:
        asyncio.run(_main())
    except telegram.error.InvalidToken:
        print("Telegram refused the token: copy it again from @BotFather into PEERBRIDGE_TELEGRAM__TOKEN",
              file=sys.stderr)  # fmt: skip
        return 2
    return 0


def _doctor(explicit: str | None) -> int:
    """check-config first (the live checks need a valid config), then what the platforms say."""
    from bot.doctor import examine

    code, settings = _checked(explicit)
    if settings is None:
        return code
    findings = asyncio.run(examine(settings))
    for finding in findings:
        print(finding.line())
    problems = sum(not f.ok for f in findings)
    print(f"{problems} problem(s) to fix." if problems else "Everything the platforms were asked about is ready.")
    return 1 if problems else 0


def _run(explicit: str | None, role: ProcessRole, name: str | None) -> int:

    path = config_path(explicit, os.environ)
    settings, problems = check(path)
    if settings is None or problems:
        print("peerbridge cannot start; fix these first:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2

    async def _main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await run(settings, role, stop, name)

    try:
        asyncio.run(_main())
    except (AdapterStartError, PortInUse) as exc:
        print(f"peerbridge cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


@dataclass(frozen=True, slots=True)
class DemoPorts:
    """Where `peerbridge demo` listens: Telegram sandbox, bridge web server, chat page, Discord sandbox (0: any)."""

    telegram: int
    web: int
    page: int
    discord: int


def _demo(data: Path, ports: DemoPorts, scenario_name: str | None) -> int:
    from bot.demo import run_demo
    from bot.demo_page.scenarios import ScenarioError, load_scenario

    try:
        scenario = load_scenario(scenario_name) if scenario_name else None
    except ScenarioError as exc:
        print(f"peerbridge demo: {exc}", file=sys.stderr)
        return 2

    async def _main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await run_demo(
            data, ports.telegram, ports.web, stop, page_port=ports.page, scenario=scenario, discord_port=ports.discord
        )

    try:
        asyncio.run(_main())
    except PortInUse as exc:
        reason = str(exc).removesuffix(": set web.port to a free one")
        print(f"peerbridge demo cannot start: the bridge's {reason}: use --web-port <another port>", file=sys.stderr)
        return 2
    except OSError as exc:  # a sandbox's or the page's port in use, most likely
        ports_hint = "Choose other ports (--port, --web-port, --page-port, --discord-port)."
        print(f"peerbridge demo cannot start: {exc.strerror or exc}. {ports_hint}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
