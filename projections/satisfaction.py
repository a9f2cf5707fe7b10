"""Satisfaction (客户满意度): NPS, CSAT and CSI per customer, and the scoring of each answer.

NPS: promoters answer 9-10, passives 7-8, detractors 0-6 (thresholds shared with the lifecycle
rules); NPS = % promoters − % detractors. CSAT: share of 4-5 answers on 1-5. CSI: weighted average
of factor scores (0-10) with configured weights. Overall figures per period are sums over the
``survey_answers`` table, e.g. NPS per month (see its documentation).
"""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from projections.lifecycle import LifecycleRules


class SatisfactionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    csat_satisfied_min: int = Field(4, ge=1, le=5, description="CSAT answers at or above this count as satisfied.")
    csi_weights: dict[str, float] = Field(
        default={"product_quality": 0.25, "service": 0.25, "price_value": 0.25, "brand": 0.25},
        description="CSI factor → weight; factors not listed are ignored; weights are normalised over the factors answered.",
    )


NPS_CATEGORIES = ("promoter", "passive", "detractor")


def nps_category(score: int, lifecycle: LifecycleRules) -> str:
    if score >= lifecycle.promoter_min_score:
        return "promoter"
    return "detractor" if score <= lifecycle.detractor_max_score else "passive"


def csi(factors: dict[str, float], rules: SatisfactionRules) -> float | None:
    weighted = [(rules.csi_weights[f], s) for f, s in factors.items() if rules.csi_weights.get(f)]
    total = sum(w for w, _ in weighted)
    return round(sum(w * s for w, s in weighted) / total, 3) if total else None


@dataclass(frozen=True, slots=True)
class Satisfaction:
    nps_answers: int
    last_nps: int | None
    nps_category: str
    nps: float | None  # this customer's own NPS over all their answers, -100..100
    csat_answers: int
    csat_average: float | None
    csat_satisfied_pct: float | None
    csi_answers: int
    last_csi: float | None
    csi_average: float | None
    texts_positive: int
    texts_neutral: int
    texts_negative: int
    last_sentiment: str
    last_sentiment_terms: list[str]


def satisfaction(profile: dict, rules: SatisfactionRules, lifecycle: LifecycleRules) -> Satisfaction:
    nps = [n[2] for n in profile["nps"]]
    categories = [nps_category(s, lifecycle) for s in nps]
    csat = [c[2] for c in profile["csat"]]
    csis = [v for v in (csi(c[2], rules) for c in profile["csi"]) if v is not None]
    labels = [s[3] for s in profile["sentiments"]]
    last = profile["sentiments"][-1] if profile["sentiments"] else None
    return Satisfaction(
        nps_answers=len(nps),
        last_nps=nps[-1] if nps else None,
        nps_category=categories[-1] if categories else "",
        nps=_pct(categories.count("promoter") - categories.count("detractor"), len(nps)),
        csat_answers=len(csat),
        csat_average=round(sum(csat) / len(csat), 3) if csat else None,
        csat_satisfied_pct=_pct(sum(1 for s in csat if s >= rules.csat_satisfied_min), len(csat)),
        csi_answers=len(csis),
        last_csi=csis[-1] if csis else None,
        csi_average=round(sum(csis) / len(csis), 3) if csis else None,
        texts_positive=labels.count("positive"),
        texts_neutral=labels.count("neutral"),
        texts_negative=labels.count("negative"),
        last_sentiment=last[3] if last else "",
        last_sentiment_terms=list(last[5]) if last else [],
    )


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 3) if whole else None
