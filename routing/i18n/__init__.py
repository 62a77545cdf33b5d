"""What a person reads, in their language: gettext catalogues (Babel's `.po` files) for the texts in
`routing/texts.py`, which are the English source. See `catalogue.py`."""

from routing.i18n.catalogue import (
    LANGUAGES,
    N_,
    NP_,
    S_,
    SOURCE,
    local_moment,
    moment,
    negotiate,
    ngettext,
    primary,
    staff_count,
    staff_language,
    staff_text,
    translate,
    use_staff_language,
)

__all__ = [
    "LANGUAGES", "NP_", "N_", "SOURCE", "S_", "local_moment", "moment", "negotiate", "ngettext", "primary",
    "staff_count", "staff_language", "staff_text", "translate", "use_staff_language",
]  # fmt: skip
