"""``cdp churn backtest`` and the analytics' --segment and --breakdown options, through the real CLI on
hand-made events whose figures are worked out by hand; bad options are named, never a traceback.

Bea buys once on Jan 10 and is never seen again: no purchase for 90 days and quiet raise a warning on
Apr 10 (45, medium), and she churns on Jul 9 (180 days without interaction), 90 days later. Carl buys
on Jan 10, Mar 1 and Apr 20 (a usual interval of 50 days): no warning before Jul 29, outside the period. Dan only looks,
on Sep 1, which is where the data ends.
"""

from pathlib import Path

import orjson

from tests.cli import cdp
from tests.events import event, order

BEA, CARL = {"email": "bea@example.com"}, {"email": "carl@example.com"}
LOG = [
    event("page_viewed", "2025-01-10T11:00:00Z", **BEA) | {"context": {"campaign": {"name": "spring", "source": "wechat"}}},
    order("2025-01-10", 100, "o1", **BEA),
    event("page_viewed", "2025-01-10T11:00:00Z", **CARL) | {"context": {"campaign": {"name": "618", "source": "weibo"}}},
    order("2025-01-10", 100, "o2", **CARL), order("2025-03-01", 100, "o3", **CARL), order("2025-04-20", 100, "o4", **CARL),
    event("page_viewed", "2025-09-01", anonymous_id="dan-device"),
]


def ok(*args: str, data_dir: Path) -> str:
    done = cdp(*args, data_dir=data_dir)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def refused(*args: str, data_dir: Path) -> str:
    done = cdp(*args, data_dir=data_dir)
    error = " ".join(done.stderr.decode().split())
    assert done.returncode != 0 and "Traceback" not in error, error
    return error


def test_backtest_and_filtered_analytics(tmp_path: Path):
    data, log, segment = tmp_path / "data", tmp_path / "log.jsonl", tmp_path / "bea.yaml"
    log.write_bytes(b"\n".join(map(orjson.dumps, LOG)) + b"\n")
    ok("ingest", str(log), data_dir=data)
    ok("run", data_dir=data)

    (overall, *signs) = orjson.loads(ok("churn", "backtest", "--from", "2025-04-01", "--to", "2025-05-01", "--within-days", "100", "--format", "json", data_dir=data))
    # population: Bea and Carl (buyers, not churned); Bea warned and churned 90 days later; the only churner
    assert overall == {"reason": "(all)", "warned": 1, "churned_after_warning": 1, "precision_pct": 100, "churners": 1, "recall_pct": 100,
                       "population": 2, "base_rate_pct": 50, "lift": 2}
    assert [(s["reason"], s["warned"], s["lift"]) for s in signs] == [("purchase_gap", 1, 2), ("quiet", 1, 2)]
    warnings = orjson.loads(ok("sql", "SELECT to_level, toDate(at) AS day, days_to_churn FROM cdp.churn_warnings ORDER BY at", "--format", "json", data_dir=data))
    assert warnings == [{"to_level": "medium", "day": "2025-04-10", "days_to_churn": 90},  # Bea
                        {"to_level": "medium", "day": "2025-07-29", "days_to_churn": None},  # Carl: 2 × 50 days without a purchase, and quiet
                        {"to_level": "high", "day": "2025-08-28", "days_to_churn": None}]  # and his purchases fell from 2 to 1 per 180 days
    too_late = refused("churn", "backtest", "--from", "2025-06-01", "--to", "2025-07-01", "--within-days", "100", data_dir=data)
    assert "end: the warnings up to 2025-07-01 need 100 days of outcome, but the data ends at 2025-09-01 12:00; choose an end on or before 2025-05-24" in too_late
    assert "level: expected medium or high, got 'low'" in refused("churn", "backtest", "--level", "low", data_dir=data)

    segment.write_text('name: bea\nwhere: {field: orders, op: "=", value: 1}\n')  # Carl has 3
    ok("segment", "create", str(segment), data_dir=data)
    funnel = orjson.loads(ok("analytics", "funnel", "--steps", "page_viewed,order_placed", "--breakdown", "campaign", "--format", "json", data_dir=data))
    assert [(r["breakdown"], r["step"], r["customers"]) for r in funnel] == [("", 1, 1), ("", 2, 0), ("618", 1, 1), ("618", 2, 1), ("spring", 1, 1), ("spring", 2, 1)]
    funnel = orjson.loads(ok("analytics", "funnel", "--steps", "page_viewed,order_placed", "--segment", "bea", "--format", "json", data_dir=data))
    assert [r["customers"] for r in funnel] == [1, 1]
    trend = orjson.loads(ok("analytics", "revenue-trend", "--period", "month", "--segment", "bea", "--format", "json", data_dir=data))
    assert [(r["period"], r["currency"], r["purchases"], r["revenue"]) for r in trend] == [("2025-01-01", "CNY", 1, 100)]
    assert "breakdown: expected one of source, campaign; got 'channel'" in refused("analytics", "channels", "--breakdown", "channel", data_dir=data)
    assert "segment: no segment named 'nobody'" in refused("analytics", "sla", "--segment", "nobody", data_dir=data)
