"""What a person reads, in their language: gettext catalogues (Babel's `.po` files) for the texts in
`routing/texts.py`, which are the English source. See `catalogue.py`."""

from routing.i18n.catalogue import (
    LANGUAGES,
    N_,
    NP_,
    SOURCE,
    local_moment,
    moment,
    negotiate,
    ngettext,
    primary,
    translate,
)

__all__ = [
    "LANGUAGES", "NP_", "N_", "SOURCE", "local_moment", "moment", "negotiate", "ngettext", "primary", "translate",
]  # fmt: skip
