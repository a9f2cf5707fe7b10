"""The churn warnings backtest and the churn_warnings view on hand-made histories whose figures are
worked out by hand (the period: March 2025; churn within 60 days)."""

from datetime import UTC, datetime

import pytest

from cdp.analytics.churn_backtest import backtest
from cdp.analytics.window import window
from projections.tables import churn_level_changes, lifecycle_transitions
from projections.tables.table import blank_row

MARCH = window("2025-03-01", "2025-04-01")


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def warehouse(any_warehouse):
    w = any_warehouse
    stages = [  # customer, day, from, to
        ("a", "2025-01-01", "", "new"), ("a", "2025-04-20", "new", "churned"),  # warned Mar 5, churned 46 days later: a hit
        ("b", "2025-01-01", "", "repeat"),  # warned Mar 10 (high), never churned
        ("c", "2025-01-01", "", "loyal"), ("c", "2025-03-20", "loyal", "churned"),  # churned unwarned: missed
        ("d", "2025-01-01", "", "new"),  # neither
        ("e", "2025-01-01", "", "prospect"),  # a prospect cannot churn: not in the population, its warning not counted
        ("f", "2025-01-01", "", "new"), ("f", "2025-02-01", "new", "churned"),  # churned before March: not in the population
        ("g", "2025-01-01", "", "repeat"), ("g", "2025-06-30", "repeat", "churned"),  # warned Mar 15, churned 107 days later: no hit
        ("h", "2025-02-20", "", "prospect"), ("h", "2025-03-02", "prospect", "new"),  # a buyer since March 2
    ]
    w.insert(lifecycle_transitions.TABLE.name, [
        blank_row(lifecycle_transitions.TABLE) | {"customer_id": c, "at": day(d), "from_stage": f, "to_stage": t, "version": 1} for c, d, f, t in stages
    ])
    levels = [  # customer, day, from, to, signs
        ("a", "2025-03-05", "low", "medium", ["purchase_gap", "quiet"]), ("a", "2025-03-08", "medium", "low", []),
        ("b", "2025-03-10", "low", "high", ["complaint_past_sla", "recent_complaint", "detractor"]),
        ("e", "2025-03-06", "low", "medium", ["quiet", "negative_feedback"]),
        ("f", "2025-03-07", "low", "medium", ["purchase_gap", "quiet"]),
        ("g", "2025-03-15", "low", "medium", ["falling_frequency", "quiet"]),
        ("d", "2025-02-10", "low", "medium", ["detractor", "recent_complaint"]), ("d", "2025-03-03", "medium", "low", []),  # raised before March
    ]
    w.insert(churn_level_changes.TABLE.name, [
        blank_row(churn_level_changes.TABLE) | {"customer_id": c, "at": day(d), "from_level": f, "to_level": t, "signs": s, "version": 1} for c, d, f, t, s in levels
    ])
    return w


def figures(rows: list[dict]) -> dict[str, tuple]:
    return {r["reason"]: (r["warned"], r["churned_after_warning"], r["precision_pct"], r["recall_pct"], r["lift"]) for r in rows}


def test_precision_recall_and_lift_over_the_base_rate(warehouse):
    rows = backtest(warehouse, MARCH, 60)
    # population a b c d g h; warned a b g; a churned within 60 days of its warning; churners a and c (up to May 31)
    assert {k: rows[0][k] for k in ("reason", "population", "warned", "churned_after_warning", "churners")} == {
        "reason": "(all)", "population": 6, "warned": 3, "churned_after_warning": 1, "churners": 2}
    assert (rows[0]["precision_pct"], rows[0]["recall_pct"], rows[0]["base_rate_pct"], rows[0]["lift"]) == (33.3, 50, 33.3, 1)
    assert figures(rows[1:]) == {
        "quiet": (2, 1, 50, 50, 1.5),  # a and g
        "purchase_gap": (1, 1, 100, 50, 3),
        "complaint_past_sla": (1, 0, 0, 0, 0), "detractor": (1, 0, 0, 0, 0), "recent_complaint": (1, 0, 0, 0, 0), "falling_frequency": (1, 0, 0, 0, 0),
    }
    assert [r["reason"] for r in rows[1:3]] == ["quiet", "complaint_past_sla"]  # most warned first, then by name


def test_a_longer_horizon_and_high_warnings_only(warehouse):
    # g churned 107 days after its warning: a hit now, and a churner (base rate 3 of 6): lift 66.7 / 50
    assert figures(backtest(warehouse, MARCH, 120)[:1]) == {"(all)": (3, 2, 66.7, 66.7, 1.33)}
    (overall, *signs) = backtest(warehouse, MARCH, 60, "high")
    assert (overall["warned"], overall["churned_after_warning"], overall["precision_pct"], overall["lift"]) == (1, 0, 0, 0)  # only b
    assert {r["reason"] for r in signs} == {"complaint_past_sla", "recent_complaint", "detractor"}


def test_no_warning_no_figures_to_divide(warehouse):
    (overall,) = backtest(warehouse, window("2024-01-01", "2024-02-01"), 60)
    assert (overall["population"], overall["warned"], overall["precision_pct"], overall["recall_pct"], overall["base_rate_pct"], overall["lift"]) == (
        0, 0, None, None, None, None)


def test_the_churn_warnings_view_lists_each_warning_with_the_churn_after_it(warehouse):
    rows = warehouse.query("SELECT customer_id, toDate(at) AS day, to_level, churned_at, days_to_churn FROM cdp.churn_warnings ORDER BY customer_id, at")
    assert [(r["customer_id"], r["day"], r["to_level"], r["days_to_churn"]) for r in rows] == [
        ("a", "2025-03-05", "medium", 46), ("b", "2025-03-10", "high", None), ("d", "2025-02-10", "medium", None),
        ("e", "2025-03-06", "medium", None), ("f", "2025-03-07", "medium", None), ("g", "2025-03-15", "medium", 107),
    ]  # the falls (a on Mar 8, d on Mar 3) are no warnings; f churned before its warning
