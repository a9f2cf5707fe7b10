"""Forgetting a customer, proven at the byte level: after `cdp forget`, and again after a rebuild, no
file under the data directory holds the person's email, phone or name, nor does any warehouse
table by SQL, while counts stay correct. The person's values are also where no schema marks them
personal: in a page's URL query string, fragment and referrer, and in properties the event type
does not declare (an order's ``note``, a line item's ``engraving``, a custom track property)."""

import sqlite3
from contextlib import closing
from pathlib import Path

import lz4.block
import orjson
import pytest
import zstd

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.warehouse import Warehouse
from cdp.workload import generate_events
from tests.cli import cdp
from tests.events import event, order

EMAIL = "zelda.quixotic@example.org"
PHONE = "+8613912345678"
NAME = "Zelda Quixotic"
URL = f"https://shop.example.com/welcome?email={EMAIL}&utm_source=newsletter#{NAME}"
REFERRER = f"https://mail.example.net/u/0/{EMAIL}?q=Quixotic"


def person_events() -> list[dict]:
    me = {"email": EMAIL}
    return [
        event("page_viewed", "2025-03-01", anonymous_id="anon-zq-1"),
        event("identified", "2025-03-01T12:05:00Z", anonymous_id="anon-zq-1", email=EMAIL, phone=PHONE, traits={"name": NAME, "city": "Hangzhou"}),
        order("2025-03-02", 120.5, "zq-o1", **me),
        order("2025-04-10", 79.5, "zq-o2", phone=PHONE),
        event("feedback_given", "2025-04-11", properties={"text": f"Great service, thanks! -- {NAME} ({EMAIL})"}, **me),
        event("ticket_opened", "2025-04-12", properties={"ticket_id": "zq-t1", "channel": "email", "priority": "normal", "subject": f"Refund for {NAME}, call {PHONE}"}, **me),
        event("message_sent", "2025-04-13", properties={"platform": "wechat", "text": f"hi it's {NAME.lower()}"}, wechat="zq_wx"),
        event("page_viewed", "2025-04-13T12:00:00Z", properties={"url": URL, "path": f"/welcome?email={EMAIL}", "referrer": REFERRER, "title": "Welcome"}, **me),
        event(
            "order_placed", "2025-04-13", properties={"order_id": "zq-o3", "amount": 30.0, "note": f"gift wrap, for {NAME}", "items": [{"product_id": "p-1", "engraving": NAME.upper()}]}, **me
        ),
        event("event_tracked", "2025-04-13", properties={"name": "Newsletter Signup", "signup_email": EMAIL}, **me),
        event("identified", "2025-04-13T12:01:00Z", wechat="zq_wx", email=EMAIL),
    ]


def write_workload(path: Path) -> None:
    lines = [orjson.dumps(e) for e in generate_events(3000, seed=11)] + [orjson.dumps(e) for e in person_events()]
    bad = order("2025-04-20", -5, "zq-bad", email=EMAIL) | {"traits": {"name": NAME}}  # negative amount: dead-lettered
    bad_page = event("page_viewed", "2025-04-21", anonymous_id="anon-unknown", properties={"url": URL, "title": " "})  # blank title; the email only in the URL
    lines += [orjson.dumps(bad), orjson.dumps(bad_page)]
    path.write_bytes(b"\n".join(lines) + b"\n")


def needles() -> list[bytes]:
    texts = {EMAIL, EMAIL.upper(), PHONE, PHONE.lstrip("+"), NAME, NAME.lower(), NAME.upper(), "Quixotic"}
    return sorted({t.encode(encoding) for t in texts for encoding in ("utf-8", "utf-16-le", "utf-16-be")})


def readable(path: Path) -> bytes:
    """A file's bytes, followed for ClickHouse column files by their blocks decompressed (LZ4 or
    ZSTD): compressed, a value need not appear in the file literally."""
    content = path.read_bytes()
    if path.suffix != ".bin":
        return content
    blocks, at = [], 0
    while at + 25 <= len(content):  # 16-byte checksum, method, compressed size (with the 9-byte header), plain size
        method, size, plain = content[at + 16], int.from_bytes(content[at + 17 : at + 21], "little"), int.from_bytes(content[at + 21 : at + 25], "little")
        data = content[at + 25 : at + 16 + size]
        if method == 0x82:
            blocks.append(lz4.block.decompress(data, uncompressed_size=plain))
        elif method == 0x90:
            blocks.append(zstd.decompress(data))
        elif method == 0x02:
            blocks.append(data)
        else:
            break
        at += 16 + size
    return content + b"".join(blocks)


