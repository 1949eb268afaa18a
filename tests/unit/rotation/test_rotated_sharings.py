"""After a rotation the entry holds a new key: sharings that ended by the rotation day held only the old key. They
stay in the history, but the judgement of the current key (findings, banner, reminders, report) no longer counts
them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from keyhygiene.core.models import Exposure, KeyRecord
from keyhygiene.core.rotation.journal import KeyUpdate
from keyhygiene.core.rotation.states import Action, Step
from keyhygiene.store.rotation_journal import SqliteJournal
from keyhygiene.store.vault import ServiceRef, Vault
from tests.helpers.rotation_fakes import FakeExchange


def record(rotated: datetime | None, *exposures: Exposure) -> KeyRecord:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    return KeyRecord(id="k1", exchange="binance", label="bot", purpose="bot", fingerprint="AAAA…ZZZZ",
                     key_sha256="d", created_at=t, added_at=t, updated_at=t, exposures=list(exposures),
                     rotated_at=rotated)


def test_which_sharings_held_the_current_key() -> None:
    day = date(2026, 3, 1)
    old_leaker = Exposure("3commas", date(2022, 3, 14), day)  # ended by the rotation
    ended_before = Exposure("koinly", date(2023, 1, 1), date(2025, 6, 1))  # ended long before: the old key too
    kept = Exposure("koinly", day)  # the kept consumer, from the rotation day
    later = Exposure("cornix", date(2026, 4, 1), date(2026, 5, 1))  # given and taken back after the rotation
    same_day = Exposure("pionex", day, day)  # given the new key and taken back the same day: it held it
    rec = record(datetime(2026, 3, 1, 15, 0, tzinfo=UTC), old_leaker, ended_before, kept, later, same_day)
    assert [e.service for e in rec.current_exposures] == ["koinly", "cornix", "pionex"]
    assert rec.current_exposures[0] is kept
    never = record(None, old_leaker, ended_before)
    assert never.current_exposures == [old_leaker, ended_before]  # never rotated: every sharing counts
    assert rec.shared_with == ["koinly"]


def test_the_store_says_when_a_rotation_put_the_new_key_in(vault: Vault) -> None:
    creds = FakeExchange().add()
    rec = vault.add_key("bybit", "bot", creds, purpose="bot", shared_with=[ServiceRef("3commas", date(2022, 6, 1))])
    assert vault.get_key(rec.id).rotated_at is None
    journal = SqliteJournal(vault.db, hook=None)
    rot = journal.start(rec.id, rec.fingerprint, Step.FINISH, {})
    assert vault.get_key(rec.id).rotated_at is None  # a rotation under way changes nothing yet
    today = datetime.now(UTC).date()
    journal.done(rot.id, Action.RECORD, columns={"new_fingerprint": "NEW0…0NEW"},
                 record=KeyUpdate(key_id=rec.id, fingerprint="NEW0…0NEW", digest="n", created_at=datetime.now(UTC),
                                  day=today, kept=(), profile=None, tested_at="x"))
    after = vault.get_key(rec.id)
    assert after.rotated_at is not None and after.rotated_at.date() in {today, datetime.now(UTC).date()}
    assert after.shared_with == [] and after.current_exposures == []
    assert [e.service for e in after.exposures] == ["3commas"]  # the history keeps it
    assert [k.rotated_at is not None for k in vault.list_keys()] == [True]  # the list reads it too
