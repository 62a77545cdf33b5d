"""The live page: the queue, active conversations and escalations, refreshed by polling a JSON endpoint.

Rows are plain strings (pseudonyms, tiers, our own ids, durations, words in the staff language); the page script
sets them with `textContent`, and the server-rendered first paint escapes them, so the page works without
JavaScript too. The script reads the words it adds itself (an empty table's sentence, the Acknowledge button,
the announcement of a new escalation) from the tables' `data-` attributes, so it needs no translations of its own.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.dashboard import words
from bot.dashboard.auth import ACKNOWLEDGERS, may, permitted_form, session_of
from bot.dashboard.html import ago, duration, esc, hidden_csrf, page, security_headers, table
from routing.i18n import staff_language, translate
from routing.model import EscalationId, VolunteerId
from routing.store.views import ActiveRow, DashboardViews, EscalationRow, QueueRow

Acknowledge = Callable[[EscalationId, VolunteerId], Awaitable[bool]]

# The headings' English message ids, translated when a page is rendered ("#" and the empty heading over the
# buttons are not words).
QUEUE_HEADINGS = (
    "#", words.PERSON, words.TIER, words.WAITING, words.LANGUAGE, words.PLATFORM, words.CONVERSATION,
)  # fmt: skip
ACTIVE_HEADINGS = (words.PERSON, words.VOLUNTEER, words.TIER, words.DURATION, words.CONVERSATION)
ESCALATION_HEADINGS = (
    words.ESCALATION, words.PERSON, words.TIER, words.STATE, words.RAISED, words.TIMER, words.ACKNOWLEDGED_BY, "",
)  # fmt: skip


def _headings(marked: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(words.t(h) if h not in ("", "#") else h for h in marked)


def queue_cells(row: QueueRow, now: float) -> list[str]:
    return [
        str(row.position), row.pseudonym, row.tier.label, duration(now - row.arrival), row.language or "-",
        row.platform.value if row.platform else "-", row.conversation,
    ]  # fmt: skip


def active_cells(row: ActiveRow, now: float) -> list[str]:
    return [row.pseudonym, row.volunteer, row.tier.label, duration(now - row.assigned_at), row.conversation]


def escalation_cells(row: EscalationRow, now: float) -> list[str]:
    if row.state == "acknowledged":
        timer = words.t(words.ACKNOWLEDGED_AFTER, duration=duration((row.acknowledged_at or now) - row.raised_at))
    elif row.deadline is not None:
        left = row.deadline - now
        timer = (
            words.t(words.TO_ACKNOWLEDGE, duration=duration(left))
            if left >= 0
            else words.t(words.OVERDUE, duration=duration(-left))
        )
    else:
        timer = "-"
    known = words.ESCALATION_STATES.get(row.state)
    state = words.t(known) if known else row.state.replace("_", "-")
    if row.level:
        state = words.t(words.AT_LEVEL, state=state, level=row.level)
    escalation = words.t(words.REVIEW, escalation=row.id) if row.review else row.id
    return [
        escalation, row.pseudonym or "-", row.tier.label, state, ago(now - row.raised_at), timer,
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
                "id": r.id,
                "tier": r.tier.label,
                "state": "acknowledged" if r.state == "acknowledged" else "open",
                "pseudonym": r.pseudonym or "-",
                "ack": r.id if can_ack and r.state != "acknowledged" else None,
            }
            for r in escalations
        ],
        "updated": time.strftime("%H:%M:%S"),
    }


def _ack_form(esc_id: str, csrf: str) -> str:
    return (
        f'<form method="post" action="/dashboard/escalations/{esc(esc_id)}/ack" class="inline">{hidden_csrf(csrf)}'
        f'<button type="submit" data-ack="{esc(esc_id)}">{esc(words.t(words.ACKNOWLEDGE))}</button></form>'
    )


def _render(state: dict[str, Any], csrf: str) -> str:
    t = words.t
    queue_rows = ([esc(c) for c in r] for r in state["queue"])
    queue = table("queue", _headings(QUEUE_HEADINGS), queue_rows, t(words.NOBODY_WAITING))
    active_rows = ([esc(c) for c in r] for r in state["active"])
    active = table("active", _headings(ACTIVE_HEADINGS), active_rows, t(words.NO_CONVERSATIONS))
    rows = [
        [*(esc(c) for c in e["cells"]), _ack_form(e["ack"], csrf) if e["ack"] else ""] for e in state["escalations"]
    ]
    escalations = table(
        "escalations", _headings(ESCALATION_HEADINGS), rows, t(words.NO_ESCALATIONS),
        # the label of the buttons the page script adds, and what it announces when an escalation arrives
        data={"ack-label": t(words.ACKNOWLEDGE), "announce": translate(staff_language(), words.NEW_ESCALATION)},
        # open and acknowledged escalations look different (and say so in the state column)
        row_attributes=[
            {"class": f"tier-{e['tier']} state-{e['state']}", "data-esc": e["id"]} for e in state["escalations"]
        ],
    )  # fmt: skip
    updated = words.markup(words.UPDATED, time=f'<span id="updated">{esc(state["updated"])}</span>')
    return (
        f'<p class="muted">{updated}</p>'
        # read out by screen readers when the page script puts a new escalation's words in it
        '<p id="announce" class="visually-hidden" role="alert" aria-live="assertive" aria-atomic="true"></p>'
        f'<section><h2>{esc(t(words.WAITING))} <span class="count" id="queue-count">{len(state["queue"])}</span></h2>'
        f"{queue}</section>"
        f"<section><h2>{esc(t(words.ACTIVE_CONVERSATIONS))} "
        f'<span class="count" id="active-count">{len(state["active"])}</span></h2>{active}</section>'
        f"<section><h2>{esc(t(words.ESCALATIONS))}</h2>{escalations}</section>"
    )


def live_routes(views: DashboardViews, acknowledge: Acknowledge) -> list[web.RouteDef]:
    async def show(request: web.Request) -> web.Response:
        session = session_of(request)
        state = await live_state(views, may(session, ACKNOWLEDGERS))
        return page(words.t(words.LIVE), _render(state, session.csrf), csrf=session.csrf, scripts=["live.js"])

    async def api(request: web.Request) -> web.Response:
        state = await live_state(views, may(session_of(request), ACKNOWLEDGERS))
        return web.json_response(state, headers=security_headers())

    async def ack(request: web.Request) -> web.StreamResponse:
        session = session_of(request)
        await permitted_form(request, ACKNOWLEDGERS, words.t(words.ACK_FORBIDDEN))
        await acknowledge(EscalationId(request.match_info["esc"]), session.identity.volunteer)
        if request.headers.get("X-Requested-With") == "fetch":
            return web.json_response({"ok": True}, headers=security_headers())
        raise web.HTTPSeeOther("/dashboard/")

    return [
        web.get("/dashboard/", show),
        web.get("/dashboard/api/live", api),
        web.post("/dashboard/escalations/{esc}/ack", ack),
    ]
