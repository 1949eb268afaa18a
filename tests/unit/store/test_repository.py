"""Typed reads and writes of the metadata store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from keyhygiene.core.models import Exposure, KeyProfile, KeyRecord, Status, StoredProfile
from keyhygiene.store.database import Database
from keyhygiene.store.repository import Repository, new_key_id


@pytest.fixture
def repo(data_dir: Path) -> Iterator[Repository]:
    db = Database(data_dir / "keyhygiene.sqlite3")
    yield Repository(db)
    db.close()


def record(key_id: str = "k1", digest: str = "d1", **kw: object) -> KeyRecord:
    now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    fields: dict[str, object] = dict(
        id=key_id, exchange="binance", label="Main", purpose="trading", fingerprint="ABCD…WXYZ",
        key_sha256=digest, created_at=datetime(2023, 1, 2, tzinfo=UTC), added_at=now, updated_at=now,
    )
    fields.update(kw)
    return KeyRecord(**fields)  # type: ignore[arg-type]


def test_vault_id_is_created_once_and_stable(data_dir: Path) -> None:
    db = Database(data_dir / "keyhygiene.sqlite3")
    first = Repository(db).vault_id()
    assert first == Repository(db).vault_id()
    db.close()
    db = Database(data_dir / "keyhygiene.sqlite3")
    try:
        assert Repository(db).vault_id() == first
    finally:
        db.close()
    assert len(first) == 16 and int(first, 16) >= 0


def test_vault_ids_differ_between_data_dirs(tmp_path: Path) -> None:
    ids = set()
    for name in ("a", "b"):
        db = Database(tmp_path / name / "keyhygiene.sqlite3")
        ids.add(Repository(db).vault_id())
        db.close()
    assert len(ids) == 2


def test_new_key_ids_are_short_and_distinct() -> None:
    ids = {new_key_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(i.startswith("k") and len(i) == 9 for i in ids)


def test_insert_get_list_round_trip_with_exposures(repo: Repository) -> None:
    rec = record(
        declared_permissions=["read", "spot_trade"], note="bot key",
        exposures=[Exposure(service="3commas", shared_at=date(2022, 5, 1)), Exposure(service="koinly")],
    )
    with repo.db.transaction() as c:
        repo.insert_key(c, rec)
    got = repo.get_key("k1")
    assert got is not None
    assert got.to_json() == rec.to_json()
    assert [e.id for e in got.exposures] == sorted(e.id for e in got.exposures if e.id is not None)
    assert repo.find_by_digest("d1") == got
    assert repo.find_by_digest("nope") is None
    assert repo.get_key("nope") is None
    assert repo.list_keys() == [got]


def test_list_orders_by_exchange_then_label_and_attaches_each_keys_exposures(repo: Repository) -> None:
    with repo.db.transaction() as c:
        repo.insert_key(c, record("k1", "d1", exchange="okx", label="a", exposures=[Exposure(service="x1")]))
        repo.insert_key(c, record("k2", "d2", exchange="binance", label="z", exposures=[Exposure(service="x2")]))
        repo.insert_key(c, record("k3", "d3", exchange="binance", label="b"))
    keys = repo.list_keys()
    assert [k.id for k in keys] == ["k3", "k2", "k1"]
    assert {k.id: k.shared_with for k in keys} == {"k3": [], "k2": ["x2"], "k1": ["x1"]}


def test_update_key_changes_fields_and_bumps_updated_at(repo: Repository) -> None:
    with repo.db.transaction() as c:
        repo.insert_key(c, record())
    with repo.db.transaction() as c:
        repo.update_key(c, "k1", label="Renamed", declared_permissions=["read"],
                        created_at=datetime(2020, 1, 1, tzinfo=UTC))
    got = repo.get_key("k1")
    assert got is not None
    assert (got.label, got.declared_permissions, got.created_at) == (
        "Renamed", ["read"], datetime(2020, 1, 1, tzinfo=UTC))
    assert got.updated_at > record().updated_at
    with pytest.raises(ValueError, match="cannot update"), repo.db.transaction() as c:
        repo.update_key(c, "k1", id="k9")


def test_delete_key_removes_its_exposures_and_inspections(repo: Repository) -> None:
    with repo.db.transaction() as c:
        repo.insert_key(c, record(exposures=[Exposure(service="3commas")]))
    repo.record_inspection("k1", KeyProfile(exchange="binance", key="ABCD…WXYZ"))
    with repo.db.transaction() as c:
        repo.delete_key(c, "k1")
    assert repo.get_key("k1") is None
    assert repo.db.query("SELECT COUNT(*) FROM exposures")[0][0] == 0
    assert repo.latest_inspection("k1") is None


def test_ending_exposures_keeps_history(repo: Repository) -> None:
    with repo.db.transaction() as c:
        repo.insert_key(c, record(exposures=[Exposure(service="3commas"), Exposure(service="koinly")]))
    rec = repo.get_key("k1")
    assert rec is not None and rec.shared_with == ["3commas", "koinly"]
    first = rec.exposures[0]
    assert first.id is not None
    with repo.db.transaction() as c:
        repo.end_exposure(c, first.id, date(2023, 1, 1))
    rec = repo.get_key("k1")
    assert rec is not None and rec.shared_with == ["koinly"]
    assert rec.exposures[0].revoked_at == date(2023, 1, 1)
    with repo.db.transaction() as c:
        repo.end_all_exposures(c, "k1", date(2024, 1, 1))
    rec = repo.get_key("k1")
    assert rec is not None and rec.shared_with == []
    assert [e.revoked_at for e in rec.exposures] == [date(2023, 1, 1), date(2024, 1, 1)]


def test_a_failed_exposure_insert_rolls_back_the_key_row(repo: Repository) -> None:
    bad = record(exposures=[Exposure(service="ok"), Exposure(service=None)])  # type: ignore[arg-type]
    with pytest.raises(Exception), repo.db.transaction() as c:  # noqa: B017 - sqlite's NOT NULL error
        repo.insert_key(c, bad)
    assert repo.get_key("k1") is None
    assert repo.db.query("SELECT COUNT(*) FROM exposures")[0][0] == 0


def test_inspections_latest_and_history(repo: Repository) -> None:
    with repo.db.transaction() as c:
        repo.insert_key(c, record())
        repo.insert_key(c, record("k2", "d2"))
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    p1 = KeyProfile(exchange="binance", key="ABCD…WXYZ", permissions=["read"])
    p2 = KeyProfile(exchange="binance", key="ABCD…WXYZ", status=Status.INVALID_KEY, message="gone")
    repo.record_inspection("k1", p1, at=t0)
    repo.record_inspection("k1", p2, at=t0 + timedelta(days=1))
    repo.record_inspection("k2", p1, at=t0)
    at, latest = repo.latest_inspection("k1")  # type: ignore[misc]
    assert at == t0 + timedelta(days=1) and latest.status is Status.INVALID_KEY and latest.message == "gone"
    assert {k: v[1].status for k, v in repo.latest_inspections().items()} == {"k1": Status.INVALID_KEY,
                                                                               "k2": Status.OK}
    history = repo.inspection_history("k1")
    assert [p.status for _, p in history] == [Status.INVALID_KEY, Status.OK]
    assert repo.inspection_history("k1", limit=1)[0][1].status is Status.INVALID_KEY



def test_latest_stored_inspections_decode_on_first_use_to_the_latest_profiles(repo: Repository,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's first read (issue 21): the same latest inspections, each profile decoded only when asked for,
    and once."""
    with repo.db.transaction() as c:
        repo.insert_key(c, record())
        repo.insert_key(c, record("k2", "d2"))
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    repo.record_inspection("k1", KeyProfile(exchange="binance", key="ABCD…WXYZ", permissions=["read"]), at=t0)
    repo.record_inspection("k1", KeyProfile(exchange="binance", key="ABCD…WXYZ", status=Status.INVALID_KEY,
                                            message="gone"), at=t0 + timedelta(days=1))
    repo.record_inspection("k2", KeyProfile(exchange="binance", key="ABCD…WXYZ", ip_whitelist=["203.0.113.7"]),
                           at=t0)
    decoded: list[str] = []
    real = KeyProfile.from_json.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(KeyProfile, "from_json", classmethod(lambda cls, d: decoded.append(d["key"]) or real(cls, d)))
    stored = repo.latest_stored_inspections()
    assert decoded == [] and sorted(stored) == ["k1", "k2"]
    at, held = stored["k1"]
    assert at == t0 + timedelta(days=1) and isinstance(held, StoredProfile)
    assert held.get() is held.get() and len(decoded) == 1
    assert {k: (a, p.get()) for k, (a, p) in stored.items()} == repo.latest_inspections()


