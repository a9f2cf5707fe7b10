"""A rebuild empties the rollups kept from events with the events, so a customer id that an identity
change took away leaves no activity behind in customer_days (and the daily rollups come back equal)."""

import orjson

from cdp.platform import Platform
from cdp.rebuild import rebuild
from ingestion.jsonl import import_lines
from tests.events import event, order

EVENTS = [
    event("page_viewed", "2025-03-01T10:00:00Z", anonymous_id="a-dev"),
    event("identified", "2025-03-01T10:05:00Z", anonymous_id="a-dev", email="a@example.com"),
    order("2025-03-04T12:00:00Z", 80, "o-1", email="a@example.com"),
    event("page_viewed", "2025-03-09T08:00:00Z", anonymous_id="b-dev"),
]


def test_rebuild_refills_customer_days_from_the_events_alone(platform: Platform):
    assert (import_lines((orjson.dumps(e) for e in EVENTS), platform, "t").stored, platform.runner.run()) == (4, 4)
    w = platform.warehouse
    days = "SELECT customer_id, arraySort(days) AS days FROM cdp.customer_days ORDER BY customer_id"
    daily = "SELECT day, source_kind, event_type, events FROM cdp.daily_events ORDER BY ALL"
    before, daily_before = w.query(days), w.query(daily)
    assert sorted(len(r["days"]) for r in before) == [1, 2]
    w.execute("INSERT INTO cdp.customer_days_state SELECT 'no-longer-a-customer', groupUniqArrayState(toDate('2025-03-02'))")
    assert len(w.query(days)) == 3
    assert rebuild(platform, []) == 4
    assert (w.query(days), w.query(daily)) == (before, daily_before)


def test_rebuild_empties_customer_survivors_with_customer_merges(platform: Platform):
    """customer_survivors is kept from customer_merges by a view: a survivor an identity change took away must go."""
    assert import_lines((orjson.dumps(e) for e in EVENTS), platform, "t").stored == 4
    platform.runner.run()
    w = platform.warehouse
    survivors = "SELECT absorbed, survivor FROM cdp.customer_survivors ORDER BY ALL"
    merges = "SELECT absorbed, survivor FROM cdp.customer_merges FINAL ORDER BY ALL"
    w.execute("INSERT INTO cdp.customer_merges (absorbed, survivor) VALUES ('gone', 'no-longer-a-survivor')")
    assert {"absorbed": "gone", "survivor": "no-longer-a-survivor"} in w.query(survivors)
    rebuild(platform, ["identity"])
    assert w.query(survivors) == w.query(merges)
    assert "gone" not in [r["absorbed"] for r in w.query(survivors)]
