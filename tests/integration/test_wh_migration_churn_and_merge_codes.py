"""Warehouse migration 33 on a warehouse made before it: churn_level_changes gains its reasons'
parameters and customer_merges its reason's code and parameters; rows written before read empty
(the console then shows their stored English text), and their _current views show the new columns."""

from datetime import UTC, datetime

from cdp.warehouse.views import current
from projections.tables import churn_level_changes, customer_merges
from tests.integration.test_wh_migration_causes import assert_columns_as_declared, migrate_tables_made_before

AT = datetime(2025, 1, 2, 10, tzinfo=UTC)
NEW = {churn_level_changes.TABLE.name: ("reason_params",), customer_merges.TABLE.name: ("reason_code", "reason_params")}
BEFORE = {
    churn_level_changes.TABLE.name: {"customer_id": "c1", "at": AT, "from_level": "low", "to_level": "medium", "score": 25, "signs": ["detractor"],
                                     "reasons": ["detractor (NPS 3) (+25)"], "version": 1, "is_deleted": 0},
    customer_merges.TABLE.name: {"absorbed": "c2", "survivor": "c1", "position": 7, "occurred_at": AT, "reason": "event shop/m7 named identifiers of both (email)"},
}


def test_migration_33_adds_the_reason_codes_to_tables_made_before_it(any_warehouse):
    w = any_warehouse
    tables = (churn_level_changes.TABLE, customer_merges.TABLE)
    migrate_tables_made_before(w, 33, tables, NEW, BEFORE)
    assert_columns_as_declared(w, tables)
    assert w.query(f"SELECT reasons, reason_params FROM `{w.database}`.`{current.name(churn_level_changes.TABLE)}`") == [
        {"reasons": ["detractor (NPS 3) (+25)"], "reason_params": []}]
    assert w.query(f"SELECT reason, reason_code, reason_params FROM `{w.database}`.`{current.name(customer_merges.TABLE)}`") == [
        {"reason": "event shop/m7 named identifiers of both (email)", "reason_code": "", "reason_params": ""}]
