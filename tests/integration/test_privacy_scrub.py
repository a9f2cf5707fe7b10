"""Scrubbing a forgotten customer's rows from the warehouse, on the managed ClickHouse server: the
rows keep their counts, other customers are untouched, and no part on disk keeps the old values."""

import os
from datetime import UTC, datetime
from pathlib import Path

from cdp.privacy.scrub import scrub
from cdp.warehouse import Warehouse
from projections.tables import identities, identity_refusals, profiles, suppressions
from projections.tables.table import blank_row
from tests.e2e.test_forget import readable
from tests.integration.wh_contract import event_row

EMAIL = "zed.scrubbed@example.org"
AT = datetime(2025, 5, 1, tzinfo=UTC)


def fill(warehouse: Warehouse) -> None:
    mine = event_row(1, customer="c-zed") | {"email": EMAIL, "traits": f'{{"email": "{EMAIL}"}}', "user_id": "u-zed"}
    feedback = event_row(2, "feedback_given", customer="c-zed-old") | {"properties": f'{{"text": "from {EMAIL}", "topic": "delivery"}}'}
    other = event_row(3, customer="c-other") | {"email": "other@example.org"}
    warehouse.insert("events", [mine, feedback, other])
    profile = blank_row(profiles.TABLE) | {"customer_id": "c-zed", "version": 3, "emails": [EMAIL], "user_ids": ["u-zed"], "traits": '{"name": "Zed"}', "orders": 1, "revenue": 10.0,
                                           "first_seen": AT, "last_seen": AT, "lifecycle_since": AT, "as_of": AT}
    warehouse.insert(profiles.TABLE.name, [profile, profile | {"customer_id": "c-other", "emails": ["other@example.org"]}])
    warehouse.insert(identities.TABLE.name, [identities.row(f"email:{EMAIL}", "c-zed", 1), identities.row("email:other@example.org", "c-other", 3)])
    refusal = {"position": 3, "occurred_at": AT, "reason": "merge refused", "id_type": "email"}
    warehouse.insert(identity_refusals.TABLE.name, [refusal | {"customer_id": "c-other", "other_customer": "c-zed", "identifier": f"email:{EMAIL}"}])
    unsubscribed = blank_row(suppressions.TABLE) | {"purpose": "email_marketing", "suppressed": 1, "since": AT, "reason": "unsubscribe", "source_name": "web", "position": 2}
    warehouse.insert(suppressions.TABLE.name, [unsubscribed | {"identifier": f"email:{EMAIL}"}, unsubscribed | {"identifier": "email:other@example.org"}])


def database_files_holding(warehouse: Warehouse, needle: bytes) -> list[str]:
    """Files under the engine's data directory (found from the tables' own paths) that hold ``needle``."""
    path = warehouse.query("SELECT data_paths[1] AS p FROM system.tables WHERE database = {db:String} AND name = 'events'", {"db": warehouse.database})[0]["p"]
    root = Path(path.split("/store/")[0])
    return [str(p) for p in _files(root) if needle in _read_if_there(p)]


def _files(root: Path) -> list[Path]:
    """The regular files under ``root``; a directory the server removes meanwhile (an outdated part) is passed over."""
    return [Path(folder, name) for folder, _, names in os.walk(root) for name in names if not Path(folder, name).is_symlink()]


def _read_if_there(path: Path) -> bytes:
    try:
        return readable(path)
    except FileNotFoundError:  # removed by the server meanwhile: it holds nothing any more
        return b""


def test_scrub_rewrites_the_customers_rows_and_leaves_no_old_part(any_warehouse: Warehouse):
    w, db = any_warehouse, any_warehouse.database
    fill(w)
    assert database_files_holding(w, EMAIL.encode())  # the check below can fail

    rows = scrub(w, ["c-zed", "c-zed-old"], [f"email:{EMAIL}", "user_id:u-zed"], "c-zed", "erased:" + "a" * 32, 9)

    assert rows == {"events": 2, "profiles": 1, "identities": 1, "identity_refusals": 1, "suppressions": 1}
    assert [r["identifier"] for r in w.query(f"SELECT identifier FROM `{db}`.suppressions")] == ["email:other@example.org"]
    events = {r["position"]: r for r in w.query(f"SELECT position, email, user_id, traits, properties FROM `{db}`.events FINAL ORDER BY position")}
    assert events[1] | {"position": 1} == {"position": 1, "email": "", "user_id": "erased:" + "a" * 32, "traits": "{}", "properties": '{"amount":10.0,"currency":"CNY"}'}
    assert events[2]["properties"] == '{"topic":"delivery"}'
    assert events[3]["email"] == "other@example.org"
    zed = w.query(f"SELECT emails, user_ids, traits, orders, revenue FROM `{db}`.profiles FINAL WHERE customer_id = 'c-zed'")
    assert zed == [{"emails": [], "user_ids": ["erased:" + "a" * 32], "traits": "{}", "orders": 1, "revenue": 10.0}]
    assert {r["identifier"]: r["customer_id"] for r in w.query(f"SELECT identifier, customer_id FROM `{db}`.identities FINAL")} == {
        "email:other@example.org": "c-other", "user_id:erased:" + "a" * 32: "c-zed",
    }
    assert [r["identifier"] for r in w.query(f"SELECT identifier FROM `{db}`.identity_refusals")] == ["user_id:erased:" + "a" * 32]
    assert database_files_holding(w, EMAIL.encode()) == []
    assert w.query(f"SELECT count() AS n FROM system.tables WHERE database = '{db}' AND name LIKE '%erasing%'")[0]["n"] in (0, "0")
