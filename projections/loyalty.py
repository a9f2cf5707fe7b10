"""Loyalty programme (忠诚度计划): points earned per purchase and per referral, and membership tiers.

Points: ``points_per_unit`` per unit of purchase amount (rounded down per purchase), minus the
same for refunded amounts, plus ``points_per_referral`` per referral. Tiers by points or by net
spend (``tier_basis``), highest threshold reached wins.
"""

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class LoyaltyRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    points_per_unit: float = Field(1.0, ge=0, description="Points per unit of purchase amount.")
    points_per_referral: int = Field(100, ge=0, description="Points per referral.")
    tier_basis: Literal["points", "spend"] = Field("points", description="Tiers by points balance or by net spend.")
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
    points: int
    points_from_purchases: int
    points_from_referrals: int
    points_refunded: int
    tier: str
    next_tier: str
    to_next_tier: float


def loyalty(purchases: list[list], refunds: float, referrals: int, rules: LoyaltyRules) -> Loyalty:
    earned = sum(math.floor(p[2] * rules.points_per_unit) for p in purchases)
    refunded = math.floor(refunds * rules.points_per_unit)
    from_referrals = referrals * rules.points_per_referral
    points = max(earned - refunded + from_referrals, 0)
    measure = points if rules.tier_basis == "points" else max(sum(p[2] for p in purchases) - refunds, 0.0)
    ladder = sorted(rules.tiers.items(), key=lambda kv: (kv[1], kv[0]))
    reached = [name for name, floor in ladder if measure >= floor]
    above = [(name, floor) for name, floor in ladder if measure < floor]
    return Loyalty(
        points=points,
        points_from_purchases=earned,
        points_from_referrals=from_referrals,
        points_refunded=refunded,
        tier=reached[-1],
        next_tier=above[0][0] if above else "",
        to_next_tier=round(above[0][1] - measure, 2) if above else 0.0,
    )
