"""The live page: the queue, active conversations and escalations, refreshed by polling a JSON endpoint.

Rows are plain strings (pseudonyms, tiers, our own ids, durations); the page script sets them with
`textContent`, and the server-rendered first paint escapes them, so the page works without JavaScript too.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.dashboard.auth import ACKNOWLEDGERS, check_csrf, may, session_of
from bot.dashboard.html import duration, esc, hidden_csrf, page, security_headers, table
from routing.model import EscalationId, VolunteerId
from routing.store.views import ActiveRow, DashboardViews, EscalationRow, QueueRow

Acknowledge = Callable[[EscalationId, VolunteerId], Awaitable[bool]]

QUEUE_HEADINGS = ("#", "Person", "Tier", "Waiting", "Language", "Platform", "Conversation")
ACTIVE_HEADINGS = ("Person", "Volunteer", "Tier", "Duration", "Conversation")
ESCALATION_HEADINGS = ("Escalation", "Person", "Tier", "State", "Raised", "Timer", "Acknowledged by", "")


def queue_cells(row: QueueRow, now: float) -> list[str]:
    return [
        str(row.position), row.pseudonym, row.tier.label, duration(now - row.arrival), row.language or "-",
        row.platform.value if row.platform else "-", row.conversation,
    ]  # fmt: skip


def active_cells(row: ActiveRow, now: float) -> list[str]:
    return [row.pseudonym, row.volunteer, row.tier.label, duration(now - row.assigned_at), row.conversation]


def escalation_cells(row: EscalationRow, now: float) -> list[str]:
    if row.state == "acknowledged":
        timer = f"acknowledged after {duration((row.acknowledged_at or now) - row.raised_at)}"
    elif row.deadline is not None:
        left = row.deadline - now
        timer = f"{duration(left)} to acknowledge" if left >= 0 else f"overdue {duration(-left)}"
    else:
        timer = "-"
    state = row.state.replace("_", "-") + (f" (level {row.level})" if row.level else "")
    kind = " (review)" if row.review else ""
    return [
        row.id + kind, row.pseudonym or "-", row.tier.label, state, f"{duration(now - row.raised_at)} ago", timer,
        row.acknowledged_by or "-",
    ]  # fmt: skip


async def live_state(views: DashboardViews, can_ack: bool) -> dict[str, Any]:
    now = time.time()
    escalations = await views.escalations()
    return {
        "queue": [queue_cells(r, now) for r in await views.queue()],
        "active": [active_cells(r, now) for r in await views.active()],
        "escalations": [
            {
                "cells": escalation_cells(r, now),
                "tier": r.tier.label,
                "ack": r.id if can_ack and r.state != "acknowledged" else None,
            }
            for r in escalations
        ],
        "updated": time.strftime("%H:%M:%S"),
    }


def _ack_form(esc_id: str, csrf: str) -> str:
    return (
        f'<form method="post" action="/dashboard/escalations/{esc(esc_id)}/ack" class="inline">{hidden_csrf(csrf)}'
        f'<button type="submit" data-ack="{esc(esc_id)}">Acknowledge</button></form>'
    )


def _render(state: dict[str, Any], csrf: str) -> str:
    queue = table("queue", QUEUE_HEADINGS, ([esc(c) for c in r] for r in state["queue"]), "Nobody is waiting.")
    active = table(
        "active", ACTIVE_HEADINGS, ([esc(c) for c in r] for r in state["active"]), "No conversations right now."
    )
    rows = [
        [*(esc(c) for c in e["cells"]), _ack_form(e["ack"], csrf) if e["ack"] else ""] for e in state["escalations"]
    ]
    escalations = table("escalations", ESCALATION_HEADINGS, rows, "No escalations.")
    return (
        f'<p class="muted">Updated <span id="updated">{esc(state["updated"])}</span> · refreshes by itself</p>'
        f'<section><h2>Waiting <span class="count" id="queue-count">{len(state["queue"])}</span></h2>{queue}</section>'
        f'<section><h2>Active conversations <span class="count" id="active-count">{len(state["active"])}</span></h2>'
        f"{active}</section>"
        f"<section><h2>Escalations</h2>{escalations}</section>"
    )


def live_routes(views: DashboardViews, acknowledge: Acknowledge) -> list[web.RouteDef]:
    async def show(request: web.Request) -> web.Response:
        session = session_of(request)
        state = await live_state(views, may(session, ACKNOWLEDGERS))
        return page("Live", _render(state, session.csrf), csrf=session.csrf, scripts=["live.js"])

    async def api(request: web.Request) -> web.Response:
        state = await live_state(views, may(session_of(request), ACKNOWLEDGERS))
        return web.json_response(state, headers=security_headers())

    async def ack(request: web.Request) -> web.StreamResponse:
        session = session_of(request)
        form = {k: str(v) for k, v in (await request.post()).items()}
        check_csrf(request, form)
        if not may(session, ACKNOWLEDGERS):
            raise web.HTTPForbidden(text="only professionals, supervisors and coordinators acknowledge escalations")
        await acknowledge(EscalationId(request.match_info["esc"]), session.identity.volunteer)
        if request.headers.get("X-Requested-With") == "fetch":
            return web.json_response({"ok": True}, headers=security_headers())
        raise web.HTTPSeeOther("/dashboard/")

    return [
        web.get("/dashboard/", show),
        web.get("/dashboard/api/live", api),
        web.post("/dashboard/escalations/{esc}/ack", ack),
    ]
