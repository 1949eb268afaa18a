"""The service registry: schema, every shipped entry, the facts the rules rely on, alias resolution, bad data."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import jsonschema
import pytest

from keyhygiene.core.registry import (
    Registry,
    RegistryError,
    default_resolver,
    load_registry,
    registry_from_document,
    validate_document,
)
from keyhygiene.core.timeutil import utcnow
from keyhygiene.paths import resource
from keyhygiene.store.vault import ServiceRef, Vault


def shipped() -> dict[str, Any]:
    return json.loads(resource("services.json").read_text(encoding="utf-8"))


def schema() -> dict[str, Any]:
    return json.loads(resource("services.schema.json").read_text(encoding="utf-8"))


SERVICES = shipped()["services"]


def test_the_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_the_shipped_document_is_valid() -> None:
    assert validate_document(shipped()) == []


@pytest.mark.parametrize("entry", SERVICES, ids=[s["id"] for s in SERVICES])
def test_every_shipped_entry(entry: dict[str, Any]) -> None:
    s = schema()
    sub = {"$schema": s["$schema"], "$defs": s["$defs"], "$ref": "#/$defs/service"}
    v = jsonschema.Draft202012Validator(sub, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert [e.message for e in v.iter_errors(entry)] == []
    assert entry["id"] == entry["id"].lower().strip()
    for inc in entry["incidents"]:
        day = date.fromisoformat(inc["date"])
        assert day <= utcnow().date(), "incidents cannot be in the future"
        assert all(u.startswith("https://") for u in inc["sources"])
    if not entry["permission"]["verified"]:
        detail = entry["permission"]["detail"]
        assert "(unverified)" in detail or "(assumed)" in detail, "say so in the text the user sees"


def test_coverage_of_categories_and_size() -> None:
    reg = load_registry()
    assert len(reg) >= 20
    cats = {s.category for s in reg}
    assert {"trading_bot", "copy_trading", "portfolio", "tax"} <= cats


def test_the_3commas_leak_is_there_as_the_rules_need_it() -> None:
    svc = load_registry().get("3commas")
    assert svc is not None and svc.third_party and svc.needs == "trade" and svc.egress.available
    leaks = svc.incidents_of("key_leak")
    assert [(i.date, i.verified) for i in leaks] == [(date(2022, 12, 28), True)]
    assert len(leaks[0].sources) >= 3
    assert {i.kind for i in svc.incidents} == {"key_leak", "account_data_breach", "phishing_clone"}


def test_unverified_facts_are_labelled() -> None:
    reg = load_registry()
    accointing = reg.get("accointing")
    assert accointing is not None and accointing.defunct and not accointing.status_verified
    assert not reg.get("tradesanta").permission_verified  # type: ignore[union-attr]
    assert reg.get("cryptohopper").egress.published == "discouraged"  # type: ignore[union-attr]


def test_crypto_ml_publishes_its_ip_list() -> None:
    eg = load_registry().get("crypto-ml").egress  # type: ignore[union-attr]
    assert eg.ips == ("54.209.224.202", "34.195.186.233", "3.212.8.185")


# ---- resolution --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("3commas", "3commas"), ("3Commas", "3commas"), ("  3 COMMAS ", "3commas"), ("three commas", "3commas"),
        ("3-Commas", "3commas"), ("Koinly", "koinly"), ("koinly.io", "koinly"), ("CryptoML", "crypto-ml"),
        ("Crypto ML", "crypto-ml"), ("HaasBot", "haasonline"),
        ("  My Own Bot ", "my own bot"),  # unknown: the user's text, lowercased and trimmed
        ("file:/home/Me/bot/config.json", "file:/home/me/bot/config.json"),
    ],
)
def test_default_resolver(typed: str, stored: str) -> None:
    assert default_resolver()(typed) == stored


def test_the_vault_stores_registry_ids(vault: Vault) -> None:
    vault.resolve_service = default_resolver()
    from keyhygiene.core.models import Credentials

    rec = vault.add_key("binance", "bot", Credentials("A" * 64, "B" * 64), purpose="bot",
                        shared_with=[ServiceRef.parse("Three Commas@2022-05-01")])
    assert rec.shared_with == ["3commas"]
    rec = vault.share(rec.id, ServiceRef.parse("KOINLY"))
    assert rec.shared_with == ["3commas", "koinly"]
    rec = vault.unshare(rec.id, ServiceRef.parse("3 commas"))
    assert rec.shared_with == ["koinly"]


def test_display_names_and_incident_lookups() -> None:
    reg = load_registry()
    assert reg.display_name("3commas") == "3Commas"
    assert reg.display_name("someone") == "someone"
    assert reg.display_name("file:/x/config.json") == "/x/config.json"
    assert [i.id for i in reg.incidents_for("3 commas")][-1] == "3commas-2023-10-account-data"
    assert reg.incidents_for("unknown") == []
    newest_first = reg.incidents()
    assert newest_first == sorted(newest_first, key=lambda i: i.date, reverse=True)


# ---- broken data is refused --------------------------------------------------------------------------------------

def _broken(mutate) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(shipped())
    mutate(doc)
    return doc


def _svc(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in doc["services"] if s["id"] == sid)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: _svc(d, "koinly").pop("permission"),
        lambda d: _svc(d, "koinly").update(id="Koinly"),
        lambda d: _svc(d, "koinly").update(status="sleeping"),
        lambda d: _svc(d, "3commas")["incidents"][1].update(kind="hack"),
        lambda d: _svc(d, "3commas")["incidents"][1].update(sources=[]),
        lambda d: _svc(d, "3commas")["incidents"][1].update(date="28/12/2022"),
        lambda d: _svc(d, "3commas")["incidents"][1].update(date="2022-02-30"),
        lambda d: _svc(d, "crypto-ml")["egress_ips"].update(ips=["not-an-ip"]),
        lambda d: _svc(d, "koinly").update(website="koinly.io"),
        lambda d: d.update(services=d["services"][:5]),
    ],
    ids=["missing-permission", "uppercase-id", "bad-status", "bad-kind", "no-sources", "bad-date-format",
         "impossible-date", "bad-ip", "bad-url", "too-few"],
)
def test_schema_violations_are_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError, match="schema"):
        registry_from_document(_broken(mutate))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: _svc(d, "koinly").update(id="3commas"), "appears twice"),
        (lambda d: _svc(d, "koinly")["aliases"].append("Three-Commas"), "resolve to both"),
        (lambda d: _svc(d, "3commas")["incidents"][1].update(date_precision="month"), "1st of the month"),
        (lambda d: _svc(d, "koinly")["incidents"].append(dict(_svc(d, "3commas")["incidents"][0])), "unique"),
    ],
)
def test_rules_beyond_the_schema(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError, match=message):
        registry_from_document(_broken(mutate))


def test_loading_a_missing_or_broken_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryError, match="not valid JSON"):
        load_registry(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(shipped()), encoding="utf-8")
    assert isinstance(load_registry(good), Registry)


def test_the_shipped_registry_loads_without_jsonschema() -> None:
    """The shipped file is checked against its schema by this suite (test_the_shipped_document_is_valid); at run
    time loading it needs no schema validator: jsonschema and its dependencies are ~5 MB of every window process
    (tests/benchmarks: memory). Any other file is still validated in full (test_schema_violations_are_refused)."""
    import subprocess
    import sys

    code = ("import sys\nfrom keyhygiene.core.registry import load_registry\n"
            "r = load_registry()\nassert r.get('3commas') is not None\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jsonschema', 'referencing', 'rpds')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_a_file_given_by_path_is_validated_in_full(tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = shipped()
    _svc(doc, "koinly").update(status="gone")  # a value only the schema refuses
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(RegistryError, match="schema"):
        load_registry(path)


@pytest.mark.parametrize(
    "mutate",
    [lambda d: _svc(d, "koinly").pop("permission"), lambda d: _svc(d, "koinly").update(incidents=None),
     lambda d: d.pop("updated")],
    ids=["missing-field", "wrong-type", "no-date"],
)
def test_a_broken_document_without_schema_check_still_fails_as_a_registry_error(mutate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError, match="service registry"):
        registry_from_document(_broken(mutate), validate=False)
