"""The rota in plain text, for `/rota`, `/oncall` and `peerbridge rota show` (pure).

Times are shown on the rota's wall clock; a stretch ending at the midnight that closes the day shows 24:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from routing.i18n import S_
from routing.rota.clock import ONE_DAY, local_day_bounds, utc
from routing.rota.maths import Gap, GapKind, coverage, duties_on, gaps, on_call, on_shift, oncall_on
from routing.rota.model import Cover, Rota
from routing.rota.words import day_and_time, day_heading, say, weekday_of

_VOLUNTEER_GAPS = (GapKind.NO_VOLUNTEER,)
_ONCALL_GAPS = (GapKind.NO_ONCALL, GapKind.NO_BACKUP)


def render_rota(rota: Rota, now: datetime, day: date | None = None) -> str:
    """`day` (default: today where the rota is) and the day after, with gaps; "now" lines when `day` is today."""
    today = utc(now).astimezone(rota.zone).date()
    first = day or today
    lines = [say(S_("Rota ({timezone})"), timezone=rota.timezone)]
    titles: tuple[str | None, str | None] = (None, None)
    if first == today:
        lines += _now_lines(rota, now)
        titles = (say(S_("Today")), say(S_("Tomorrow")))
    for offset, title in enumerate(titles):
        shown = first + timedelta(days=offset)
        lines += ["", *render_day(rota, shown, title)]
    return "\n".join(lines)


def _now_lines(rota: Rota, now: datetime) -> list[str]:
    here = sorted(on_shift(rota, now))
    call = on_call(rota, now)
    professional = call.primary or say(S_("NOBODY"))
    return [
        say(S_("Now on shift: {volunteers}"), volunteers=", ".join(here) or say(S_("nobody"))),
        say(S_("Now on call: {professional}{backup}"), professional=professional, backup=_backup(call.backup)),
    ]


def _backup(backup: str | None) -> str:
    return say(S_(", backup {backup}"), backup=backup) if backup else say(S_(", no backup"))


def render_day(rota: Rota, day: date, title: str | None = None) -> list[str]:
    """One local day: who is on shift, the volunteer gaps, on call and its gaps, and a DST note."""
    start, end = local_day_bounds(day, rota.zone)
    heading = say(S_("{day} ({title})"), day=day_heading(day), title=title) if title else day_heading(day)
    lines = [heading]
    note = _clock_change(rota, day)
    if note:
        lines.append(f"  {note}")
    day_gaps = coverage(rota, day)
    lines.append("  " + say(S_("On shift:")))
    shifts = duties_on(rota, day)
    lines += [f"    {_stretch(rota, d.start, d.end, start, end)} {d.volunteer}{_kind(d.source)}" for d in shifts]
    if not shifts:
        lines.append("    " + say(S_("nobody")))
    lines += _gap_lines(rota, [g for g in day_gaps if g.kind in _VOLUNTEER_GAPS], end)
    lines.append("  " + say(S_("On call:")))
    calls = oncall_on(rota, day)
    for span in calls:
        who = span.primary or say(S_("NOBODY (professional absent)"))
        lines.append(f"    {_stretch(rota, span.start, span.end, start, end)} {who}{_backup(span.backup)}")
    if not calls:
        lines.append("    " + say(S_("nobody")))
    lines += _gap_lines(rota, [g for g in day_gaps if g.kind in _ONCALL_GAPS], end)
    return lines


def _gap_lines(rota: Rota, day_gaps: list[Gap], day_end: datetime) -> list[str]:
    return [
        "  " + say(S_("GAP {start}-{end}: {what}"), start=_clock(rota, g.start, day_end),
                   end=_clock(rota, g.end, day_end), what=g.kind.description)
        for g in day_gaps
    ]  # fmt: skip


def _stretch(rota: Rota, start: datetime, end: datetime, day_start: datetime, day_end: datetime) -> str:
    text = f"{_clock(rota, start, day_end)}-{_clock(rota, end, day_end)}"
    if start < day_start:
        text += " " + say(S_("(from {weekday})"), weekday=weekday_of(start, rota.zone))
    elif end > day_end:
        text += " " + say(S_("(into the next day)"))
    return text


def _clock(rota: Rota, at: datetime, day_end: datetime) -> str:
    return "24:00" if at == day_end else f"{at.astimezone(rota.zone):%H:%M}"


def _kind(source: object) -> str:
    return " " + say(S_("(cover)")) if isinstance(source, Cover) else ""


def _clock_change(rota: Rota, day: date) -> str | None:
    start, end = local_day_bounds(day, rota.zone)
    hours = (end - start) / timedelta(hours=1)
    if hours < 24:
        return say(S_("Clocks go forward today: the day has {hours:g} hours."), hours=hours)
    if hours > 24:
        return say(S_("Clocks go back today: the day has {hours:g} hours."), hours=hours)
    return None


def render_oncall(rota: Rota, now: datetime) -> str:
    """`/oncall`: who is on call now, the weekly blocks, and on-call gaps in the coming week."""
    lines = [say(S_("On call ({timezone})"), timezone=rota.timezone), *_now_lines(rota, now)[1:], ""]
    lines.append(say(S_("Weekly blocks:")))
    lines += [f"  {block.label}" for block in rota.oncall] or ["  " + say(S_("none"))]
    ahead = [g for g in gaps(rota, now, utc(now) + 7 * ONE_DAY) if g.kind in _ONCALL_GAPS]
    lines += ["", say(S_("Gaps in the next 7 days:")) if ahead else say(S_("No on-call gaps in the next 7 days."))]
    for gap in ahead:
        start, end = day_and_time(gap.start, rota.zone), day_and_time(gap.end, rota.zone)
        lines.append(f"  {start} - {end}: {gap.kind.description}")
    return "\n".join(lines)
