"""Customer value (客户分类, 价值): RFM scores, a CLV estimate, tiers ordinary / VIP / super.

Pure: a function of a customer's purchase, refund and referral facts and an explicit ``as_of``.
RFM uses fixed, configured thresholds instead of population quintiles, so a customer's score does
not depend on other customers (state stays partitionable by customer) and is stable on rebuild.

CLV method: the historic (average-order-value) model, CLV = average order value × purchases per
year × expected customer lifetime in years × gross margin. Purchases per year are the customer's
orders over the span between their first and last purchase, never shorter than
``clv_min_span_days`` (one purchase gives one per year by default).
"""

import bisect
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from projections.predictive.rules import PredictionRules

DAY_MS = 86_400_000
TIERS = ("ordinary", "vip", "super")


class ValueRules(BaseModel):
    """Thresholds for RFM scores, the CLV estimate and tiers (docs/domain.md §6)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recency_days: list[int] = Field(default=[30, 90, 180, 365], description="R score 5 below the first threshold (days since the last purchase), 4 below the second, ..., 1 beyond the last.")
    frequency_orders: list[int] = Field(default=[2, 3, 5, 8], description="F score 1 + the number of thresholds the customer's purchase count reaches.")
    monetary_amounts: list[float] = Field(default=[100, 500, 1000, 3000], description="M score 1 + the number of thresholds net purchase amount (revenue − refunds) reaches.")
    clv_lifetime_years: float = Field(3.0, gt=0, description="Expected customer lifetime in years (CLV).")
    clv_gross_margin: float = Field(1.0, gt=0, le=1, description="Share of revenue kept as margin (CLV); 1.0 gives a revenue CLV.")
    clv_min_span_days: int = Field(365, gt=0, description="Purchase frequency is measured over at least this many days.")
    vip_min_repurchases: int = Field(3, ge=0, description="Repurchases (purchases after the first) that make a customer VIP (贵宾客户).")
    vip_min_amount: float = Field(2000, ge=0, description="Purchase amount that makes a customer VIP.")
    vip_min_referrals: int = Field(2, ge=0, description="Referrals that make a customer VIP.")
    super_min_repurchases: int = Field(10, ge=0, description="Repurchases that make a customer super (超级客户).")
    super_min_amount: float = Field(10000, ge=0, description="Purchase amount that makes a customer super.")
    super_min_referrals: int = Field(5, ge=0, description="Referrals that make a customer super.")
    predictions: PredictionRules = Field(PredictionRules(), description="BG/NBD + Gamma-Gamma predictions, fitted in batch (`cdp value fit`).")

    @field_validator("recency_days", "frequency_orders", "monetary_amounts")
    @classmethod
    def _ascending(cls, values: list) -> list:
        if len(values) != 4 or values != sorted(set(values)):
            raise ValueError("expected four strictly ascending thresholds (scores 1-5)")
        return values


@dataclass(frozen=True, slots=True)
class Value:
    recency: int  # 1-5, 0 without purchases
    frequency: int
    monetary: int
    clv: float
    tier: str
    repurchases: int
    amount: float  # gross purchase amount
    net_amount: float
    referrals: int
    average_order_value: float
    next_change: int | None  # when the R score next drops without a new event


def tier(repurchases: int, amount: float, referrals: int, rules: ValueRules) -> str:
    if repurchases >= rules.super_min_repurchases or amount >= rules.super_min_amount or referrals >= rules.super_min_referrals:
        return "super"
    if repurchases >= rules.vip_min_repurchases or amount >= rules.vip_min_amount or referrals >= rules.vip_min_referrals:
        return "vip"
    return "ordinary"


def value(purchases: list[list], refunds: float, referrals: int, as_of: int, rules: ValueRules) -> Value:
    """``purchases`` are ``[ms, position, amount]`` sorted by time."""
    orders = len(purchases)
    amount = sum(p[2] for p in purchases)
    net = max(amount - refunds, 0.0)
    repurchases = max(orders - 1, 0)
    if not orders:
        return Value(0, 0, 0, 0.0, tier(0, 0.0, referrals, rules), 0, 0.0, 0.0, referrals, 0.0, None)
    last = purchases[-1][0]
    bounds = [last + d * DAY_MS for d in rules.recency_days]
    passed = bisect.bisect_right(bounds, as_of)
    span_days = max((last - purchases[0][0]) / DAY_MS, rules.clv_min_span_days)
    per_year = orders * 365 / span_days
    aov = net / orders
    clv = aov * per_year * rules.clv_lifetime_years * rules.clv_gross_margin
    return Value(
        recency=5 - passed,
        frequency=1 + bisect.bisect_right(rules.frequency_orders, orders),
        monetary=1 + bisect.bisect_right(rules.monetary_amounts, net),
        clv=round(clv, 2),
        tier=tier(repurchases, amount, referrals, rules),
        repurchases=repurchases,
        amount=round(amount, 6),
        net_amount=round(net, 6),
        referrals=referrals,
        average_order_value=round(aov, 2),
        next_change=bounds[passed] if passed < len(bounds) else None,
    )
