"""team_vault.SecretReads: an audit's secret reads in the checks' order, a bounded way ahead of the keys asked for;
a key asked for out of turn is read at once; stop() answers the reads not started with None."""

from __future__ import annotations

import threading

from keyhygiene.core.models import Credentials
from keyhygiene.store.keychain import KeychainCorrupt
from keyhygiene.store.team_vault import SecretReads


def _reader(seen: list[str], gate: threading.Event | None = None):  # type: ignore[no-untyped-def]
    lock = threading.Lock()

    def read(key_id: str) -> Credentials | None:
        if gate is not None:
            gate.wait(5)
        with lock:
            seen.append(key_id)
        if key_id == "corrupt":
            raise KeychainCorrupt("unreadable")
        return None if key_id == "none" else Credentials(api_key=f"A{key_id}", secret=f"S{key_id}")

    return read


def test_reads_run_ahead_of_the_asks_by_the_bound() -> None:
    seen: list[str] = []
    ids = [f"k{i}" for i in range(10)]
    reads = SecretReads(_reader(seen), ids, threads=2, ahead=3)
    try:
        assert reads.started() == 3  # the first ones at once, before anything is asked
        assert reads.future("k0").result(5) == Credentials(api_key="Ak0", secret="Sk0")
        assert reads.started() == 4  # k0 asked for: up to k3
        reads.future("k1").result(5)
        assert reads.started() == 5
        assert reads.future("k8").result(5).api_key == "Ak8"  # out of turn: read at once (and the window moves)
        assert reads.started() == 10
    finally:
        reads.stop()
    assert seen[:3] == ["k0", "k1", "k2"]


def test_what_a_read_answers_and_stop() -> None:
    seen: list[str] = []
    hold = threading.Event()
    reads = SecretReads(_reader(seen, hold), ["corrupt", "none", "later", "never"], threads=1, ahead=1)
    hold.set()
    assert isinstance(reads.future("corrupt").result(5), KeychainCorrupt)
    assert reads.future("none").result(5) is None
    reads.stop()
    assert reads.future("never").result(5) is None  # not started when stopped: no read at all
    assert "never" not in seen
