"""The one answer to "was this key at the service when the incident happened?".

Every surface asks it here: the exposure rules (findings), the assessment (which sharings the window and the
reminders mark as touched by an incident) and the report (``affects_key``). It used to be coded three times with
three different readings of an unknown date; now an unknown share date means "may have been in it" everywhere.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

Certainty = Literal["yes", "maybe"]


def exposed_at(
    first_day: date,
    last_day: date,
    *,
    shared_at: date | None,
    revoked_at: date | None,
    created: date | None,
    created_by_exchange: bool,
    rotated_on: date | None = None,
) -> Certainty | None:
    """"yes" (the dates prove the service held this key during the incident), "maybe" (a date is unknown and the
    overlap cannot be ruled out) or None (the dates rule it out).

    ``first_day``/``last_day`` span the incident (a month-precision incident spans its month); the incident's
    days count as exposed on both ends, since a leak is published after the keys were collected.
    ``created`` is the key's creation day as the exchange reports it (``created_by_exchange``) or as the user
    declared it; None when only the day it was added here is known (an upper bound that rules nothing out).
    ``rotated_on`` is the day the key's last completed rotation finished: a sharing that had ended by then was a
    sharing of the replaced key, not of the key stored now.
    """
    if revoked_at is not None and revoked_at < first_day:
        return None  # the service no longer had the key
    if rotated_on is not None and revoked_at is not None and revoked_at <= rotated_on:
        return None  # it held the old key, which the rotation deleted on the exchange
    if created is not None and created > last_day and (shared_at is None or created_by_exchange):
        # The key did not exist yet. With a share date before the incident too, only the exchange's own creation
        # date outweighs it: a declared one is the user's word against the user's word, and the leak stays.
        return None
    if shared_at is not None:
        return "yes" if shared_at <= last_day else None
    return "maybe"