def test_an_unreadable_stored_inspection_counts_as_not_checked_and_stops_nothing(
        repo: Repository, caplog: pytest.LogCaptureFixture) -> None:
    """A damaged inspection row (hand-edited or half-restored database, a teammate's bad write in the team cache):
    before, ``latest_inspections`` raised and no key could be listed (the window did not open); after issue 21's
    lazy decoding it raised while painting a row. Now that key counts as not checked, its other rows still read,
    and the log names the problem without the row's text."""
    with repo.db.transaction() as c:
        repo.insert_key(c, record())
        repo.insert_key(c, record("k2", "d2"))
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    repo.record_inspection("k1", KeyProfile(exchange="binance", key="ABCD…WXYZ", permissions=["read"]), at=t0)
    repo.record_inspection("k1", KeyProfile(exchange="binance", key="ABCD…WXYZ"), at=t0 + timedelta(days=1))
    repo.record_inspection("k2", KeyProfile(exchange="binance", key="ABCD…WXYZ"), at=t0)
    latest_id = repo.db.query("SELECT MAX(id) AS m FROM inspections WHERE key_id = 'k1'")[0]["m"]
    with repo.db.transaction() as c:
        c.execute("UPDATE inspections SET profile = ? WHERE id = ?",
                  ('{"exchange": "binance", "key": SECRETISH', latest_id))
    latest = repo.latest_inspections()
    assert sorted(latest) == ["k2"]
    assert repo.latest_inspection("k1") is None and repo.latest_inspection("k2") is not None
    assert [p.permissions for _, p in repo.inspection_history("k1")] == [["read"]]
    held = repo.latest_stored_inspections()["k1"][1]
    assert held.get() is None and held.get() is None
    assert "cannot be read" in caplog.text and "SECRETISH" not in caplog.text
    for bad in ("[]", "null", "", '{"status": "no such status"}'):
        assert StoredProfile(bad).get() is None, bad


def test_settings_round_trip_json_values(repo: Repository) -> None:
    assert repo.get_setting("policy", {"x": 1}) == {"x": 1}
    repo.set_setting("policy", {"max_age_days": 90, "list": [1, 2]})
    repo.set_setting("policy", {"max_age_days": 30})
    repo.set_setting("flag", True)
    assert repo.get_setting("policy") == {"max_age_days": 30}
    assert repo.all_settings() == {"policy": {"max_age_days": 30}, "flag": True}
