"""Churn warnings backtest (评估预警效果): for the warnings raised in a past period, how many of
those customers churned within N days, and how many churners had been warned; overall and per
warning sign (docs/domain.md §11).

Definitions, from the warehouse's event-time histories:

- **population**: the customers who were buyers and not churned at some moment of the period: their
  lifecycle stage at its start was new, repeat, loyal, at_risk or won_back, or they entered one of
  those stages during it (prospects cannot churn, the churned already have).
- **warned**: in the population, with a warning (the churn-risk level rising to ``level`` or above,
  ``churn_warnings``) raised in the period. Its signs: those present at any of its warnings then.
- **churned after warning**: warned, and the lifecycle stage became ``churned`` (no meaningful
  interaction for ``lifecycle.churn_inactive_days``) within ``within_days`` after one of them.
- **churners**: in the population, with a change to ``churned`` from the period's start to
  ``within_days`` after its end: every churn a warning of the period could have foretold.

precision = churned after warning / warned; recall = churned after warning / churners; base rate =
churners / population; lift = precision / base rate (how much likelier a warned customer churned than
any customer of the population). Per sign, the warned and churned-after-warning counts are those of
the warnings carrying that sign, against the same churners and population.
"""

from typing import Any

from cdp.analytics.window import Window
from cdp.warehouse import Warehouse
from cdp.warehouse.views import churn_warnings
from projections.churn import LEVELS
from projections.tables import lifecycle_transitions

BUYER_STAGES = ("new", "repeat", "loyal", "at_risk", "won_back")
ALL = "(all)"


def backtest(warehouse: Warehouse, period: Window, within_days: int, level: str = "medium") -> list[dict[str, Any]]:
    """Rows: one for all warnings (``reason`` ``(all)``), then one per sign, most warned first."""
    db = warehouse.database
    transitions = f"`{db}`.`{lifecycle_transitions.TABLE.name}`"
    horizon = "{end:DateTime64(3, 'UTC')} + toIntervalDay({within:UInt32})"
    customers = (
        "SELECT p.customer_id AS customer_id, w.warned AS warned, w.hit AS hit, w.signs AS signs, ch.churner AS churner FROM ("
        f"SELECT customer_id FROM {transitions} FINAL GROUP BY customer_id "
        "HAVING argMaxIf(to_stage, at, at < {start:DateTime64(3, 'UTC')}) IN {buyers:Array(String)} "
        f"OR countIf({period.where('at')} AND to_stage IN {{buyers:Array(String)}}) > 0) AS p "
        "LEFT JOIN (SELECT customer_id, toUInt8(1) AS warned, groupUniqArrayArray(signs) AS signs, "
        f"max(ifNull(churned_at <= at + toIntervalDay({{within:UInt32}}), 0)) AS hit FROM `{db}`.`{churn_warnings.NAME}` "
        f"WHERE {period.where('at')} AND indexOf({{levels:Array(String)}}, to_level) >= {{rank:UInt8}} GROUP BY customer_id) AS w ON w.customer_id = p.customer_id "
        f"LEFT JOIN (SELECT DISTINCT customer_id, toUInt8(1) AS churner FROM {transitions} FINAL WHERE to_stage = 'churned' "
        f"AND at >= {{start:DateTime64(3, 'UTC')}} AND at <= {horizon}) AS ch ON ch.customer_id = p.customer_id"
    )
    rows = warehouse.query(
        f"WITH customers AS ({customers}) "
        f"SELECT {{all:String}} AS reason, count() AS population, sum(warned) AS warned, sum(hit) AS hits, sum(churner) AS churners FROM customers "
        "UNION ALL SELECT sign AS reason, 0 AS population, count() AS warned, sum(hit) AS hits, 0 AS churners FROM customers ARRAY JOIN signs AS sign GROUP BY sign",
        {**period.params, "within": within_days, "levels": list(LEVELS), "rank": LEVELS.index(level) + 1, "buyers": list(BUYER_STAGES), "all": ALL},
    )
    overall = next(r for r in rows if r["reason"] == ALL)
    by_sign = sorted((r for r in rows if r["reason"] != ALL), key=lambda r: (-r["warned"], r["reason"]))
    return [_figures(r["reason"], r["warned"], r["hits"], overall["churners"], overall["population"]) for r in [overall, *by_sign]]


def _figures(reason: str, warned: int, hits: int, churners: int, population: int) -> dict[str, Any]:
    precision = hits / warned if warned else None
    base_rate = churners / population if population else None
    return {
        "reason": reason, "warned": warned, "churned_after_warning": hits, "precision_pct": _pct(precision),
        "churners": churners, "recall_pct": _pct(hits / churners if churners else None), "population": population, "base_rate_pct": _pct(base_rate),
        "lift": round(precision / base_rate, 2) if precision is not None and base_rate else None,
    }


def _pct(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)
