"""Migration 30: the events table's by-customer projection, and ``cdp.queries.customer_events``
reading it. A customer's events read through it equal those a FINAL scan of the table gives, for a
merge chain (Ann merged into Bea, Bea into Cy: tests/e2e/test_profile_360.py), with a batch written
twice and after the parts merge."""

import orjson
import pytest

from cdp.config import Settings
from cdp.customers import Customers
from cdp.errors import QueryRefused
from cdp.platform import Platform
from cdp.queries import customer_events, timeline
from cdp.timetravel import touchpoints
from cdp.warehouse.backends import open_warehouse
from ingestion.jsonl import import_lines
from projections.tables import events
from tests.e2e.test_profile_360 import CHAIN
from tests.integration.test_wh_clickhouse import server_settings
from tests.services.clickhouse import ClickHouseServer

OTHERS, OTHERS_FROM = 200_000, 1_000_000


@pytest.fixture
def chained(platform: Platform) -> Platform:
    for batch in (CHAIN[:3], CHAIN[3:4], CHAIN[4:]):  # one merge per run: events keep the id they had then
        report = import_lines((orjson.dumps(e) for e in batch), platform, "scenario")
        assert (report.stored, report.rejected) == (len(batch), [])
        platform.runner.run()
    # other customers' page views in the same month: enough rows that reading the table by its own key costs more than the projection
    platform.warehouse.execute(
        "INSERT INTO cdp.events (position, message_id, event_type, occurred_at, customer_id) "
        f"SELECT {OTHERS_FROM} + number, toString(number), 'page_viewed', toDateTime64('2025-11-01 00:00:00', 3) + number, concat('other-', toString(number % 5000)) "
        f"FROM numbers({OTHERS})"
    )
    platform.warehouse.execute("OPTIMIZE TABLE cdp.events FINAL")  # one part, each customer's few events among the others' (the bloom filter index skips little)
    return platform


def scanned(platform: Platform, group: list[str]) -> list[dict]:
    return platform.warehouse.query("SELECT * FROM cdp.events FINAL WHERE customer_id IN {ids:Array(String)} ORDER BY position", {"ids": group})


def plan(platform: Platform, group: list[str]) -> str:
    sql = f"SELECT * FROM cdp.events WHERE customer_id IN {group!r} ORDER BY position LIMIT 1 BY position"
    return "\n".join(r["explain"] for r in platform.warehouse.query(f"EXPLAIN projections = 1 {sql}"))


def test_the_projection_is_made_and_kept_by_merges(chained: Platform):
    w = chained.warehouse
    created = w.query("SELECT create_table_query AS q FROM system.tables WHERE database = 'cdp' AND name = 'events'")[0]["q"]
    assert f"PROJECTION {events.BY_CUSTOMER}" in created and "deduplicate_merge_projection_mode = 'rebuild'" in created
    parts = w.query("SELECT count() AS n FROM system.projection_parts WHERE database = 'cdp' AND table = 'events' AND name = {p:String} AND active", {"p": events.BY_CUSTOMER})
    assert parts[0]["n"] >= 1  # written with every insert, no second write path


def test_a_merged_customers_events_read_by_customer_equal_a_scan(chained: Platform):
    w = chained.warehouse
    cy = Customers(w).resolve_all("cy@example.com")[0]
    group = Customers(w).merged_into(cy)
    assert len(group) == 3 and len(scanned(chained, group)) == len(CHAIN)
    assert customer_events(w, group, "*") == scanned(chained, group)
    assert f"ReadFromMergeTree ({events.BY_CUSTOMER})" in plan(chained, group)
    # a replayed batch written twice (until a merge drops the copy): FINAL shows each event once, and so does the projection's read
    w.execute("INSERT INTO cdp.events SETTINGS insert_deduplicate = 0 SELECT * FROM cdp.events")
    assert w.query("SELECT count() AS n FROM cdp.events")[0]["n"] == 2 * (len(CHAIN) + OTHERS)
    assert customer_events(w, group, "*") == scanned(chained, group)
    assert [r["position"] for r in timeline(w, group, limit=3)] == [r["position"] for r in scanned(chained, group)][::-1][:3]
    assert [tp.position for tp in touchpoints(w, group)] == [r["position"] for r in scanned(chained, group)]
    w.execute("OPTIMIZE TABLE cdp.events FINAL")  # the merge rebuilds the projection from the rows it keeps
    assert w.query("SELECT count() AS n FROM cdp.events")[0]["n"] == len(CHAIN) + OTHERS
    assert customer_events(w, group, "*") == scanned(chained, group)
    assert f"ReadFromMergeTree ({events.BY_CUSTOMER})" in plan(chained, group)


def test_parallel_reads_answer_by_name_over_several_connections_and_raise_a_failure(clickhouse: ClickHouseServer, tmp_path):
    w = open_warehouse(Settings(data_dir=tmp_path, warehouse=server_settings(clickhouse, insert_connections=4)))
    # each read notes when it started, then holds its connection for a second: in turn, each would start after the one before ended
    calls = {f"q{i}": (lambda i=i: w.query("SELECT {i:UInt8} AS i, toUnixTimestamp64Micro(now64(6)) AS started, sleepEachRow(1) AS pause", {"i": i})[0]) for i in range(4)}
    ran = w.parallel(calls)
    assert [ran[f"q{i}"]["i"] for i in range(4)] == [0, 1, 2, 3]
    starts = sorted(r["started"] for r in ran.values())
    assert any(later < earlier + 1_000_000 for earlier, later in zip(starts, starts[1:]))  # at once, not in turn
    with pytest.raises(QueryRefused, match="no_such_table"):
        w.parallel({"fine": lambda: w.query("SELECT 1 AS x"), "bad": lambda: w.query(f"SELECT * FROM `{w.database}`.no_such_table")})
    w.close()
