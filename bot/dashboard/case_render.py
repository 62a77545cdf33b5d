"""A case record as HTML, in the staff language: the summary, the messages (whispers marked staff-only), the
handover notes, the tier changes, the escalation timeline, who held the conversation, and who opened the
record before. The same body serves the case page and the exported file, which carries its own print-friendly
styles (`static/case_print.css`, inlined) so it opens anywhere with nothing fetched."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from string import Template

from bot.dashboard import words
from bot.dashboard.html import esc, table
from routing.i18n import staff_language
from routing.store.case_records import CaseEntry, CaseEvent, CaseSummary, Reading

PRINT_CSS = Path(__file__).parent / "static" / "case_print.css"
MESSAGES = frozenset({CaseEvent.PERSON, CaseEvent.REPLY, CaseEvent.WHISPER})
ESCALATION_EVENTS = frozenset({
    CaseEvent.ESCALATION_RAISED, CaseEvent.ESCALATION_UPDATED, CaseEvent.ESCALATION_LEVEL,
    CaseEvent.ESCALATION_ACKNOWLEDGED, CaseEvent.FALSE_ALARM,
})  # fmt: skip
HOLDING = {
    CaseEvent.ASSIGNED: words.ASSIGNED, CaseEvent.TRANSFERRED: words.TRANSFERRED, CaseEvent.TAKEN_OVER:
    words.TAKEN_OVER, CaseEvent.RELEASED: words.RELEASED, CaseEvent.CLOSED: words.CLOSED_EVENT,
}  # fmt: skip

_EXPORT = Template("""<!doctype html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>$title · peerbridge</title>
<style>
$css</style>
</head>
<body>
<h1>$title</h1>
<p class="exported">$exported</p>
$body
</body>
</html>
""")


def when(at: float) -> str:
    """A moment as the record shows it, in UTC (a review compares records kept in different places)."""
    return words.when(datetime.fromtimestamp(at, UTC), "yyyy-MM-dd HH:mm:ss") + " UTC"


def who(by: str) -> str:
    """A staff id as it is, or what did it when nobody on staff did ("the risk detector")."""
    return words.t(words.BY_WHOM[by]) if by in words.BY_WHOM else by or "-"


def _words(entry: CaseEntry) -> str:
    files = int(entry.detail.get("attachments", "0"))
    attached = words.counted(words.ATTACHMENTS, files) if files else ""
    return " ".join(part for part in (entry.text, attached) if part)


def _message_row(entry: CaseEntry, summary: CaseSummary) -> tuple[list[str], dict[str, str]]:
    if entry.event == CaseEvent.PERSON:
        author: str = summary.pseudonym
    elif entry.event == CaseEvent.WHISPER:
        author = words.t(words.WHISPER_BY, staff=entry.by)
    else:
        author = words.t(words.REPLY_BY, staff=entry.by)
    cells = [esc(when(entry.at)), esc(author), f'<span class="words">{esc(_words(entry))}</span>']
    return cells, {"class": f"message {entry.event.value}"}


def _escalation(entry: CaseEntry) -> str:
    d, t = entry.detail, words.t
    esc_id, tier, level = d.get("escalation", "?"), d.get("tier", ""), d.get("level", "")
    if entry.event == CaseEvent.ESCALATION_RAISED:
        return t(
            words.REVIEW_RAISED if d.get("review") == "1" else words.ESCALATION_RAISED, escalation=esc_id, tier=tier
        )
    if entry.event == CaseEvent.ESCALATION_UPDATED:
        return t(words.ESCALATION_UPDATED, escalation=esc_id, tier=tier)
    if entry.event == CaseEvent.ESCALATION_LEVEL:
        said = words.ESCALATION_UNANSWERED if d.get("final") == "1" else words.ESCALATION_LEVEL
        return t(said, escalation=esc_id, level=level)
    if entry.event == CaseEvent.ESCALATION_ACKNOWLEDGED:
        return t(words.ESCALATION_ACKNOWLEDGED, escalation=esc_id)
    return t(words.FALSE_ALARM, escalation=esc_id)


def _holding(entry: CaseEntry) -> str:
    if entry.event == CaseEvent.CLOSED and "blocked" in entry.detail:
        return words.t(words.BLOCKED)
    return words.t(HOLDING[entry.event], staff=entry.detail.get("to", ""))


def _section(title: str, table_html: str, section_id: str) -> str:
    return f'<section id="{esc(section_id)}"><h2>{esc(title)}</h2>{table_html}</section>'


def _events(table_id: str, entries: Sequence[CaseEntry], what: Callable[[CaseEntry], str], empty: str) -> str:
    """A table of events: when, what, by whom."""
    headings = [words.t(words.WHEN), words.t(words.WHAT), words.t(words.BY)]
    rows = [[esc(when(e.at)), esc(what(e)), esc(who(e.by))] for e in entries]
    return table(table_id, headings, rows, words.t(empty))


def _summary(summary: CaseSummary) -> str:
    t = words.t
    closed = when(summary.closed) if summary.closed is not None else t(words.STILL_OPEN)
    pairs = [
        (t(words.CONVERSATION), summary.conversation), (t(words.PERSON), summary.pseudonym),
        (t(words.OPENED), when(summary.opened)), (t(words.CLOSED), closed),
        (t(words.HIGHEST_TIER), summary.tier.label), (t(words.HELD_BY), ", ".join(summary.staff) or "-"),
    ]  # fmt: skip
    return '<dl class="case-summary">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs) + "</dl>"


def case_body(summary: CaseSummary, entries: Sequence[CaseEntry], before: Sequence[Reading]) -> str:
    """The record as HTML sections (the case page's body, and the exported file's)."""
    t = words.t
    said = [_message_row(e, summary) for e in entries if e.event in MESSAGES]
    headings = [t(words.WHEN), t(words.WHO), t(words.MESSAGES)]
    messages = table("messages", headings, [cells for cells, _ in said], t(words.NO_MESSAGES),
                     row_attributes=[attributes for _, attributes in said])  # fmt: skip
    notes = [e for e in entries if e.event == CaseEvent.NOTE]
    note_rows = [[esc(when(e.at)), f'<span class="words">{esc(e.text)}</span>', esc(who(e.by))] for e in notes]
    notes_table = table("notes", [t(words.WHEN), t(words.HANDOVER_NOTES), t(words.BY)], note_rows, t(words.NO_NOTES))
    tiers = [e for e in entries if e.event == CaseEvent.TIER]
    rose = _events("tiers", tiers, lambda e: t(words.TIER_ROSE, before=e.detail.get("before", ""),
                                              tier=e.detail.get("tier", "")), words.NO_TIER_CHANGES)  # fmt: skip
    timeline = _events("escalations", [e for e in entries if e.event in ESCALATION_EVENTS], _escalation,
                       words.NO_ESCALATIONS)  # fmt: skip
    holding = _events("holding", [e for e in entries if e.event in HOLDING], _holding, words.NO_HOLDING)
    readers = [[esc(when(r.at)), esc(t(words.READ_EVENTS.get(r.event, r.event))), esc(r.by)] for r in before]
    opened = table("opened-before", [t(words.WHEN), t(words.WHAT), t(words.BY)], readers, t(words.NOBODY_BEFORE))
    return (
        _summary(summary)
        + _section(t(words.MESSAGES), messages, "record-messages")
        + _section(t(words.HANDOVER_NOTES), notes_table, "record-notes")
        + _section(t(words.TIER_CHANGES), rose, "record-tiers")
        + _section(t(words.ESCALATION_TIMELINE), timeline, "record-escalations")
        + _section(t(words.HOLDING), holding, "record-holding")
        + _section(t(words.OPENED_BEFORE), opened, "record-readings")
    )


def export_document(
    summary: CaseSummary, entries: Sequence[CaseEntry], before: Sequence[Reading], by: str, now: datetime
) -> str:
    """The record as one self-contained HTML file: inline print styles, no scripts, no links to fetch."""
    title = words.t(words.CASE, conversation=summary.conversation)
    exported = words.t(words.EXPORTED, time=when(now.timestamp()), staff=by)
    return _EXPORT.substitute(
        lang=esc(staff_language()), title=esc(title), css=PRINT_CSS.read_text(encoding="utf-8"),
        exported=esc(exported), body=case_body(summary, entries, before),
    )  # fmt: skip
