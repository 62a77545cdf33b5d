"""Builds the dashboard's parts from settings and services (the sign-in key, acknowledging escalations)."""

from __future__ import annotations

import hashlib
import hmac

from redis.asyncio import Redis

from bot import keys_at_rest
from bot.dashboard.app import Dashboard
from bot.dashboard.live import Acknowledge
from bot.services import Services, escalation_policy
from bot.settings import Settings
from routing.escalation import EscalationDesk
from routing.model import EscalationId, VolunteerId
from routing.outbox import Outbox
from routing.store.conversations import ConversationStore
from routing.store.dashboard_access import SignInLinks
from routing.store.escalations import EscalationStore
from routing.store.streams import StreamWriter


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
    return Dashboard(services.redis, signin_links(settings, services.redis), _acknowledger(settings, services))


def _acknowledger(settings: Settings, services: Services) -> Acknowledge:
    days = settings.storage.retention_days
    writer = StreamWriter(services.redis, services.cipher, services.pseudonyms, retention_days=days)
    conversations = ConversationStore(services.redis, services.cipher, retention_days=days)
    policy = escalation_policy(settings, services.roster)
    desk = EscalationDesk(
        settings.staff.platform, EscalationStore(services.redis), conversations, writer, policy, services.cipher
    )

    async def acknowledge(esc: EscalationId, by: VolunteerId) -> bool:
        member = services.roster.by_id(by)
        out = Outbox(f"dashboard-ack:{esc}:{by}")
        await desk.acknowledge(esc, by, member.name if member else by, out)
        for message in out.messages:
            await writer.emit(message)
        return True

    return acknowledge
