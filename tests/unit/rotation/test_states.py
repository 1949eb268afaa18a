"""The step vocabulary's own rules."""

from __future__ import annotations

from keyhygiene.core.rotation.states import (
    BACK,
    CANCELLABLE,
    EXTERNAL_EFFECTS,
    FLOW,
    HAPPY_PATH_POINTS,
    KEYPAIR_PATH_POINTS,
    TITLES,
    Action,
    Phase,
    Step,
    crash_point,
    progress,
)


def test_progress_counts_the_flow() -> None:
    assert progress(Step.PLAN) == (1, 7)
    assert progress(Step.VERIFY_OLD) == (6, 7)
    assert progress(Step.DONE) == (7, 7) == progress(Step.CANCELLED)


def test_every_step_has_a_title() -> None:
    assert set(TITLES) == set(Step)


def test_back_never_leaves_or_enters_the_irreversible_part() -> None:
    irreversible = {Step.VERIFY_OLD, Step.FINISH, Step.DONE, Step.CANCELLED}
    assert not (set(BACK) & irreversible) and not (set(BACK.values()) & irreversible)
    for src, dst in BACK.items():
        assert FLOW.index(dst) == FLOW.index(src) - 1
    assert not (CANCELLABLE & irreversible)


def test_begin_entries_exactly_for_external_effects() -> None:
    begun = {a for a, p in HAPPY_PATH_POINTS if p is Phase.BEGIN}
    assert begun == EXTERNAL_EFFECTS - {Action.DISCARD_PENDING, Action.GENERATE_KEYPAIR}
    assert {a for a, p in KEYPAIR_PATH_POINTS if p is Phase.BEGIN} == begun | {Action.GENERATE_KEYPAIR}
    # Every begin is followed by its done, in order.
    for points in (HAPPY_PATH_POINTS, KEYPAIR_PATH_POINTS):
        for i, (a, p) in enumerate(points):
            if p is Phase.BEGIN:
                assert points[i + 1] == (a, Phase.DONE)


def test_crash_point_spelling() -> None:
    assert crash_point(Action.STORE_PENDING, Phase.BEGIN) == "store_pending:begin"
    assert crash_point("promote", "done") == "promote:done"
