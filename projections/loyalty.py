"""Loyalty programme (忠诚度计划): points earned per purchase and per referral, points redeemed, and
membership tiers (docs/domain.md §10).

Points earned: ``points_per_unit`` per unit of purchase amount (rounded down per purchase), minus
the same for refunded amounts, plus ``points_per_referral`` per referral; never below 0. These are
the lifetime points. The balance is the lifetime points minus every redemption.

A redemption is an event of what the loyalty system, a shop or a till already did, so it is never
refused here: redeeming more than the balance (an earlier purchase not yet sent, a refund taking
points back after they were spent, or a fault upstream) makes the balance negative, and the customer
is flagged ``overdrawn`` for the team to look into (a segment on it lists them).

Tiers by the balance (``points``), by ``lifetime_points`` (redeeming never costs a tier) or by net
``spend`` (``tier_basis``); the highest threshold reached wins, and a negative balance reaches only
the base tier.
"""

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class LoyaltyRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    points_per_unit: float = Field(1.0, ge=0, description="Points per unit of purchase amount.")
    points_per_referral: int = Field(100, ge=0, description="Points per referral.")
    tier_basis: Literal["points", "lifetime_points", "spend"] = Field(
        "points", description="Tiers by the points balance (after redemptions), by lifetime points (earned, redemptions not subtracted) or by net spend."
    )
    tiers: dict[str, float] = Field(
        default={"member": 0, "silver": 1000, "gold": 5000, "platinum": 20000},
        description="Tier name → minimum points (or spend); the highest reached wins.",
    )

    @field_validator("tiers")
    @classmethod
    def _has_base(cls, tiers: dict[str, float]) -> dict[str, float]:
        if not tiers or min(tiers.values()) != 0:
            raise ValueError("needs a tier starting at 0")
        return tiers


@dataclass(frozen=True, slots=True)
class Loyalty:
    points: int  # the balance: lifetime points minus points redeemed (negative when overdrawn)
    points_from_purchases: int
    points_from_referrals: int
    points_refunded: int
    tier: str
    next_tier: str
    to_next_tier: float
    lifetime_points: int
    points_redeemed: int
    redemptions: int
    overdrawn: int  # 1 when more was redeemed than was earned


def loyalty(purchases: list[list], refunds: float, referrals: int, redemptions: list[list], rules: LoyaltyRules) -> Loyalty:
    """``purchases``: [ms, position, amount]; ``redemptions``: [ms, position, points]."""
    earned = sum(math.floor(p[2] * rules.points_per_unit) for p in purchases)
    refunded = math.floor(refunds * rules.points_per_unit)
    from_referrals = referrals * rules.points_per_referral
    lifetime = max(earned - refunded + from_referrals, 0)
    redeemed = sum(r[2] for r in redemptions)
    balance = lifetime - redeemed
    if rules.tier_basis == "spend":
        measure = max(sum(p[2] for p in purchases) - refunds, 0.0)
    else:
        measure = lifetime if rules.tier_basis == "lifetime_points" else max(balance, 0)
    ladder = sorted(rules.tiers.items(), key=lambda kv: (kv[1], kv[0]))
    reached = [name for name, floor in ladder if measure >= floor]
    above = [(name, floor) for name, floor in ladder if measure < floor]
    return Loyalty(
        points=balance,
        points_from_purchases=earned,
        points_from_referrals=from_referrals,
        points_refunded=refunded,
        tier=reached[-1],
        next_tier=above[0][0] if above else "",
        to_next_tier=round(above[0][1] - measure, 2) if above else 0.0,
        lifetime_points=lifetime,
        points_redeemed=redeemed,
        redemptions=len(redemptions),
        overdrawn=int(balance < 0),
    )
