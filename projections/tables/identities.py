"""``identities``: which customer each identifier belongs to now."""

from projections.tables.table import Column, Table

TABLE = Table(
    name="identities",
    doc="Identifier → customer, current assignment. Read with FINAL. Personal data (identifier values).",
    columns=(
        Column("identifier", "String", "type:value, e.g. email:ann@example.com or social:wechat:ann_w."),
        Column("id_type", "LowCardinality(String)", "anonymous_id, user_id, email, phone or social."),
        Column("customer_id", "String", "The customer the identifier belongs to."),
        Column("version", "UInt64", "Event-log position of the event that (re)assigned it."),
    ),
    engine="ReplacingMergeTree(version)",
    order_by="identifier",
)


def row(identifier: str, customer_id: str, position: int) -> dict:
    return {"identifier": identifier, "id_type": identifier.split(":", 1)[0], "customer_id": customer_id, "version": position}
