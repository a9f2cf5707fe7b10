"""``churn_risk``: the explainable churn-risk score per customer."""

from projections.causes import params_json
from projections.churn import ChurnRisk
from projections.tables.table import Column, customer_table

TABLE = customer_table(
    "churn_risk",
    "Churn early warning (docs/domain.md §11): score 0-100 = sum of the weights of the warning signs present, each listed as a reason.",
    (
        Column("score", "UInt8", "0-100."),
        Column("level", "LowCardinality(String)", "low, medium or high."),
        Column("reasons", "Array(String)", "Each warning sign present, with its weight, e.g. 'detractor (NPS 3) (+25)'."),
        Column("reason_codes", "Array(LowCardinality(String))", "Each reason's warning sign, e.g. 'detractor' (projections/causes.py); empty on rows written before codes."),
        Column("reason_params", "Array(String)", "Each reason's numbers and weight as a JSON object, e.g. '{\"nps\":3,\"weight\":25}'."),
    ),
)


def row(customer_id: str, risk: ChurnRisk) -> dict:
    return {"customer_id": customer_id, "score": risk.score, "level": risk.level, "reasons": risk.reasons,
            "reason_codes": [c.code for c in risk.causes], "reason_params": [params_json(c.params) for c in risk.causes]}
