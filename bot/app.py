"""`peerbridge run`: starts the roles of one process and owns the event loop and its tasks."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import gc
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bot.check_config import read_rota
from bot.dashboard.wiring import signin_links
from bot.pager import Pager
from bot.platforms import Gateway, start_gateway
from bot.services import Services, escalation_policy, start_services
from bot.settings import Settings
from bot.wiring import RoutingStack, build_routing
from routing.rota import RotaError
from routing.silence_watch import SilencePolicy
from routing.store import keys
from routing.store.escalations import EscalationStore
from routing.store.rota_store import RotaConflict, RotaStore
from routing.store.worker import StreamWorker, WorkerOptions

log = logging.getLogger(__name__)

NO_PLATFORM = (
    "No messaging platform is enabled, so nobody can reach this bridge yet. To connect Telegram, set "
    "telegram.enabled = true and the environment variable PEERBRIDGE_TELEGRAM__TOKEN; for Discord, "
    "discord.enabled = true and PEERBRIDGE_DISCORD__TOKEN. The router keeps running meanwhile."
)


class ProcessRole(enum.StrEnum):
    """Which parts this process runs; Redis is the only state shared between processes."""

    ALL = "all"
    GATEWAY = "gateway"  # platform adapters: ingest and delivery
    ROUTER = "router"  # routing and escalation workers


TaskFactory = Callable[[asyncio.Event], Awaitable[None]]
SHUTDOWN_GRACE = 5.0


async def run(
    settings: Settings,
    role: ProcessRole,
    stop: asyncio.Event | None = None,
    name: str | None = None,
    *,
    rate_limits: bool = True,
) -> None:
    """Run until `stop` is set (SIGINT/SIGTERM set it when running from the CLI).

    `name` identifies this process in the consumer groups; keep it stable across restarts (the default is
    the host name and role) so a restarted process resumes its own unfinished entries at once.
    """
    stop = stop or asyncio.Event()
    quiet_noisy_loggers()
    services = await asyncio.to_thread(start_services, settings)
    process = name or f"{socket.gethostname()}-{role}"
    if role in (ProcessRole.ALL, ProcessRole.ROUTER):
        await seed_live_rota(settings.rota.file, RotaStore(services.redis))
    gateway: Gateway | None = None
    try:
        factories = _role_tasks(settings, role, services, process)
        if role in (ProcessRole.ALL, ProcessRole.GATEWAY):
            gateway = await start_gateway(settings, services, process, rate_limits=rate_limits)
            factories += gateway.tasks
        # Everything loaded so far (the risk detector's phrase automaton, SDK modules, settings) lives as long as
        # the process: freezing it keeps the collector from rescanning it. Unfrozen, each full collection took
        # 61-76 ms in the relay benchmark, and a risk alert caught behind one waited that long.
        gc.freeze()
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_owned(n, f, stop), name=n) for n, f in factories]
            group.create_task(_bounded_shutdown(stop, tasks), name="shutdown-watchdog")
            log.info("peerbridge is running (role %s, %d tasks); Ctrl-C stops it", role, len(factories))
    finally:
        log.info("stopping")
        if gateway is not None:
            await gateway.close()
        await services.close()
        log.info("stopped")


async def seed_live_rota(path: Path, rotas: RotaStore) -> None:
    """On the very first start the live rota is empty: load it from the rota file, so shifts, on-call cover and
    the dashboard's Rota page work without a separate `peerbridge rota import`. A live rota is never replaced
    (coordinators change it with /shift, /oncall, … or the dashboard; `rota import` replaces it on purpose)."""
    if await rotas.load() is not None:
        return
    rota = read_rota(path)
    if rota is None:
        return
    try:
        version = await rotas.save(rota, expected_version=0, by="first start")
    except RotaConflict:
        return  # another process of this deployment loaded it a moment ago
    except RotaError as exc:
        log.warning("the rota file was not loaded into the live rota: %d problem(s); see peerbridge rota check",
                    len(exc.problems))  # fmt: skip
        return
    log.info("the live rota was empty: loaded from the rota file (version %d)", version)


def _role_tasks(settings: Settings, role: ProcessRole, services: Services, name: str) -> list[tuple[str, TaskFactory]]:
    tasks: list[tuple[str, TaskFactory]] = []
    if role in (ProcessRole.ALL, ProcessRole.ROUTER):
        stack = build_routing(
            services.redis, services.router_config, services.cipher, services.pseudonyms, services.detector,
            services.roster, consumer=name,
            aging_seconds=settings.routing.aging_minutes * 60,
            policy=escalation_policy(settings, services.roster), resources=services.resources,
            position_gap=settings.routing.position_update_minutes * 60,
            links=signin_links(settings, services.redis), scenarios=services.scenarios, coping=services.coping,
            silence=SilencePolicy(
                volunteer_silence=settings.routing.volunteer_silence_minutes * 60,
                person_silence=settings.routing.person_silence_hours * 3600,
            ),
        )  # fmt: skip
        tasks += [
            ("inbound", stack.inbound_worker.run),
            ("inbound-urgent", stack.urgent_worker.run),
            ("escalations", stack.escalation_worker.run),
            ("escalation-deadlines", stack.escalations.run_deadlines),
            ("queue-positions", stack.positions.run),
            ("coverage-watch", stack.coverage.run),
            ("silence-watch", stack.silence.run),
            ("platform-retention", stack.platform_sweep.run),
            ("training-steps", stack.training.run_deadlines),
        ]
        if settings.escalation.webhook_url:
            tasks.append(("pager", _pager_task(settings, services, stack, name)))
    if role in (ProcessRole.ALL, ProcessRole.GATEWAY) and not (settings.telegram.enabled or settings.discord.enabled):
        log.warning(NO_PLATFORM)
    return tasks


def _pager_task(settings: Settings, services: Services, stack: RoutingStack, name: str) -> TaskFactory:
    secret = settings.escalation.webhook_secret
    key = secret.get_secret_value().encode() if secret else b""

    async def run_pager(stop: asyncio.Event) -> None:
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            pager = Pager(settings.escalation.webhook_url, key, EscalationStore(services.redis), session)
            worker = StreamWorker(
                services.redis, stack.writer, keys.ESCALATIONS, "pager", name, pager.handle,
                WorkerOptions(claim_idle_ms=10_000),
            )  # fmt: skip
            await worker.run(stop)

    return run_pager


async def _owned(name: str, factory: TaskFactory, stop: asyncio.Event) -> None:
    """Every task has an owner: a failure is logged and stops the whole process instead of vanishing."""
    try:
        await factory(stop)
    except Exception:
        log.exception("task %s failed; stopping", name)
        stop.set()
        raise


async def _bounded_shutdown(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """After `stop`, give tasks SHUTDOWN_GRACE seconds to finish cleanly, then name and cancel stragglers."""
    await stop.wait()
    _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
    for task in pending:
        log.warning("task %s did not stop within %.0f s; cancelling it", task.get_name(), SHUTDOWN_GRACE)
        task.cancel()


def quiet_noisy_loggers() -> None:
    """httpx logs every request URL at INFO, and Telegram's URLs contain the bot token."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
