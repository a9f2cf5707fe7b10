"""``survey_answers``: every NPS, CSAT and CSI answer and every free text, scored; overall figures per period."""

from datetime import datetime

from projections.tables.table import Column, Table

TABLE = Table(
    name="survey_answers",
    doc="One row per satisfaction signal: NPS, CSAT, CSI answers and free texts with their sentiment and topics. Overall NPS per month: "
    "SELECT toStartOfMonth(at) m, 100 * (countIf(category = 'promoter') - countIf(category = 'detractor')) / count() FROM "
    "cdp.survey_answers FINAL WHERE kind = 'nps' GROUP BY m. Texts per topic and month: SELECT toStartOfMonth(at) m, "
    "arrayJoin(topics) topic, count() FROM cdp.survey_answers FINAL WHERE kind = 'text' GROUP BY m, topic.",
    columns=(
        Column("position", "UInt64", "Event-log position of the event."),
        Column("customer_id", "String", "The customer the event was assigned to when processed (after a later merge, see customer_merges)."),
        Column("at", "DateTime64(3, 'UTC')", "Event time."),
        Column("kind", "LowCardinality(String)", "nps, csat, csi or text."),
        Column("event_type", "LowCardinality(String)", "The event that carried it."),
        Column("score", "Nullable(Float64)", "NPS 0-10, CSAT 1-5, CSI 0-10 (weighted), or the text's lexicon score."),
        Column("category", "LowCardinality(String)", "promoter / passive / detractor, satisfied / unsatisfied, or positive / neutral / negative."),
        Column("terms", "Array(String)", "For texts: the lexicon terms that matched."),
        Column("topics", "Array(LowCardinality(String))", "For texts: what they are about (delivery, price, quality, service, ...; projections/topics.py)."),
    ),
    engine="ReplacingMergeTree",
    order_by="(kind, at, position)",
)


def row(position: int, customer_id: str, at_iso: str, kind: str, event_type: str, score: float | None, category: str, terms: list[str] = (), topics: list[str] = ()) -> dict:
    return {
        "position": position,
        "customer_id": customer_id,
        "at": datetime.fromisoformat(at_iso),
        "kind": kind,
        "event_type": event_type,
        "score": score,
        "category": category,
        "terms": list(terms),
        "topics": list(topics),
    }