def files_holding(data_dir: Path) -> dict[str, list[str]]:
    """Every file under the data directory (SQLite files and their -wal/-shm, key store, warehouse parts,
    logs, ...) that holds any of the person's values, with the values found."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        content = readable(path)
        hits = [n.decode("utf-8", errors="replace") for n in needles() if n in content]
        if hits:
            found[str(path.relative_to(data_dir))] = hits
    return found


def warehouse_holding(warehouse: Warehouse) -> dict[str, list[str]]:
    """Every warehouse table with a text column (merged rows or not) holding one of the person's values, with the
    columns, found by SQL: the column files are compressed, so their bytes need not show a value. Not the table
    ``product_pairs``'s refresh fills for a moment each minute (``.tmp.inner_id.<uuid>``, gone by the time it is
    read, seen in CI): what it holds becomes ``product_pairs``, which is read."""
    texts = sorted({EMAIL, PHONE.lstrip("+"), NAME, "Quixotic", "zq_wx"})
    query = (
        "SELECT c.table AS table, groupArray(c.name) AS names, groupArray(c.type) AS types FROM system.columns AS c "
        "INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table "
        "WHERE c.database = {db:String} AND c.type LIKE '%String%' AND t.engine NOT IN ('View', 'MaterializedView') AND NOT startsWith(c.table, '.tmp.') "
        "GROUP BY c.table"
    )
    found = {}
    for row in warehouse.query(query, {"db": warehouse.database}):
        values = [f"toString(finalizeAggregation(`{n}`))" if t.startswith("AggregateFunction") else f"toString(`{n}`)" for n, t in zip(row["names"], row["types"], strict=True)]
        counts = ", ".join(f"countIf(multiSearchAnyCaseInsensitiveUTF8({v}, {{texts:Array(String)}})) AS `{n}`" for n, v in zip(row["names"], values, strict=True))
        (hits,) = warehouse.query(f"SELECT {counts} FROM `{warehouse.database}`.`{row['table']}`", {"texts": texts})
        if columns := sorted(name for name, n in hits.items() if int(n)):
            found[row["table"]] = columns
    return found


def embedded_warehouse_holding(data_dir: Path) -> dict[str, list[str]]:
    with Platform(load_settings(data_dir=data_dir)) as platform:
        return warehouse_holding(platform.warehouse)


def run(*args: str, data_dir: Path) -> str:
    result = cdp(*args, data_dir=data_dir)
    assert result.returncode == 0, (args, result.stdout.decode(), result.stderr.decode())
    assert "Traceback" not in result.stderr.decode()
    return result.stdout.decode()


def sql(query: str, data_dir: Path) -> list[dict]:
    return orjson.loads(run("sql", query, "--format", "json", data_dir=data_dir))


def totals(data_dir: Path) -> dict:
    """The counts a forget must keep, by one `cdp sql` (a process start each time)."""
    (row,) = sql(
        "SELECT (SELECT count() FROM cdp.events FINAL WHERE event_type != 'customer_erased') AS events, "
        "sum(orders) AS orders, round(sum(revenue), 2) AS revenue, count() AS customers FROM cdp.profiles FINAL", data_dir)
    return {"events": int(row["events"]), "orders": int(row["orders"]), "revenue": float(row["revenue"]), "customers": int(row["customers"])}


@pytest.fixture(scope="module")
def forgotten(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("forget") / "data"
    workload = data.parent / "workload.jsonl"
    write_workload(workload)
    result = cdp("ingest", str(workload), data_dir=data)
    assert result.returncode == 1 and "2 rejected" in result.stdout.decode(), result.stdout.decode() + result.stderr.decode()
    run("run", data_dir=data)
    before_profile = orjson.loads(run("profile", EMAIL, "--json", data_dir=data))
    before = {"totals": totals(data), "profile": before_profile, "files": files_holding(data), "warehouse": embedded_warehouse_holding(data)}
    receipts = orjson.loads(run("forget", PHONE, "--json", data_dir=data))
    return {"data": data, "before": before, "receipts": receipts}


def test_before_forgetting_the_scan_finds_the_person(forgotten: dict):
    # the proof below is worth something only if the scan sees plaintext where it is
    assert forgotten["before"]["files"], "the person's data should be in the warehouse before forgetting"
    # ... and only in what the projections derive: the event log, dead letters and key store are sealed from the start
    assert {path.split("/")[0] for path in forgotten["before"]["files"]} <= {"warehouse", "projections.sqlite", "projections.sqlite-wal"}
    assert forgotten["before"]["profile"]["emails"] == [EMAIL]
    assert forgotten["before"]["warehouse"]["events"] == ["email", "phone", "properties", "social", "traits"]


def test_the_event_log_holds_the_undeclared_and_url_values_only_sealed(forgotten: dict):
    with Platform(load_settings(data_dir=forgotten["data"])) as platform:
        stored = b"\n".join(n.state for n in platform.events.store.read(0, 10_000))
    for text in (b"shop.example.com/welcome", b"mail.example.net", b"Newsletter Signup", b"zq-o3"):
        assert text in stored  # what is public stays readable ...
    for text in (b"utm_source", b"gift wrap", b"engraving", b"signup_email", b"/u/0/"):
        assert text not in stored  # ... the query string, the referrer's path and the undeclared properties do not


def test_the_receipt_says_what_was_found_where_and_when(forgotten: dict):
    (receipt,) = forgotten["receipts"]
    assert receipt["customer_id"] == forgotten["before"]["profile"]["customer_id"]
    assert receipt["identifiers_found"] == {"anonymous_id": 1, "email": 1, "phone": 1, "social": 1}
    assert receipt["keys_shredded"]["identifiers"] >= 1 and receipt["keys_shredded"]["dead_letters"] == 2
    assert receipt["warehouse_rows_scrubbed"]["events"] == len(person_events())
    assert receipt["erasure_event_stored"] and receipt["erased_at"]
    assert EMAIL not in orjson.dumps(receipt).decode() and PHONE not in orjson.dumps(receipt).decode()
    with closing(sqlite3.connect(forgotten["data"] / "keys.sqlite")) as keys:  # recorded where the keys are
        assert [orjson.loads(r) for (r,) in keys.execute("SELECT receipt FROM erasures")] == [receipt]


def test_no_file_and_no_warehouse_table_holds_the_person_after_forgetting(forgotten: dict):
    assert files_holding(forgotten["data"]) == {}
    assert embedded_warehouse_holding(forgotten["data"]) == {}


def public_page(data_dir: Path) -> dict:
    (page,) = sql("SELECT properties FROM cdp.events FINAL WHERE event_type = 'page_viewed' AND position(properties, 'welcome') > 0", data_dir)
    return orjson.loads(page["properties"])


def test_what_is_public_of_a_page_stays_for_analytics(forgotten: dict):
    public = {"url": "https://shop.example.com/welcome", "path": "/welcome", "referrer": "https://mail.example.net", "title": "Welcome", "name": None, "category": None}
    assert public_page(forgotten["data"]) == public


def test_the_profile_shows_as_erased_and_counts_stay(forgotten: dict):
    data, before = forgotten["data"], forgotten["before"]
    assert cdp("profile", EMAIL, data_dir=data).returncode == 2  # nobody has that email any more
    after = orjson.loads(run("profile", before["profile"]["customer_id"], "--json", data_dir=data))
    assert after["emails"] == [] and after["phones"] == [] and after["social_handles"] == [] and after["anonymous_ids"] == []
    assert orjson.loads(after["traits"]) == {"erased": True}
    assert after["user_ids"] == [forgotten["receipts"][0]["erasure_event_identifier"].removeprefix("user_id:")]
    for count in ("orders", "revenue", "events_total", "events_sales", "lifecycle_stage", "first_seen", "last_seen"):
        assert after[count] == before["profile"][count], count
    assert totals(data) == before["totals"]


def test_dead_letters_mentioning_the_person_read_as_erased(forgotten: dict):
    letters = orjson.loads(run("deadletter", "list", "--format", "json", data_dir=forgotten["data"]))
    assert len(letters) == 2
    for letter in letters:
        assert letter["reason"].startswith("erased")
        shown = run("deadletter", "show", str(letter["id"]), data_dir=forgotten["data"])
        assert EMAIL not in shown and NAME not in shown


def test_a_rebuild_keeps_the_person_forgotten(forgotten: dict):
    data, before = forgotten["data"], forgotten["before"]
    scrubbed = public_page(data)
    run("projections", "rebuild", data_dir=data)
    assert files_holding(data) == {}
    assert embedded_warehouse_holding(data) == {}
    assert public_page(data) == scrubbed  # the erased events open as the scrub left them
    assert totals(data) == before["totals"]
    token_user = forgotten["receipts"][0]["erasure_event_identifier"].removeprefix("user_id:")
    rebuilt = orjson.loads(run("profile", token_user, "--json", data_dir=data))
    assert rebuilt["emails"] == [] and orjson.loads(rebuilt["traits"]) == {"erased": True}
    for count in ("orders", "revenue", "events_total", "first_seen", "last_seen"):
        assert rebuilt[count] == before["profile"][count], count
