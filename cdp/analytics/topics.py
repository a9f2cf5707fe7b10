"""Feedback topics trend: free texts per topic and period, with their sentiment (survey_answers.topics)."""

from typing import Any

from cdp.analytics.filters import Members, members_params, members_where
from cdp.analytics.window import Window, truncate
from cdp.queries import survivor_sql
from cdp.warehouse import Warehouse
from projections.tables import survey_answers

NO_TOPIC = "other"  # a text none of the topics' keywords matched


def topic_trend(warehouse: Warehouse, period: str, window: Window, members: Members | None = None) -> list[dict[str, Any]]:
    """Rows per period and topic: texts, positive, neutral, negative, and the negative share in %.
    A text about two topics counts under each. ``members``: texts of a segment's customers only (a
    text counts for the customer its author was merged into)."""
    return warehouse.query(
        f"SELECT {truncate(period, 'at')} AS period, arrayJoin(if(empty(topics), ['{NO_TOPIC}'], topics)) AS topic, count() AS texts, "
        "countIf(category = 'positive') AS positive, countIf(category = 'neutral') AS neutral, countIf(category = 'negative') AS negative, "
        "round(100 * negative / texts, 1) AS negative_pct "
        f"FROM `{warehouse.database}`.`{survey_answers.TABLE.name}` FINAL WHERE kind = 'text' AND {window.where('at')} "
        f"AND {members_where(members, survivor_sql(warehouse.database, 'customer_id'))} "
        "GROUP BY period, topic ORDER BY period, texts DESC, topic",
        {**window.params, **members_params(members)},
    )
