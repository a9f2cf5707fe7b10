"""Migration 26 on a warehouse made before it: survey_answers gains ``topics``, and its _current view shows it."""

from cdp.warehouse.migrations import MIGRATIONS
from cdp.warehouse.views import current
from projections.tables import survey_answers
from projections.tables.table import blank_row

TOPICS_MIGRATION = next(m.steps for m in MIGRATIONS if m.number == 26)


def columns(warehouse, table: str) -> list[str]:
    return [r["name"] for r in warehouse.query(f"SELECT name FROM system.columns WHERE database = '{warehouse.database}' AND table = '{table}' ORDER BY position")]


def test_an_older_warehouse_gains_the_column_and_the_view_shows_it(any_warehouse):
    w, view = any_warehouse, current.name(survey_answers.TABLE)
    # as it was before migration 26
    w.execute(f"ALTER TABLE `{w.database}`.`survey_answers` DROP COLUMN topics")
    w.execute(f"DROP VIEW `{w.database}`.`{view}`")
    w.execute(f"CREATE VIEW `{w.database}`.`{view}` AS SELECT position, customer_id, at, kind, event_type, score, category, terms FROM `{w.database}`.`survey_answers` FINAL")
    w.execute(f"INSERT INTO `{w.database}`.`survey_answers` (position, kind, category) VALUES (1, 'text', 'negative')")
    for _ in range(2):  # a migration interrupted part-way runs again in full
        for sql in TOPICS_MIGRATION(w.database):
            w.execute(sql)
    assert columns(w, "survey_answers")[-1] == "topics" and columns(w, view)[-1] == "topics"
    w.insert("survey_answers", [blank_row(survey_answers.TABLE) | {"position": 2, "kind": "text", "category": "negative", "topics": ["delivery", "price"]}])
    rows = w.query(f"SELECT position, topics FROM `{w.database}`.`{view}` ORDER BY position")
    assert [(r["position"], list(r["topics"])) for r in rows] == [(1, []), (2, ["delivery", "price"])]  # rows from before have none
