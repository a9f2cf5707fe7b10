"""Feedback topics trend: free texts per topic and period, with their sentiment (survey_answers.topics)."""

from typing import Any

from cdp.analytics.window import Window, truncate
from cdp.warehouse import Warehouse
from projections.tables import survey_answers

NO_TOPIC = "other"  # a text none of the topics' keywords matched


def topic_trend(warehouse: Warehouse, period: str, window: Window) -> list[dict[str, Any]]:
    """Rows per period and topic: texts, positive, neutral, negative, and the negative share in %.
    A text about two topics counts under each."""
    return warehouse.query(
        f"SELECT {truncate(period, 'at')} AS period, arrayJoin(if(empty(topics), ['{NO_TOPIC}'], topics)) AS topic, count() AS texts, "
        "countIf(category = 'positive') AS positive, countIf(category = 'neutral') AS neutral, countIf(category = 'negative') AS negative, "
        "round(100 * negative / texts, 1) AS negative_pct "
        f"FROM `{warehouse.database}`.`{survey_answers.TABLE.name}` FINAL WHERE kind = 'text' AND {window.where('at')} "
        "GROUP BY period, topic ORDER BY period, texts DESC, topic",
        window.params,
    )
