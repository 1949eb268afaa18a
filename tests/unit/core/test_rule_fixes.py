"""A fix is written once and worded per surface: the command line types a command, the window presses a button
(issue 20). The CLI wording is the public ``fix`` field and does not change."""

from __future__ import annotations

import re
from datetime import date

from keyhygiene.core.models import Status
from keyhygiene.core.rules import fixes
from tests.unit.core.rule_factories import make_key, make_profile, one, run, share


def test_one_text_two_wordings() -> None:
    text = f"Replace it ({fixes.rotate('k1')}), then {fixes.action('audit')}."
    assert fixes.render(text, fixes.CLI) == "Replace it (keyhygiene rotate k1), then keyhygiene audit."
    assert fixes.render(text, fixes.GUI) == ("Replace it (press \u201cRotate this key\u2026\u201d), "
                                             "then press \u201cAudit all\u201d.")
    assert fixes.render("No action here.", fixes.GUI) == "No action here."


def test_a_finding_keeps_the_command_and_offers_the_button() -> None:
    key = make_key(purpose="other")
    f = one(run(key, make_profile(perms=("read", "withdraw"), ip=False)), "withdraw_enabled")
    assert f"keyhygiene rotate {key.id}" in f.fix  # JSON, CSV, reports and `audit` keep the command
    assert f.to_json()["fix"] == f.fix and "fix_gui" not in f.to_json()
    gui = f.fix_for("gui")
    assert "Rotate this key\u2026" in gui and "keyhygiene" not in gui and "\x1f" not in gui
    assert f.fix_for("cli") == f.fix


def test_every_gui_fix_names_buttons_not_commands() -> None:
    cases = [
        run(make_key(purpose="other"), make_profile(perms=("read", "withdraw", "transfer", "spot_trade"), ip=False)),
        run(make_key(exposures=[share("3commas", date(2022, 5, 1))]), make_profile(perms=("read", "spot_trade"))),
        run(make_key(exposures=[share("koinly", date(2025, 1, 1))]), make_profile(perms=("read",))),
        run(make_key(), make_profile(status=Status.INVALID_KEY, perms=())),
        run(make_key(), None),
    ]
    findings = [f for fs in cases for f in fs]
    assert len({f.rule for f in findings}) >= 5
    for f in findings:
        assert "keyhygiene " not in f.fix_for("gui"), (f.rule, f.fix_for("gui"))
        assert "\x1f" not in f.fix and "\x1e" not in f.fix
        # A fix is the action in one or two sentences; the why is the finding's detail, behind "More".
        assert len(re.findall(r"[.!?](?:\s|$)", f.fix_for("gui"))) <= 2, (f.rule, f.fix_for("gui"))
    assert any("keyhygiene " in f.fix for f in findings)
