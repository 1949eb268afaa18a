"""The rotation's vocabulary: where a rotation can be, what it journals, and which moves are safe.

Modelled on AWS Secrets Manager's staged rotation (createSecret → setSecret → testSecret → finishSecret with
AWSPENDING / AWSCURRENT / AWSPREVIOUS), with a human doing what only the exchange's website can do:

    plan ─► new_key ─► test_new ─► consumers ─► revoke_old ─► verify_old ─► finish ─► done
            (create)   (test)      (set)        (the human / exchange API)   (finish)

The keychain slot ``pending`` plays AWSPENDING, ``current`` AWSCURRENT. There is no AWSPREVIOUS: the old
secret is only overwritten after the exchange has rejected the old key, so it is never needed again.

Nothing here performs a side effect; machine.py does, journal.py persists.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """Where a rotation is: the value of ``rotations.state``. The step named is the next thing to do."""

    PLAN = "plan"  # not persisted: a rotation row exists only once the plan is confirmed
    NEW_KEY = "new_key"  # waiting for the new key to be pasted (createSecret)
    TEST_NEW = "test_new"  # new key stored as pending; test it against the exchange and the policy (testSecret)
    CONSUMERS = "consumers"  # the new key passed; the user updates every consumer of the old key (setSecret)
    REVOKE_OLD = "revoke_old"  # delete the old key: exchange API where one exists, else the user on the website
    VERIFY_OLD = "verify_old"  # poll until the exchange rejects the old key
    FINISH = "finish"  # promote pending to current, record, clean up (finishSecret)
    DONE = "done"
    CANCELLED = "cancelled"


# The order a rotation moves through; used for progress ("step 3 of 7") and for the "back" rules.
FLOW: tuple[Step, ...] = (
    Step.PLAN,
    Step.NEW_KEY,
    Step.TEST_NEW,
    Step.CONSUMERS,
    Step.REVOKE_OLD,
    Step.VERIFY_OLD,
    Step.FINISH,
)
TERMINAL: frozenset[Step] = frozenset({Step.DONE, Step.CANCELLED})

TITLES: dict[Step, str] = {
    Step.PLAN: "Plan the rotation",
    Step.NEW_KEY: "Create and paste the new key",
    Step.TEST_NEW: "Test the new key",
    Step.CONSUMERS: "Update every consumer",
    Step.REVOKE_OLD: "Delete the old key",
    Step.VERIFY_OLD: "Check that the old key is dead",
    Step.FINISH: "Finish",
    Step.DONE: "Rotation complete",
    Step.CANCELLED: "Rotation cancelled",
}


class Action(StrEnum):
    """What the journal records (``rotation_journal.step``): one entry per thing the machine does."""

    START = "start"  # the rotation row is created (plan confirmed)
    GENERATE_KEYPAIR = "generate_keypair"  # keychain: a key pair made here, private key → slot "pending"
    STORE_PENDING = "store_pending"  # keychain: new key → slot "pending"
    TEST_NEW = "test_new"  # read-only: inspect the new key, judge it
    ACCEPT_RISK = "accept_risk"  # the user accepted a withdraw-enabled / unrestricted new key
    CONSUMERS = "consumers"  # the user confirmed every consumer now has the new key
    REVOKE = "revoke"  # exchange API: delete the old key (or: the user was told to delete it)
    VERIFY = "verify"  # read-only: the exchange now rejects the old key
    PROMOTE = "promote"  # keychain: new key → slot "current" (overwrites the dead old key's secret)
    RECORD = "record"  # database: key entry gets the new fingerprint, exposures closed, rotation recorded
    DELETE_PENDING = "delete_pending"  # keychain: slot "pending" removed; the rotation is done
    BACK = "back"  # the user stepped back (database only)
    DISCARD_PENDING = "discard_pending"  # cancel: keychain slot "pending" removed; "current" never touched


class Phase(StrEnum):
    BEGIN = "begin"  # committed before the side effect
    DONE = "done"  # committed after it, in the same transaction as the state change
    NOTE = "note"  # an outcome that moves nothing (a refusal, a timeout): for the record, never a resume point


# Actions with a side effect outside the database get a BEGIN and a DONE entry; actions that only change the
# database write their DONE entry in the same transaction as the change, so there is nothing in between to lose.
EXTERNAL_EFFECTS: frozenset[Action] = frozenset(
    {Action.GENERATE_KEYPAIR, Action.STORE_PENDING, Action.TEST_NEW, Action.REVOKE, Action.PROMOTE,
     Action.DELETE_PENDING, Action.DISCARD_PENDING}
)

# Every journal point a straight rotation passes (Bybit with API revocation, a clean new key), in order.
# The kill-at-every-point test iterates this list; a unit test checks a real run journals exactly this.
HAPPY_PATH_POINTS: tuple[tuple[Action, Phase], ...] = (
    (Action.START, Phase.DONE),
    (Action.STORE_PENDING, Phase.BEGIN),
    (Action.STORE_PENDING, Phase.DONE),
    (Action.TEST_NEW, Phase.BEGIN),
    (Action.TEST_NEW, Phase.DONE),
    (Action.CONSUMERS, Phase.DONE),
    (Action.REVOKE, Phase.BEGIN),
    (Action.REVOKE, Phase.DONE),
    (Action.VERIFY, Phase.DONE),
    (Action.PROMOTE, Phase.BEGIN),
    (Action.PROMOTE, Phase.DONE),
    (Action.RECORD, Phase.DONE),
    (Action.DELETE_PENDING, Phase.BEGIN),
    (Action.DELETE_PENDING, Phase.DONE),
)

# The same with a key pair generated here (Binance Ed25519/RSA, Bybit RSA): the private key is journalled into the
# pending slot before the exchange has returned the API key that goes with it.
KEYPAIR_PATH_POINTS: tuple[tuple[Action, Phase], ...] = (
    HAPPY_PATH_POINTS[0],
    (Action.GENERATE_KEYPAIR, Phase.BEGIN),
    (Action.GENERATE_KEYPAIR, Phase.DONE),
    *HAPPY_PATH_POINTS[1:],
)

# Where "back" leads. Only steps before anything irreversible: once the old key's deletion has begun, the
# rotation can only go forward.
BACK: dict[Step, Step] = {
    Step.TEST_NEW: Step.NEW_KEY,
    Step.CONSUMERS: Step.TEST_NEW,
    Step.REVOKE_OLD: Step.CONSUMERS,
}

# Cancel is allowed while the old key is certainly still alive on the exchange. In VERIFY_OLD it is allowed only
# after a manual revocation and a fresh check that the old key still works (machine.cancel checks).
CANCELLABLE: frozenset[Step] = frozenset({Step.NEW_KEY, Step.TEST_NEW, Step.CONSUMERS, Step.REVOKE_OLD})


class Verdict(StrEnum):
    """Outcome of testing the new key."""

    PASSED = "passed"
    RISKY = "risky"  # works, but withdraw-enabled or not IP-restricted: needs the user's explicit acceptance
    REFUSED = "refused"  # cannot be used for this rotation (rejected, other account, same key as the old one)
    RETRY = "retry"  # the exchange could not be asked (unreachable, rate limited, clock skew): try again


class Risk(StrEnum):
    WITHDRAW = "withdraw"
    IP_UNRESTRICTED = "ip_unrestricted"


RISK_TEXT: dict[Risk, str] = {
    Risk.WITHDRAW: "The new key can withdraw funds. Whoever holds it can send your coins anywhere.",
    Risk.IP_UNRESTRICTED: (
        "The new key is not restricted to IP addresses: it works from any computer in the world, so a leaked copy "
        "is usable at once (a read-only key leaks only balances and history; a trading key can be used to drain "
        "value, as in the 3Commas leak)."
    ),
}


def progress(step: Step) -> tuple[int, int]:
    """(1-based position, total) for a progress indicator."""
    if step in TERMINAL:
        return len(FLOW), len(FLOW)
    return FLOW.index(step) + 1, len(FLOW)


def crash_point(action: Action | str, phase: Phase | str) -> str:
    """The ``KEYHYGIENE_TEST_CRASH_AT`` spelling of a journal point: ``action:phase``."""
    return f"{Action(action).value}:{Phase(phase).value}"
