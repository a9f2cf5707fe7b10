"""``customer_merges``: every merge of two customers, with its reason (explainable identity)."""

from datetime import datetime

from projections.causes import params_json
from projections.identity import Merge
from projections.tables.table import Column, Table

TABLE = Table(
    name="customer_merges",
    doc="One row per merge of two customers into one: which, when, and why.",
    columns=(
        Column("absorbed", "String", "The customer that was merged away."),
        Column("survivor", "String", "The customer it was merged into (the one created first)."),
        Column("position", "UInt64", "Event-log position of the event that linked them."),
        Column("occurred_at", "DateTime64(3, 'UTC')", "Event time of that event."),
        Column("reason", "String", "Which event linked them, and through which identifier types."),
        Column("reason_code", "LowCardinality(String)", "The reason as a code, 'named_both' (projections/causes.py); empty on rows written before codes."),
        Column("reason_params", "String", "The reason's event and identifier types as a JSON object, e.g. '{\"event\":\"shop/m1\",\"id_types\":[\"email\"]}'."),
    ),
    engine="ReplacingMergeTree",
    order_by="(absorbed, position)",
)


def row(merge: Merge) -> dict:
    return {
        "absorbed": merge.absorbed,
        "survivor": merge.survivor,
        "position": merge.position,
        "occurred_at": datetime.fromisoformat(merge.occurred_at),
        "reason": merge.reason,
        "reason_code": merge.why.code,
        "reason_params": params_json(merge.why.params),
    }
