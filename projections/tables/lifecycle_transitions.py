"""``lifecycle_transitions``: every lifecycle stage change, with its time and cause."""

from projections.causes import params_json
from projections.lifecycle import Transition
from projections.tables.profiles import from_ms
from projections.tables.table import Column, Table

TABLE = Table(
    name="lifecycle_transitions",
    doc="Every lifecycle stage change of every customer, e.g. who moved from repeat to at_risk in October. Read with FINAL: "
    "a transition later disproved (a late event, a merge) is retracted.",
    columns=(
        Column("customer_id", "String", "The customer."),
        Column("at", "DateTime64(3, 'UTC')", "When the stage changed (event time)."),
        Column("from_stage", "LowCardinality(String)", "Stage before, empty for a customer's first stage."),
        Column("to_stage", "LowCardinality(String)", "Stage after."),
        Column("cause", "String", "Why, e.g. 'first purchase', 'no purchase for 90 days', 'detractor (NPS 3)'."),
        Column("cause_code", "LowCardinality(String)", "The cause as a code, e.g. 'first_purchase', 'no_purchase_for', 'detractor' (projections/causes.py); empty on rows written before codes."),
        Column("cause_params", "String", "The cause's numbers and names as a JSON object, e.g. '{\"nps\":3}'."),
        Column("version", "UInt64", "Event-log position at which this was computed."),
        Column("is_deleted", "UInt8", "1 when the transition was retracted."),
    ),
    engine="ReplacingMergeTree(version, is_deleted)",
    order_by="(customer_id, at, from_stage, to_stage)",
)


def key(t: list) -> tuple:
    """A stored transition ``[at, from, to, cause, code, params]``'s identity in the table (state
    stored before causes had codes holds ``[at, from, to, cause]``)."""
    return (t[0], t[1] or "", t[2])


def encode(t: Transition) -> list:
    return [t.at, t.from_stage, t.to_stage, t.cause, t.why.code, t.why.params]


def row(customer_id: str, t: list, version: int, deleted: bool = False) -> dict:
    at, from_stage, to_stage, cause = t[:4]
    code, params = t[4:] or ("", {})
    return {
        "customer_id": customer_id,
        "at": from_ms(at),
        "from_stage": from_stage or "",
        "to_stage": to_stage,
        "cause": cause,
        "cause_code": code,
        "cause_params": params_json(params),
        "version": version,
        "is_deleted": int(deleted),
    }
