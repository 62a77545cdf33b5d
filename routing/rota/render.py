"""The rota in plain text, for `/rota`, `/oncall` and `peerbridge rota show` (pure).

Times are shown on the rota's wall clock; a stretch ending at the midnight that closes the day shows 24:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from routing.rota.clock import ONE_DAY, local_day_bounds, utc
from routing.rota.maths import Gap, GapKind, coverage, duties_on, gaps, on_call, on_shift, oncall_on
from routing.rota.model import Cover, Rota

_VOLUNTEER_GAPS = (GapKind.NO_VOLUNTEER,)
_ONCALL_GAPS = (GapKind.NO_ONCALL, GapKind.NO_BACKUP)


def render_rota(rota: Rota, now: datetime, day: date | None = None) -> str:
    """`day` (default: today where the rota is) and the day after, with gaps; "now" lines when `day` is today."""
    today = utc(now).astimezone(rota.zone).date()
    first = day or today
    lines = [f"Rota ({rota.timezone})"]
    if first == today:
        lines += _now_lines(rota, now)
    for offset, title in ((0, "Today" if first == today else None), (1, "Tomorrow" if first == today else None)):
        shown = first + timedelta(days=offset)
        lines += ["", *render_day(rota, shown, title)]
    return "\n".join(lines)


def _now_lines(rota: Rota, now: datetime) -> list[str]:
    here = sorted(on_shift(rota, now))
    call = on_call(rota, now)
    backup = f", backup {call.backup}" if call.backup else ", no backup"
    professional = f"{call.primary}{backup}" if call.primary else f"NOBODY{backup}"
    return [f"Now on shift: {', '.join(here) or 'nobody'}", f"Now on call: {professional}"]


def render_day(rota: Rota, day: date, title: str | None = None) -> list[str]:
    """One local day: who is on shift, the volunteer gaps, on call and its gaps, and a DST note."""
    start, end = local_day_bounds(day, rota.zone)
    heading = f"{day:%a %d %b %Y}" + (f" ({title})" if title else "")
    lines = [heading]
    note = _clock_change(rota, day)
    if note:
        lines.append(f"  {note}")
    day_gaps = coverage(rota, day)
    lines.append("  On shift:")
    shifts = duties_on(rota, day)
    lines += [f"    {_stretch(rota, d.start, d.end, start, end)} {d.volunteer}{_kind(d.source)}" for d in shifts]
    if not shifts:
        lines.append("    nobody")
    lines += _gap_lines(rota, [g for g in day_gaps if g.kind in _VOLUNTEER_GAPS], end)
    lines.append("  On call:")
    calls = oncall_on(rota, day)
    for span in calls:
        who = span.primary or "NOBODY (professional absent)"
        backup = f", backup {span.backup}" if span.backup else ", no backup"
        lines.append(f"    {_stretch(rota, span.start, span.end, start, end)} {who}{backup}")
    if not calls:
        lines.append("    nobody")
    lines += _gap_lines(rota, [g for g in day_gaps if g.kind in _ONCALL_GAPS], end)
    return lines


def _gap_lines(rota: Rota, day_gaps: list[Gap], day_end: datetime) -> list[str]:
    return [
        f"  GAP {_clock(rota, g.start, day_end)}-{_clock(rota, g.end, day_end)}: {g.kind.description}" for g in day_gaps
    ]


def _stretch(rota: Rota, start: datetime, end: datetime, day_start: datetime, day_end: datetime) -> str:
    text = f"{_clock(rota, start, day_end)}-{_clock(rota, end, day_end)}"
    if start < day_start:
        text += f" (from {start.astimezone(rota.zone):%a})"
    elif end > day_end:
        text += " (into the next day)"
    return text


def _clock(rota: Rota, at: datetime, day_end: datetime) -> str:
    return "24:00" if at == day_end else f"{at.astimezone(rota.zone):%H:%M}"


def _kind(source: object) -> str:
    return " (cover)" if isinstance(source, Cover) else ""


def _clock_change(rota: Rota, day: date) -> str | None:
    start, end = local_day_bounds(day, rota.zone)
    hours = (end - start) / timedelta(hours=1)
    if hours < 24:
        return f"Clocks go forward today: the day has {hours:g} hours."
    if hours > 24:
        return f"Clocks go back today: the day has {hours:g} hours."
    return None


def render_oncall(rota: Rota, now: datetime) -> str:
    """`/oncall`: who is on call now, the weekly blocks, and on-call gaps in the coming week."""
    lines = [f"On call ({rota.timezone})", *_now_lines(rota, now)[1:], "", "Weekly blocks:"]
    lines += [f"  {block.label}" for block in rota.oncall] or ["  none"]
    ahead = [g for g in gaps(rota, now, utc(now) + 7 * ONE_DAY) if g.kind in _ONCALL_GAPS]
    lines += ["", "Gaps in the next 7 days:" if ahead else "No on-call gaps in the next 7 days."]
    for gap in ahead:
        start, end = gap.start.astimezone(rota.zone), gap.end.astimezone(rota.zone)
        lines.append(f"  {start:%a %d %b %H:%M} - {end:%a %d %b %H:%M}: {gap.kind.description}")
    return "\n".join(lines)
