"""Charts over the last 7 days from the audit stream, drawn as inline SVG on the server (no chart library).

Series: median wait (queued -> assigned) by tier per day, median time from a volunteer taking a person to
the first reply that reached them (the `first_reply` audit event, once per assignment) per day, escalation
acknowledgement time per day, and conversations started per hour.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from bot.dashboard.auth import session_of
from bot.dashboard.html import duration, esc, page
from routing.model import RiskTier
from routing.store.views import AuditEvent, audit_since

DAY = 24 * 3600
HOUR = 3600
DAYS = 7
QUEUED_EVENTS = frozenset({"queued", "queued_out_of_hours"})  # out of hours, people still wait and are taken


@dataclass(frozen=True, slots=True)
class WeekSeries:
    """The numbers behind the charts (also handy in tests)."""

    wait_by_tier: dict[str, list[float | None]]  # tier -> median wait (s) per day, oldest day first
    ack_per_day: list[float | None]
    started_per_hour: list[int]
    first_reply_per_day: list[float | None]
    first_reply_week: float | None = None  # median over all seven days
    first_replies: int = 0


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def week_series(events: list[AuditEvent], now: float) -> WeekSeries:
    start = now - DAYS * DAY
    queued: dict[str, float] = {}
    raised: dict[str, float] = {}
    tiers: dict[str, str] = {}
    waits: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(DAYS)])
    acks: list[list[float]] = [[] for _ in range(DAYS)]
    replies: list[list[float]] = [[] for _ in range(DAYS)]
    started = [0] * (DAYS * 24)
    for e in events:
        conv = e.fields.get("conversation", "")
        if e.event in QUEUED_EVENTS:
            queued[conv] = e.at
            started[min(int((e.at - start) // HOUR), DAYS * 24 - 1)] += 1
        elif e.event == "escalation_raised":
            raised[e.fields.get("escalation", "")] = e.at
            tiers[conv] = e.fields.get("tier", tiers.get(conv, "none"))
        elif e.event == "assigned" and conv in queued:
            day = min(int((e.at - start) // DAY), DAYS - 1)
            waits[tiers.get(conv, RiskTier.NONE.label)][day].append(e.at - queued.pop(conv))
        elif e.event == "escalation_acknowledged" and e.fields.get("escalation") in raised:
            day = min(int((e.at - start) // DAY), DAYS - 1)
            acks[day].append(e.at - raised.pop(e.fields["escalation"]))
        elif e.event == "first_reply" and (seconds := _seconds(e.fields.get("seconds"))) is not None:
            replies[min(int((e.at - start) // DAY), DAYS - 1)].append(seconds)
    return WeekSeries(
        {tier: [_median(d) for d in days] for tier, days in sorted(waits.items())},
        [_median(d) for d in acks],
        started,
        [_median(d) for d in replies],
        _median([s for d in replies for s in d]),
        sum(len(d) for d in replies),
    )


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value or ""), 0.0)
    except ValueError:
        return None


def _bars(values: list[float | None], labels: list[str], unit_seconds: bool, chart_id: str) -> str:
    width, height, gap = 700, 160, 2
    top = max((v for v in values if v is not None), default=0) or 1
    step = width / max(len(values), 1)
    bars = []
    for i, value in enumerate(values):
        if not value:
            continue
        h = max(value / top * (height - 20), 1)
        tip = duration(value) if unit_seconds else f"{value:g}"
        bars.append(
            f'<rect x="{i * step:.1f}" y="{height - h:.1f}" width="{max(step - gap, 1):.1f}" height="{h:.1f}">'
            f"<title>{esc(labels[i])}: {esc(tip)}</title></rect>"
        )
    peak = duration(top) if unit_seconds else f"{top:g}"
    return (
        f'<figure><svg id="{esc(chart_id)}" viewBox="0 0 {width} {height}" role="img" preserveAspectRatio="none">'
        f"{''.join(bars)}</svg><figcaption>highest: {esc(peak)} · {esc(labels[0])} to {esc(labels[-1])}"
        "</figcaption></figure>"
    )


def render_charts(series: WeekSeries, now: float) -> str:
    start = now - DAYS * DAY
    days = [time.strftime("%a %d", time.localtime(start + i * DAY)) for i in range(DAYS)]
    hours = [time.strftime("%a %H:00", time.localtime(start + i * HOUR)) for i in range(DAYS * 24)]
    parts = ["<section><h2>Median wait by tier (per day)</h2>"]
    if not series.wait_by_tier:
        parts.append("<p class='muted'>Nobody was taken from the queue in the last 7 days.</p>")
    for tier, values in series.wait_by_tier.items():
        parts.append(f"<h3>{esc(tier)}</h3>" + _bars(values, days, True, f"wait-{tier}"))
    parts.append("</section><section><h2>Time to first volunteer reply (median per day)</h2>")
    if series.first_reply_week is None:
        parts.append("<p class='muted' id='first-reply-summary'>No volunteer replied to a person they took in the "
                     "last 7 days.</p>")  # fmt: skip
    else:
        parts.append(
            f"<p id='first-reply-summary'>Median {esc(duration(series.first_reply_week))} from taking a person to "
            f"the first reply that reached them, over {series.first_replies} conversation(s).</p>"
        )
    parts.append(_bars(series.first_reply_per_day, days, True, "first-reply"))
    parts.append("</section><section><h2>Escalation acknowledgement time (median per day)</h2>")
    parts.append(_bars(series.ack_per_day, days, True, "ack"))
    parts.append("</section><section><h2>Conversations started per hour</h2>")
    parts.append(_bars([float(n) for n in series.started_per_hour], hours, False, "started"))
    parts.append("</section>")
    return "".join(parts)


def chart_routes(redis: Redis) -> list[web.RouteDef]:
    async def show(request: web.Request) -> web.Response:
        session = session_of(request)
        now = time.time()
        events = await audit_since(redis, now - DAYS * DAY)
        return page("Last 7 days", render_charts(week_series(events, now), now), csrf=session.csrf)

    return [web.get("/dashboard/charts", show)]
