"""Loyalty points earned and redeemed, the balance and the tiers, worked out by hand through the
projection pipeline (typed events in, the customer_loyalty row out)."""

import pytest
from pydantic import ValidationError

from projections.identity import IdentityGraph, IdentityRules, resolve
from projections.loyalty import LoyaltyRules
from projections.pipeline import Pipeline
from projections.rules import ProjectionRules
from projections.touchpoint import Touchpoint
from schemas import describe, parse_envelope
from tests.events import event, order

ANN = {"email": "ann@example.com"}


def redeemed(at: str, points: int, redemption: str, **identifiers) -> dict:
    return event("points_redeemed", at, properties={"redemption_id": redemption, "points": points, "reward": "voucher"}, **(identifiers or ANN))


def loyalty_rows(*events: dict, rules: LoyaltyRules = LoyaltyRules(), batch: int = 100) -> dict[str, dict]:
    """Each customer's latest customer_loyalty row after the events, in batches of ``batch``."""
    tps = [Touchpoint(i, parse_envelope(e | {"received_at": e["occurred_at"]}).model_dump(mode="json")) for i, e in enumerate(events, start=1)]
    pipeline, graph, state, latest = Pipeline(ProjectionRules(loyalty=rules)), IdentityGraph({}, {}), {}, {}
    for start in range(0, len(tps), batch):
        chunk = tps[start:start + batch]
        out = pipeline.project(state, resolve(graph, chunk, IdentityRules()), chunk, set(state), max(tp.occurred_ms for tp in chunk), chunk[-1].position)
        for gone in out.removed:
            state.pop(gone, None)
            latest.pop(gone, None)
        state.update(out.profiles)
        latest.update({r["customer_id"]: r for r in out.rows["customer_loyalty"] if not r["is_deleted"]})
    return latest


# 1,200 spent (1,200 points), 100 refunded (-100), one referral (+100): 1,200 lifetime points
EARNED = (order("2025-01-10", 1200, "o1", **ANN), event("order_refunded", "2025-01-12", properties={"order_id": "o1", "amount": 100}, **ANN),
          event("event_tracked", "2025-01-15", properties={"name": "referral_made"}, **ANN))


def test_the_balance_is_lifetime_points_minus_redemptions_and_tiers_follow_the_balance():
    (row,) = loyalty_rows(*EARNED, redeemed("2025-02-01", 500, "r1"), redeemed("2025-02-03", 200, "r2")).values()
    assert (row["lifetime_points"], row["points_redeemed"], row["redemptions"], row["points"], row["overdrawn"]) == (1200, 700, 2, 500, 0)
    assert (row["tier"], row["next_tier"], row["to_next_tier"]) == ("member", "silver", 500)  # 500 of silver's 1,000


def test_tiers_on_lifetime_points_are_not_lost_by_redeeming():
    (row,) = loyalty_rows(*EARNED, redeemed("2025-02-01", 500, "r1"), rules=LoyaltyRules(tier_basis="lifetime_points")).values()
    assert (row["points"], row["tier"], row["next_tier"], row["to_next_tier"]) == (700, "silver", "gold", 3800)


def test_redeeming_more_than_the_balance_is_recorded_and_flagged_never_refused():
    (row,) = loyalty_rows(*EARNED, redeemed("2025-02-01", 1500, "r1")).values()
    assert (row["points"], row["points_redeemed"], row["overdrawn"]) == (-300, 1500, 1)
    assert (row["tier"], row["next_tier"], row["to_next_tier"]) == ("member", "silver", 1000)  # a negative balance reaches the base tier only
    # the purchase that covers it arrives late, in a later batch: the balance is whole again
    (row,) = loyalty_rows(*EARNED, redeemed("2025-02-01", 1500, "r1"), order("2025-01-20", 800, "o2", **ANN), batch=4).values()
    assert (row["points"], row["lifetime_points"], row["overdrawn"], row["tier"]) == (500, 2000, 0, "member")


def test_a_merged_customers_redemptions_count_for_the_survivor():
    phone = {"phone": "+8613800000009"}
    rows = loyalty_rows(*EARNED, redeemed("2025-02-01", 300, "r1", **phone), event("identified", "2025-02-05", **ANN, **phone), batch=4)
    (row,) = rows.values()
    assert (row["points"], row["points_redeemed"], row["redemptions"]) == (900, 300, 1)


@pytest.mark.parametrize(("properties", "kind", "expected"), [
    ({"redemption_id": "r1", "points": 0}, "sales", "properties.points: Input should be greater than or equal to 1"),
    ({"redemption_id": "r1", "points": 2.5}, "sales", "properties.points: Input should be a valid integer"),
    ({"points": 10}, "sales", "properties.redemption_id: Field required"),
    ({"redemption_id": "r1", "points": 10}, "social", "source_kind: Input should be 'sales', 'website' or 'service'"),
])
def test_a_bad_redemption_names_its_field(properties: dict, kind: str, expected: str):
    with pytest.raises(ValidationError) as caught:
        parse_envelope(event("points_redeemed", "2025-02-01", properties=properties, **ANN) | {"source_kind": kind})
    assert expected in describe(caught.value)
