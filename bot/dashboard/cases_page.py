"""The Cases page and one case's record, for a safeguarding review, and its export as one HTML file.

Supervisors, coordinators and professionals may open any case; anyone else only the conversations they hold
now (assigned to them and open): a volunteer needs their own conversation's history, not other people's.
The record is decrypted on the server for one response (never cached: `Cache-Control: no-store`), and every
opening and export is written to the audit log (ids only), which the case page reads back to show who opened
it before. Rendering is in `case_render.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from bot.dashboard import words
from bot.dashboard.auth import may, session_of
from bot.dashboard.case_render import case_body, export_document, when
from bot.dashboard.html import esc, page, security_headers, table
from routing.model import ConversationId, ConversationState, Role
from routing.store.case_records import CaseRecords, CaseSummary
from routing.store.dashboard_access import DashboardSession
from routing.store.streams import StreamWriter

CASE_READERS = frozenset({Role.SUPERVISOR, Role.COORDINATOR, Role.PROFESSIONAL})
LIST_HEADINGS = (words.CONVERSATION, words.PERSON, words.OPENED, words.CLOSED, words.HIGHEST_TIER, words.HELD_BY)
# The export is opened from a file: its own inline styles and nothing else, no script, nothing fetched.
EXPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True, slots=True)
class CaseDesk:
    """What the case pages need: the records, and the audit log every opening and export is written to."""

    records: CaseRecords
    audit: StreamWriter


def may_open(session: DashboardSession, summary: CaseSummary) -> bool:
    """Overseers: any case. Anyone else: a conversation they hold now."""
    if may(session, CASE_READERS):
        return True
    return summary.state == ConversationState.ACTIVE and summary.holder == session.identity.volunteer


def _row(summary: CaseSummary) -> list[str]:
    link = f'<a href="/dashboard/cases/{esc(summary.conversation)}">{esc(summary.conversation)}</a>'
    closed = when(summary.closed) if summary.closed is not None else words.t(words.STILL_OPEN)
    cells = [summary.pseudonym, when(summary.opened), closed, summary.tier.label, ", ".join(summary.staff) or "-"]
    return [link, *(esc(c) for c in cells)]


def _refused(status: int, title: str, said: str, csrf: str) -> web.Response:
    response = page(title, f'<p class="problems" id="refused">{esc(said)}</p>', csrf=csrf)
    response.set_status(status)
    return response


def case_routes(desk: CaseDesk) -> list[web.RouteDef]:
    async def listing(request: web.Request) -> web.Response:
        session = session_of(request)
        everyone = may(session, CASE_READERS)
        shown = [s for s in await desk.records.summaries() if everyone or may_open(session, s)]
        explained = words.t(words.CASES_EXPLAINED if everyone else words.YOUR_CASES_EXPLAINED)
        rows = [_row(s) for s in shown]
        headings = [words.t(h) for h in LIST_HEADINGS]
        body = f'<p class="muted">{esc(explained)}</p>' + table("cases", headings, rows, words.t(words.NO_CASES))
        return page(words.t(words.CASES), body, csrf=session.csrf)

    async def readable(request: web.Request) -> tuple[ConversationId, CaseSummary] | web.Response:
        """The case the request names, or the refusal page: a 403 that says why (also for a case that does not
        exist, to anyone who may not open every case: whether it exists is not theirs to learn)."""
        session = session_of(request)
        conv = ConversationId(request.match_info["conv"])
        summary = await desk.records.summary(conv)
        if summary is not None and may_open(session, summary):
            return conv, summary
        if summary is None and may(session, CASE_READERS):
            said = words.t(words.NO_CASE, conversation=conv)
            return _refused(404, words.t(words.NOT_FOUND), said, session.csrf)
        return _refused(403, words.t(words.NOT_ALLOWED), words.t(words.CASE_FORBIDDEN), session.csrf)

    async def show(request: web.Request) -> web.Response:
        found = await readable(request)
        if isinstance(found, web.Response):
            return found
        conv, summary = found
        session = session_of(request)
        before = await desk.records.readings(conv, summary.opened)  # read first: this opening is not "before"
        entries = await desk.records.entries(conv)
        await desk.audit.audit("case_opened", conversation=conv, by=session.identity.volunteer)
        export = f'<p><a id="export" href="/dashboard/cases/{esc(conv)}/export">{esc(words.t(words.EXPORT))}</a></p>'
        body = export + case_body(summary, entries, before)
        return page(words.t(words.CASE, conversation=conv), body, csrf=session.csrf)

    async def export(request: web.Request) -> web.Response:
        found = await readable(request)
        if isinstance(found, web.Response):
            return found
        conv, summary = found
        session = session_of(request)
        before = await desk.records.readings(conv, summary.opened)
        entries = await desk.records.entries(conv)
        await desk.audit.audit("case_exported", conversation=conv, by=session.identity.volunteer)
        document = export_document(summary, entries, before, session.identity.volunteer, datetime.now(UTC))
        headers = {
            **security_headers(),
            "Content-Security-Policy": EXPORT_CSP,
            "Content-Disposition": f'attachment; filename="case-{conv}.html"',
        }
        return web.Response(text=document, content_type="text/html", headers=headers)

    return [
        web.get("/dashboard/cases", listing),
        web.get("/dashboard/cases/{conv:c-[0-9]+}", show),
        web.get("/dashboard/cases/{conv:c-[0-9]+}/export", export),
    ]
