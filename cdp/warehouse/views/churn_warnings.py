"""``churn_warnings``: every churn warning raised (a rise of the churn-risk level), with the churn
that followed it, if any: what a team checks its warnings against (docs/domain.md §11).

Churned means the lifecycle stage became ``churned`` (no meaningful interaction for
``lifecycle.churn_inactive_days``, docs/domain.md §7); the churn that follows a warning is the
customer's first change to ``churned`` after it.
"""

from cdp.warehouse.statements import quote_string
from projections.churn import LEVELS
from projections.tables import churn_level_changes, lifecycle_transitions

NAME = "churn_warnings"
DOC = ("Every churn warning raised (the churn-risk level rising to medium or high, from churn_level_changes) with the first churn "
       "after it (the lifecycle stage becoming churned, from lifecycle_transitions): churned_at and days_to_churn are NULL while "
       "the customer has not churned since. Columns: customer_id, at, from_level, to_level, score, signs, reasons, churned_at, days_to_churn.")


def create_sql(database: str) -> str:
    levels = "[" + ", ".join(quote_string(level) for level in LEVELS) + "]"
    changes, transitions = f"`{database}`.`{churn_level_changes.TABLE.name}`", f"`{database}`.`{lifecycle_transitions.TABLE.name}`"
    return (
        f"CREATE VIEW IF NOT EXISTS `{database}`.`{NAME}`\nAS SELECT w.customer_id AS customer_id, w.at AS at, w.from_level AS from_level, "
        "w.to_level AS to_level, w.score AS score, w.signs AS signs, w.reasons AS reasons, "
        "if(arrayExists(x -> x > w.at, c.churns), arrayFirst(x -> x > w.at, c.churns), NULL) AS churned_at, "
        "dateDiff('day', w.at, churned_at) AS days_to_churn\n"
        f"FROM (SELECT customer_id, at, from_level, to_level, score, signs, reasons FROM {changes} FINAL "
        f"WHERE indexOf({levels}, to_level) > indexOf({levels}, from_level)) AS w\n"
        f"LEFT JOIN (SELECT customer_id, arraySort(groupArray(at)) AS churns FROM {transitions} FINAL WHERE to_stage = 'churned' "
        "GROUP BY customer_id) AS c ON c.customer_id = w.customer_id\n"
        f"COMMENT {quote_string(DOC)}"
    )
