"""``churn_level_changes``: every change of a customer's churn-risk level, in event time (the
warnings raised, and their end), from ``projections.churn_history``."""

from projections.causes import params_json
from projections.tables.profiles import from_ms
from projections.tables.table import Column, Table

TABLE = Table(
    name="churn_level_changes",
    doc="Every change of a customer's churn-risk level (docs/domain.md §11), in event time; a rise to medium or high is a "
    "warning raised (the churn_warnings view lists them with the churn that followed). Every customer starts low. Read "
    "with FINAL: a change later disproved (a late event, a merge) is retracted.",
    columns=(
        Column("customer_id", "String", "The customer."),
        Column("at", "DateTime64(3, 'UTC')", "When the level changed (event time)."),
        Column("from_level", "LowCardinality(String)", "Level before: low, medium or high."),
        Column("to_level", "LowCardinality(String)", "Level after."),
        Column("score", "UInt8", "The score after, 0-100."),
        Column("signs", "Array(LowCardinality(String))", "The warning signs present after, by name: purchase_gap, falling_frequency, "
               "quiet, complaint_past_sla, recent_complaint, detractor, negative_feedback."),
        Column("reasons", "Array(String)", "The same signs as worded in churn_risk, with their weights."),
        Column("reason_params", "Array(String)", "Each reason's numbers and weight as a JSON object, e.g. '{\"nps\":3,\"weight\":25}'; its code is the sign "
               "at the same index (projections/causes.py). Empty on rows written before codes."),
        Column("version", "UInt64", "Event-log position at which this was computed."),
        Column("is_deleted", "UInt8", "1 when the change was retracted."),
    ),
    engine="ReplacingMergeTree(version, is_deleted)",
    order_by="(customer_id, at)",
)


def key(change: list) -> tuple:
    """A stored change ``[at, from, to, score, signs, reasons, reason params]``'s identity in the table
    (state stored before reasons had codes holds no reason params)."""
    return (change[0],)


def row(customer_id: str, change: list, version: int, deleted: bool = False) -> dict:
    at, from_level, to_level, score, signs, reasons = change[:6]
    params = change[6] if len(change) > 6 else []
    return {"customer_id": customer_id, "at": from_ms(at), "from_level": from_level, "to_level": to_level, "score": score,
            "signs": signs, "reasons": reasons, "reason_params": [params_json(p) for p in params], "version": version, "is_deleted": int(deleted)}
