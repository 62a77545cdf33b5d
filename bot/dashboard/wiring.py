"""Builds the dashboard's parts from settings and services (the sign-in key, acknowledging escalations)."""

from __future__ import annotations

import hashlib
import hmac

from redis.asyncio import Redis

from bot import keys_at_rest
from bot.dashboard.app import Dashboard
from bot.dashboard.cases_page import CaseDesk
from bot.dashboard.live import Acknowledge
from bot.dashboard.practice import PracticeBoard
from bot.services import Services, escalation_policy
from bot.settings import Settings
from routing.escalation import EscalationDesk
from routing.model import EscalationId, VolunteerId
from routing.outbox import Outbox
from routing.roster import Roster
from routing.rota import roster_of
from routing.store.case_records import CaseRecords
from routing.store.conversations import ConversationStore
from routing.store.coping_edits import CopingEdits
from routing.store.dashboard_access import SignInLinks
from routing.store.duty import DutyRoster
from routing.store.escalations import EscalationStore
from routing.store.rota_store import RotaStore
from routing.store.streams import StreamWriter
from routing.store.training import TrainingStore
from routing.training.desk import TrainingDesk


def signin_key(settings: Settings) -> bytes:
    """The key that signs sign-in links: derived from the pseudonym secret, so every process agrees on it."""
    secret = keys_at_rest.pseudonym_secret(settings.security.pseudonym_secret, settings.storage.dir)
    return hmac.new(secret, b"peerbridge dashboard sign-in", hashlib.sha256).digest()


def dashboard_url(settings: Settings) -> str:
    """Where sign-in links point: `web.public_url`, or this machine's own address for a local run."""
    return settings.web.link_base


def signin_links(settings: Settings, redis: Redis) -> SignInLinks:
    """What the router needs to answer `/dashboard` with a private one-time link."""
    return SignInLinks(redis, signin_key(settings), dashboard_url(settings))


def build_dashboard(settings: Settings, services: Services) -> Dashboard:
    links = signin_links(settings, services.redis)
    return Dashboard(
        services.redis, links, _acknowledger(settings, services), _practice(settings, services),
        screened=services.detector.languages, cases=_cases(settings, services), coping=services.coping,
        coping_edits=CopingEdits(services.redis, services.cipher), examples_kept=settings.risk.keep_examples,
    )  # fmt: skip


def _cases(settings: Settings, services: Services) -> CaseDesk:
    """Case records for a safeguarding review, with the audit log that every opening is written to."""
    days = settings.storage.retention_days
    records = CaseRecords(services.redis, services.cipher, retention_days=days)
    return CaseDesk(records, StreamWriter(services.redis, services.cipher, services.pseudonyms, retention_days=days))


def _practice(settings: Settings, services: Services) -> PracticeBoard:
    """Practice sessions started from the dashboard, with the same desk and live roster as the routers'."""
    days = settings.storage.retention_days
    writer = StreamWriter(services.redis, services.cipher, services.pseudonyms, retention_days=days)
    store = TrainingStore(services.redis, retention_days=days)
    desk = TrainingDesk(settings.staff.platform, store, writer, services.scenarios)
    duty = DutyRoster(services.redis, RotaStore(services.redis))

    async def roster() -> Roster:
        rota = await duty.rota()  # the live rota, as the routers read it; the roster file until one is imported
        return roster_of(rota, services.pseudonyms) if rota is not None else services.roster

    return PracticeBoard(settings.staff.platform, desk, store, services.scenarios, writer, roster)


def _acknowledger(settings: Settings, services: Services) -> Acknowledge:
    days = settings.storage.retention_days
    writer = StreamWriter(services.redis, services.cipher, services.pseudonyms, retention_days=days)
    conversations = ConversationStore(services.redis, services.cipher, retention_days=days)
    policy = escalation_policy(settings, services.roster)
    cases = CaseRecords(services.redis, services.cipher, retention_days=days)  # an acknowledgement is recorded
    desk = EscalationDesk(
        settings.staff.platform, EscalationStore(services.redis), conversations, writer, cases, policy, services.cipher
    )

    async def acknowledge(esc: EscalationId, by: VolunteerId) -> bool:
        member = services.roster.by_id(by)
        out = Outbox(f"dashboard-ack:{esc}:{by}")
        await desk.acknowledge(esc, by, member.name if member else by, out)
        for message in out.messages:
            await writer.emit(message)
        return True

    return acknowledge
