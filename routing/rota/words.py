"""The rota's answers in the organisation's language (`staff.language`), said when they are produced (pure).

The texts stay where they are written (marked `S_`, or `NP_` with a count) so each reads beside its rule;
these helpers translate and fill them. What staff type stays as typed: commands, `add|remove`, day words
(mon, tue, ...), `HH:MM` and `YYYY-MM-DD`, ids and names.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from babel.dates import format_date, format_datetime

from routing.i18n import S_, staff_count, staff_language, staff_text

say = staff_text  # a rota text (marked `S_`) in the staff language, filled in
say_count = staff_count  # a rota text with a count `{n}` (marked `NP_`), in the staff language


def day_heading(day: date) -> str:
    """A day as the rota prints it: "Mon 31 Mar 2025" ("lun 31 mar 2025" in Spanish)."""
    return format_date(day, "EEE dd MMM y", locale=staff_language())


def weekday_of(at: datetime, zone: tzinfo) -> str:
    """The short weekday of an instant on the rota's wall clock: "Mon"."""
    return format_datetime(at, "EEE", tzinfo=zone, locale=staff_language())


def day_and_time(at: datetime, zone: tzinfo) -> str:
    """An instant on the rota's wall clock: "Mon 31 Mar 18:00"."""
    return format_datetime(at, "EEE dd MMM HH:mm", tzinfo=zone, locale=staff_language())


# Said by the staff workspace (routing.staff.shifts) when it cannot reach a rota to answer from.
ROTA_UNAVAILABLE = S_("The rota is not available in this deployment.")
NO_ROTA_YET = S_("No rota has been imported yet: {command}")
